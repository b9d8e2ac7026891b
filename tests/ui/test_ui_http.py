"""The UI's routes over HTTP, without a browser: status codes, escaping, security headers,
JSON twins and artifact safety."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from ui_data import demo_experiment, make_run, unique, write_artifacts


@pytest.fixture
def ui(tmp_path):
    from mltrail.server.app import create_app
    from mltrail.server.settings import ServerSettings
    from mltrail.store.sql.store import SqlStore

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}",
        default_artifact_root=str(tmp_path / "artifacts"),
        artifacts_destination=str(tmp_path / "destination"),
    )
    store = SqlStore(settings.backend_store_uri, settings.default_artifact_root)
    client = TestClient(create_app(settings, tracking_store=store), base_url="http://localhost")
    client.store = store  # type: ignore[attr-defined]
    client.settings = settings  # type: ignore[attr-defined]
    return client


def test_pages_render_and_carry_a_csp(ui):
    exp, ids = demo_experiment(ui.store)
    for url in ("/", f"/experiments/{exp}", f"/runs/{ids['adam-0']}", "/models"):
        answer = ui.get(url)
        assert answer.status_code == 200, url
        assert "text/html" in answer.headers["content-type"]
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    compare = ui.get(f"/compare?runs={ids['adam-0']},{ids['sgd-1']}")
    assert compare.status_code == 200
    assert "Comparing 2 runs" in compare.text


def test_run_json_twin(ui):
    exp, ids = demo_experiment(ui.store)
    data = ui.get(f"/ajax-api/ui/runs/{ids['child-0']}").json()
    assert data["run"]["name"] == "child-0" and data["parent"]["run_id"] == ids["parent"]
    assert [m["key"] for m in data["metrics"]] == ["loss"]
    assert ui.get("/ajax-api/ui/runs/nope").status_code == 404


def test_unknown_things_are_404_pages_that_say_so(ui):
    answer = ui.get("/runs/0123456789abcdef0123456789abcdef")
    assert answer.status_code == 404
    assert "There is no run with id" in answer.text and "<html" in answer.text
    assert ui.get("/experiments/9999").status_code == 404
    assert ui.get("/experiments/abc").status_code == 404
    assert ui.get("/compare?runs=nope").status_code == 404
    assert ui.get("/compare").status_code == 400


def test_user_content_is_escaped(ui):
    exp = ui.store.create_experiment("<img src=x onerror=alert(1)>")
    run_id = make_run(
        ui.store,
        exp,
        "<script>alert('run')</script>",
        params={"p": "<i>v</i>"},
        tags={"mlflow.note.content": "# Title\n<script>alert(2)</script> [x](javascript:alert(3))"},
    )
    for url in ("/", f"/experiments/{exp}", f"/runs/{run_id}", f"/compare?runs={run_id}"):
        html = ui.get(url).text
        assert "<script>alert(" not in html, url
        assert "<img src=x" not in html, url
        assert "<i>v</i>" not in html, url
    run_html = ui.get(f"/runs/{run_id}").text
    assert "&lt;script&gt;alert(&#39;run&#39;)&lt;/script&gt;" in run_html
    assert "<h1>Title</h1>" in run_html  # markdown is rendered ...
    assert 'href="javascript:' not in run_html  # ... without dangerous links


def test_runs_json_twin_and_filter_error_position(ui):
    exp, _ = demo_experiment(ui.store)
    data = ui.get(f"/ajax-api/ui/runs?experiment_ids={exp}&sort=metrics.loss&dir=asc").json()
    losses = [float(r["cells"]["metrics.loss"]) for r in data["rows"] if r["cells"]["metrics.loss"]]
    assert losses == sorted(losses)
    bad = ui.get(f"/ajax-api/ui/runs?experiment_ids={exp}&filter=metrics.loss %3C%3C 1").json()
    assert bad["rows"] == [] and bad["error"]["position"] == 14
    page = ui.get(f"/experiments/{exp}?filter=params.lr = ")
    assert page.status_code == 200 and 'role="alert"' in page.text and "<mark>" in page.text


@pytest.mark.parametrize(
    "column",
    ["name", "status", "start_time", "duration", "user", "source", "params.lr", "tags.team"],
)
def test_every_column_sorts(ui, column):
    exp, _ = demo_experiment(ui.store)
    for direction in ("asc", "desc"):
        data = ui.get(f"/ajax-api/ui/runs?experiment_ids={exp}&sort={column}&dir={direction}")
        assert data.status_code == 200 and data.json()["error"] is None
        assert data.json()["state"] == {**data.json()["state"], "sort": column, "dir": direction}
        assert len(data.json()["rows"]) >= 7


def test_metric_history_json_is_downsampled(ui):
    exp = ui.store.create_experiment(unique("long"))
    run_id = make_run(ui.store, exp, "long", metrics={"loss": [float(i % 50) for i in range(5000)]})
    answer = ui.get(f"/ajax-api/ui/metric-history?run_ids={run_id}&key=loss&max_points=200")
    series = answer.json()["series"][0]
    assert 2 < len(series["steps"]) <= 200
    assert max(series["values"]) == 49.0 and min(series["values"]) == 0.0
    zoomed = ui.get(
        f"/ajax-api/ui/metric-history?run_ids={run_id}&key=loss&max_points=200"
        "&start_step=100&end_step=149"
    ).json()["series"][0]
    assert zoomed["steps"] == list(range(100, 150))
    error = ui.get(f"/ajax-api/ui/metric-history?run_ids={run_id}&key=loss&start_step=x")
    assert error.status_code == 400 and error.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_state_changes_need_json(ui):
    exp, ids = demo_experiment(ui.store)
    form = ui.post("/ajax-api/ui/runs/delete", data={"run_ids": ids["adam-0"]})
    assert form.status_code == 415
    assert ui.post("/ajax-api/ui/runs/delete", json={"run_ids": [ids["adam-0"]]}).json()["ok"]
    assert ui.store.get_run(ids["adam-0"]).info.lifecycle_stage == "deleted"
    ui.post("/ajax-api/ui/runs/restore", json={"run_ids": [ids["adam-0"]]})
    assert ui.store.get_run(ids["adam-0"]).info.lifecycle_stage == "active"
    taken = ui.post(
        "/ajax-api/ui/experiments/create", json={"name": ui.store.get_experiment(exp).name}
    )
    assert taken.status_code == 400 and "already exists" in taken.json()["message"]


def test_artifact_routes(ui):
    exp, ids = demo_experiment(ui.store)
    run_id = ids["adam-0"]
    write_artifacts(ui.store, ui.settings, run_id)
    names = {e["name"] for e in ui.get(f"/ajax-api/ui/artifacts?run_id={run_id}").json()["entries"]}
    assert {"logs", "model", "report.html", "predictions.csv", "table.parquet"} <= names

    def preview(path):
        return ui.get(f"/ajax-api/ui/artifacts/preview?run_id={run_id}&path={path}").json()

    assert preview("predictions.csv")["columns"] == ["id", "label", "score"]
    assert preview("table.parquet")["total_rows"] == 1000
    assert preview("logs/train.log")["kind"] == "text"
    assert preview("model/MLmodel")["summary"]["flavors"][0]["name"] == "python_function"
    assert preview("model/model.pkl")["kind"] == "binary"
    assert "best" in preview("metrics.json")["text"]

    html = ui.get(f"/ui/artifacts/{run_id}/raw?path=report.html")
    assert html.headers["content-security-policy"] == "sandbox"
    assert html.headers["x-content-type-options"] == "nosniff"
    svg = ui.get(f"/ui/artifacts/{run_id}/raw?path=plot.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-security-policy"] == "sandbox"
    download = ui.get(f"/ui/artifacts/{run_id}/raw?path=report.html&download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/octet-stream"

    archive = zipfile.ZipFile(io.BytesIO(ui.get(f"/ui/artifacts/{run_id}/zip?path=model").content))
    assert sorted(archive.namelist()) == ["MLmodel", "model.pkl"]
    everything = zipfile.ZipFile(io.BytesIO(ui.get(f"/ui/artifacts/{run_id}/zip").content))
    assert "logs/train.log" in everything.namelist()

    for bad in ("../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd"):
        answer = ui.get(f"/ui/artifacts/{run_id}/raw", params={"path": bad})
        assert answer.status_code == 400, bad


def test_proxied_artifact_uris_map_to_the_destination(ui):
    exp = ui.store.create_experiment(
        unique("proxied"), artifact_location="mlflow-artifacts:/proxied"
    )
    run_id = make_run(ui.store, exp, "p")
    write_artifacts(ui.store, ui.settings, run_id)
    entries = ui.get(f"/ajax-api/ui/artifacts?run_id={run_id}").json()["entries"]
    assert any(e["name"] == "report.html" for e in entries)


def test_plain_paths_under_the_destination_are_served(ui):
    # What a script logging straight to the database writes, next to `mltrail ui`'s defaults.
    location = ui.settings.artifacts_destination + "/local-exp"
    exp = ui.store.create_experiment(unique("local"), artifact_location=location)
    run_id = make_run(ui.store, exp, "l")
    write_artifacts(ui.store, ui.settings, run_id)
    entries = ui.get(f"/ajax-api/ui/artifacts?run_id={run_id}").json()["entries"]
    assert any(e["name"] == "config.yaml" for e in entries)


def test_artifacts_outside_configured_storage_are_refused(ui, tmp_path):
    exp = ui.store.create_experiment(
        unique("outside"), artifact_location=str(tmp_path / "elsewhere")
    )
    run_id = make_run(ui.store, exp, "o")
    answer = ui.get(f"/ajax-api/ui/artifacts?run_id={run_id}")
    assert answer.status_code == 400 and "outside the storage" in answer.json()["message"]


def test_static_files_and_plotly(ui):
    plotly = ui.get("/ui/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and "javascript" in plotly.headers["content-type"]
    assert len(plotly.content) > 1_000_000  # decoded by the client
    raw = ui.get("/ui/static/app.css", headers={"Accept-Encoding": "identity"})
    assert raw.headers["content-type"].startswith("text/css")
    assert ui.get("/ui/static/../settings.py").status_code == 404
    assert ui.get("/ui/static/nope.js").status_code == 404
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


def test_experiment_models_page_by_page(ui):
    from mltrail.server.ui.model_views import MAX_MODELS

    exp = ui.store.create_experiment(unique("many-models"))
    made = [ui.store.create_logged_model(exp, name=f"m{i}") for i in range(MAX_MODELS + 3)]
    first = ui.get(f"/ajax-api/ui/experiments/{exp}/models").json()
    assert len(first["models"]) == MAX_MODELS
    assert first["paging"]["has_next"] and first["paging"]["first"] == 1
    token = first["paging"]["next_page_token"]
    second = ui.get(
        f"/ajax-api/ui/experiments/{exp}/models", params={"page_token": token, "page": 2}
    ).json()
    assert second["paging"] == {
        "page": 2,
        "per": MAX_MODELS,
        "first": MAX_MODELS + 1,
        "last": MAX_MODELS + 3,
        "has_next": False,
        "next_page_token": None,
    }
    shown = {m["model_id"] for m in first["models"]} | {m["model_id"] for m in second["models"]}
    assert shown == {m.model_id for m in made}
    html = ui.get(f"/experiments/{exp}/models").text
    assert 'rel="next"' in html and "Models 1–200" in html
    html = ui.get(f"/experiments/{exp}/models", params={"page_token": token, "page": 2}).text
    assert 'rel="first"' in html and 'rel="next"' not in html and "201–203" in html
    assert ui.get(f"/experiments/{exp}/models", params={"page_token": "bad"}).status_code == 400
