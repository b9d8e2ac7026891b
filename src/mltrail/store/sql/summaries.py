"""The summary row of each run's metric (``latest_metrics``): its latest point, its least and
greatest values, its series id and how many small chunks the series has. A metric write
merges its batch's summary into the row, atomically, then files its chunks under the series
id the merge returns (``metrics.write_metrics``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mltrail.store.sql import series
from mltrail.store.sql.common import DriverSql, has_upsert
from mltrail.store.sql.schema import latest_metrics

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect

_MYSQL_DOUBLE_MAX = 1.7976931348623157e308
# A series whose small chunks (say, one point per REST call) pile up is re-packed once it has
# this many, so a history read never fetches thousands of rows.
SMALL_CHUNK_POINTS = 1024

# A summary as the statements take it, in this order.
SummaryRow = tuple[str, str, float, int, int, bool, float | None, float | None, int]
SUMMARY_FIELDS = (
    "run_uuid", "key", "value", "timestamp", "step", "is_nan", "min_value", "max_value",
    "small_chunks",
)  # fmt: skip
# What a merge returns of each key: (key, series id, small chunks now).
Merged = tuple[str, int, int]

# The latest point is the one with the greatest step, then timestamp, then value (MLflow's
# rule: at a full tie the larger value wins, NaN counting as 0, which is what ``value`` holds
# for NaN; at equal values the one stored first stays). Min and max ignore NULL (a series of
# NaN only). One atomic statement, so concurrent writers to one run (many clients, many server
# workers) never lose a newer point.
_NEWER = (
    "(excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND (excluded.timestamp > latest_metrics.timestamp OR (excluded.timestamp = "
    "latest_metrics.timestamp AND excluded.value > latest_metrics.value))))"
)
_COLUMNS = ", ".join(f'"{f}"' for f in SUMMARY_FIELDS)
_SLOTS = "(" + ", ".join("?" for _ in SUMMARY_FIELDS) + ")"
_ON_CONFLICT = (
    'ON CONFLICT (run_uuid, "key") DO UPDATE SET '
    + ", ".join(
        f'"{f}" = CASE WHEN {_NEWER} THEN excluded."{f}" ELSE latest_metrics."{f}" END'
        for f in ("value", "timestamp", "step", "is_nan")
    )
    + ", min_value = CASE WHEN latest_metrics.min_value IS NULL THEN excluded.min_value "
    "WHEN excluded.min_value IS NULL THEN latest_metrics.min_value "
    "WHEN excluded.min_value < latest_metrics.min_value THEN excluded.min_value "
    "ELSE latest_metrics.min_value END"
    ", max_value = CASE WHEN latest_metrics.max_value IS NULL THEN excluded.max_value "
    "WHEN excluded.max_value IS NULL THEN latest_metrics.max_value "
    "WHEN excluded.max_value > latest_metrics.max_value THEN excluded.max_value "
    "ELSE latest_metrics.max_value END"
    ", small_chunks = latest_metrics.small_chunks + excluded.small_chunks"
)
_UPSERT_ONLY = DriverSql(f"INSERT INTO latest_metrics ({_COLUMNS}) VALUES {_SLOTS} {_ON_CONFLICT}")
_OF_KEY = DriverSql(
    'SELECT "key", series_id, small_chunks FROM latest_metrics WHERE run_uuid = ? AND "key" = ?'
)
# One statement merges up to this many keys (9 parameters each: well under SQLite's oldest
# limit of 999); a run's handful of metrics is one round trip, not one per key.
_ROWS_PER_UPSERT = 64
_upserts: dict[int, DriverSql] = {}


def _upsert_returning(rows: int) -> DriverSql:
    statement = _upserts.get(rows)
    if statement is None:
        statement = _upserts[rows] = DriverSql(
            f"INSERT INTO latest_metrics ({_COLUMNS}) VALUES "
            + ", ".join(_SLOTS for _ in range(rows))
            + f' {_ON_CONFLICT} RETURNING "key", series_id, small_chunks'
        )
    return statement


def summary_row(
    run_id: str, key: str, pieces: list[series.Columns], dialect: str
) -> SummaryRow:
    """The summary of one key's new points (``pieces``: the chunks they will be stored as)."""
    if len(pieces) == 1 and len(pieces[0][0]) == 1:  # one point (a run's final metrics)
        (timestamp,), (step,), (value,) = pieces[0]
        is_nan = value != value
        low = high = None if is_nan else value
        small = 1
    else:
        cols = pieces[0] if len(pieces) == 1 else series.merged(pieces)
        timestamps, steps, values = cols
        latest = series.latest_index(cols)
        timestamp, step, value = timestamps[latest], steps[latest], values[latest]
        is_nan = value != value
        low, high = series.value_range(values)
        small = sum(len(p[0]) < SMALL_CHUNK_POINTS for p in pieces)
    if dialect == "mysql":  # MySQL has no infinities
        value, low, high = (_finite(x) for x in (value, low, high))
    return (run_id, key, 0.0 if is_nan else value, timestamp, step, is_nan, low, high, small)


