"""The lease book of run leases (``mltrail_run_leases``): renewals noted in memory and flushed,
heartbeats, expiry (RUNNING runs marked KILLED) and adoption of runs without a lease. The
server's lease task (``mltrail.server.leases``) drives it; the policy is in
``server/leases.py``'s docstring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mltrail.store.sql.server_tables import ensure_server_tables, run_leases

log = logging.getLogger("mltrail.server")

DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_SILENT_LEASE_SECONDS: float | None = 24 * 3600.0
ADOPT_EVERY_SECONDS = 60.0  # a scan of the RUNNING runs, so not at every check


@dataclass(frozen=True)
class LeasePolicy:
    """How long a run lives without news: with heartbeats, and without (``None``: forever)."""

    lease_seconds: float = DEFAULT_LEASE_SECONDS
    silent_lease_seconds: float | None = DEFAULT_SILENT_LEASE_SECONDS

    @property
    def check_every(self) -> float:
        """Seconds between lease checks: a fraction of the shortest lease, at most 30 s."""
        shortest = min(self.lease_seconds, self.silent_lease_seconds or self.lease_seconds)
        return max(0.1, min(30.0, shortest / 5))


def _now_ms() -> int:
    return int(time.time() * 1000)


def _upsert(conn: Any, values: dict[str, Any], on_conflict: dict[str, Any]) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(run_leases).values(values)
        conn.execute(pg.on_conflict_do_update(index_elements=["run_uuid"], set_=on_conflict))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(run_leases).values(values)
        conn.execute(lite.on_conflict_do_update(index_elements=["run_uuid"], set_=on_conflict))
    else:
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        my = mysql_insert(run_leases).values(values)
        conn.execute(my.on_duplicate_key_update(**on_conflict))


class RunLeases:
    """The lease book of one server process over one database."""

    def __init__(self, store: Any, policy: LeasePolicy) -> None:
        self.store = store
        self.engine = store.engine
        self.policy = policy
        self.enabled = ensure_server_tables(self.engine)
        self._touched: dict[str, int] = {}
        self._lock = threading.Lock()
        self._next_adoption = 0.0  # at the first tick, then every ADOPT_EVERY_SECONDS
        self.killed_total = 0

    # -- noting news ----------------------------------------------------------------------------
    def touch(self, run_id: str) -> None:
        """A write to ``run_id`` arrived (cheap: flushed later by ``flush``)."""
        self._touched[run_id] = _now_ms()

    def flush(self) -> None:
        """Renew the leases of runs written to since the last flush."""
        with self._lock:
            touched, self._touched = self._touched, {}
        if not touched or not self.enabled:
            return
        from mltrail.store.sql.engine import transaction

        silent = self.policy.silent_lease_seconds
        silent_ms = None if silent is None else int(silent * 1000)
        with transaction(self.engine, write=True) as conn:
            for run_id, seen in sorted(touched.items()):
                fresh = None if silent_ms is None else seen + silent_ms
                renewed = sa.case(
                    (run_leases.c.lease_ms.is_(None), None),
                    else_=sa.literal(seen) + run_leases.c.lease_ms,
                )
                values = {
                    "run_uuid": run_id,
                    "expires_ms": fresh,
                    "lease_ms": silent_ms,
                    "heartbeats": False,
                    "expired": False,
                }
                _upsert(conn, values, {"expires_ms": renewed})
            self._revive(conn, list(touched))

    def heartbeat(self, run_id: str) -> int:
        """Renew ``run_id``'s lease as a heartbeating run; returns when it now expires (ms)."""
        from mltrail.store.sql.engine import transaction

        lease_ms = int(self.policy.lease_seconds * 1000)
        expires = _now_ms() + lease_ms
        with transaction(self.engine, write=True) as conn:
            values = {
                "run_uuid": run_id,
                "expires_ms": expires,
                "lease_ms": lease_ms,
                "heartbeats": True,
                "expired": False,
            }
            _upsert(
                conn,
                values,
                {"expires_ms": expires, "lease_ms": lease_ms, "heartbeats": True},
            )
            self._revive(conn, [run_id])
        return expires

    def _revive(self, conn: Any, run_ids: Iterable[str]) -> None:
        """Runs the lease had killed whose process shows signs of life: RUNNING again."""
        from mltrail.store.sql.schema import runs

        ids = list(run_ids)
        revived = conn.execute(
            sa.select(run_leases.c.run_uuid).where(
                run_leases.c.run_uuid.in_(ids), run_leases.c.expired.is_(True)
            )
        ).scalars()
        for run_id in list(revived):
            conn.execute(
                runs.update()
                .where(runs.c.run_uuid == run_id, runs.c.status == "KILLED")
                .values(status="RUNNING", end_time=None)
            )
            conn.execute(
                run_leases.update().where(run_leases.c.run_uuid == run_id).values(expired=False)
            )

    # -- reaping --------------------------------------------------------------------------------
    def reap(self, now_ms: int | None = None) -> list[str]:
        """Mark RUNNING runs whose lease ran out as KILLED; returns their ids."""
        if not self.enabled:
            return []
        from mltrail.store.sql.engine import transaction
        from mltrail.store.sql.schema import runs

        now = _now_ms() if now_ms is None else now_ms
        killed = []
        with transaction(self.engine, write=True) as conn:
            due = conn.execute(
                sa.select(run_leases.c.run_uuid, run_leases.c.expires_ms)
                .select_from(run_leases.join(runs, runs.c.run_uuid == run_leases.c.run_uuid))
                .where(
                    runs.c.status == "RUNNING",
                    run_leases.c.expired.is_(False),
                    run_leases.c.expires_ms.is_not(None),
                    run_leases.c.expires_ms < now,
                )
            ).all()
            for run_id, expired_at in due:
                changed = conn.execute(
                    runs.update()
                    .where(runs.c.run_uuid == run_id, runs.c.status == "RUNNING")
                    .values(status="KILLED", end_time=expired_at)
                ).rowcount
                conn.execute(
                    run_leases.update().where(run_leases.c.run_uuid == run_id).values(expired=True)
                )
                if changed:
                    killed.append(run_id)
        self.killed_total += len(killed)
        for run_id in killed:
            log.warning("run %s: no heartbeat or write within its lease; marked KILLED", run_id)
        return killed

    def adopt(self) -> int:
        """Give a lease to RUNNING runs that have none: runs from before leases existed, or
        whose first write was noted by a worker that died before flushing it. Their last sign
        of life is the later of their start and their latest metric point; with no lease for
        silent clients, nothing is adopted."""
        silent = self.policy.silent_lease_seconds
        if not self.enabled or silent is None:
            return 0
        from mltrail.store.sql.engine import transaction
        from mltrail.store.sql.schema import latest_metrics, runs

        silent_ms = int(silent * 1000)
        last_point = (
            sa.select(sa.func.max(latest_metrics.c.timestamp))
            .where(latest_metrics.c.run_uuid == runs.c.run_uuid)
            .scalar_subquery()
        )
        with transaction(self.engine, write=True) as conn:
            orphans = conn.execute(
                sa.select(runs.c.run_uuid, runs.c.start_time, last_point)
                .select_from(runs.outerjoin(run_leases, run_leases.c.run_uuid == runs.c.run_uuid))
                .where(
                    runs.c.status == "RUNNING",
                    runs.c.lifecycle_stage == "active",
                    run_leases.c.run_uuid.is_(None),
                )
            ).all()
            for run_id, started, latest in orphans:
                seen = max(started or 0, latest or 0)
                values = {
                    "run_uuid": run_id,
                    "expires_ms": seen + silent_ms,
                    "lease_ms": silent_ms,
                    "heartbeats": False,
                    "expired": False,
                }
                _upsert(conn, values, {"lease_ms": run_leases.c.lease_ms})  # keep a newer row
        return len(orphans)

    def tick(self) -> list[str]:
        self.flush()
        now = time.monotonic()
        if now >= self._next_adoption:
            self._next_adoption = now + ADOPT_EVERY_SECONDS
            self.adopt()
        return self.reap()
