"""``mltrail gc``: deleted runs, logged models and experiments are removed for good with their
artifacts (local folders, S3, directly or through the server's proxy); nothing else is
touched; names come free; ``--dry-run`` and ``--older-than`` do what they say."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner

from mltrail.cli import main
from mltrail.exceptions import NotFound
from mltrail.store.artifact import get_artifact_repository
from mltrail.store.sql.store import SqlStore


def gc(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["gc", *args], catch_exceptions=False)
    return result.exit_code, result.output


def put_file(artifact_uri: str, tmp_path: Path, tracking_uri: str | None = None) -> None:
    local = tmp_path / f"{uuid.uuid4().hex}.txt"
    local.write_text("weights")
    get_artifact_repository(artifact_uri, tracking_uri).log_artifact(str(local), "sub")


def gone(store: SqlStore, run_id: str) -> bool:
    try:
        store.get_run(run_id)
    except NotFound:
        return True
    return False


@pytest.fixture
def local(tmp_path: Path) -> SimpleNamespace:
    """A laptop store: SQLite and a local artifact folder, with something of everything."""
    db = f"sqlite:///{tmp_path / 'mltrail.db'}"
    store = SqlStore(db, str(tmp_path / "artifacts"))
    kept_exp = store.create_experiment("kept")
    doomed_exp = store.create_experiment("doomed")
    kept = store.create_run(kept_exp, "me", 0)
    deleted = store.create_run(kept_exp, "me", 0)
    in_doomed = store.create_run(doomed_exp, "me", 0)
    model = store.create_logged_model(kept_exp, name="m")
    for uri in (kept.info.artifact_uri, deleted.info.artifact_uri, in_doomed.info.artifact_uri):
        put_file(uri, tmp_path)
    put_file(model.artifact_location, tmp_path)
    store.delete_run(deleted.info.run_id)
    store.delete_experiment(doomed_exp)
    store.delete_logged_model(model.model_id)
    return SimpleNamespace(
        db=db,
        store=store,
        root=tmp_path / "artifacts",
        kept=kept.info,
        deleted=deleted.info,
        in_doomed=in_doomed.info,
        model=model,
        doomed_exp=doomed_exp,
    )


def test_dry_run_lists_and_removes_nothing(local: SimpleNamespace) -> None:
    before = sorted(p for p in local.root.rglob("*"))
    code, out = gc("--backend-store-uri", local.db, "--dry-run")
    assert code == 0, out
    assert f"Would remove run {local.deleted.run_id}" in out
    assert f"Would remove run {local.in_doomed.run_id}" in out
    assert f"Would remove logged model {local.model.model_id}" in out
    assert "Would remove experiment doomed" in out
    assert "2 runs, 1 logged models and 1 experiments would be removed." in out
    assert sorted(p for p in local.root.rglob("*")) == before
    assert local.store.get_run(local.deleted.run_id).info.lifecycle_stage == "deleted"


def test_gc_removes_deleted_things_with_their_files_and_frees_names(local: SimpleNamespace) -> None:
    code, out = gc("--backend-store-uri", local.db, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert sorted(report["runs"]) == sorted([local.deleted.run_id, local.in_doomed.run_id])
    assert report["logged_models"] == [local.model.model_id]
    assert report["experiments"] == [f"doomed ({local.doomed_exp})"]
    assert report["failures"] == []
    assert gone(local.store, local.deleted.run_id) and gone(local.store, local.in_doomed.run_id)
    assert not Path(local.deleted.artifact_uri).parent.exists()
    assert not Path(local.in_doomed.artifact_uri).parent.exists()
    assert not Path(local.model.artifact_location).parent.exists()
    with pytest.raises(NotFound):
        local.store.get_logged_model(local.model.model_id, allow_deleted=True)
    # What was not deleted is untouched, files included.
    assert local.store.get_run(local.kept.run_id).info.lifecycle_stage == "active"
    assert (Path(local.kept.artifact_uri) / "sub").is_dir()
    # The experiment's name can be used again.
    again = local.store.create_experiment("doomed")
    assert local.store.get_experiment(again).lifecycle_stage == "active"
    # A second pass finds nothing.
    assert gc("--backend-store-uri", local.db)[1].startswith("0 runs, 0 logged models")


def test_older_than_keeps_recent_deletions(local: SimpleNamespace) -> None:
    code, out = gc("--backend-store-uri", local.db, "--older-than", "1d")
    assert code == 0, out
    assert "0 runs, 0 logged models and 0 experiments removed." in out
    assert local.store.get_run(local.deleted.run_id).info.lifecycle_stage == "deleted"
    assert gc("--backend-store-uri", local.db, "--older-than", "1 week")[0] != 0


def test_only_the_named_ids_and_only_if_deleted(local: SimpleNamespace) -> None:
    result = CliRunner().invoke(
        main, ["gc", "--backend-store-uri", local.db, "--run-ids", local.kept.run_id]
    )
    assert result.exit_code != 0
    assert "is not deleted" in result.output
    assert local.store.get_run(local.kept.run_id).info.lifecycle_stage == "active"
    code, out = gc("--backend-store-uri", local.db, "--run-ids", local.deleted.run_id)
    assert code == 0, out
    assert gone(local.store, local.deleted.run_id)
    assert not gone(local.store, local.in_doomed.run_id)  # not named: kept


def _proxied_run(server_url: str, tmp_path: Path) -> tuple[str, str]:
    api = server_url + "/api/2.0/mlflow"
    run = httpx.post(api + "/runs/create", json={}).json()["run"]["info"]
    put_file(run["artifact_uri"], tmp_path, server_url)
    assert httpx.post(api + "/runs/delete", json={"run_id": run["run_id"]}).status_code == 200
    return run["run_id"], run["artifact_uri"]


@pytest.mark.parametrize("route", ["through the proxy", "in the destination"])
def test_proxied_artifacts_on_a_local_destination(
    proxy: SimpleNamespace, tmp_path: Path, route: str
) -> None:
    run_id, uri = _proxied_run(proxy.url, tmp_path)
    rel = uri.removeprefix("mlflow-artifacts:/").removesuffix("/artifacts")
    assert (proxy.dest / rel / "artifacts" / "sub").is_dir()
    where = (
        ["--tracking-uri", proxy.url]
        if route == "through the proxy"
        else ["--artifacts-destination", str(proxy.dest)]
    )
    code, out = gc("--backend-store-uri", proxy.server.settings.backend_store_uri, *where)
    assert code == 0, out
    assert not (proxy.dest / rel).exists()
    assert (proxy.dest / rel.split("/")[0]).is_dir()  # the experiment's folder stays
    answer = httpx.get(proxy.url + "/api/2.0/mlflow/runs/get", params={"run_id": run_id})
    assert answer.status_code == 404


def test_proxied_artifacts_need_a_way_to_reach_them(proxy: SimpleNamespace, tmp_path: Path) -> None:
    run_id, _ = _proxied_run(proxy.url, tmp_path)
    result = CliRunner().invoke(
        main,
        ["gc", "--backend-store-uri", proxy.server.settings.backend_store_uri],
        env={"MLTRAIL_TRACKING_URI": "", "MLFLOW_TRACKING_URI": ""},
    )
    assert result.exit_code != 0
    assert "--artifacts-destination" in result.output
    # Nothing removed: the row stays for the next, better-equipped gc.
    answer = httpx.get(proxy.url + "/api/2.0/mlflow/runs/get", params={"run_id": run_id})
    assert answer.json()["run"]["info"]["lifecycle_stage"] == "deleted"


def _s3_keys(bucket: str, prefix: str) -> list[str]:
    from mltrail.store.artifact.s3 import s3_client

    pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def test_s3_artifacts_direct(s3_bucket: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db'}"
    store = SqlStore(db, f"s3://{s3_bucket}/root")
    exp = store.create_experiment("s3")
    doomed = store.create_run(exp, "me", 0)
    neighbour = store.create_run(exp, "me", 0)
    for run in (doomed, neighbour):
        put_file(run.info.artifact_uri, tmp_path)
    store.delete_run(doomed.info.run_id)
    code, out = gc("--backend-store-uri", db)
    assert code == 0, out
    assert _s3_keys(s3_bucket, f"root/{exp}/{doomed.info.run_id}") == []
    assert len(_s3_keys(s3_bucket, f"root/{exp}/{neighbour.info.run_id}/")) == 1


def test_s3_artifacts_proxied(s3_proxy: SimpleNamespace, tmp_path: Path) -> None:
    run_id, uri = _proxied_run(s3_proxy.url, tmp_path)
    rel = uri.removeprefix("mlflow-artifacts:/").removesuffix("/artifacts")
    assert len(_s3_keys(s3_proxy.bucket, f"{s3_proxy.prefix}/{rel}/")) == 1
    code, out = gc(
        "--backend-store-uri",
        s3_proxy.server.settings.backend_store_uri,
        "--artifacts-destination",
        f"s3://{s3_proxy.bucket}/{s3_proxy.prefix}",
    )
    assert code == 0, out
    assert _s3_keys(s3_proxy.bucket, f"{s3_proxy.prefix}/{rel}/") == []
