"""The model registry: registered models, versions, their tags, aliases, and the registry's
webhooks. New tables only.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"

_NAME = sa.String(256).with_variant(mysql.VARCHAR(256, collation="utf8mb4_bin"), "mysql")
_ALIAS = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql")


def _model_key() -> sa.Column[int]:
    return sa.Column(
        "model_key",
        sa.Integer,
        sa.ForeignKey("registered_models.model_key", ondelete="CASCADE"),
        nullable=False,
    )


def _version_ref(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name=f"fk_{table}_version",
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("model_key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", _NAME, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("user_id", sa.String(256)),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_table(
        "registered_model_tags",
        _model_key(),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_key", "key", name="pk_registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        _model_key(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("user_id", sa.String(256)),
        sa.Column("current_stage", sa.String(20), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("storage_location", sa.Text),
        sa.Column("run_id", sa.String(32)),
        sa.Column("run_link", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("model_id", sa.String(64)),
        sa.PrimaryKeyConstraint("model_key", "version", name="pk_model_versions"),
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("model_key", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_key", "version", "key", name="pk_model_version_tags"),
        _version_ref("model_version_tags"),
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("model_key", sa.Integer, nullable=False),
        sa.Column("alias", _ALIAS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("model_key", "alias", name="pk_registered_model_aliases"),
        _version_ref("registered_model_aliases"),
    )


    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("secret", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhooks")
    for name in ("registered_model_aliases", "model_version_tags"):
        op.drop_table(name)
    op.drop_index("ix_model_versions_run_id", "model_versions")
    for name in ("model_versions", "registered_model_tags", "registered_models"):
        op.drop_table(name)
