"""Retries are safe: a connection dropped after the server did the work, then a retry, makes
nothing twice (runs, experiments, metric points); an overloaded server answers 503 with
Retry-After, which mltrail's client honours."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mltrail_live import LiveServer, assert_error, make_settings, serve

from mltrail.entities import Metric, Param
from mltrail.store import rest_http
from mltrail.store.rest import RestStore
from mltrail.store.rest_http import HttpClient


class DroppingProxy:
    """A TCP proxy that forwards each HTTP request to the server, waits for the whole answer,
    and then, for the next ``drop`` requests whose path contains ``only``, closes the client's
    connection instead of passing the answer on: the server did the work, the client never
    heard."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.drop = 0
        self.only = ""
        self.dropped = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_message(conn: socket.socket, buffer: bytes) -> tuple[bytes, bytes] | None:
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def _serve(self, client: socket.socket) -> None:
        pending = b""
        with client:
            while True:
                got = self._read_message(client, pending)
                if got is None:
                    return
                request, pending = got
                with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                    upstream.sendall(request)
                    answer = self._read_message(upstream, b"")
                if answer is None:
                    return
                first_line = request.split(b"\r\n", 1)[0].decode()
                if self.drop > 0 and self.only in first_line:
                    self.drop -= 1
                    self.dropped += 1
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(answer[0])

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("retries")
    with serve(make_settings(f"sqlite:///{folder / 'db.sqlite'}", folder)) as live:
        yield live


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[DroppingProxy]:
    port = int(server.url.rsplit(":", 1)[1])
    dropping = DroppingProxy(port)
    yield dropping
    dropping.close()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(rest_http, "_sleep", slept.append)
    monkeypatch.setenv("MLTRAIL_RUN_HEARTBEATS", "false")
    return slept


def _store(proxy: DroppingProxy) -> RestStore:
    return RestStore(proxy.url, client=HttpClient())


def test_retried_log_batch_after_a_dropped_connection_duplicates_nothing(
    server: LiveServer, proxy: DroppingProxy
) -> None:
    store = _store(proxy)
    run = store.create_run("0", "me", 0)
    metrics = [Metric("loss", 1.0 / (i + 1), 1000 + i, i) for i in range(500)]
    proxy.drop, proxy.only = 2, "log-batch"
    store.log_batch(run.info.run_id, metrics=metrics, params=[Param("lr", "0.1")])
    assert proxy.dropped == 2  # two answers lost, the third attempt heard
    history = httpx.get(
        server.api + "/metrics/get-history",
        params={"run_id": run.info.run_id, "metric_key": "loss", "max_results": 10000},
    ).json()["metrics"]
    assert len(history) == 500
    assert sorted(m["step"] for m in history) == list(range(500))
    got = store.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1"}


def test_retried_run_create_makes_one_run(server: LiveServer, proxy: DroppingProxy) -> None:
    store = _store(proxy)
    exp_id = store.create_experiment(f"retry-{uuid.uuid4().hex[:8]}")
    proxy.drop, proxy.only = 1, "runs/create"
    run = store.create_run(exp_id, "me", 0, run_name="once")
    assert proxy.dropped == 1
    runs = httpx.post(server.api + "/runs/search", json={"experiment_ids": [exp_id]}).json()
    assert [r["info"]["run_id"] for r in runs["runs"]] == [run.info.run_id]


def test_retried_experiment_create_makes_one_and_answers_its_id(
    server: LiveServer, proxy: DroppingProxy
) -> None:
    store = _store(proxy)
    name = f"retry-exp-{uuid.uuid4().hex[:8]}"
    proxy.drop, proxy.only = 1, "experiments/create"
    exp_id = store.create_experiment(name)  # without the key, the retry would get "exists"
    assert proxy.dropped == 1
    assert store.get_experiment_by_name(name).experiment_id == exp_id


def test_idempotency_key_rules(server: LiveServer) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = httpx.post(server.api + "/runs/create", json={"run_name": "a"}, headers=key)
    again = httpx.post(server.api + "/runs/create", json={"run_name": "a"}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = httpx.post(server.api + "/runs/create", json={"run_name": "b"}, headers=key)
    assert_error(other, 400, "INVALID_PARAMETER_VALUE", "different request")
    bad = httpx.post(server.api + "/runs/create", json={}, headers={"Idempotency-Key": "a b"})
    assert_error(bad, 400, "INVALID_PARAMETER_VALUE", "Idempotency-Key")
    # A create that failed keeps nothing: the same key may succeed later.
    failing = {"Idempotency-Key": uuid.uuid4().hex}
    missing = httpx.post(
        server.api + "/runs/create", json={"experiment_id": "987654"}, headers=failing
    )
    assert missing.status_code == 404
    # Without a key, two creates are two runs, as in MLflow.
    one = httpx.post(server.api + "/runs/create", json={}).json()["run"]["info"]["run_id"]
    two = httpx.post(server.api + "/runs/create", json={}).json()["run"]["info"]["run_id"]
    assert one != two


def test_overload_is_503_with_retry_after_and_the_client_waits_it_out(
    tmp_path: Path, no_backoff: list[float]
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db'}", tmp_path, max_concurrent_requests=1, queue_seconds=0.0
    )
    with serve(settings) as live:
        proxy_url = live.url + "/api/2.0/mlflow-artifacts/artifacts/slow.bin"
        release = threading.Event()

        def slow_body() -> Iterator[bytes]:
            yield b"x"
            release.wait(30)
            yield b"y"

        holder = threading.Thread(target=lambda: httpx.put(proxy_url, content=slow_body()))
        holder.start()
        try:
            # Wait until the upload holds the one slot (no request of ours may take it first).
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pressure = getattr(live.app.state, "backpressure", None)
                if pressure is not None and pressure.in_flight == 1:
                    break
                time.sleep(0.02)
            busy = httpx.get(live.api + "/experiments/search")
            assert_error(busy, 503, "TEMPORARILY_UNAVAILABLE", "busy")
            assert busy.headers["retry-after"] == "1"
            assert httpx.get(live.url + "/health").status_code == 200  # probes pass

            # mltrail's client: the first attempt is refused, it sleeps Retry-After, then the
            # slot is free (the test frees it while the client "sleeps").
            def sleep_and_free(seconds: float) -> None:
                no_backoff.append(seconds)
                release.set()
                holder.join(30)

            rest_http._sleep = sleep_and_free
            store = RestStore(live.url, client=HttpClient())
            assert store.get_experiment("0").name == "Default"
            assert no_backoff[-1] == 1.0
        finally:
            release.set()
            holder.join(30)
        assert (Path(live.settings.artifacts_destination) / "slow.bin").read_bytes() == b"xy"
