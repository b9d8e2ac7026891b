"""Tracking benchmark: the same workloads through mltrail and through MLflow, side by side.

    .venv/bin/python benchmarks/tracking_bench.py            # full comparison (a minute or two)
    .venv/bin/python benchmarks/tracking_bench.py --quick    # smoke run (well under a minute)
    .venv/bin/python benchmarks/tracking_bench.py --search-100k   # mltrail search, 100k runs
    .venv/bin/python benchmarks/tracking_bench.py --only small_search --only small_search_http

Each implementation runs in its own process and virtualenv (this file is re-executed with
``--impl mltrail`` or ``--impl mlflow``), in a fresh temporary folder, on a SQLite store. The
worker code uses only names both libraries share (``start_run``, ``log_metric``,
``MlflowClient.log_batch``...), so the two run literally the same code. MLflow is much slower,
so some workloads do fewer iterations for it; rates (per second) and per-call times stay
comparable. The ``small_search_http`` workload starts each implementation's own server
(``mltrail server`` or ``mlflow server`` from its virtualenv, on a free port of 127.0.0.1) and
searches through it with that implementation's client. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

MLFLOW_VENV = os.environ.get("MLFLOW_BENCH_VENV", "/tmp/mlflow-bench")
RESULT_PREFIX = "RESULT "
BASE_TS = 1_700_000_000_000


# -- sizes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    steps: int  # log_metric loop length
    batches: int  # log_batch calls of 1000 metrics each
    runs: int  # runs created with 10 params, 10 tags, 5 metrics
    search_runs: int  # runs in the experiment that search_runs scans (same for both)
    history: int  # points read back by get_metric_history (same for both)
    repeats: int
    read_repeats: int
    small_search_repeats: int = 30


FULL = {
    "mltrail": Sizes(20_000, 20, 500, 500, 20_000, 3, 5),
    "mlflow": Sizes(300, 3, 50, 500, 20_000, 3, 5),
}
QUICK = {
    "mltrail": Sizes(2_000, 5, 50, 100, 2_000, 2, 3),
    "mlflow": Sizes(50, 1, 10, 100, 2_000, 2, 3),
}


# -- the library under test ----------------------------------------------------------------------
class Api:
    """The fluent module, the explicit client and the entity classes of one implementation."""

    def __init__(self, impl: str, folder: str) -> None:
        if impl == "mltrail":
            import mltrail as lib
            from mltrail.entities import Metric, Param, RunTag
            from mltrail.tracking.client import TrailClient as Client
        else:
            import mlflow as lib  # type: ignore[no-redef]
            from mlflow import MlflowClient as Client  # type: ignore[no-redef]
            from mlflow.entities import Metric, Param, RunTag  # type: ignore[no-redef]
        self.uri = f"sqlite:///{folder}/{impl}.db"
        lib.set_tracking_uri(self.uri)
        self.lib = lib
        self.client = Client(self.uri)
        self.Metric, self.Param, self.RunTag = Metric, Param, RunTag

    def experiment(self, name: str) -> str:
        return str(self.lib.set_experiment(name).experiment_id)


def _repeat(fn: Callable[[], float], repeats: int) -> list[float]:
    """The timings of ``repeats`` calls of ``fn`` (each returns its own elapsed seconds)."""
    return [fn() for _ in range(repeats)]


# -- workloads ---------------------------------------------------------------------------------
def bench_log_metric(api: Api, sizes: Sizes) -> dict[str, Any]:
    """A training loop: one log_metric per step, then end_run (so every point is durable)."""
    lib = api.lib
    api.experiment("log_metric")
    with lib.start_run():  # warm-up: lazy imports, prepared statements, the writer thread
        for i in range(10):
            lib.log_metric("warm", float(i), step=i)
    run_ids: list[str] = []

    def once() -> float:
        run_ids.append(lib.start_run().info.run_id)
        t0 = time.perf_counter()
        for i in range(sizes.steps):
            lib.log_metric("loss", 1.0 / (i + 1), step=i)
        lib.end_run()
        return time.perf_counter() - t0

    times = _repeat(once, sizes.repeats)
    stored = len(api.client.get_metric_history(run_ids[-1], "loss"))
    assert stored == sizes.steps, f"only {stored} of {sizes.steps} points were stored"
    return {"n": sizes.steps, "times": times}


def bench_log_batch(api: Api, sizes: Sizes) -> dict[str, Any]:
    """log_batch with 1000 metrics a call (10 keys x 100 steps), through the client."""
    exp_id = api.experiment("log_batch")
    batches = [
        [api.Metric(f"m{j % 10}", float(j), BASE_TS + b, b * 100 + j // 10) for j in range(1000)]
        for b in range(sizes.batches)
    ]
    warm = api.client.create_run(exp_id).info.run_id
    api.client.log_batch(warm, metrics=batches[0])

    def once() -> float:
        rid = api.client.create_run(exp_id).info.run_id
        t0 = time.perf_counter()
        for batch in batches:
            api.client.log_batch(rid, metrics=batch)
        return time.perf_counter() - t0

    return {"n": sizes.batches * 1000, "times": _repeat(once, sizes.repeats)}


def _run_values(i: int, n: int) -> tuple[dict[str, Any], dict[str, str], dict[str, float]]:
    params = {f"p{j}": f"value-{i % (j + 2)}" for j in range(10)}
    tags = {f"t{j}": f"tag-{(i + j) % 7}" for j in range(10)}
    metrics = {f"m{j}": ((i * (37 + j)) % 101) / 100 for j in range(5)}
    metrics["m1"] = i / max(n, 1)
    return params, tags, metrics


def bench_runs(api: Api, sizes: Sizes) -> dict[str, Any]:
    """Create runs the usual way: start_run, log_params, set_tags, log_metrics, end_run."""
    lib = api.lib
    counter = iter(range(1_000_000))

    def once() -> float:
        api.experiment(f"runs-{next(counter)}")
        t0 = time.perf_counter()
        for i in range(sizes.runs):
            params, tags, metrics = _run_values(i, sizes.runs)
            lib.start_run()
            lib.log_params(params)
            lib.set_tags(tags)
            lib.log_metrics(metrics)
            lib.end_run()
        return time.perf_counter() - t0

    return {"n": sizes.runs, "times": _repeat(once, sizes.repeats)}


def _fill_search_experiment(api: Api, n: int, name: str = "search") -> str:
    """An experiment of ``n`` runs shaped like bench_runs', made through the fast path."""
    exp_id = api.experiment(name)
    client = api.client
    for i in range(n):
        params, tags, metrics = _run_values(i, n)
        rid = client.create_run(exp_id, start_time=BASE_TS + i).info.run_id
        client.log_batch(
            rid,
            metrics=[api.Metric(k, v, BASE_TS + i, 0) for k, v in metrics.items()],
            params=[api.Param(k, str(v)) for k, v in params.items()],
            tags=[api.RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(rid)
    return exp_id


SEARCH_FILTER = "metrics.m0 > 0.5"
SEARCH_ORDER = ["metrics.m1 DESC"]


def bench_search(api: Api, sizes: Sizes) -> dict[str, Any]:
    """search_runs with a metric filter and a metric order, over ``search_runs`` runs."""
    exp_id = _fill_search_experiment(api, sizes.search_runs)

    def search() -> int:
        found = api.client.search_runs(
            [exp_id], SEARCH_FILTER, max_results=1000, order_by=SEARCH_ORDER
        )
        return len(found)

    hits = search()  # warm-up

    def once() -> float:
        t0 = time.perf_counter()
        search()
        return time.perf_counter() - t0

    times = _repeat(once, sizes.read_repeats)
    return {"n": sizes.search_runs, "hits": hits, "times": times}


SMALL_SEARCH_SIZES = (50, 500)
SMALL_SEARCH_FILTER = "metrics.m1 >= 0.5"  # half the runs match
SMALL_SEARCH_ORDER = ["metrics.m0 DESC"]


def bench_small_search(api: Api, sizes: Sizes) -> dict[str, Any]:
    """The fluent ``search_runs`` a notebook calls: an experiment of 50 or 500 runs, half of
    them matching, ordered by a metric; as a DataFrame and as a list of runs."""
    out: dict[str, Any] = {}
    for n in SMALL_SEARCH_SIZES:
        exp_id = _fill_search_experiment(api, n, f"small-search-{n}")
        for fmt in ("pandas", "list"):

            def search(fmt: str = fmt, exp_id: str = exp_id) -> int:
                found = api.lib.search_runs(
                    experiment_ids=[exp_id],
                    filter_string=SMALL_SEARCH_FILTER,
                    order_by=SMALL_SEARCH_ORDER,
                    output_format=fmt,
                )
                return len(found)

            hits = search()  # warm-up

            def once(search: Callable[[], int] = search) -> float:
                t0 = time.perf_counter()
                search()
                return time.perf_counter() - t0

            repeats = sizes.small_search_repeats
            out[f"{n}/{fmt}"] = {"n": n, "hits": hits, "times": _repeat(once, repeats)}
    return out


HTTP_SEARCH_RUNS = 50


def bench_small_search_http(api: Api, sizes: Sizes) -> dict[str, Any]:
    """``bench_small_search`` through a server: this implementation's client against its own
    server (``mltrail server`` or ``mlflow server``, default workers, a fresh SQLite store),
    started here on a free port and stopped afterwards."""
    from pathlib import Path

    import server_bench  # beside this file (the child runs it as a script)

    folder = Path(tempfile.mkdtemp(prefix="bench-http-", dir=os.getcwd()))
    impl = "mltrail" if api.lib.__name__ == "mltrail" else "mlflow"
    target = server_bench.Target(impl, f"{impl} server", impl, None)
    server = server_bench.ServerProcess(target, f"sqlite:///{folder}/server.db", folder)
    out: dict[str, Any] = {}
    try:
        api.lib.set_tracking_uri(server.url)
        local_client, api.client = api.client, type(api.client)(server.url)
        try:
            exp_id = _fill_search_experiment(api, HTTP_SEARCH_RUNS, "small-search-http")
            for fmt in ("pandas", "list"):

                def search(fmt: str = fmt) -> int:
                    found = api.lib.search_runs(
                        experiment_ids=[exp_id],
                        filter_string=SMALL_SEARCH_FILTER,
                        order_by=SMALL_SEARCH_ORDER,
                        output_format=fmt,
                    )
                    return len(found)

                hits = search()  # warm-up: connections, the server's first statements

                def once(search: Callable[[], int] = search) -> float:
                    t0 = time.perf_counter()
                    search()
                    return time.perf_counter() - t0

                times = _repeat(once, sizes.small_search_repeats)
                out[f"{HTTP_SEARCH_RUNS}/{fmt}"] = {
                    "n": HTTP_SEARCH_RUNS,
                    "hits": hits,
                    "times": times,
                }
        finally:
            api.client = local_client
            api.lib.set_tracking_uri(api.uri)
    finally:
        server.stop()
    return out


def bench_history(api: Api, sizes: Sizes) -> dict[str, Any]:
    """get_metric_history of one key with ``history`` points (written by log_batch)."""
    exp_id = api.experiment("history")
    rid = api.client.create_run(exp_id).info.run_id
    for start in range(0, sizes.history, 1000):
        points = [
            api.Metric("loss", 1.0 / (s + 1), BASE_TS + s, s)
            for s in range(start, min(start + 1000, sizes.history))
        ]
        api.client.log_batch(rid, metrics=points)
    got = len(api.client.get_metric_history(rid, "loss"))  # warm-up, and a check
    assert got == sizes.history, f"history has {got} points, expected {sizes.history}"

    def once() -> float:
        t0 = time.perf_counter()
        api.client.get_metric_history(rid, "loss")
        return time.perf_counter() - t0

    return {"n": sizes.history, "times": _repeat(once, sizes.read_repeats)}


WORKLOADS = {
    "log_metric": bench_log_metric,
    "log_batch": bench_log_batch,
    "runs": bench_runs,
    "search": bench_search,
    "small_search": bench_small_search,
    "history": bench_history,
    "small_search_http": bench_small_search_http,
}


def worker(impl: str, quick: bool, only: list[str] | None = None) -> None:
    """Run every workload of one implementation; print the results as one JSON line."""
    sizes = (QUICK if quick else FULL)[impl]
    with tempfile.TemporaryDirectory(prefix=f"bench-{impl}-") as folder:
        os.chdir(folder)  # MLflow puts ./mlruns artifacts in the working folder
        api = Api(impl, folder)
        results: dict[str, Any] = {"sizes": asdict(sizes)}
        for name, bench in WORKLOADS.items():
            if only and name not in only:
                continue
            t0 = time.perf_counter()
            results[name] = bench(api, sizes)
            sys.stderr.write(f"  {impl} {name}: done in {time.perf_counter() - t0:.1f}s\n")
    print(RESULT_PREFIX + json.dumps(results))


def memory_probe(impl: str, steps: int) -> None:
    """The log_metric loop in a fresh process; print its peak resident memory in KiB."""
    import resource

    with tempfile.TemporaryDirectory(prefix=f"bench-mem-{impl}-") as folder:
        os.chdir(folder)
        api = Api(impl, folder)
        with api.lib.start_run():
            for i in range(steps):
                api.lib.log_metric("loss", 1.0 / (i + 1), step=i)
    print(RESULT_PREFIX + json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


# -- the 100k-run search (mltrail only) -------------------------------------------------------
def search_100k(n_runs: int, repeats: int) -> None:
    """Fill a store with ``n_runs`` runs by bulk SQL inserts, then time search_runs on it."""
    from mltrail.store.sql.store import SqlStore
    from mltrail.tracking.client import TrailClient

    with tempfile.TemporaryDirectory(prefix="bench-100k-") as folder:
        uri = f"sqlite:///{folder}/mltrail.db"
        store = SqlStore(uri, f"{folder}/artifacts")
        exp_id = store.create_experiment("search-100k")
        t0 = time.perf_counter()
        _bulk_insert_runs(store.engine, int(exp_id), n_runs)
        print(
            f"built {n_runs:,} runs (10 params, 10 tags, 5 metrics each) in "
            f"{time.perf_counter() - t0:.1f}s"
        )
        client = TrailClient(uri)
        cases = [
            (SEARCH_FILTER, SEARCH_ORDER, 100),
            (SEARCH_FILTER, SEARCH_ORDER, 1000),
            ("metrics.m0 > 0.99", SEARCH_ORDER, 1000),
            ("params.p3 = 'value-2' AND metrics.m2 < 0.3", ["start_time DESC"], 100),
            ("", ["metrics.m1 DESC"], 100),
        ]
        print(f"{'filter':<46} {'order by':<18} {'max':>5} {'hits':>5} {'median ms':>10}")
        for filter_string, order_by, max_results in cases:
            hits = len(
                client.search_runs(
                    [exp_id], filter_string, max_results=max_results, order_by=order_by
                )
            )  # also the warm-up
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                client.search_runs(
                    [exp_id], filter_string, max_results=max_results, order_by=order_by
                )
                times.append(time.perf_counter() - t)
            ms = statistics.median(times) * 1000
            print(
                f"{filter_string or '(none)':<46} {', '.join(order_by):<18} "
                f"{max_results:>5} {hits:>5} {ms:>10.1f}"
            )


def _bulk_insert_runs(engine: Any, exp_id: int, n_runs: int, chunk: int = 5000) -> None:
    import uuid

    from mltrail.store.sql import schema
    from mltrail.store.sql.series import encode

    series = 0
    with engine.begin() as conn:
        for start in range(0, n_runs, chunk):
            runs, params, tags, latest, points = [], [], [], [], []
            for i in range(start, min(start + chunk, n_runs)):
                rid = uuid.UUID(int=i + 1).hex
                p, t, m = _run_values(i, n_runs)
                runs.append(
                    {
                        "run_uuid": rid,
                        "name": f"run-{i}",
                        "experiment_id": exp_id,
                        "user_id": "bench",
                        "status": "FINISHED",
                        "start_time": BASE_TS + i,
                        "end_time": BASE_TS + i + 1000,
                        "lifecycle_stage": "active",
                        "artifact_uri": f"/tmp/artifacts/{rid}",
                    }
                )
                params += [{"run_uuid": rid, "key": k, "value": v} for k, v in p.items()]
                t["mlflow.runName"] = f"run-{i}"
                tags += [{"run_uuid": rid, "key": k, "value": v} for k, v in t.items()]
                for k, v in m.items():
                    series += 1
                    row = {"value": v, "timestamp": BASE_TS + i, "step": 0, "is_nan": False}
                    points.append(
                        {"series_id": series, "points": 1, "first_step": 0, "last_step": 0}
                        | {"data": encode([BASE_TS + i], [0], [v])}
                    )
                    latest.append(
                        {**row, "series_id": series, "run_uuid": rid, "key": k}
                        | {"min_value": v, "max_value": v, "small_chunks": 1}
                    )
            conn.execute(schema.runs.insert(), runs)
            conn.execute(schema.params.insert(), params)
            conn.execute(schema.tags.insert(), tags)
            conn.execute(schema.latest_metrics.insert(), latest)
            conn.execute(schema.metric_chunks.insert(), points)
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")


# -- the orchestrator --------------------------------------------------------------------------
def mlflow_python() -> str:
    """The Python of a virtualenv holding MLflow (made on first use: venv + pip install)."""
    python = os.path.join(MLFLOW_VENV, "bin", "python")
    probe = [python, "-c", "import mlflow"]
    if os.path.exists(python) and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    sys.stderr.write(f"Creating {MLFLOW_VENV} with MLflow (python3 -m venv + pip install)...\n")
    subprocess.run(["python3", "-m", "venv", MLFLOW_VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "mlflow"], check=True)
    return python


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MLTRAIL_QUIET="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        MLFLOW_LOGGING_LEVEL="WARNING",
    )
    for var in ("MLTRAIL_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        env.pop(var, None)
    return env


def _run_child(python: str, args: list[str]) -> Any:
    done = subprocess.run(
        [python, os.path.abspath(__file__), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=_child_env(),
        cwd=tempfile.gettempdir(),
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {args} failed with exit code {done.returncode}")
    line = [x for x in done.stdout.splitlines() if x.startswith(RESULT_PREFIX)][-1]
    return json.loads(line[len(RESULT_PREFIX) :])


def import_seconds(python: str, module: str, repeats: int = 5) -> dict[str, float]:
    """Wall time of ``import module`` net of interpreter start-up, and -X importtime's figure."""
    env = _child_env()

    def wall(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, env=env, capture_output=True)
        return time.perf_counter() - t0

    base = statistics.median(wall("pass") for _ in range(repeats))
    full = statistics.median(wall(f"import {module}") for _ in range(repeats))
    cumulative = []
    for _ in range(repeats):
        done = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() == f" {module}":
                cumulative.append(int(parts[1]) / 1e6)
    return {"net": full - base, "importtime": statistics.median(cumulative)}


@dataclass
class Row:
    label: str
    mltrail: float
    mlflow: float
    unit: str
    higher_is_better: bool
    target: float | None = None  # minimum ratio

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.mltrail / self.mlflow
        return self.mlflow / self.mltrail


def _rate(result: dict[str, Any]) -> float:
    return result["n"] / statistics.median(result["times"])


def _ms(result: dict[str, Any]) -> float:
    return statistics.median(result["times"]) * 1000


def build_rows(
    ours: dict[str, Any], theirs: dict[str, Any], imports: dict[str, Any], memory: dict[str, int]
) -> list[Row]:
    """The report's rows, for the workloads that ran (all of them unless ``--only``)."""

    def rate(name: str) -> tuple[float, float]:
        return _rate(ours[name]), _rate(theirs[name])

    def ms(name: str, key: str | None = None) -> tuple[float, float]:
        if key is None:
            return _ms(ours[name]), _ms(theirs[name])
        return _ms(ours[name][key]), _ms(theirs[name][key])

    rows: list[Row] = []
    if "log_metric" in ours:
        label = f"log_metric loop ({ours['log_metric']['n']:,} steps + end_run)"
        rows.append(Row(label, *rate("log_metric"), "calls/s", True, 1000))
    if "log_batch" in ours:
        rows.append(
            Row("log_batch (1000 metrics a call)", *rate("log_batch"), "points/s", True, 50)
        )
    if "runs" in ours:
        label = "create run (10 params, 10 tags, 5 metrics)"
        rows.append(Row(label, *rate("runs"), "runs/s", True, 50))
    if "search" in ours:
        label = f"search_runs (filter+order, {ours['search']['n']} runs)"
        rows.append(Row(label, *ms("search"), "ms", False, 10))
    for key in ours.get("small_search", {}):
        label = f"mltrail.search_runs ({key.replace('/', ' runs, ')}, half match, by metric)"
        rows.append(Row(label, *ms("small_search", key), "ms", False, 10))
    for key in ours.get("small_search_http", {}):
        label = f"mltrail.search_runs over HTTP ({key.replace('/', ' runs, ')}, client+server)"
        rows.append(Row(label, *ms("small_search_http", key), "ms", False, 10))
    if "history" in ours:
        label = f"get_metric_history ({ours['history']['n']:,} points)"
        rows.append(Row(label, *ms("history"), "ms", False, 50))
    if imports:
        for label, field in (
            ("import (wall, net of interpreter start)", "net"),
            ("import (-X importtime, cumulative)", "importtime"),
        ):
            value = imports["mltrail"][field] * 1000, imports["mlflow"][field] * 1000
            rows.append(Row(label, *value, "ms", False))
    if memory:
        value = memory["mltrail"] / 1024, memory["mlflow"] / 1024
        rows.append(Row("peak RSS of the log_metric loop", *value, "MiB", False))
    return rows


def _fmt(value: float, unit: str) -> str:
    if unit == "ms" or unit == "MiB":
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{value:,.0f} {unit}"


def print_report(
    rows: list[Row],
    ours: dict[str, Any],
    theirs: dict[str, Any],
    imports: dict[str, Any],
    mlflow_version: str,
) -> None:
    print(
        f"\nmltrail vs MLflow {mlflow_version} (SQLite stores, medians; "
        f"MLflow sizes: {theirs['sizes']})\n"
    )
    width = max(len(r.label) for r in rows)
    print(f"{'workload':<{width}}  {'mltrail':>18}  {'MLflow':>16}  {'ratio':>8}  target")
    for r in rows:
        target = (
            ""
            if r.target is None
            else (f">={r.target:g}x " + ("ok" if r.ratio >= r.target else "MISSED"))
        )
        print(
            f"{r.label:<{width}}  {_fmt(r.mltrail, r.unit):>18}  {_fmt(r.mlflow, r.unit):>16}"
            f"  {r.ratio:>7,.0f}x  {target}"
        )
    print()
    for r in rows:
        word = "faster" if r.unit != "MiB" else "less"
        print(
            f"{r.label}: mltrail {_fmt(r.mltrail, r.unit)} vs MLflow "
            f"{_fmt(r.mlflow, r.unit)} -> {r.ratio:,.1f}x {word if r.ratio >= 1 else ''}"
        )
    if imports:
        net = imports["mltrail"]["net"]
        print(
            f"\nimport mltrail target < 150 ms: {net * 1000:.0f} ms "
            f"({'ok' if net < 0.15 else 'MISSED'})"
        )
    if "search" in ours:
        print(f"search hits: mltrail {ours['search']['hits']}, MLflow {theirs['search']['hits']}")


def compare(quick: bool, json_out: str | None, only: list[str] | None = None) -> None:
    mlflow_py = mlflow_python()
    version = subprocess.run(
        [mlflow_py, "-c", "import mlflow; print(mlflow.__version__)"],
        capture_output=True,
        text=True,
        env=_child_env(),
    ).stdout.strip()
    flags = (["--quick"] if quick else []) + [f"--only={name}" for name in only or []]
    print("running mltrail workloads...", file=sys.stderr)
    ours = _run_child(sys.executable, ["--impl", "mltrail", *flags])
    print("running MLflow workloads...", file=sys.stderr)
    theirs = _run_child(mlflow_py, ["--impl", "mlflow", *flags])
    imports: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    if not only:
        print("timing imports and peak memory...", file=sys.stderr)
        imports = {
            "mltrail": import_seconds(sys.executable, "mltrail"),
            "mlflow": import_seconds(mlflow_py, "mlflow"),
        }
        steps = {impl: str(sizes.steps) for impl, sizes in (QUICK if quick else FULL).items()}
        memory = {
            "mltrail": _run_child(
                sys.executable, ["--impl", "mltrail", "--memory-probe", steps["mltrail"]]
            ),
            "mlflow": _run_child(
                mlflow_py, ["--impl", "mlflow", "--memory-probe", steps["mlflow"]]
            ),
        }
    rows = build_rows(ours, theirs, imports, memory)
    print_report(rows, ours, theirs, imports, version)
    if json_out:
        with open(json_out, "w") as fh:
            json.dump(
                {
                    "mltrail": ours,
                    "mlflow": theirs,
                    "imports": imports,
                    "memory_kib": memory,
                    "mlflow_version": version,
                    "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
                },
                fh,
                indent=2,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--impl", choices=["mltrail", "mlflow"], help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", type=int, metavar="STEPS", help=argparse.SUPPRESS)
    parser.add_argument(
        "--search-100k",
        action="store_true",
        help="time mltrail's search_runs over a store of 100,000 runs",
    )
    parser.add_argument("--runs", type=int, default=100_000, help="runs for --search-100k")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results here")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(WORKLOADS),
        help="run only this workload (repeatable); no import or memory figures then",
    )
    args = parser.parse_args()
    if args.impl and args.memory_probe:
        memory_probe(args.impl, args.memory_probe)
    elif args.impl:
        worker(args.impl, args.quick, args.only)
    elif args.search_100k:
        os.environ.setdefault("MLTRAIL_QUIET", "1")
        search_100k(args.runs, 3 if args.quick else 5)
    else:
        compare(args.quick, args.json, args.only)


if __name__ == "__main__":
    main()
