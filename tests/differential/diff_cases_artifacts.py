"""Differential cases: artifact files, folders and in-memory objects, and their listings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from diff_harness import Ctx, case


def _tree(root: Path, spec: dict[str, str | None]) -> Path:
    """Files (text) and empty folders (None) under ``root``."""
    for rel, content in spec.items():
        path = root / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    return root


@case(
    "log_artifact_file",
    [
        ("root", None),
        ("folder", "out"),
        ("nested", "a/b"),
        ("trailing_slash", "out/"),
        ("dot", "."),
    ],
    deliberate={"trailing_slash": "artifact-paths-normalized", "dot": "artifact-paths-normalized"},
    server_deliberate=None,  # MLflow's client normalizes these itself before sending
)
def log_artifact_file(ctx: Ctx, artifact_path: str | None) -> Any:
    source = _tree(ctx.tmp / "src", {"f.txt": "hello"})
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_artifact, str(source / "f.txt"), artifact_path)
    return [outcome, ctx.artifacts(run.info.run_id)]


@case(
    "log_artifact_dotdot",
    [("parent", ".."), ("escape", "a/../../b")],
    deliberate="dotdot-paths",
    server_deliberate=None,  # MLflow's HTTP artifact client refuses them too
)
def log_artifact_dotdot(ctx: Ctx, artifact_path: str) -> Any:
    source = _tree(ctx.tmp / "src", {"f.txt": "hello"})
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_artifact, str(source / "f.txt"), artifact_path)
    return [outcome, ctx.artifacts(run.info.run_id)]


@case("log_artifact_missing_file")
def log_artifact_missing_file(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_artifact, str(ctx.tmp / "nope.txt"))
    return [outcome, ctx.artifacts(run.info.run_id)]


@case("log_artifact_directory")
def log_artifact_directory(ctx: Ctx, _: Any) -> Any:
    source = _tree(ctx.tmp / "folder", {"a.txt": "a", "sub/b.txt": "bb"})
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_artifact, str(source))
    return [outcome, ctx.artifacts(run.info.run_id)]


TREES = [
    ("flat", {"a.txt": "a", "b.txt": "bb"}),
    ("nested", {"a.txt": "a", "x/y/z.txt": "zzz"}),
    ("empty_subfolder", {"a.txt": "a", "empty": None}),
    ("nested_empty", {"a.txt": "a", "x/empty": None, "x/f.txt": "f"}),
    ("only_empty", {"e1": None}),
    ("empty_root", {}),
]


@case("log_artifacts_tree", TREES, server=False)  # the proxy keeps no empty folders (nor MLflow's)
def log_artifacts_tree(ctx: Ctx, spec: dict[str, str | None]) -> Any:
    source = ctx.tmp / "tree"
    source.mkdir()
    _tree(source, spec)
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_artifacts, str(source), "dir")
    return [outcome, ctx.artifacts(run.info.run_id)]


@case("log_artifacts_missing_dir", deliberate="missing-folder-refused", server_deliberate=None)
def log_artifacts_missing_dir(ctx: Ctx, _: Any) -> Any:
    with ctx.ml.start_run():
        return ctx.call(ctx.ml.log_artifacts, str(ctx.tmp / "nope"))


@case("log_text_paths", [("plain", "a.txt"), ("nested", "x/y/a.txt"), ("no_ext", "notes")])
def log_text_paths(ctx: Ctx, artifact_file: str) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_text, "héllo\n", artifact_file)
    return [outcome, ctx.artifacts(run.info.run_id)]


@case(
    "log_dict_formats", [("json", "d.json"), ("yaml", "d.yaml"), ("yml", "d.yml"), ("txt", "d.txt")]
)
def log_dict_formats(ctx: Ctx, artifact_file: str) -> Any:
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_dict, {"b": [1, 2], "a": {"c": "x"}}, artifact_file)
        path = ctx.client.download_artifacts(run.info.run_id, artifact_file, str(ctx.tmp))
    return [outcome, Path(path).read_text()]


@case("log_image_without_target")
def log_image_without_target(ctx: Ctx, _: Any) -> Any:
    import numpy as np

    with ctx.ml.start_run():
        return ctx.call(ctx.ml.log_image, np.zeros((2, 2, 3), dtype=np.uint8))


@case("log_image_numpy")
def log_image_numpy(ctx: Ctx, _: Any) -> Any:
    import numpy as np

    image = np.zeros((4, 5, 3), dtype=np.uint8)
    with ctx.ml.start_run() as run:
        outcome = ctx.call(ctx.ml.log_image, image, "img/a.png")
    names = [row[:2] for row in ctx.artifacts(run.info.run_id)]
    return [outcome, names]


@case(
    "list_artifacts_paths",
    [("root", None), ("folder", "d"), ("file", "d/f.txt"), ("missing", "nope")],
)
def list_artifacts_paths(ctx: Ctx, path: str | None) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_text("x", "d/f.txt")
        ctx.ml.log_text("yy", "top.txt")
    listed = ctx.client.list_artifacts(run.info.run_id, path)
    return sorted((f.path, f.is_dir, f.file_size) for f in listed)


@case("download_artifacts", [("file", "d/f.txt"), ("folder", "d"), ("missing", "nope.txt")])
def download_artifacts(ctx: Ctx, path: str) -> Any:
    with ctx.ml.start_run() as run:
        ctx.ml.log_text("x", "d/f.txt")
    dst = ctx.tmp / "dl"
    dst.mkdir()
    try:
        local = ctx.client.download_artifacts(run.info.run_id, path, str(dst))
    except Exception as exc:  # noqa: BLE001
        return ctx.error(exc).as_tuple()
    files = sorted(str(p.relative_to(dst)) for p in dst.rglob("*"))
    return [os.path.relpath(local, dst), files]


@case("artifact_uri_shape", [("root", None), ("sub", "a/b")])
def artifact_uri_shape(ctx: Ctx, sub: str | None) -> Any:
    with ctx.ml.start_run() as run:
        uri = ctx.ml.get_artifact_uri(sub)
        base = ctx.ml.get_artifact_uri()
    return [uri.startswith(base), uri[len(base) :], run.info.artifact_uri == base]
