"""The model registry's tables (migration 0004), on the tracking schema's ``metadata``.

A registered model has an integer key (``model_key``) that its versions, tags and aliases
refer to, so renaming a model changes one row. ``last_version`` is the counter new version
numbers are taken from: incrementing it is an UPDATE of the model's row, which the database
serializes (a row lock on PostgreSQL and MySQL, the write lock on SQLite), so two clients
registering at once get distinct numbers; deleted numbers are never handed out again.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

from mltrail.store.sql.schema import KEY_LENGTH, metadata

# Model names compare case-sensitively everywhere, as on PostgreSQL and SQLite: MySQL's default
# collation would make "Model" and "model" one name.
NAME_TYPE = String(256).with_variant(mysql.VARCHAR(256, collation="utf8mb4_bin"), "mysql")
ALIAS_TYPE = String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql")


def _model_key() -> Column:  # type: ignore[type-arg]
    return Column(
        "model_key",
        Integer,
        ForeignKey("registered_models.model_key", ondelete="CASCADE"),
        nullable=False,
    )


registered_models = Table(
    "registered_models",
    metadata,
    Column("model_key", Integer, primary_key=True, autoincrement=True),
    Column("name", NAME_TYPE, nullable=False),
    Column("description", Text),
    Column("user_id", String(256)),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("last_version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("name", name="uq_registered_models_name"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    _model_key(),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_key", "key", name="pk_registered_model_tags"),
)

model_versions = Table(
    "model_versions",
    metadata,
    _model_key(),
    Column("version", Integer, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
    Column("description", Text),
    Column("user_id", String(256)),
    Column("current_stage", String(20), nullable=False),
    Column("source", Text, nullable=False),
    Column("storage_location", Text),
    Column("run_id", String(32)),
    Column("run_link", Text),
    Column("status", String(20), nullable=False),
    Column("status_message", Text),
    Column("model_id", String(64)),
    PrimaryKeyConstraint("model_key", "version", name="pk_model_versions"),
    Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("model_key", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_key", "version", "key", name="pk_model_version_tags"),
    ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_model_version_tags_version",
    ),
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("model_key", Integer, nullable=False),
    Column("alias", ALIAS_TYPE, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("model_key", "alias", name="pk_registered_model_aliases"),
    ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_registered_model_aliases_version",
    ),
)

# Registry webhooks (MLflow 3): where to send which registry events, and the HMAC secret.
# ``events`` is a JSON list of "entity.action" names ("model_version.created").
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("name", String(63), nullable=False),
    Column("description", Text),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),
    Column("secret", Text),
    Column("status", String(20), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_updated_time", BigInteger, nullable=False),
)
