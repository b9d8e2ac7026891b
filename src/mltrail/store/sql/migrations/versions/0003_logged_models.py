"""Logged models (MLflow 3's LoggedModel): the models, their tags, params and metric points,
and the models runs produce (outputs) and use (inputs). New tables only.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def _model_id(**kw: Any) -> sa.Column[Any]:
    return sa.Column(
        "model_id",
        sa.String(64),
        sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
        **kw,
    )


def _run_uuid() -> sa.Column[Any]:
    return sa.Column(
        "run_uuid",
        sa.String(32),
        sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.Integer,
            sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.String(2048), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="active"),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(32)),
        sa.Column("status_message", sa.Text),
    )
    op.create_index(
        "ix_logged_models_experiment_created",
        "logged_models",
        ["experiment_id", "creation_timestamp_ms"],
    )
    for name in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            name,
            _model_id(),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key", name=f"pk_{name}"),
        )
    op.create_table(
        "logged_model_metrics",
        sa.Column(
            "point_id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        _model_id(),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(53), nullable=False),
        sa.Column("is_nan", sa.Boolean, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_uuid", sa.String(32)),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
    )
    op.create_index(
        "ix_logged_model_metrics_model_key", "logged_model_metrics", ["model_id", "key"]
    )
    op.create_table(
        "run_model_outputs",
        _run_uuid(),
        _model_id(),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", "step", name="pk_run_model_outputs"),
    )
    op.create_table(
        "run_model_inputs",
        _run_uuid(),
        _model_id(),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_inputs"),
    )


def downgrade() -> None:
    for name in (
        "run_model_inputs",
        "run_model_outputs",
        "logged_model_metrics",
        "logged_model_params",
        "logged_model_tags",
    ):
        op.drop_table(name)
    op.drop_index("ix_logged_models_experiment_created", "logged_models")
    op.drop_table("logged_models")
