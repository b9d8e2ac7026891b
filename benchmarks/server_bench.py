"""Server benchmark: ``mltrail server`` and ``mlflow server`` under the same HTTP workload.

    .venv/bin/python benchmarks/server_bench.py              # full comparison (about 10 min)
    .venv/bin/python benchmarks/server_bench.py --quick      # smoke run (a minute or two)
    .venv/bin/python benchmarks/server_bench.py --postgres   # PostgreSQL instead of SQLite
    .venv/bin/python benchmarks/server_bench.py --only mltrail-1 --keep   # one server, kept
    .venv/bin/python benchmarks/server_bench.py --workload search         # one workload

Each server runs as its own subprocess on a free port of 127.0.0.1 over a fresh database (a new
SQLite file, or with ``--postgres`` a new database on 127.0.0.1:5432): ``mltrail server`` from
this virtualenv with ``--workers 1`` and ``--workers 4``, and ``mlflow server`` from
``/tmp/mlflow-bench`` (``MLFLOW_BENCH_VENV``) with its default workers. The client is plain
HTTP (one ``requests.Session`` per simulated client) speaking MLflow's REST wire format: the
bodies are built before the clock starts and are byte-for-byte the same for every server,
except for the run and experiment ids each server hands out.

Workloads (sizes in ``FULL`` and ``QUICK``):

* ingest, 1 client: ``runs/log-batch`` calls of 1000 metrics (10 keys x 100 steps), in a row;
* ingest, 8 clients: the same from 8 concurrent clients, each on its own run;
* run creation: ``runs/create`` (with the tags the mlflow client sends), one ``log-batch``
  (10 params, 10 tags, 5 metrics) and ``runs/update`` FINISHED, in a row;
* ``runs/search`` over an experiment of 200 such runs: ``metrics.m0 > 0.5`` ordered by
  ``metrics.m1 DESC`` (all pages read);
* ``metrics/get-history`` of one 20,000-point metric (all pages read);
* 50 concurrent clients, each creating a run, sending log-batch calls and finishing the run,
  with no retries: HTTP errors are counted, and every point of every accepted call is looked
  for in the metric histories afterwards (a point missing there is a lost point).

Figures are medians of the repeats after a warm-up. Tests never assert timings; this script is
run by hand and its output is read by people (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
MLFLOW_VENV = Path(os.environ.get("MLFLOW_BENCH_VENV", "/tmp/mlflow-bench"))
PG_ADMIN = os.environ.get("MLTRAIL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
BASE_TS = 1_700_000_000_000
API = "/api/2.0/mlflow"
REQUEST_TIMEOUT = 300  # seconds; a request slower than this counts as an error
JSON_HEADERS = {"Content-Type": "application/json"}


# -- sizes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    ingest_calls: int  # log-batch calls (1000 metrics) by the single client, per repeat
    ingest8_calls: int  # log-batch calls by each of the 8 concurrent clients, per repeat
    runs: int  # runs created per repeat of the run-creation workload
    search_runs: int  # runs in the searched experiment
    history: int  # points of the metric read back by get-history
    stress_clients: int
    stress_calls: int  # log-batch calls by each of the stress clients
    repeats: int  # repeats of the write workloads
    read_repeats: int  # repeats of the read workloads


FULL = Sizes(20, 5, 30, 200, 20_000, 50, 2, 3, 7)
QUICK = Sizes(3, 1, 5, 40, 3_000, 12, 1, 2, 3)


# -- the servers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    name: str  # "mltrail-1", "mltrail-4", "mlflow"
    label: str
    kind: str  # "mltrail" or "mlflow"
    workers: int | None  # None: the server's default


TARGETS = [
    Target("mltrail-1", "mltrail (1 worker)", "mltrail", 1),
    Target("mltrail-4", "mltrail (4 workers)", "mltrail", 4),
    Target("mlflow", "MLflow", "mlflow", None),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("MLFLOW_", "MLTRAIL_")):
            del env[name]
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", MLTRAIL_QUIET="1")
    return env


@contextlib.contextmanager
def fresh_database(postgres: bool, folder: Path, target: Target) -> Iterator[str]:
    """The URI of a new, empty database for ``target``, dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{folder / (target.name + '.db')}"
        return
    import psycopg

    # MLflow's default PostgreSQL driver is psycopg2; use psycopg 3 when that is what its
    # virtualenv has.
    scheme = "postgresql://" if target.kind == "mltrail" else _mlflow_pg_scheme()
    db = f"bench_{target.name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", scheme, 1)
    try:
        yield f"{base}/{db}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def _mlflow_pg_scheme() -> str:
    for module, scheme in (
        ("psycopg2", "postgresql+psycopg2://"),
        ("psycopg", "postgresql+psycopg://"),
    ):
        found = subprocess.run(
            [str(MLFLOW_VENV / "bin" / "python"), "-c", f"import {module}"],
            capture_output=True,
        )
        if found.returncode == 0:
            return scheme
    raise SystemExit(
        f"--postgres needs a PostgreSQL driver in {MLFLOW_VENV}: "
        f"{MLFLOW_VENV}/bin/pip install psycopg2-binary"
    )


