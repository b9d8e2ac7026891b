"""Metric points packed in chunks: ``metrics`` (a row a point) becomes ``metric_chunks``;
summaries get a small-chunk count, and their (key, value) index covers min and max too;
on SQLite, params and tags become WITHOUT ROWID tables.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from mltrail.store.sql import series

revision = "0002"
down_revision = "0001"

_POINTS = sa.table(
    "metrics",
    sa.column("series_id"),
    sa.column("timestamp"),
    sa.column("step"),
    sa.column("value"),
    sa.column("is_nan"),
)
_CHUNKS = sa.table(
    "metric_chunks",
    sa.column("series_id"),
    sa.column("points"),
    sa.column("first_step"),
    sa.column("last_step"),
    sa.column("data"),
)


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        sa.Column(
            "chunk_id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "series_id",
            sa.BigInteger,
            sa.ForeignKey("latest_metrics.series_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("first_step", sa.BigInteger, nullable=False),
        sa.Column("last_step", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary(length=2**32 - 1), nullable=False),
    )
    op.create_index("ix_metric_chunks_series", "metric_chunks", ["series_id", "chunk_id"])
    with op.batch_alter_table("latest_metrics") as batch:
        batch.add_column(sa.Column("small_chunks", sa.Integer, nullable=False, server_default="0"))
    op.drop_index("ix_latest_metrics_key_value", "latest_metrics")
    op.create_index(
        "ix_latest_metrics_key_value", "latest_metrics", ["key", "value", "min_value", "max_value"]
    )
    _pack_points(op.get_bind())
    op.drop_table("metrics")
    _params_and_tags_without_rowid(True)


def _params_and_tags_without_rowid(without: bool) -> None:
    """On SQLite, params and tags become WITHOUT ROWID tables: keyed by (run_uuid, key)
    alone, a run's writes touch one b-tree per table instead of two."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ("params", "tags"):
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": not without}
        ):
            pass


def _pack_points(conn: sa.engine.Connection) -> None:
    """Every stored point moves, series by series, into chunks."""
    ids = conn.execute(sa.select(_POINTS.c.series_id).distinct()).scalars().all()
    for sid in ids:
        rows = conn.execute(
            sa.select(_POINTS.c.timestamp, _POINTS.c.step, _POINTS.c.value, _POINTS.c.is_nan)
            .where(_POINTS.c.series_id == sid)
            .order_by(_POINTS.c.timestamp, _POINTS.c.step, _POINTS.c.value)
        ).all()
        timestamps = [r[0] for r in rows]
        steps = [r[1] for r in rows]
        values = [float("nan") if r[3] else r[2] for r in rows]
        cols = series.normalized(timestamps, steps, values)
        small = 0
        for piece in series.split(cols):
            ts, st, vals = piece
            conn.execute(
                _CHUNKS.insert().values(
                    series_id=sid,
                    points=len(ts),
                    first_step=min(st),
                    last_step=max(st),
                    data=series.encode(ts, st, vals),
                )
            )
            small += len(ts) < 1024  # metrics.SMALL_CHUNK_POINTS when this was written
        conn.execute(
            sa.text("UPDATE latest_metrics SET small_chunks = :n WHERE series_id = :sid"),
            {"n": small, "sid": sid},
        )


def downgrade() -> None:
    _params_and_tags_without_rowid(False)
    op.create_table(
        "metrics",
        sa.Column("series_id", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint(
            "series_id", "timestamp", "step", "value", "is_nan", name="pk_metrics"
        ),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    by_series: dict[int, list[series.Columns]] = {}
    for sid, n, data in conn.execute(
        sa.select(_CHUNKS.c.series_id, _CHUNKS.c.points, _CHUNKS.c.data).order_by(
            _CHUNKS.c.series_id
        )
    ):
        by_series.setdefault(sid, []).append(series.decode(data, n))
    for sid, chunks in by_series.items():
        ts, st, vals = series.merged(chunks)
        rows = [
            {
                "series_id": sid,
                "timestamp": t,
                "step": s,
                "value": 0.0 if v != v else v,
                "is_nan": v != v,
            }
            for t, s, v in zip(ts, st, vals, strict=True)
        ]
        if rows:
            conn.execute(_POINTS.insert(), rows)
    op.drop_table("metric_chunks")
    op.drop_index("ix_latest_metrics_key_value", "latest_metrics")
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])
    with op.batch_alter_table("latest_metrics") as batch:
        batch.drop_column("small_chunks")
