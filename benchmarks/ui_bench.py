"""Measure the web UI in a real headless Chromium against a real server process.

    .venv/bin/python benchmarks/ui_bench.py [--runs 10000] [--metrics 50] [--points 1000000]

1. First screen of the runs page of an experiment with ``--runs`` runs x ``--metrics`` metrics
   (default order, sorted by a metric, filtered): navigation start to first contentful paint,
   with the server's response time beside it.
2. A run whose metric has ``--points`` points: navigation start to the first drawn chart
   (the page sets the ``mltrail:first-chart`` performance mark), plus the JSON request alone.

Bulk data is written straight into the tables (the store's write path is measured elsewhere);
a SQLite database under a temporary folder, served by uvicorn in a subprocess.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ui"))
from ui_helpers import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

from mltrail.entities import Metric  # noqa: E402
from mltrail.store.sql import schema  # noqa: E402
from mltrail.store.sql.series import encode  # noqa: E402
from mltrail.store.sql.store import SqlStore  # noqa: E402

NOW = int(time.time() * 1000)


def fill_runs(store: SqlStore, runs: int, metrics: int) -> str:
    """An experiment with ``runs`` finished runs, each with ``metrics`` metrics (a short
    history of 3 points), 10 params and 3 tags."""
    exp = store.create_experiment(f"bench-{uuid.uuid4().hex[:6]}")
    rnd = random.Random(7)
    series = 10_000_000  # far above the ids the store hands out itself
    with store.engine.begin() as conn:
        for start in range(0, runs, 1000):
            run_rows, params, tags, points, latest = [], [], [], [], []
            for i in range(start, min(runs, start + 1000)):
                run_id = uuid.uuid4().hex
                t0 = NOW - (runs - i) * 60_000
                run_rows.append(
                    {
                        "run_uuid": run_id, "name": f"run-{i:05d}", "experiment_id": int(exp),
                        "user_id": "bench", "status": "FINISHED", "start_time": t0,
                        "end_time": t0 + 50_000, "lifecycle_stage": "active",
                        "artifact_uri": f"/tmp/bench/{run_id}",
                    }
                )  # fmt: skip
                params += [{"run_uuid": run_id, "key": f"p{k}", "value": str(rnd.random())}
                           for k in range(10)]  # fmt: skip
                tags += [{"run_uuid": run_id, "key": k, "value": v} for k, v in
                         (("mlflow.runName", f"run-{i:05d}"), ("team", "vision"),
                          ("mlflow.source.name", "train.py"))]  # fmt: skip
                for m in range(metrics):
                    values = [rnd.random() for _ in range(3)]
                    series += 1
                    data = encode([t0, t0 + 1, t0 + 2], [0, 1, 2], values)  # one chunk
                    points.append({"series_id": series, "points": 3, "first_step": 0,
                                   "last_step": 2, "data": data})  # fmt: skip
                    latest.append({"run_uuid": run_id, "key": f"m{m}", "value": values[-1],
                                   "timestamp": t0 + 2, "step": 2, "is_nan": False,
                                   "min_value": min(values), "max_value": max(values),
                                   "series_id": series, "small_chunks": 1})  # fmt: skip
            conn.execute(sa.insert(schema.runs), run_rows)
            conn.execute(sa.insert(schema.params), params)
            conn.execute(sa.insert(schema.tags), tags)
            conn.execute(sa.insert(schema.latest_metrics), latest)
            conn.execute(sa.insert(schema.metric_chunks), points)
    return exp


def long_metric_run(store: SqlStore, points: int) -> str:
    exp = store.create_experiment(f"long-{uuid.uuid4().hex[:6]}")
    run_id = store.create_run(exp, "bench", NOW - 3_600_000, run_name="long").info.run_id
    rnd = random.Random(3)
    batch: list[Metric] = []
    level = 2.0
    for i in range(points):
        level = level * 0.999995 + rnd.gauss(0, 0.002)
        batch.append(Metric("loss", level + rnd.random() * 0.05, NOW - 3_600_000 + i, i))
        if len(batch) == 50_000:
            store.write_batch(run_id, metrics=batch)
            batch = []
    if batch:
        store.write_batch(run_id, metrics=batch)
    store.update_run_info(run_id, status="FINISHED", end_time=NOW)
    return run_id


def start_server(db_uri: str, root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "MLTRAIL_BACKEND_STORE_URI": db_uri,
        "MLTRAIL_DEFAULT_ARTIFACT_ROOT": str(root / "artifacts"),
        "MLTRAIL_ARTIFACTS_DESTINATION": str(root / "destination"),
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "mltrail.server.app:app_from_env",
           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/ui/static/app.css", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def timings(page, url: str, ready: str, mark: str | None = None) -> dict[str, float]:
    page.goto("about:blank")  # else a repeated URL with a #fragment does not load again
    page.goto(url, wait_until="commit")
    page.wait_for_selector(ready, timeout=60_000)
    # Polled with evaluate: wait_for_function compiles with eval, which the page CSP forbids.
    while mark and not page.evaluate(f"performance.getEntriesByName('{mark}').length > 0"):
        time.sleep(0.005)
    return page.evaluate(
        """(mark) => {
          const nav = performance.getEntriesByType('navigation')[0];
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          const m = mark ? performance.getEntriesByName(mark)[0] : null;
          const data = performance.getEntriesByType('resource')
            .find((r) => r.name.includes('/metric-history'));
          return { server_ms: nav.responseStart - nav.requestStart,
                   fetch_start_ms: data ? data.startTime : NaN,
                   fetch_end_ms: data ? data.responseEnd : NaN,
                   dom_ms: nav.domContentLoadedEventEnd,
                   fcp_ms: fcp ? fcp.startTime : NaN,
                   mark_ms: m ? m.startTime : NaN };
        }""",
        mark,
    )


def report(label: str, samples: list[dict[str, float]], keys: list[str]) -> None:
    parts = []
    for key in keys:
        values = [s[key] for s in samples]
        parts.append(f"{key[:-3]} {statistics.median(values):7.0f} ms")
    print(f"  {label:<44} " + "  ".join(parts) + f"   (median of {len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="mltrail-ui-bench-"))
    db_uri = f"sqlite:///{root / 'bench.db'}"
    store = SqlStore(db_uri, str(root / "artifacts"))
    t = time.time()
    exp = fill_runs(store, args.runs, args.metrics)
    print(f"setup: {args.runs:,} runs x {args.metrics} metrics in {time.time() - t:.1f} s")
    t = time.time()
    # One run per measurement that must find the server's series cache cold.
    long_runs = [long_metric_run(store, args.points) for _ in range(args.cold_runs + 1)]
    print(
        f"setup: {len(long_runs)} runs with a {args.points:,}-point metric in "
        f"{time.time() - t:.1f} s"
    )

    proc, url = start_server(db_uri, root)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work slows the browser)")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            print(f"\nruns page, {args.runs:,} runs x {args.metrics} metrics (first screen):")
            cases = [
                ("default order (newest first)", ""),
                ("sorted by a metric", "?sort=metrics.m7&dir=asc"),
                ("filtered on a metric and a param", "?filter=metrics.m3 < 0.5 AND "
                 "params.p1 LIKE '0.1%25'"),
            ]  # fmt: skip
            for label, query in cases:
                timings(page, f"{url}/experiments/{exp}{query}", "#runs-table tbody tr")  # warm
                samples = [
                    timings(page, f"{url}/experiments/{exp}{query}", "#runs-table tbody tr")
                    for _ in range(args.repeat)
                ]
                report(label, samples, ["server_ms", "fcp_ms"])

            print(f"\nrun page, one metric of {args.points:,} points, to the first drawn chart:")
            chart = "/runs/{}#charts"
            keys = ["dom_ms", "fetch_start_ms", "fetch_end_ms", "mark_ms"]
            fresh = browser.new_context(viewport={"width": 1280, "height": 800})
            first = timings(
                fresh.new_page(), url + chart.format(long_runs[0]), ".js-plotly-plot",
                "mltrail:first-chart",
            )  # fmt: skip
            report("first visit (plotly.js not yet cached)", [first], keys)
            for _ in range(2):  # let this context cache plotly.js and its compiled code
                timings(page, url + chart.format(long_runs[0]), ".js-plotly-plot")
            samples = [
                timings(page, url + chart.format(run_id), ".js-plotly-plot", "mltrail:first-chart")
                for run_id in long_runs[1:]
            ]
            report("browser cache warm, server cache cold", samples, keys)
            samples = [
                timings(page, url + chart.format(long_runs[0]), ".js-plotly-plot",
                        "mltrail:first-chart")
                for _ in range(args.repeat)
            ]  # fmt: skip
            report("both caches warm (page opened again)", samples, keys)
            long_run = long_runs[-1]
            json_ms = []
            for i in range(args.repeat):  # a new max_points each time: never from the cache
                t = time.perf_counter()
                answer = page.request.get(
                    f"{url}/ajax-api/ui/metric-history?run_ids={long_run}&key=loss"
                    f"&max_points={2000 + i}"
                )
                assert answer.ok
                json_ms.append((time.perf_counter() - t) * 1000)
            print(f"  {'history JSON alone, ~2,000 points, uncached':<44} "
                  f"{statistics.median(json_ms):7.0f} ms")  # fmt: skip
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