class ServerProcess:
    """One server as a subprocess (in its own process group), ready when /health answers."""

    def __init__(self, target: Target, db_uri: str, folder: Path) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        artifacts = folder / f"{target.name}-artifacts"
        if target.kind == "mltrail":
            command = [str(VENV_BIN / "mltrail"), "server"]
        else:
            command = [str(MLFLOW_VENV / "bin" / "mlflow"), "server"]
        command += [
            "--backend-store-uri",
            db_uri,
            "--artifacts-destination",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if target.workers is not None:
            command += ["--workers", str(target.workers)]
        self.log = open(folder / f"{target.name}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            command,
            cwd=folder,
            env=_quiet_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(folder)

    def _wait_ready(self, folder: Path, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (folder / f"{self.target.name}.log").read_text(errors="replace")
                raise SystemExit(f"{self.target.label} exited at start:\n{log[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.target.label} did not answer /health within {timeout:.0f}s")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and every process under it (its workers)."""
        tick = os.sysconf("SC_CLK_TCK")
        children: dict[int, list[int]] = {}
        stats: dict[int, tuple[int, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = text.rsplit(")", 1)[1].split()
            pid, ppid = int(entry), int(fields[1])
            children.setdefault(ppid, []).append(pid)
            stats[pid] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            own, waited = stats.get(pid, (0, 0))
            total += own + waited
            todo.extend(children.get(pid, []))
        return total / tick

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# -- the client ----------------------------------------------------------------------------------
class HttpError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:300]}")
        self.status = status


class Client:
    """One simulated client: its own pooled connection, plain HTTP, no retries."""

    def __init__(self, url: str) -> None:
        self.base = url + API
        self.session = requests.Session()

    def post(self, path: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        answer = self.session.post(
            self.base + path, data=data, headers=JSON_HEADERS, timeout=REQUEST_TIMEOUT
        )
        if answer.status_code != 200:
            raise HttpError(answer.status_code, answer.text)
        return answer.json()  # type: ignore[no-any-return]

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = self.session.get(self.base + path, params=params, timeout=REQUEST_TIMEOUT)
        if answer.status_code != 200:
            raise HttpError(answer.status_code, answer.text)
        return answer.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.session.close()

    # the calls the workloads make
    def create_experiment(self, name: str) -> str:
        return str(self.post("/experiments/create", {"name": name})["experiment_id"])

    def create_run(self, experiment_id: str, name: str, start: int) -> str:
        body = {
            "experiment_id": experiment_id,
            "user_id": "bench",
            "run_name": name,
            "start_time": start,
            "tags": [
                {"key": "mlflow.user", "value": "bench"},
                {"key": "mlflow.source.name", "value": "server_bench.py"},
                {"key": "mlflow.source.type", "value": "LOCAL"},
                {"key": "mlflow.runName", "value": name},
            ],
        }
        return str(self.post("/runs/create", body)["run"]["info"]["run_id"])

    def finish_run(self, run_id: str, end: int) -> None:
        body = {"run_id": run_id, "run_uuid": run_id, "status": "FINISHED", "end_time": end}
        self.post("/runs/update", body)

    def history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        """Every point of one metric, following page tokens."""
        points: list[dict[str, Any]] = []
        params: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id, "metric_key": key}
        while True:
            page = self.get("/metrics/get-history", params)
            points.extend(page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                return points
            params = {**params, "page_token": token}


def batch_body(run_id: str, points: list[tuple[str, float, int]]) -> bytes:
    """A log-batch body: ``points`` are (key, value, step)."""
    metrics = [{"key": k, "value": v, "timestamp": BASE_TS + s, "step": s} for k, v, s in points]
    return json.dumps({"run_id": run_id, "metrics": metrics}).encode()


def batch_points(rng: random.Random, keys: int, first_step: int, steps: int) -> list[tuple]:
    return [
        (f"metric_{k}", rng.random(), first_step + s) for s in range(steps) for k in range(keys)
    ]


def run_recipe(rng: random.Random, i: int) -> dict[str, Any]:
    """The params, tags and metrics of one run of the run-creation workload."""
    return {
        "params": [{"key": f"p{j}", "value": f"value-{i}-{j}"} for j in range(10)],
        "tags": [{"key": f"t{j}", "value": f"tag-{j}-{i % 7}"} for j in range(10)],
        "metrics": [
            {"key": f"m{j}", "value": rng.random(), "timestamp": BASE_TS + i, "step": 0}
            for j in range(5)
        ],
    }


def concurrently(n: int, work: Callable[[int], Any]) -> tuple[float, list[Any]]:
    """Run ``work(i)`` in ``n`` threads released together; (wall seconds, results or errors)."""
    barrier = threading.Barrier(n + 1)
    results: list[Any] = [None] * n

    def body(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            results[i] = exc

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


# -- the workloads -------------------------------------------------------------------------------
@dataclass
class Measured:
    times: list[float] = field(default_factory=list)  # seconds, one per repeat
    amount: float = 0  # points or runs per repeat (for rates)
    cpu: list[float] = field(default_factory=list)  # server CPU seconds, one per repeat
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"times": self.times, "amount": self.amount, "cpu": self.cpu, **self.extra}


class Bench:
    def __init__(self, server: ServerProcess, sizes: Sizes) -> None:
        self.server = server
        self.sizes = sizes
        self.client = Client(server.url)

    def _timed(self, measured: Measured, fn: Callable[[], Any]) -> Any:
        cpu0 = self.server.cpu_seconds()
        t0 = time.perf_counter()
        out = fn()
        measured.times.append(time.perf_counter() - t0)
        measured.cpu.append(self.server.cpu_seconds() - cpu0)
        return out

    def ingest_single(self, experiment_id: str) -> Measured:
        n = self.sizes.ingest_calls
        out = Measured(amount=n * 1000)
        for repeat in range(-1, self.sizes.repeats):  # -1: warm-up
            rng = random.Random(100 + repeat)
            run_id = self.client.create_run(experiment_id, f"ingest-{repeat}", BASE_TS)
            bodies = [batch_body(run_id, batch_points(rng, 10, c * 100, 100)) for c in range(n)]

            def send(bodies: list[bytes] = bodies) -> None:
                for body in bodies:
                    self.client.post("/runs/log-batch", body)

            if repeat < 0:
                send(bodies[:2])
            else:
                self._timed(out, send)
        return out

    def ingest_concurrent(self, experiment_id: str, clients: int = 8) -> Measured:
        n = self.sizes.ingest8_calls
        out = Measured(amount=clients * n * 1000)
        for repeat in range(self.sizes.repeats):
            sessions = [Client(self.server.url) for _ in range(clients)]
            bodies = []
            for i, c in enumerate(sessions):
                rng = random.Random(1000 * repeat + i)
                run_id = c.create_run(experiment_id, f"ingest8-{repeat}-{i}", BASE_TS)
                bodies.append(
                    [batch_body(run_id, batch_points(rng, 10, k * 100, 100)) for k in range(n)]
                )

            def work(
                i: int, bodies: list[list[bytes]] = bodies, sessions: list[Client] = sessions
            ) -> None:
                for body in bodies[i]:
                    sessions[i].post("/runs/log-batch", body)

            _, results = self._timed(out, lambda work=work: concurrently(clients, work))
            errors = [r for r in results if isinstance(r, Exception)]
            if errors:
                out.extra.setdefault("errors", []).extend(str(e)[:200] for e in errors)
            for c in sessions:
                c.close()
        return out

    def create_runs(self, experiment_id: str) -> Measured:
        n = self.sizes.runs
        out = Measured(amount=n)
        counter = 0
        for repeat in range(-1, self.sizes.repeats):
            count = 2 if repeat < 0 else n
            rng = random.Random(7 + repeat)
            recipes = [run_recipe(rng, counter + i) for i in range(count)]
            counter += count

            def make(recipes: list[dict[str, Any]] = recipes) -> None:
                for i, recipe in enumerate(recipes):
                    run_id = self.client.create_run(experiment_id, f"run-{i}", BASE_TS + i)
                    self.client.post("/runs/log-batch", {"run_id": run_id, **recipe})
                    self.client.finish_run(run_id, BASE_TS + i + 1000)

            if repeat < 0:
                make()
            else:
                self._timed(out, make)
        out.extra["created"] = counter
        return out

    def fill_experiment(self, experiment_id: str, have: int, want: int) -> None:
        """Add runs (as the run-creation workload makes them) until there are ``want``."""
        missing = list(range(have, want))
        if not missing:
            return
        threads = 4
        rng = random.Random(99)
        recipes = {i: run_recipe(rng, i) for i in missing}

        def work(t: int) -> None:
            c = Client(self.server.url)
            for i in missing[t::threads]:
                run_id = c.create_run(experiment_id, f"run-{i}", BASE_TS + i)
                c.post("/runs/log-batch", {"run_id": run_id, **recipes[i]})
                c.finish_run(run_id, BASE_TS + i + 1000)
            c.close()

        _, results = concurrently(threads, work)
        for r in results:
            if isinstance(r, Exception):
                raise SystemExit(f"filling the search experiment failed: {r}")

    def search(self, experiment_id: str) -> Measured:
        body = json.dumps(
            {
                "experiment_ids": [experiment_id],
                "filter": "metrics.m0 > 0.5",
                "run_view_type": "ACTIVE_ONLY",
                "max_results": 1000,
                "order_by": ["metrics.m1 DESC"],
            }
        ).encode()
        out = Measured(amount=1)

        def one() -> list[dict[str, Any]]:
            runs: list[dict[str, Any]] = []
            page = self.client.post("/runs/search", body)
            runs.extend(page.get("runs", []))
            while page.get("next_page_token"):
                more = json.loads(body)
                more["page_token"] = page["next_page_token"]
                page = self.client.post("/runs/search", more)
                runs.extend(page.get("runs", []))
            return runs

        hits = one()  # warm-up
        for _ in range(self.sizes.read_repeats):
            hits = self._timed(out, one)
        m1 = [_metric(r, "m1") for r in hits]
        out.extra["hits"] = len(hits)
        out.extra["ordered"] = m1 == sorted(m1, reverse=True)
        out.extra["filtered"] = all(_metric(r, "m0") > 0.5 for r in hits)
        return out

    def history(self, experiment_id: str) -> Measured:
        n = self.sizes.history
        run_id = self.client.create_run(experiment_id, "history", BASE_TS)
        rng = random.Random(5)
        for first in range(0, n, 1000):
            points = [("loss", rng.random(), s) for s in range(first, min(first + 1000, n))]
            self.client.post("/runs/log-batch", batch_body(run_id, points))
        out = Measured(amount=n)
        points = self.client.history(run_id, "loss")  # warm-up
        for _ in range(self.sizes.read_repeats):
            points = self._timed(out, lambda: self.client.history(run_id, "loss"))
        out.extra["points"] = len(points)
        return out

    def stress(self, experiment_id: str) -> Measured:
        """Many clients at once, no retries: count errors, then look for every point."""
        clients, calls = self.sizes.stress_clients, self.sizes.stress_calls
        keys, steps = 5, 200
        out = Measured(amount=clients * calls * 1000)
        sessions = [Client(self.server.url) for _ in range(clients)]
        plans = []
        for i in range(clients):
            rng = random.Random(50_000 + i)
            plans.append([batch_points(rng, keys, c * steps, steps) for c in range(calls)])

        def work(i: int) -> dict[str, Any]:
            c = sessions[i]
            done: dict[str, Any] = {"run_id": None, "accepted": [], "errors": []}
            try:
                done["run_id"] = c.create_run(experiment_id, f"client-{i}", BASE_TS)
            except Exception as exc:  # noqa: BLE001
                done["errors"].append(_describe(exc))
                return done
            for points in plans[i]:
                try:
                    c.post("/runs/log-batch", batch_body(done["run_id"], points))
                    done["accepted"].append(points)
                except Exception as exc:  # noqa: BLE001
                    done["errors"].append(_describe(exc))
            try:
                c.finish_run(done["run_id"], BASE_TS + 10_000)
            except Exception as exc:  # noqa: BLE001
                done["errors"].append(_describe(exc))
            return done

        _, results = self._timed(out, lambda: concurrently(clients, work))
        for c in sessions:
            c.close()
        errors = [e for r in results for e in (r["errors"] if isinstance(r, dict) else [str(r)])]
        accepted = lost = 0
        for r in results:
            if not isinstance(r, dict) or r["run_id"] is None:
                continue
            expected: dict[str, dict[int, float]] = {}
            for points in r["accepted"]:
                for key, value, step in points:
                    expected.setdefault(key, {})[step] = value
                    accepted += 1
            for key, want in expected.items():
                got = {p["step"]: p["value"] for p in self.client.history(r["run_id"], key)}
                lost += sum(1 for step, value in want.items() if got.get(step) != value)
        out.extra.update(
            clients=clients,
            requests=clients * (calls + 2),
            errors=len(errors),
            error_kinds=sorted(set(errors))[:5],
            accepted_points=accepted,
            lost_points=lost,
        )
        return out


def _metric(run: dict[str, Any], key: str) -> float:
    for m in run["data"].get("metrics", []):
        if m["key"] == key:
            return float(m["value"])
    return float("nan")


def _describe(exc: Exception) -> str:
    if isinstance(exc, HttpError):
        return str(exc)[:160]
    return f"{type(exc).__name__}: {str(exc)[:120]}"


# -- one server, all workloads -------------------------------------------------------------------
WORKLOADS = ("ingest_1", "ingest_8", "runs", "search", "history", "stress")


def bench_server(
    target: Target, sizes: Sizes, folder: Path, postgres: bool, workloads: tuple[str, ...]
) -> dict[str, Any]:
    with fresh_database(postgres, folder, target) as uri:
        started = time.perf_counter()
        server = ServerProcess(target, uri, folder)
        startup = time.perf_counter() - started
        try:
            bench = Bench(server, sizes)
            c = bench.client
            results: dict[str, Any] = {"startup_s": startup}

            def step(name: str, fn: Callable[[], Measured]) -> None:
                if name in workloads:
                    print(f"  {target.label}: {name}...", file=sys.stderr, flush=True)
                    results[name] = fn().as_dict()

            ingest_exp = c.create_experiment("ingest")
            step("ingest_1", lambda: bench.ingest_single(ingest_exp))
            step("ingest_8", lambda: bench.ingest_concurrent(ingest_exp))
            search_exp = c.create_experiment("search")
            step("runs", lambda: bench.create_runs(search_exp))
            if "search" in workloads:  # the runs workload made some of them, if it ran
                made = results.get("runs", {}).get("created", 0)
                bench.fill_experiment(search_exp, made, sizes.search_runs)
            step("search", lambda: bench.search(search_exp))
            step("history", lambda: bench.history(c.create_experiment("history")))
            step("stress", lambda: bench.stress(c.create_experiment("stress")))
            return results
        finally:
            server.stop()


# -- the report ----------------------------------------------------------------------------------
@dataclass
class Row:
    label: str
    unit: str
    higher_is_better: bool
    values: dict[str, float]  # by target name
    target: float | None = None  # minimum ratio vs MLflow

    def ratio(self, name: str) -> float | None:
        ours, theirs = self.values.get(name), self.values.get("mlflow")
        if ours is None or theirs is None or ours == 0 or theirs == 0:
            return None
        return ours / theirs if self.higher_is_better else theirs / ours


def _rate(result: dict[str, Any]) -> float:
    return result["amount"] / statistics.median(result["times"])


def _ms(result: dict[str, Any]) -> float:
    return statistics.median(result["times"]) * 1000


def build_rows(results: dict[str, dict[str, Any]], sizes: Sizes) -> list[Row]:
    def each(fn: Callable[[dict[str, Any]], float]) -> dict[str, float]:
        out = {}
        for name, r in results.items():
            with contextlib.suppress(KeyError):  # a workload left out by --workload
                out[name] = fn(r)
        return out

    n = sizes.stress_clients
    return [
        Row(
            "log-batch ingest, 1 client", "points/s", True, each(lambda r: _rate(r["ingest_1"])), 10
        ),
        Row(
            "log-batch ingest, 8 clients",
            "points/s",
            True,
            each(lambda r: _rate(r["ingest_8"])),
            10,
        ),
        Row(
            "runs created (create+batch+update)",
            "runs/s",
            True,
            each(lambda r: _rate(r["runs"])),
            10,
        ),
        Row(
            f"runs/search, {sizes.search_runs} runs, filter+order",
            "ms",
            False,
            each(lambda r: _ms(r["search"])),
            10,
        ),
        Row(
            f"metrics/get-history, {sizes.history:,} points",
            "ms",
            False,
            each(lambda r: _ms(r["history"])),
            10,
        ),
        Row(f"{n} clients: ingest", "points/s", True, each(lambda r: _rate(r["stress"]))),
        Row(f"{n} clients: HTTP errors", "errors", False, each(lambda r: r["stress"]["errors"])),
        Row(
            f"{n} clients: lost points", "points", False, each(lambda r: r["stress"]["lost_points"])
        ),
        Row(
            "server CPU per 1000 points (1 client)",
            "ms",
            False,
            each(
                lambda r: (
                    1000
                    * statistics.median(r["ingest_1"]["cpu"])
                    / (r["ingest_1"]["amount"] / 1000)
                )
            ),
        ),
        Row("server start-up", "s", False, each(lambda r: r["startup_s"])),
    ]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("ms", "s"):
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    if unit in ("errors", "points"):
        return f"{value:,.0f}"
    return f"{value:,.0f} {unit}"


def print_report(
    rows: list[Row],
    results: dict[str, Any],
    names: list[str],
    versions: dict[str, str],
    backend: str,
) -> None:
    labels = {t.name: t.label for t in TARGETS}
    ours = [n for n in names if n != "mlflow"]
    print(
        f"\nmltrail {versions.get('mltrail', '?')} server vs MLflow "
        f"{versions.get('mlflow', '?')} server, {backend}, plain HTTP; medians\n"
    )
    width = max(len(r.label) for r in rows)
    head = f"{'workload':<{width}}" + "".join(f"  {labels[n]:>20}" for n in names)
    if "mlflow" in names:
        head += "".join(f"  {'ratio ' + n.split('-')[1] + 'w':>9}" for n in ours) + "  target"
    print(head)
    for r in rows:
        line = f"{r.label:<{width}}" + "".join(
            f"  {_fmt(r.values.get(n), r.unit):>20}" for n in names
        )
        if "mlflow" in names:
            ratios = [r.ratio(n) for n in ours]
            line += "".join(f"  {'-' if x is None else f'{x:,.1f}x':>9}" for x in ratios)
            if r.target is not None:
                best = max((x for x in ratios if x is not None), default=0)
                line += f"  >={r.target:g}x {'ok' if best >= r.target else 'MISSED'}"
        print(line)
    print()
    for n in names:
        print_details(labels[n], results[n])


def print_details(label: str, result: dict[str, Any]) -> None:
    """The checks behind the figures of one server (of the workloads that ran)."""
    print(f"{label}:")
    s = result.get("stress")
    if s:
        print(
            f"    {s['requests']} requests from {s['clients']} clients at once -> "
            f"{s['errors']} errors, {s['accepted_points']:,} points accepted, "
            f"{s['lost_points']} lost"
        )
        for kind in s["error_kinds"]:
            print(f"    e.g. {kind}")
    search = result.get("search")
    if search:
        print(
            f"    search: {search['hits']} hits, ordered={search['ordered']}, "
            f"filtered={search['filtered']}"
        )
    if "history" in result:
        print(f"    history points read: {result['history']['points']:,}")
    if result.get("ingest_8", {}).get("errors"):
        print(f"    8-client ingest errors: {result['ingest_8']['errors'][:3]}")


def versions_of(names: list[str]) -> dict[str, str]:
    out = {}
    if any(n.startswith("mltrail") for n in names):
        from mltrail.version import __version__

        out["mltrail"] = __version__
    if "mlflow" in names:
        done = subprocess.run(
            [str(MLFLOW_VENV / "bin" / "python"), "-c", "import mlflow; print(mlflow.__version__)"],
            capture_output=True,
            text=True,
            env=_quiet_env(),
        )
        out["mlflow"] = done.stdout.strip() or "?"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"fresh PostgreSQL databases on {PG_ADMIN.rsplit('/', 1)[0]} instead of SQLite",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[t.name for t in TARGETS],
        help="benchmark only this server (repeatable)",
    )
    parser.add_argument(
        "--workload",
        action="append",
        choices=WORKLOADS,
        help="run only this workload (repeatable); the search one fills its experiment itself",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, dbs)")
    args = parser.parse_args()

    if "mlflow" in (args.only or ["mlflow"]) and not (MLFLOW_VENV / "bin" / "mlflow").exists():
        raise SystemExit(
            f"MLflow is not installed in {MLFLOW_VENV}: python3 -m venv {MLFLOW_VENV} && "
            f"{MLFLOW_VENV}/bin/pip install mlflow (or set MLFLOW_BENCH_VENV)"
        )
    sizes = QUICK if args.quick else FULL
    names = [t.name for t in TARGETS if not args.only or t.name in args.only]
    folder = Path(tempfile.mkdtemp(prefix="mltrail-server-bench-"))
    results: dict[str, Any] = {}
    try:
        for target in TARGETS:
            if target.name in names:
                print(f"benchmarking {target.label}...", file=sys.stderr, flush=True)
                try:
                    results[target.name] = bench_server(
                        target, sizes, folder, args.postgres, tuple(args.workload or WORKLOADS)
                    )
                except SystemExit as exc:  # one server failing must not lose the others
                    print(f"{target.label} skipped: {exc}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work folder kept: {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    names = [n for n in names if n in results]
    if not names:
        raise SystemExit("no server could be benchmarked")
    versions = versions_of(names)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    rows = [r for r in build_rows(results, sizes) if r.values]
    print_report(rows, results, names, versions, backend)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "versions": versions,
                    "backend": backend,
                    "sizes": sizes.__dict__,
                    "results": results,
                    "rows": [
                        {
                            "label": r.label,
                            "unit": r.unit,
                            "values": r.values,
                            "ratios": {n: r.ratio(n) for n in names if n != "mlflow"},
                        }
                        for r in rows
                    ],
                },
                fh,
                indent=2,
            )


if __name__ == "__main__":
    main()
