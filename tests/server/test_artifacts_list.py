"""``artifacts/list``: proxied runs are listed from the artifacts destination, others through
their own repository; paths never leave the run's root."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from mltrail_live import assert_error, make_settings, serve


def make_files(root: Path) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "model.txt").write_text("weights")
    (root / "sub" / "plot.png").write_bytes(b"\x89PNG" + b"0" * 10)


def test_proxied_run_lists_from_destination(live_server, api: httpx.Client, run_id: str) -> None:
    run = api.get("/runs/get", params={"run_id": run_id}).json()["run"]
    rel = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    make_files(Path(live_server.settings.artifacts_destination) / rel)

    top = api.get("/artifacts/list", params={"run_id": run_id}).json()
    assert top["root_uri"] == run["info"]["artifact_uri"]
    assert top["files"] == [
        {"path": "model.txt", "is_dir": False, "file_size": 7},
        {"path": "sub", "is_dir": True},
    ]
    sub = api.get("/artifacts/list", params={"run_uuid": run_id, "path": "sub"}).json()
    assert sub["files"] == [{"path": "sub/plot.png", "is_dir": False, "file_size": 14}]


def test_run_without_artifacts_lists_nothing(api: httpx.Client, run_id: str) -> None:
    answer = api.get("/artifacts/list", params={"run_id": run_id}).json()
    assert "files" not in answer and answer["root_uri"]


def test_allowlisted_local_location_is_listed_directly(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        tmp_path,
        allowed_artifact_locations=("mlflow-artifacts:/", str(shared)),
    )
    with serve(settings) as server, httpx.Client(base_url=server.api) as api:
        exp_id = api.post(
            "/experiments/create",
            json={"name": "local", "artifact_location": str(shared / "team")},
        ).json()["experiment_id"]
        run = api.post("/runs/create", json={"experiment_id": exp_id}).json()["run"]["info"]
        make_files(shared / "team" / run["run_id"] / "artifacts")
        listed = api.get("/artifacts/list", params={"run_id": run["run_id"]}).json()
        assert [f["path"] for f in listed["files"]] == ["model.txt", "sub"]


def test_stored_location_outside_the_allowlist_is_not_read(tmp_path: Path) -> None:
    """A row written before the allowlist (or by another tool) is checked where it is used."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    outside = tmp_path / "outside"
    make_files(outside / "x")
    with serve(make_settings(db, tmp_path)) as server:
        exp_id = server.store.create_experiment("legacy", str(outside))
        run = server.store.create_run(exp_id, "u", 0, [], None)
        answer = httpx.get(server.api + "/artifacts/list", params={"run_id": run.info.run_id})
        assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "keeps artifacts only under")


def test_path_traversal_is_refused(api: httpx.Client, run_id: str) -> None:
    for bad in ("../..", "sub/../../x", "/etc", "%2e%2e/x"):
        answer = api.get("/artifacts/list", params={"run_id": run_id, "path": bad})
        assert_error(answer, 400, "INVALID_PARAMETER_VALUE")


def test_unknown_run(api: httpx.Client) -> None:
    answer = api.get("/artifacts/list", params={"run_id": uuid.uuid4().hex})
    assert_error(answer, 404, "RESOURCE_DOES_NOT_EXIST")


def test_proxied_run_on_a_server_that_does_not_serve_artifacts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with serve(make_settings(db, tmp_path)) as server:
        run = httpx.post(server.api + "/runs/create", json={}).json()["run"]["info"]
    settings = make_settings(db, tmp_path, serve_artifacts=False)
    with serve(settings) as server:
        answer = httpx.get(server.api + "/artifacts/list", params={"run_id": run["run_id"]})
        assert_error(answer, 400, "BAD_REQUEST", "--serve-artifacts")
