"""``/metrics`` with ``--workers N``: whichever worker a scrape reaches answers for all of them
(the workers share their figures through a folder). A real server process with two workers,
requests over fresh connections (spread over the workers by the kernel), and scrapes that
each may land on either worker."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
from server_process import mltrail_server

from mltrail.server.metrics_share import SharedFigures, merge

SEARCH = (
    'mltrail_http_requests_total{method="GET",'
    'route="/api/2.0/mlflow/experiments/search",status="200"}'
)


def _count(text: str) -> int:
    found = re.search(re.escape(SEARCH) + r" (\d+)$", text, flags=re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_every_scrape_counts_the_requests_of_all_workers(tmp_path: Path) -> None:
    shared = tmp_path / "prometheus"
    with mltrail_server(tmp_path, "--workers", "2", "--expose-prometheus", str(shared)) as url:
        for _ in range(40):  # a new connection each: the kernel hands them to either worker
            answer = httpx.get(url + "/api/2.0/mlflow/experiments/search")
            assert answer.status_code == 200
        deadline = time.monotonic() + 60
        agreeing = 0
        while agreeing < 6:  # six scrapes in a row, on any worker, all see the 40
            assert time.monotonic() < deadline, httpx.get(url + "/metrics").text[-2000:]
            seen = _count(httpx.get(url + "/metrics").text)
            assert seen <= 40
            agreeing = agreeing + 1 if seen == 40 else 0
            if seen != 40:
                time.sleep(0.2)
        files = list(shared.glob("worker-*.json"))
        assert len({p.name.split("-")[1] for p in files}) == 2  # both workers wrote theirs
        # Each worker's own count is below 40 when the kernel spread the connections (it does,
        # here about evenly); the sum is what every scrape showed.
        own = [
            sum(r[3] for r in json.loads(p.read_text())["requests"] if "search" in r[1])
            for p in files
        ]
        assert sum(own) == 40


def test_a_stopped_workers_counts_stay_and_its_gauges_go(tmp_path: Path) -> None:
    def figures(pid: int, requests: int, in_flight: int) -> dict[str, object]:
        return {
            "pid": pid,
            "requests": [["GET", "/health", "200", requests]],
            "latency": [["GET", "/health", [requests] * 13]],
            "points": requests * 10,
            "shed": 0,
            "leases_killed": 1,
            "in_flight": in_flight,
            "pool_in_use": 2,
        }

    folder = SharedFigures(str(tmp_path))
    mine = figures(os.getpid(), 3, 1)
    gone = figures(2**22 + 12345, 5, 7)  # no such process
    alive = figures(os.getppid(), 2, 4)
    total = merge(mine, [(gone, False), (alive, True)])
    assert total["requests"] == [["GET", "/health", "200", 10]]
    assert total["points"] == 100 and total["leases_killed"] == 3
    assert total["in_flight"] == 5 and total["pool_in_use"] == 4
    folder.publish(mine)
    assert folder.others() == []  # its own file is not an "other"
