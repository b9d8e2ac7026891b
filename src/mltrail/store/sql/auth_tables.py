"""The auth tables of ``--auth`` servers (users, tokens, grants, groups, audit log), beside the
tracking schema and created when such a server starts; ``mltrail.server.auth.store`` reads
and writes them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, MetaData, String, Table

metadata = MetaData()

users = Table(
    "mltrail_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(255), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
)

tokens = Table(
    "mltrail_user_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("mltrail_users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

experiment_permissions = Table(
    "mltrail_experiment_permissions",
    metadata,
    Column("experiment_id", String(32), primary_key=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("mltrail_users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("permission", String(32), nullable=False),
)

registered_model_permissions = Table(
    "mltrail_registered_model_permissions",
    metadata,
    Column("name", String(255), primary_key=True),
    Column(
        "user_id",
        Integer,
        ForeignKey("mltrail_users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("permission", String(32), nullable=False),
)

groups = Table(
    "mltrail_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
)

group_members = Table(
    "mltrail_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("mltrail_groups.id", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", Integer, ForeignKey("mltrail_users.id", ondelete="CASCADE"),
           primary_key=True),
)  # fmt: skip

# A group's grants: ``kind`` is "experiment" or "registered_model".
group_permissions = Table(
    "mltrail_group_permissions",
    metadata,
    Column("group_id", Integer, ForeignKey("mltrail_groups.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("resource", String(255), primary_key=True),
    Column("permission", String(32), nullable=False),
)  # fmt: skip

audit_log = Table(
    "mltrail_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False, index=True),
    Column("username", String(255), nullable=True),
    Column("method", String(10), nullable=False),
    Column("path", String(2048), nullable=False),
    Column("status", Integer, nullable=False),
    Column("client", String(255), nullable=True),
)


def ensure_auth_tables(engine: Any) -> None:
    for attempt in range(3):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except sa.exc.DBAPIError:  # another worker created them at the same moment
            if attempt == 2:
                raise
