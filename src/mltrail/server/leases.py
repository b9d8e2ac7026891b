"""Run leases: no run stays RUNNING after the process that ran it died.

Every write to a run (a batch, a metric, a tag, an update) renews its lease, and mltrail's
client also sends a heartbeat (``POST runs/heartbeat``) every few seconds while a run is
active, so a long quiet epoch keeps its lease too. A run whose lease runs out is marked
KILLED with the time the lease ended. Should its process turn out to be alive after all (a
heartbeat or a write arrives later), the run is RUNNING again, so a lease never loses a run.

Runs written by clients that send no heartbeats (the ``mlflow`` client) get their own lease,
longer by default, or none at all, as the operator chooses: such a client may legitimately be
silent for hours between writes.

Writes are noted in memory (a dict set per request: nothing on the hot path touches the
database) and flushed to ``mltrail_run_leases`` by the server's lease task, which also reaps
expired leases. Several workers or machines share the table; reaping is one guarded UPDATE per
run (``WHERE status = 'RUNNING'``), so two reapers never conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from mltrail.store.sql.leases import RunLeases

log = logging.getLogger("mltrail.server")


@contextlib.asynccontextmanager
async def running(leases: RunLeases) -> AsyncIterator[None]:
    """Flush and reap in the background while the server serves (the app's lifespan)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(leases.policy.check_every)
            try:
                await asyncio.to_thread(leases.tick)
            except Exception:  # noqa: BLE001 - a busy database must not end the loop
                log.warning("lease check failed; retrying", exc_info=True)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await asyncio.to_thread(leases.flush)  # what arrived last is not forgotten


def note_write(app_state: Any, run_id: str) -> None:
    """Called by the routes that write to a run: renews its lease (in memory until flushed)."""
    leases = getattr(app_state, "leases", None)
    if leases is not None:
        leases.touch(run_id)


def parse_seconds(text: str | float | None, what: str) -> float | None:
    """``"300"``, ``"5m"``, ``"24h"``, ``"2d"`` -> seconds; ``"none"`` / ``"off"`` -> None."""
    if text is None or isinstance(text, float | int):
        return None if text is None else float(text)
    raw = text.strip().lower()
    if raw in ("none", "off", "never", ""):
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = units.get(raw[-1], 0) if raw[-1].isalpha() else 1
    number = raw[:-1] if raw[-1].isalpha() else raw
    try:
        seconds = float(number) * factor
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ValueError(f"{what}: {text!r} is not a duration; write it like 300, 5m, 24h or none.")
    return seconds