def _finite(x: Any) -> Any:
    if isinstance(x, float) and math.isinf(x):
        return math.copysign(_MYSQL_DOUBLE_MAX, x)
    return x


def has_returning(dialect: Dialect) -> bool:
    if dialect.name == "postgresql":
        return True
    return (dialect.server_version_info or (0,)) >= (3, 35)  # SQLite


def merge(conn: Any, run_id: str, summaries: list[SummaryRow]) -> list[Merged]:
    """Merge the summaries into their rows (creating those that are new); what each became.

    ``conn`` is a SQLAlchemy ``Connection``, or a ``DriverConnection`` where the database has
    an upsert (see ``metrics.writes_on_driver``)."""
    dialect = conn.dialect
    if not has_upsert(dialect):
        return _merge_portably(conn, run_id, summaries)
    if has_returning(dialect):
        found: list[Merged] = []
        for at in range(0, len(summaries), _ROWS_PER_UPSERT):
            part = summaries[at : at + _ROWS_PER_UPSERT]
            params = [x for row in part for x in row]
            found += _upsert_returning(len(part)).fetchall(conn, params)
        return found
    # SQLite before 3.35: upsert, then read the series back
    _UPSERT_ONLY.executemany(conn, summaries)
    return [_OF_KEY.fetchall(conn, (run_id, s[1]))[0] for s in summaries]


def _merge_portably(conn: Connection, run_id: str, summaries: list[SummaryRow]) -> list[Merged]:
    """The merge where there is no upsert (MySQL): rows locked, then inserted or updated."""
    keys = [s[1] for s in summaries]
    existing = {
        row.key: row._asdict()
        for row in conn.execute(
            sa.select(latest_metrics)
            .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key.in_(keys))
            .with_for_update()
        )
    }
    for row in summaries:
        summary: dict[str, Any] = dict(zip(SUMMARY_FIELDS, row, strict=True))
        old = existing.get(summary["key"])
        if old is None:
            conn.execute(latest_metrics.insert(), summary)
            continue
        merged = (
            dict(summary)
            if _is_newer(summary, old)
            else {k: old[k] for k in ("value", "timestamp", "step", "is_nan")}
        )
        merged["small_chunks"] = old["small_chunks"] + summary["small_chunks"]
        merged["min_value"] = _min_none(old["min_value"], summary["min_value"])
        merged["max_value"] = _max_none(old["max_value"], summary["max_value"])
        conn.execute(
            latest_metrics.update()
            .where(latest_metrics.c.run_uuid == run_id, latest_metrics.c.key == summary["key"])
            .values({k: v for k, v in merged.items() if k not in ("run_uuid", "key")})
        )
    c = latest_metrics.c
    return [
        tuple(r)
        for r in conn.execute(
            sa.select(c.key, c.series_id, c.small_chunks).where(
                c.run_uuid == run_id, c.key.in_(keys)
            )
        )
    ]


def _is_newer(new: dict[str, Any], old: dict[str, Any]) -> bool:
    # The same rule as the upsert's CASE (``value`` holds 0 for NaN).
    return (new["step"], new["timestamp"], new["value"]) > (
        old["step"], old["timestamp"], old["value"]
    )


def _min_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max_none(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)
