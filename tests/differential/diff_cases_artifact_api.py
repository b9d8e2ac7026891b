"""Differential cases: the ``artifacts`` module (``mlflow.artifacts`` / ``mltrail.artifacts``):
load_text, load_dict, load_image, list_artifacts, download_artifacts."""

from __future__ import annotations

import os
from typing import Any

from diff_harness import Ctx, case


def _logged_run(ctx: Ctx) -> str:
    with ctx.ml.start_run() as run:
        ctx.ml.log_text("héllo\nworld", "d/f.txt")
        ctx.ml.log_text("top", "top.txt")
        ctx.ml.log_dict({"b": [1, 2], "a": {"c": "x"}}, "conf/d.json")
        ctx.ml.log_dict({"b": [1, 2], "a": {"c": "x"}}, "conf/d.yaml")
        ctx.ml.log_text("{not json", "conf/bad.json")
    return str(run.info.run_id)


def _uri(ctx: Ctx, run_id: str, path: str, form: str) -> str:
    if form == "runs":
        return f"runs:/{run_id}/{path}"
    base = ctx.client.get_run(run_id).info.artifact_uri
    return f"{base.rstrip('/')}/{path}"


URI_FORMS = ["runs", "artifact_uri"]


@case(
    "artifacts_load_text",
    [
        (f"{form}_{label}", (form, path))
        for form in URI_FORMS
        for label, path in (("file", "d/f.txt"), ("missing", "d/nope.txt"), ("folder", "d"))
    ],
    # MLflow's HTTP client reports a missing file as INTERNAL_ERROR (its local one: NOT_EXIST)
    server_skip=frozenset({"artifact_uri_missing"}),
)
def artifacts_load_text(ctx: Ctx, arg: tuple[str, str]) -> Any:
    form, path = arg
    run_id = _logged_run(ctx)
    return ctx.call(ctx.ml.artifacts.load_text, _uri(ctx, run_id, path, form))


@case(
    "artifacts_load_dict",
    [
        (f"{form}_{label}", (form, path))
        for form in URI_FORMS
        for label, path in (("json", "conf/d.json"), ("yaml", "conf/d.yaml"),
                            ("bad_json", "conf/bad.json"), ("missing", "conf/nope.json"))
    ],
    server_skip=frozenset({"artifact_uri_missing"}),  # as in artifacts_load_text
)  # fmt: skip
def artifacts_load_dict(ctx: Ctx, arg: tuple[str, str]) -> Any:
    form, path = arg
    run_id = _logged_run(ctx)
    return ctx.call(ctx.ml.artifacts.load_dict, _uri(ctx, run_id, path, form))


@case("artifacts_load_image", ["png", "missing"])
def artifacts_load_image(ctx: Ctx, what: str) -> Any:
    import numpy as np

    with ctx.ml.start_run() as run:
        ctx.ml.log_image(np.full((3, 4, 3), 200, dtype=np.uint8), "img/a.png")
    path = "img/a.png" if what == "png" else "img/none.png"
    outcome = ctx.call(ctx.ml.artifacts.load_image, f"runs:/{run.info.run_id}/{path}")
    if outcome[0] == "ok":
        image = ctx.ml.artifacts.load_image(f"runs:/{run.info.run_id}/{path}")
        return ["ok", image.size, image.mode]
    return outcome


@case(
    "artifacts_list",
    [("root", None), ("folder", "d"), ("file", "d/f.txt"), ("missing", "nope"), ("nested", "conf")],
    deliberate={"root": "runs-uri-root-listing"},
    server_deliberate=None,  # MLflow's HTTP client lists the root itself
)
def artifacts_list(ctx: Ctx, path: str | None) -> Any:
    run_id = _logged_run(ctx)
    by_run = ctx.call(ctx.ml.artifacts.list_artifacts, run_id=run_id, artifact_path=path)
    uri = f"runs:/{run_id}/{path}" if path else f"runs:/{run_id}"
    by_uri = ctx.call(ctx.ml.artifacts.list_artifacts, artifact_uri=uri)

    def rows(outcome: Any) -> Any:
        if outcome[0] != "ok":
            return outcome
        return sorted((f["path"], f["is_dir"], f["file_size"]) for f in outcome[1])

    return {"by_run_id": rows(by_run), "by_uri": rows(by_uri)}


@case("artifacts_download", [("file", "d/f.txt"), ("folder", "conf"), ("root", ""),
                             ("missing", "nope.txt")])  # fmt: skip
def artifacts_download(ctx: Ctx, path: str) -> Any:
    run_id = _logged_run(ctx)
    dst = ctx.tmp / "dl"
    dst.mkdir()
    try:
        local = ctx.ml.artifacts.download_artifacts(
            run_id=run_id, artifact_path=path, dst_path=str(dst)
        )
    except Exception as exc:  # noqa: BLE001
        return ctx.error(exc).as_tuple()
    files = sorted(str(p.relative_to(dst)) for p in dst.rglob("*"))
    return [os.path.relpath(local, dst), files]


@case("artifacts_args", ["both", "neither", "path_without_run"])
def artifacts_args(ctx: Ctx, how: str) -> Any:
    run_id = _logged_run(ctx)
    args: dict[str, Any] = {
        "both": {"artifact_uri": f"runs:/{run_id}/d", "run_id": run_id},
        "neither": {},
        "path_without_run": {"artifact_path": "d"},
    }[how]
    return ctx.call(ctx.ml.artifacts.download_artifacts, **args)
