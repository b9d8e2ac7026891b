"""Tables a server keeps for itself beside the tracking schema: run leases and idempotency
keys. They hold operational state, not user data (losing them loses no run, param or
metric), so they are created when a server starts rather than by the store's migrations, and
every server worker over one database shares them.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, Column, Integer, LargeBinary, MetaData, String, Table

log = logging.getLogger("mltrail.server")

metadata = MetaData()

# One row per run that a server has seen written to (or heartbeating). ``expires_ms`` NULL:
# no lease (a client without heartbeats on a server whose operator chose none).
run_leases = Table(
    "mltrail_run_leases",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("expires_ms", BigInteger, nullable=True),
    Column("lease_ms", BigInteger, nullable=True),
    Column("heartbeats", Boolean, nullable=False, default=False),
    Column("expired", Boolean, nullable=False, default=False),
)

# A create request's answer, kept by its Idempotency-Key so a retry gets the same answer
# instead of a second run or experiment. ``status`` NULL while the first attempt runs.
idempotency_keys = Table(
    "mltrail_idempotency_keys",
    metadata,
    Column("idem_key", String(255), primary_key=True),
    Column("route", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True),
    Column("body", LargeBinary(length=2**24), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
)


def ensure_server_tables(engine: Any) -> bool:
    """Create the tables if missing; ``False`` (and a log line) if the database refuses."""
    for attempt in range(3):
        try:
            metadata.create_all(engine, checkfirst=True)
            return True
        except sa.exc.DBAPIError as exc:  # two workers racing to create: look again
            if attempt == 2:
                log.warning("could not create the server's lease tables: %s", exc)
    return False
