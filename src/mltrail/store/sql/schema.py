"""The SQL schema (SQLAlchemy Core), shared by every SQL dialect.

Designed for millions of metric points and 100k runs:
- metric *series* live apart from run metadata, packed in chunks (``metric_chunks``): a row
  holds a batch of points as arrays, so writing or reading 20,000 points is one row;
- ``latest_metrics`` keeps a per-run, per-key summary (latest value, min, max) so searches,
  sorting and the runs table never touch the series;
- the runs table is indexed for "runs of an experiment in this lifecycle stage, newest first".

NaN cannot be stored portably in a column (SQLite turns it into NULL), so summaries carry an
``is_nan`` flag and a 0 in ``value``; infinities are stored as they are (MySQL clamps them).
Chunks keep every value exactly, NaN and infinities included.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# MySQL's plain BLOB stops at 64 KB and a chunk can be a few MB: with a length, MySQL picks
# LONGBLOB; the other databases ignore it.
CHUNK_BYTES = LargeBinary(length=2**32 - 1)

KEY_LENGTH = 250

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048)),
    Column("lifecycle_stage", String(32), nullable=False, server_default="active"),
    Column("creation_time", BigInteger),
    Column("last_update_time", BigInteger),
    UniqueConstraint("name", name="uq_experiments_name"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column("name", String(250)),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", String(256)),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
    Column("artifact_uri", String(2048)),
    Column("deleted_time", BigInteger),
    Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key", name="pk_params"),
    sqlite_with_rowid=False,  # the key is the row: one b-tree to write, not two
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text),
    PrimaryKeyConstraint("run_uuid", "key", name="pk_tags"),
    sqlite_with_rowid=False,  # the key is the row: one b-tree to write, not two
)

# Per-run summary of each metric, and the identity of its series: the latest point (by step,
# then timestamp) plus the minimum and maximum of its non-NaN values. Kept up to date by every
# write; read by search and run tables. ``series_id`` is what the point rows refer to, so a
# point is five numbers instead of repeating the run id and key text.
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column(
        "series_id",
        BigInteger().with_variant(Integer, "sqlite"),  # SQLite: an alias of the rowid
        primary_key=True,
        autoincrement=True,
    ),
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Float(53), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("min_value", Float(53)),
    Column("max_value", Float(53)),
    # How many of the series' chunks are small (see metrics.py): past a threshold, re-packed.
    Column("small_chunks", Integer, nullable=False, server_default="0"),
    UniqueConstraint("run_uuid", "key", name="uq_latest_metrics_run_key"),
    # Serves searches on a metric: ordered by its last value, the index is read in order;
    # on min()/max() it is scanned without visiting the table. One index, not one a column:
    # each costs pages written on every run's metrics.
    Index("ix_latest_metrics_key_value", "key", "value", "min_value", "max_value"),
)

# A metric series stored packed: a row holds a batch of points of one series, as three arrays
# (see ``series.py``). ``first_step``/``last_step`` let a chart's zoom skip whole chunks.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column(
        "chunk_id",
        BigInteger().with_variant(Integer, "sqlite"),  # SQLite: an alias of the rowid
        primary_key=True,
        autoincrement=True,
    ),
    Column(
        "series_id",
        BigInteger,
        ForeignKey("latest_metrics.series_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("points", Integer, nullable=False),
    Column("first_step", BigInteger, nullable=False),
    Column("last_step", BigInteger, nullable=False),
    Column("data", CHUNK_BYTES, nullable=False),
    Index("ix_metric_chunks_series", "series_id", "chunk_id"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(36), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text),
    Column("profile", Text),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_identity"),
)

# Which datasets a run used; ``tags`` is the JSON object of its input tags (e.g. the context).
run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column(
        "dataset_uuid",
        String(36),
        ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("tags", Text, nullable=False, server_default="{}"),
    PrimaryKeyConstraint("run_uuid", "dataset_uuid", name="pk_run_inputs"),
)

# -- logged models (MLflow 3's LoggedModel; migration 0003) -------------------------------------

# A model's own record. ``status`` and ``lifecycle_stage`` are names ("LOGGED_MODEL_READY",
# "active"); a deleted model stays, hidden, as deleted runs do.
logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", String(2048), nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", String(40), nullable=False),
    Column("lifecycle_stage", String(20), nullable=False, server_default="active"),
    Column("model_type", String(500)),
    Column("source_run_id", String(32)),
    Column("status_message", Text),
    # The default search: an experiment's models, newest first.
    Index("ix_logged_models_experiment_created", "experiment_id", "creation_timestamp_ms"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_tags"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_params"),
)

# Run metric points logged with a ``model_id``: the run keeps them in its own series as well;
# these copies give the model its ``data.metrics`` and let model searches filter on them.
# A surrogate key because the natural one (model, key, step, timestamp, run, dataset) is too
# long for MySQL's index limit; writes replace an identical point instead of adding it again.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column(
        "point_id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Float(53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("run_uuid", String(32)),
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(36)),
    Index("ix_logged_model_metrics_model_key", "model_id", "key"),
)

# Models a run produced (``/runs/outputs``) and models it used (``/runs/log-inputs``).
run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", "step", name="pk_run_model_outputs"),
)

run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_inputs"),
)

# The highest id ever handed out, per kind (migration 0005). SQLite without AUTOINCREMENT
# gives a new row the largest id + 1, so once gc purged the newest experiment its id would come
# back, and with it the artifact folder keyed by that id. Creation on SQLite takes the larger of
# this and the table's largest id; PostgreSQL and MySQL sequences never go down on their own.
id_counters = Table(
    "id_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
