"""The HTTP layer under RestStore: retries, Retry-After, unreachable servers, auth, TLS options.

Scripted answers come from a real HTTP server (``ScriptedServer``); the live mltrail app is
used where its behaviour matters."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from live_servers import ThreadServer, free_port, settings_for

from mltrail.artifacts import get_artifact_repository
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound, StoreUnavailable
from mltrail.store import rest_http
from mltrail.store.rest import RestStore
from mltrail.store.rest_http import HttpClient
from mltrail.tracking.uri import set_tracking_uri

EMPTY_SEARCH = (200, {}, b"{}")


class ScriptedServer:
    """Answers requests from a script of (status, headers, body); records what it received."""

    def __init__(self, script: list[tuple[int, dict[str, str], bytes]], delay: float = 0) -> None:
        self.script, self.delay = list(script), delay
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                time.sleep(outer.delay)
                status, headers, body = outer.script.pop(0) if outer.script else EMPTY_SEARCH
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(rest_http, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def scripted() -> Iterator[list[ScriptedServer]]:
    made: list[ScriptedServer] = []
    yield made
    for server in made:
        server.close()


def error(status: int, code: str, headers: dict[str, str] | None = None):
    body = json.dumps({"error_code": code, "message": f"{code} happened"}).encode()
    return (status, {"Content-Type": "application/json", **(headers or {})}, body)


def test_retries_honour_retry_after_and_stop_on_deterministic_errors(scripted, sleeps) -> None:
    server = ScriptedServer(
        [
            error(429, "RESOURCE_EXHAUSTED", {"Retry-After": "3"}),
            error(503, "TEMPORARILY_UNAVAILABLE"),
            error(500, "INTERNAL_ERROR"),
            EMPTY_SEARCH,
            error(500, "INVALID_STATE"),
            error(404, "RESOURCE_DOES_NOT_EXIST"),
        ]
    )
    scripted.append(server)
    store = RestStore(server.url, HttpClient())
    assert store.search_experiments() == []
    assert len(server.requests) == 4
    assert sleeps[0] == 3.0  # Retry-After, not the backoff
    assert sleeps[1] < sleeps[2]  # exponential backoff
    with pytest.raises(MltrailException) as caught:
        store.rename_experiment("1", "x")
    assert caught.value.error_code == "INVALID_STATE" and len(server.requests) == 5
    with pytest.raises(NotFound):
        store.get_run("r")
    assert len(sleeps) == 3


def test_server_down_then_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "10")
    port = free_port()
    server = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest")), port=port)
    store = RestStore(server.url, HttpClient())
    outcome: dict = {}

    def call() -> None:
        try:
            outcome["id"] = store.create_experiment("born-while-down")
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.5)  # the first attempts meet a closed port
    server.start()
    try:
        worker.join(timeout=60)
        assert "error" not in outcome, outcome
        assert store.get_experiment(outcome["id"]).name == "born-while-down"
    finally:
        server.stop()


def test_unreachable_server_is_one_sentence_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLTRAIL_TRACKING_PASSWORD", "hunter2")
    monkeypatch.setenv("MLTRAIL_TRACKING_USERNAME", "admin")
    port = free_port()
    store = RestStore(f"http://alice:s3cret@127.0.0.1:{port}", HttpClient())
    with pytest.raises(StoreUnavailable) as caught:
        store.get_experiment("0")
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}" in message and "connection refused" in message
    assert "3 attempts" in message and "\n" not in message
    for secret in ("hunter2", "s3cret", "alice", "admin"):
        assert secret not in message and secret not in repr(caught.value.__cause__)


def test_read_timeout_gives_up(scripted, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_TIMEOUT", "0.3")
    monkeypatch.setenv("MLTRAIL_HTTP_REQUEST_MAX_RETRIES", "0")
    server = ScriptedServer([EMPTY_SEARCH], delay=1.0)
    scripted.append(server)
    with pytest.raises(StoreUnavailable, match="timed out"):
        RestStore(server.url, HttpClient()).search_experiments()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("env", "url_user", "expected"),
    [
        ({"MLFLOW_TRACKING_TOKEN": "tok"}, None, "Bearer tok"),
        (
            {"MLTRAIL_TRACKING_TOKEN": "mine", "MLFLOW_TRACKING_TOKEN": "theirs"},
            None,
            "Bearer mine",
        ),
        (
            {
                "MLFLOW_TRACKING_USERNAME": "u",
                "MLFLOW_TRACKING_PASSWORD": "p",
                "MLFLOW_TRACKING_TOKEN": "tok",
            },
            None,
            basic("u", "p"),
        ),
        (
            {
                "MLTRAIL_TRACKING_USERNAME": "a",
                "MLTRAIL_TRACKING_PASSWORD": "b",
                "MLFLOW_TRACKING_USERNAME": "u",
                "MLFLOW_TRACKING_PASSWORD": "p",
            },
            None,
            basic("a", "b"),
        ),
        ({}, "x:y@", basic("x", "y")),
        ({}, None, None),
    ],
)
def test_auth_headers(scripted, monkeypatch, env, url_user, expected) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    server = ScriptedServer([EMPTY_SEARCH])
    scripted.append(server)
    url = server.url.replace("http://", "http://" + (url_user or ""))
    RestStore(url, HttpClient()).search_experiments()
    headers = server.requests[0]["headers"]
    assert headers.get("Authorization") == expected
    assert headers["Content-Type"] == "application/json"
    assert server.requests[0]["path"] == "/api/2.0/mlflow/experiments/search"


def test_non_json_errors_and_auth_hint(scripted, monkeypatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_TOKEN", "very-secret-token")
    server = ScriptedServer([(401, {"Content-Type": "text/plain"}, b"You are not authenticated")])
    scripted.append(server)
    with pytest.raises(MltrailException) as caught:
        RestStore(server.url, HttpClient()).get_experiment("0")
    assert caught.value.error_code == "UNAUTHENTICATED"
    assert "MLTRAIL_TRACKING_TOKEN" in caught.value.message
    assert "very-secret-token" not in caught.value.message


def test_artifact_credentials_only_go_to_the_tracking_server(scripted, monkeypatch, tmp_path):
    monkeypatch.setenv("MLTRAIL_TRACKING_TOKEN", "tok")
    tracking, foreign = ScriptedServer([]), ScriptedServer([])
    scripted += [tracking, foreign]
    f = tmp_path / "f.txt"
    f.write_text("x")
    set_tracking_uri(tracking.url)
    try:
        for server in (tracking, foreign):
            repo = get_artifact_repository(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/r")
            repo.log_artifact(str(f))
    finally:
        set_tracking_uri(None)
    assert tracking.requests[0]["headers"].get("Authorization") == "Bearer tok"
    assert "Authorization" not in foreign.requests[0]["headers"]
    assert foreign.requests[0]["body"] == b"x"


def test_conflicting_tls_settings(monkeypatch, scripted) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "/etc/ssl/ca.pem")
    server = ScriptedServer([])
    scripted.append(server)
    with pytest.raises(InvalidParameter, match="not both"):
        RestStore(server.url, HttpClient()).search_experiments()


def test_an_html_answer_is_named_for_what_it_is(scripted) -> None:
    server = ScriptedServer([(200, {"Content-Type": "text/html"}, b"<html>hello</html>")])
    scripted.append(server)
    with pytest.raises(MltrailException, match="not JSON; is it an mltrail or MLflow"):
        RestStore(server.url, HttpClient()).get_experiment("0")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_and_its_switches(tmp_path: Path, monkeypatch) -> None:
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    live = ThreadServer(settings_for(tmp_path, str(tmp_path / "dest")), tls=(str(cert), str(key)))
    live.start()
    client = HttpClient()
    try:
        store = RestStore(live.url, client)
        with pytest.raises(StoreUnavailable, match="TLS certificate .* could not be verified"):
            store.search_experiments()
        monkeypatch.setenv("MLTRAIL_TRACKING_SERVER_CERT_PATH", str(cert))
        assert [e.name for e in store.search_experiments()] == ["Default"]
        monkeypatch.delenv("MLTRAIL_TRACKING_SERVER_CERT_PATH")
        monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
        assert [e.name for e in store.search_experiments()] == ["Default"]
    finally:
        client.session.close()  # an idle TLS keep-alive would hold up the server's shutdown
        live.stop()


def test_proxy_variables_route_requests_through_the_proxy(scripted, monkeypatch) -> None:
    """The client reads proxies from the environment itself (not through requests' scan of
    every variable): a proxy variable still sends the request to the proxy, NO_PROXY still
    exempts a host."""
    proxy = ScriptedServer([EMPTY_SEARCH, EMPTY_SEARCH])
    scripted.append(proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    store = RestStore("http://tracking.invalid:5000", HttpClient())
    assert store.search_experiments() == []
    assert proxy.requests[-1]["path"].startswith("http://tracking.invalid:5000/api/2.0/mlflow/")
    direct = ScriptedServer([EMPTY_SEARCH])
    scripted.append(direct)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert RestStore(direct.url, HttpClient()).search_experiments() == []
    assert len(direct.requests) == 1 and len(proxy.requests) == 1


def test_netrc_credentials_are_sent(scripted, monkeypatch, tmp_path: Path) -> None:
    server = ScriptedServer([EMPTY_SEARCH])
    scripted.append(server)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ann password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("MLTRAIL_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN", "MLTRAIL_TRACKING_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    RestStore(server.url, HttpClient()).search_experiments()
    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert server.requests[0]["headers"]["Authorization"] == expected


def test_bare_nan_and_infinity_from_an_mlflow_server_are_read(scripted) -> None:
    """MLflow's server writes non-finite metric values as bare NaN / Infinity, which strict
    JSON parsers refuse; the client falls back to a parser that takes them."""
    run = (
        b'{"runs": [{"info": {"run_id": "r1", "experiment_id": "1", "status": "FINISHED",'
        b' "start_time": 1, "lifecycle_stage": "active", "artifact_uri": "x"},'
        b' "data": {"metrics": [{"key": "a", "value": NaN, "timestamp": 5, "step": 2},'
        b' {"key": "b", "value": -Infinity, "timestamp": "6", "step": "3"},'
        b' {"key": "c", "value": 1, "timestamp": 7, "step": 0, "run_id": "r1"}],'
        b' "params": [{"key": "p", "value": "v"}]}}]}'
    )
    server = ScriptedServer([(200, {"Content-Type": "application/json"}, run)])
    scripted.append(server)
    (found,) = RestStore(server.url, HttpClient()).search_runs(["1"])
    a, b, c = found.data.metric_objs
    assert a.value != a.value and (a.timestamp, a.step) == (5, 2)
    assert (b.value, b.timestamp, b.step) == (float("-inf"), 6, 3)
    assert isinstance(c.value, float) and c.value == 1.0 and c.run_id == "r1"
    assert found.data.params == {"p": "v"} and found.data.tags == {}


def test_plain_calls_follow_redirects_and_build_queries_as_requests_does(scripted) -> None:
    """Plain JSON calls skip requests (``rest_plain``); a redirect still gets followed, and a
    GET query repeats list keys and leaves out None, as requests would."""
    target = ScriptedServer([EMPTY_SEARCH])
    scripted.append(target)
    moved = (307, {"Location": f"{target.url}/moved"}, b"")
    first = ScriptedServer([moved, moved])  # a server redirects every time it is asked
    scripted.append(first)
    client = HttpClient()
    answer = client.request("POST", f"{first.url}/x", json_body='{"a": 1}')
    assert answer.status_code == 200 and answer.json() == {}
    assert target.requests[0]["path"] == "/moved" and target.requests[0]["body"] == b'{"a": 1}'
    query = {"ids": ["1", "2"], "skip": None, "name": "a b", "few": [None, "x"]}
    client.request("GET", f"{target.url}/get", params=query)
    assert target.requests[1]["path"] == "/get?ids=1&ids=2&name=a+b&few=x"


def test_gzip_answers_are_decoded(scripted) -> None:
    import gzip

    body = gzip.compress(b'{"experiments": []}')
    server = ScriptedServer([(200, {"Content-Encoding": "gzip"}, body)])
    scripted.append(server)
    answer = HttpClient().request("GET", f"{server.url}/y")
    assert answer.json() == {"experiments": []}
    assert "gzip" in server.requests[0]["headers"]["Accept-Encoding"]
