"""Registry webhooks against a local receiver (a real HTTP server in a thread, allowed
explicitly by the operator's allowlist): events arrive as HMAC-signed JSON, failed deliveries
are retried, the test endpoint reports the receiver's answer, and URLs that would reach
internal services are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from mltrail.server.webhooks import WebhookUrlPolicy
from mltrail.store.rest import RestStore
from mltrail.store.rest_registry import RestRegistryStore

SECRET = "s3cret-value"


class Receiver:
    """Records every POST; answers with the queued statuses first, then 200."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append({"headers": dict(self.headers), "body": body.decode()})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"got it")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    live = Receiver()
    yield live
    live.stop()


@pytest.fixture
def server(tmp_path):
    from live_servers import ThreadServer, settings_for

    settings = settings_for(tmp_path, str(tmp_path / "dest"), webhook_allowed_hosts=("127.0.0.1",))
    live = ThreadServer(settings).start()
    yield live
    live.stop()


def _create(server, url: str, events: list[tuple[str, str]], **extra: Any) -> requests.Response:
    body = {
        "name": "ci-hook",
        "url": url,
        "events": [{"entity": e, "action": a} for e, a in events],
        **extra,
    }
    return requests.post(f"{server.url}/api/2.0/mlflow/webhooks", json=body, timeout=10)


def _verify(call: dict[str, Any]) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in call["headers"].items()}
    signed = f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}.{call['body']}"
    digest = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).digest()
    assert headers["x-mlflow-signature"] == "v1," + base64.b64encode(digest).decode()
    return json.loads(call["body"])


def test_registry_events_arrive_signed(server, receiver):
    made = _create(
        server,
        receiver.url,
        [
            ("REGISTERED_MODEL", "CREATED"),
            ("MODEL_VERSION", "CREATED"),
            ("MODEL_VERSION_ALIAS", "CREATED"),
            ("MODEL_VERSION_TAG", "SET"),
        ],
        secret=SECRET,
        description="CI",
    )
    assert made.status_code == 200, made.text
    hook = made.json()["webhook"]
    assert "secret" not in hook and hook["status"] == "ACTIVE"
    assert {"entity": "MODEL_VERSION", "action": "CREATED"} in hook["events"]

    registry, tracking = RestRegistryStore(server.url), RestStore(server.url)
    run_id = tracking.create_run("0", "u", 1, [], None).info.run_id
    registry.create_registered_model("churn")
    registry.create_model_version("churn", f"runs:/{run_id}/model", run_id)
    registry.set_registered_model_alias("churn", "champion", 1)
    from mltrail.entities import ModelVersionTag

    registry.set_model_version_tag("churn", 1, ModelVersionTag("validated", "yes"))
    registry.delete_registered_model_alias("churn", "champion")  # not subscribed: not sent

    calls = receiver.wait_for(4)
    events = sorted((p["entity"], p["action"]) for p in map(_verify, calls))
    assert events == [
        ("model_version", "created"),
        ("model_version_alias", "created"),
        ("model_version_tag", "set"),
        ("registered_model", "created"),
    ]
    by_event = {(p["entity"], p["action"]): p["data"] for p in map(_verify, calls)}
    assert by_event[("model_version", "created")]["version"] == "1"
    assert by_event[("model_version_alias", "created")] == {
        "name": "churn", "alias": "champion", "version": "1",
    }  # fmt: skip
    time.sleep(0.5)
    assert len(receiver.calls) == 4  # the alias deletion was not subscribed to


def test_failed_deliveries_are_retried_and_the_test_endpoint_reports(server, receiver):
    hook = _create(server, receiver.url, [("MODEL_VERSION", "CREATED")], secret=SECRET).json()
    hook_id = hook["webhook"]["webhook_id"]
    receiver.statuses = [503, 500]  # two failures, then 200
    answer = requests.post(
        f"{server.url}/api/2.0/mlflow/webhooks/{hook_id}/test", json={}, timeout=30
    )
    result = answer.json()["result"]
    assert result == {"success": True, "response_status": 200, "response_body": "got it"}
    assert len(receiver.calls) == 3
    ids = {c["headers"]["X-MLflow-Delivery-Id"] for c in receiver.calls}
    assert len(ids) == 1  # one delivery, three attempts
    assert _verify(receiver.calls[-1])["data"]["name"] == "example-model"

    receiver.statuses = [404]  # not retried: the receiver said no
    result = requests.post(
        f"{server.url}/api/2.0/mlflow/webhooks/{hook_id}/test", json={}, timeout=30
    ).json()["result"]
    assert (result["success"], result["response_status"]) == (False, 404)
    assert len(receiver.calls) == 4


def test_webhook_crud(server, receiver):
    api = f"{server.url}/api/2.0/mlflow/webhooks"
    hook_id = _create(server, receiver.url, [("MODEL_VERSION", "CREATED")]).json()["webhook"][
        "webhook_id"
    ]
    listed = requests.get(api, timeout=10).json()["webhooks"]
    assert [h["webhook_id"] for h in listed] == [hook_id]
    patched = requests.patch(f"{api}/{hook_id}", json={"status": "DISABLED"}, timeout=10)
    assert patched.json()["webhook"]["status"] == "DISABLED"
    assert requests.get(f"{api}/{hook_id}", timeout=10).json()["webhook"]["status"] == "DISABLED"
    bad = requests.patch(f"{api}/{hook_id}", json={"url": "http://169.254.169.254/"}, timeout=10)
    assert bad.status_code == 400
    assert requests.delete(f"{api}/{hook_id}", timeout=10).status_code == 200
    assert requests.get(f"{api}/{hook_id}", timeout=10).status_code == 404
    unknown = _create(server, receiver.url, [("MODEL_VERSION", "EXPLODED")])
    assert unknown.status_code == 400 and "Unknown webhook event" in unknown.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",  # loopback, not allowed on this server
        "http://localhost:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://2130706433/hook",
        "http://0x7f.1/hook",
        "http://0.0.0.0:9/hook",
        "file:///etc/passwd",
        "ftp://example.com/hook",
        "http://user:pw@example.com/hook",
        "http://exa mple.com/hook",
        "http://example.com\\@127.0.0.1/",
    ],
)
def test_internal_and_malformed_urls_are_refused(tmp_path, url):
    from live_servers import ThreadServer, settings_for

    live = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest"))).start()
    try:
        answer = _create(live, url, [("MODEL_VERSION", "CREATED")])
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert requests.get(f"{live.url}/api/2.0/mlflow/webhooks", timeout=10).json() == {}
    finally:
        live.stop()


def test_allowlist_rules():
    policy = WebhookUrlPolicy(["hooks.example.com", "*.corp.example", "10.1.0.0/16"])
    with pytest.raises(Exception, match="allowlist"):
        policy.check("https://other.example.com/x")
    with pytest.raises(Exception, match="allowlist"):
        policy.check("http://10.2.0.1/x")
    assert policy.check("http://10.1.2.3/x") == "http://10.1.2.3/x"  # private, but listed
    assert WebhookUrlPolicy(["127.0.0.1"]).check("http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/"
    )
    with pytest.raises(Exception, match="loopback"):
        WebhookUrlPolicy().check("http://127.0.0.1:8080/")
