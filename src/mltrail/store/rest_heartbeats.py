"""Heartbeats for the runs this process has open on a tracking server.

An mltrail server keeps a lease on every RUNNING run and marks it KILLED when the lease runs
out (the process died without ending it). While a run is open here, a daemon thread tells the
server it is alive, a few times per lease; when the process dies, the beats stop and the lease
runs out. A server that does not know the route (MLflow's) is asked once and left alone.

``MLTRAIL_RUN_HEARTBEATS=false`` turns them off.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any

from mltrail.protocol.tracking_routes import RUN_HEARTBEAT

log = logging.getLogger("mltrail.tracking")

FIRST_INTERVAL = 30.0  # until the server says how long its lease is
MIN_INTERVAL, MAX_INTERVAL = 0.2, 60.0


def enabled() -> bool:
    raw = os.environ.get("MLTRAIL_RUN_HEARTBEATS", "true").strip().lower()
    return raw not in ("0", "false", "no", "off")


class Heartbeats:
    """One thread per (process, server) beating for every open run."""

    def __init__(self, http: Any, url: str) -> None:
        self.http = http
        self.url = url  # .../api/2.0/mlflow/runs/heartbeat
        self.runs: set[str] = set()
        self.interval = FIRST_INTERVAL
        self.supported = True
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def start(self, run_id: str) -> None:
        if not self.supported or not enabled():
            return
        with self._wake:
            self.runs.add(run_id)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._loop, name="mltrail-heartbeats", daemon=True
                )
                self._thread.start()
            self._wake.notify()  # beat now: the lease starts with the first beat

    def stop(self, run_id: str) -> None:
        with self._wake:
            self.runs.discard(run_id)

    def _loop(self) -> None:
        while True:
            with self._wake:
                current = sorted(self.runs)
            for run_id in current:
                self._beat(run_id)
            if not self.supported:
                return
            with self._wake:
                self._wake.wait(timeout=self.interval)

    def _beat(self, run_id: str) -> None:
        body = json.dumps({"run_id": run_id})
        try:
            # One attempt: the next beat is the retry (no backoff sleeping in this thread).
            response = self.http.request("POST", self.url, json_body=body, max_retries=0)
        except Exception:  # noqa: BLE001 - an unreachable server: try again next beat
            log.debug("heartbeat for run %s failed", run_id, exc_info=True)
            return
        if response.status_code == 404 and "json" not in response.headers.get(
            "content-type", ""
        ):
            self.supported = False  # not an mltrail server: no leases to keep
            return
        try:
            answer = response.json() if response.status_code == 200 else {}
        except ValueError:
            answer = {}
        if response.status_code == 404 or answer.get("status") not in (None, "RUNNING"):
            self.stop(run_id)  # deleted, or ended by someone else
        lease = answer.get("lease_seconds")
        if isinstance(lease, int | float) and lease > 0:
            self.interval = max(MIN_INTERVAL, min(MAX_INTERVAL, lease / 4))


_beaters: dict[str, Heartbeats] = {}
_beaters_lock = threading.Lock()


def heartbeats_for(http: Any, base_url: str) -> Heartbeats:
    """The process's heartbeat thread for the server at ``base_url``."""
    url = base_url.rstrip("/") + RUN_HEARTBEAT.full_path
    with _beaters_lock:
        beater = _beaters.get(url)
        if beater is None:
            beater = _beaters[url] = Heartbeats(http, url)
        return beater


def wait_for_first_beat(beater: Heartbeats, timeout: float = 5.0) -> None:
    """For tests: give the thread a moment to send its first beat."""
    deadline = time.monotonic() + timeout
    while beater.interval == FIRST_INTERVAL and beater.supported and time.monotonic() < deadline:
        time.sleep(0.02)
