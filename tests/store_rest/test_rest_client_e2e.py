"""mltrail's own client and fluent API pointed at a live server: buffered writes, reads,
artifacts, and the same over PostgreSQL."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from live_servers import ThreadServer, settings_for

import mltrail
from mltrail.store.rest import RestStore
from mltrail.tracking.client import TrailClient


def exercise(url: str, tmp_path: Path) -> None:
    client = TrailClient(url)
    assert isinstance(client.store, RestStore)
    exp_id = client.create_experiment("e2e")
    run_id = client.create_run(exp_id, run_name="over-http").info.run_id
    for step in range(3000):
        client.log_metric(run_id, "loss", 1 / (step + 1), step=step)
    client.log_metric(run_id, "weird", float("nan"))
    for i in range(150):
        client.log_param(run_id, f"p{i}", i)
    client.set_tag(run_id, "team", "vision")
    note = tmp_path / "note.txt"
    note.write_text("artifact over http")
    client.log_artifact(run_id, str(note), "docs")
    client.set_terminated(run_id)

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "over-http"
    assert len(run.data.params) == 150 and run.data.tags["team"] == "vision"
    assert math.isnan(run.data.metrics["weird"])
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(3000))
    assert [f.path for f in client.list_artifacts(run_id, "docs")] == ["docs/note.txt"]
    back = client.download_artifacts(run_id, "docs/note.txt", str(tmp_path / "back"))
    assert Path(back).read_text() == "artifact over http"


def test_trail_client_over_rest(server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    exercise(server.url, tmp_path)


def test_fluent_api_over_rest(server, monkeypatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    mltrail.set_experiment("fluent-http")
    with mltrail.start_run() as run:
        mltrail.log_params({"a": 1, "b": "two"})
        for step in range(50):
            mltrail.log_metrics({"acc": step / 50}, step=step)
        mltrail.log_text("hello", "notes/readme.txt")
    got = TrailClient(server.url).get_run(run.info.run_id)
    assert got.data.params == {"a": "1", "b": "two"} and got.data.metrics["acc"] == 0.98
    assert got.info.status == "FINISHED"


@pytest.mark.postgres
def test_trail_client_over_rest_on_postgres(pg_uri: str, tmp_path: Path, monkeypatch) -> None:
    live = ThreadServer(
        settings_for(tmp_path, str(tmp_path / "dest"), backend_store_uri=pg_uri)
    ).start()
    try:
        monkeypatch.setenv("MLTRAIL_TRACKING_URI", live.url)
        exercise(live.url, tmp_path)
    finally:
        live.stop()
