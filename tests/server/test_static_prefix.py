"""``mltrail server --static-prefix /mlflow``: the UI, the REST and ajax API and the artifact
proxy all answer under the prefix, as behind an ingress that forwards ``/mlflow/...`` as is.
A real server process, the real ``mlflow`` client and the real UI pages."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import httpx
import pytest
from server_process import mlflow_env, mltrail_server

SCRIPT = textwrap.dedent(
    """
    import mlflow
    mlflow.set_experiment("behind-ingress")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_text("hello from a prefix", "notes/hello.txt")
        uri = mlflow.get_artifact_uri()
    print("RESULT", run.info.run_id, run.info.experiment_id, uri)
    """
)


def test_the_mlflow_client_and_the_ui_work_under_a_prefix(tmp_path: Path) -> None:
    with mltrail_server(tmp_path, "--static-prefix", "/mlflow", probe="/mlflow/health") as url:
        script = tmp_path / "train.py"
        script.write_text(SCRIPT)
        done = subprocess.run(
            [sys.executable, str(script)],
            env=mlflow_env(url + "/mlflow"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        run_id, experiment_id, artifact_uri = result[0].split()[1:]
        assert artifact_uri.startswith("mlflow-artifacts:/")

        api = url + "/mlflow/api/2.0/mlflow"
        run = httpx.get(api + "/runs/get", params={"run_id": run_id}).json()["run"]
        assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
        listed = httpx.get(api + "/artifacts/list", params={"run_id": run_id, "path": "notes"})
        assert [f["path"] for f in listed.json()["files"]] == ["notes/hello.txt"]
        ajax = httpx.get(
            url + "/mlflow/ajax-api/2.0/mlflow/metrics/get-history",
            params={"run_id": run_id, "metric_key": "loss"},
        )
        assert len(ajax.json()["metrics"]) == 5
        # The file the client uploaded went through the proxy under the prefix.
        stored = list((tmp_path / "mltrail-artifacts").rglob("hello.txt"))
        assert [p.read_text() for p in stored] == ["hello from a prefix"]

        # The UI: pages, their links, scripts and styles all carry the prefix.
        home = httpx.get(url + "/mlflow/", headers={"Accept": "text/html"})
        assert home.status_code == 200
        assert '<meta name="mltrail-root" content="/mlflow">' in home.text
        links = re.findall(r'(?:href|src|action)="([^"#]+)"', home.text)
        local = [link for link in links if link.startswith("/")]
        assert local, home.text[:500]
        assert all(link.startswith("/mlflow/") for link in local), local
        assert f"/mlflow/experiments/{experiment_id}" in local
        for asset in (link for link in local if "/ui/static/" in link):
            assert httpx.get(url + asset).status_code == 200, asset
        run_page = httpx.get(url + f"/mlflow/runs/{run_id}", headers={"Accept": "text/html"})
        assert run_page.status_code == 200
        run_links = re.findall(r'(?:href|src)="(/[^"]*)"', run_page.text)
        assert all(link.startswith("/mlflow/") for link in run_links), run_links
        raw = httpx.get(
            url + f"/mlflow/ui/artifacts/{run_id}/raw", params={"path": "notes/hello.txt"}
        )
        assert raw.text == "hello from a prefix"
        runs_page = httpx.get(url + f"/mlflow/experiments/{experiment_id}?sort=name")
        sort_links = re.findall(r'class="sort" href="([^"]+)"', runs_page.text)
        assert sort_links and all(s.startswith("/mlflow/experiments/") for s in sort_links)

        # Outside the prefix: only probes answer; the bare root points to the prefix.
        assert httpx.get(url + "/health").status_code == 200
        assert httpx.get(url + "/api/2.0/mlflow/experiments/search").status_code == 404
        bare = httpx.get(url + "/")
        assert bare.status_code == 308 and bare.headers["location"] == "/mlflow/"


def test_a_prefix_with_auth_redirects_to_the_prefixed_login(tmp_path: Path) -> None:
    admin = {"MLTRAIL_AUTH_ADMIN_USERNAME": "root", "MLTRAIL_AUTH_ADMIN_PASSWORD": "a-long-pass-42"}
    with mltrail_server(
        tmp_path, "--static-prefix", "mlflow/", "--auth", probe="/mlflow/health", env=admin
    ) as url:
        page = httpx.get(url + "/mlflow/models", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].startswith("/mlflow/login?next=")
        with httpx.Client(base_url=url) as browser:
            login = browser.get(page.headers["location"])
            assert 'action="/mlflow/login"' in login.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
            assert csrf is not None
            signed_in = browser.post(
                "/mlflow/login",
                data={
                    "csrf": csrf.group(1),
                    "next": "/models",
                    "username": "root",
                    "password": "a-long-pass-42",
                },  # fmt: skip
            )
            assert signed_in.status_code == 303
            assert signed_in.headers["location"] == "/mlflow/models"
            assert browser.get("/mlflow/models").status_code == 200


@pytest.mark.parametrize("bad", ["/a/../b", "/has space", "/q?x=1"])
def test_a_bad_prefix_is_one_clear_error(bad: str) -> None:
    from mltrail.cli.server import build_settings

    with pytest.raises(click.BadParameter, match="not a path prefix"):
        build_settings("sqlite:///x.db", None, "./a", True, None, None, static_prefix=bad)
