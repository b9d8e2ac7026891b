"""The figures of several workers in one ``/metrics`` answer (``--workers N`` with
``--expose-prometheus``): each worker writes its own figures, about once a second, to a file of
its own in a folder they share; whichever worker a scrape reaches adds up its live figures and
the others' files. Counters of a worker that has exited stay in the sum (a total never goes
down); its gauges (requests in flight, pool connections) drop out.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

Snapshot = dict[str, Any]
PREFIX = "worker-"


class SharedFigures:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.own = self.folder / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}.json"
        self._last = ""

    def publish(self, snapshot: Snapshot) -> None:
        """Write this worker's figures (whole or not at all: a temporary file, renamed)."""
        text = json.dumps(snapshot, separators=(",", ":"))
        if text == self._last:
            return
        temporary = self.own.with_suffix(".tmp")
        temporary.write_text(text)
        os.replace(temporary, self.own)
        self._last = text

    def others(self) -> list[tuple[Snapshot, bool]]:
        """The other workers' last figures, each with whether that worker still runs."""
        found = []
        for path in self.folder.glob(f"{PREFIX}*.json"):
            if path == self.own:
                continue
            try:
                snapshot = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # being replaced, or gone
            if isinstance(snapshot, dict):
                found.append((snapshot, _alive(int(snapshot.get("pid", 0)))))
        return found


def clear(folder: str) -> None:
    """Before the workers start: forget the figures of an earlier server."""
    for path in Path(folder).glob(f"{PREFIX}*"):
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


COUNTERS = ("points", "shed", "leases_killed")
GAUGES = ("in_flight", "pool_in_use")


def merge(own: Snapshot, others: list[tuple[Snapshot, bool]]) -> Snapshot:
    """One snapshot: counters and histograms summed over every worker, gauges over live ones."""
    requests: dict[tuple[str, str, str], int] = {}
    latency: dict[tuple[str, str], list[float]] = {}
    total: Snapshot = {name: 0 for name in COUNTERS + GAUGES}
    total["pool_in_use"] = own.get("pool_in_use")
    for snapshot, alive in [(own, True), *others]:
        for method, route, status, count in snapshot.get("requests", []):
            key = (method, route, status)
            requests[key] = requests.get(key, 0) + int(count)
        for method, route, row in snapshot.get("latency", []):
            mine = latency.setdefault((method, route), [0.0] * len(row))
            for i, value in enumerate(row):
                mine[i] += value
        for name in COUNTERS:
            total[name] += snapshot.get(name, 0)
        if alive and snapshot is not own:
            total["in_flight"] += snapshot.get("in_flight", 0)
            if total["pool_in_use"] is not None and snapshot.get("pool_in_use") is not None:
                total["pool_in_use"] += snapshot["pool_in_use"]
    total["in_flight"] += own.get("in_flight", 0)
    total["requests"] = [[*key, count] for key, count in requests.items()]
    total["latency"] = [[*key, row] for key, row in latency.items()]
    return total
