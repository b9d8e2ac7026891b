"""``mltrail models serve`` vs ``mlflow models serve`` on the same sklearn model, in one run.

Both servers serve one model directory (an iris LogisticRegression saved by mltrail in the
default skops format, which MLflow loads as its own), with one worker and
``--env-manager local``. Measured for each, from this process with the same HTTP client:

* startup: from launching the command until ``/ping`` answers 200 (median of a few starts,
  after one untimed start of each, which writes bytecode and per-machine caches as an installed
  tool has them; ``PYTHONDONTWRITEBYTECODE`` is removed from both servers' environment, or an
  editable mltrail would recompile its modules on every start while MLflow's ``.pyc`` are used);
* sequential: one client with keep-alive, requests per second and p50/p99 latency;
* concurrent: 8 clients in threads, total requests per second and p99 latency.

Every request is the same one-row ``dataframe_split`` body; every answer is checked.
MLflow runs from its own virtualenv (``MLFLOW_BENCH_VENV``, default ``/tmp/mlflow-bench``; see
benchmarks/README.md). Run on an otherwise idle machine:

    .venv/bin/python benchmarks/serve_bench.py [--requests 1000] [--starts 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

MLFLOW_VENV = Path(os.environ.get("MLFLOW_BENCH_VENV", "/tmp/mlflow-bench"))
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
BODY = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]}})
HEADERS = {"Content-Type": "application/json"}
CONCURRENCY = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_model(folder: Path) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import mltrail
    from mltrail.models import infer_signature

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(features, target)
    path = folder / "iris"
    mltrail.sklearn.save_model(
        model, path, signature=infer_signature(features, model.predict(features))
    )
    return path


def command(impl: str, model: Path, port: int) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if impl == "mltrail":
        args = [sys.executable, "-m", "mltrail", "models", "serve", "-m", str(model),
                "-p", str(port), "--env-manager", "local"]
        return args, env
    env["PATH"] = f"{MLFLOW_VENV / 'bin'}:{env.get('PATH', '')}"  # MLflow execs `uvicorn`
    args = [str(MLFLOW_VENV / "bin" / "mlflow"), "models", "serve", "-m", str(model),
            "-p", str(port), "--env-manager", "local"]
    return args, env


class Server:
    def __init__(self, impl: str, model: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args, env = command(impl, model, self.port)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.startup = self._wait()

    def _wait(self, timeout: float = 120.0) -> float:
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() - self.started < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                try:
                    if client.get(self.url + "/ping").status_code == 200:
                        return time.perf_counter() - self.started
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        # The whole process group: MLflow runs uvicorn as a child of its CLI.
        try:
            os.killpg(self.proc.pid, 15)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


def post(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    answer = client.post(url, content=BODY, headers=HEADERS)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200 or answer.json() != {"predictions": [0]}:
        raise RuntimeError(f"bad answer {answer.status_code}: {answer.text[:200]}")
    return elapsed


def sequential(url: str, n: int) -> dict[str, float]:
    with httpx.Client(timeout=30) as client:
        for _ in range(20):
            post(client, url)
        start = time.perf_counter()
        times = [post(client, url) for _ in range(n)]
        total = time.perf_counter() - start
    return summary(times, total)


def concurrent(url: str, n: int) -> dict[str, float]:
    per_client = max(1, n // CONCURRENCY)
    times: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CONCURRENCY + 1)

    def work() -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(10):
                post(client, url)
            barrier.wait()
            mine = [post(client, url) for _ in range(per_client)]
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return summary(times, time.perf_counter() - start)


def summary(times: list[float], total: float) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "requests": len(times),
        "req_per_s": len(times) / total,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def measure(impl: str, model: Path, requests: int, starts: int) -> dict[str, Any]:
    Server(impl, model).stop()  # untimed: caches written, files in the page cache
    startups = []
    for _ in range(starts - 1):
        server = Server(impl, model)
        startups.append(server.startup)
        server.stop()
    server = Server(impl, model)
    startups.append(server.startup)
    try:
        seq = sequential(server.url + "/invocations", requests)
        conc = concurrent(server.url + "/invocations", requests * 2)
    finally:
        server.stop()
    return {"startup_s": statistics.median(startups), "startups": startups,
            "sequential": seq, "concurrent": conc}


def mlflow_version() -> str:
    done = subprocess.run([str(MLFLOW_VENV / "bin" / "python"), "-c",
                           "import mlflow; print(mlflow.__version__)"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"MLflow is not usable in {MLFLOW_VENV}: make it with\n"
            f"  python3 -m venv {MLFLOW_VENV} && {MLFLOW_VENV}/bin/pip install mlflow "
            "scikit-learn skops"
        )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    version = mlflow_version()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        model = make_model(Path(tmp))
        results = {impl: measure(impl, model, args.requests, args.starts)
                   for impl in ("mltrail", "mlflow")}
    ours, theirs = results["mltrail"], results["mlflow"]
    rows = [
        ("startup until /ping (s)", ours["startup_s"], theirs["startup_s"],
         theirs["startup_s"] / ours["startup_s"]),
    ]
    for mode in ("sequential", "concurrent"):
        rows.append((f"{mode} req/s", ours[mode]["req_per_s"], theirs[mode]["req_per_s"],
                     ours[mode]["req_per_s"] / theirs[mode]["req_per_s"]))
        rows.append((f"{mode} p50 (ms)", ours[mode]["p50_ms"], theirs[mode]["p50_ms"],
                     theirs[mode]["p50_ms"] / ours[mode]["p50_ms"]))
        rows.append((f"{mode} p99 (ms)", ours[mode]["p99_ms"], theirs[mode]["p99_ms"],
                     theirs[mode]["p99_ms"] / ours[mode]["p99_ms"]))
    print(f"mltrail models serve vs mlflow models serve (MLflow {version}), one worker, "
          f"{args.requests} sequential / {args.requests * 2} with {CONCURRENCY} clients")
    print(f"{'':32}{'mltrail':>12}{'MLflow':>12}{'ratio':>9}")
    for label, a, b, ratio in rows:
        print(f"{label:32}{a:12.2f}{b:12.2f}{ratio:8.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"mlflow_version": version, **results}, indent=2))


if __name__ == "__main__":
    main()
