"""Registry rows: looking models and versions up, reading rows into entities (a page of models
or versions costs a fixed number of queries: tags, aliases, latest versions, whatever its
size), and the small checks and writes the store's methods share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.entities import ModelVersion, RegisteredModel
from mltrail.exceptions import InvalidParameter
from mltrail.store.registry_base import (
    check_model_name,
    check_registry_tag,
    check_version,
    model_version_not_found,
    registered_model_not_found,
)
from mltrail.store.sql.common import now_ms
from mltrail.store.sql.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)

rm, mv = registered_models, model_versions
_CHUNK = 500  # keys per IN (...)

# A version row with its model's name, as searches and gets select it.
VERSION_COLUMNS = (rm.c.name, *mv.c)
VERSION_FROM = mv.join(rm, rm.c.model_key == mv.c.model_key)


def model_row(conn: Any, name: str) -> Any:
    """The model's row; ``NotFound`` if there is none."""
    check_model_name(name)
    row = conn.execute(sa.select(rm).where(rm.c.name == name)).first()
    if row is None:
        raise registered_model_not_found(name)
    return row


def version_row(conn: Any, name: str, version: object) -> Any:
    """(model row, version row); ``NotFound`` for an unknown model or version."""
    number = check_version(version)
    model = model_row(conn, name)
    row = conn.execute(
        sa.select(*VERSION_COLUMNS)
        .select_from(VERSION_FROM)
        .where(mv.c.model_key == model.model_key, mv.c.version == number)
    ).first()
    if row is None:
        raise model_version_not_found(name, number)
    return model, row


def _chunks(keys: Sequence[Any]) -> list[Sequence[Any]]:
    return [keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK)]


def load_versions(conn: Any, rows: Sequence[Any]) -> list[ModelVersion]:
    """Entities for version rows (selected with ``VERSION_COLUMNS``): tags and aliases too."""
    if not rows:
        return []
    wanted = {(r.model_key, r.version) for r in rows}
    keys = sorted({r.model_key for r in rows})
    tags: dict[tuple[int, int], dict[str, str]] = {k: {} for k in wanted}
    aliases: dict[tuple[int, int], list[str]] = {k: [] for k in wanted}
    t, a = model_version_tags, registered_model_aliases
    for chunk in _chunks(keys):
        for mk, ver, key, value in conn.execute(
            sa.select(t.c.model_key, t.c.version, t.c.key, t.c.value)
            .where(t.c.model_key.in_(chunk))
            .order_by(t.c.key)
        ):
            if (mk, ver) in tags:
                tags[(mk, ver)][key] = value
        for mk, ver, alias in conn.execute(
            sa.select(a.c.model_key, a.c.version, a.c.alias)
            .where(a.c.model_key.in_(chunk))
            .order_by(a.c.alias)
        ):
            if (mk, ver) in aliases:
                aliases[(mk, ver)].append(alias)
    return [_version(r, tags[(r.model_key, r.version)], aliases[(r.model_key, r.version)])
            for r in rows]  # fmt: skip


def _version(r: Any, tags: dict[str, str], aliases: list[str]) -> ModelVersion:
    return ModelVersion(
        name=r.name,
        version=r.version,
        creation_timestamp=r.creation_time,
        last_updated_timestamp=r.last_updated_time,
        source=r.source,
        current_stage=r.current_stage,
        description=r.description,
        user_id=r.user_id,
        run_id=r.run_id,
        run_link=r.run_link,
        status=r.status,
        status_message=r.status_message,
        model_id=r.model_id,
        storage_location=r.storage_location,
        tags=tags,
        aliases=aliases,
    )


def load_models(conn: Any, rows: Sequence[Any]) -> list[RegisteredModel]:
    """Entities for registered model rows, with tags, aliases and the newest version in each
    stage (``latest_versions``)."""
    if not rows:
        return []
    keys = [r.model_key for r in rows]
    tags: dict[int, dict[str, str]] = {k: {} for k in keys}
    aliases: dict[int, dict[str, int]] = {k: {} for k in keys}
    latest_rows: list[Any] = []
    t, a = registered_model_tags, registered_model_aliases
    for chunk in _chunks(keys):
        for mk, key, value in conn.execute(
            sa.select(t.c.model_key, t.c.key, t.c.value)
            .where(t.c.model_key.in_(chunk))
            .order_by(t.c.key)
        ):
            tags[mk][key] = value
        for mk, alias, ver in conn.execute(
            sa.select(a.c.model_key, a.c.alias, a.c.version)
            .where(a.c.model_key.in_(chunk))
            .order_by(a.c.alias)
        ):
            aliases[mk][alias] = ver
        newest = (
            sa.select(mv.c.model_key, sa.func.max(mv.c.version).label("version"))
            .where(mv.c.model_key.in_(chunk))
            .group_by(mv.c.model_key, mv.c.current_stage)
            .subquery()
        )
        latest_rows.extend(
            conn.execute(
                sa.select(*VERSION_COLUMNS)
                .select_from(
                    VERSION_FROM.join(
                        newest,
                        sa.and_(
                            newest.c.model_key == mv.c.model_key, newest.c.version == mv.c.version
                        ),
                    )
                )
                .order_by(mv.c.model_key, mv.c.version)
            ).all()
        )
    latest: dict[int, list[ModelVersion]] = {k: [] for k in keys}
    for version, row in zip(load_versions(conn, latest_rows), latest_rows, strict=True):
        latest[row.model_key].append(version)
    return [
        RegisteredModel(
            name=r.name,
            creation_timestamp=r.creation_time,
            last_updated_timestamp=r.last_updated_time,
            description=r.description,
            user_id=r.user_id,
            tags=tags[r.model_key],
            aliases=aliases[r.model_key],
            latest_versions=latest[r.model_key],
        )
        for r in rows
    ]


# -- small writes and reads the store's methods share ----------------------------------------


def version_entity(conn: Any, model_key: int, number: int) -> ModelVersion:
    """One version, read whole (after a write, to answer with it)."""
    row = conn.execute(
        sa.select(*VERSION_COLUMNS)
        .select_from(VERSION_FROM)
        .where(mv.c.model_key == model_key, mv.c.version == number)
    ).first()
    return load_versions(conn, [row])[0]


def update_version(conn: Any, row: Any, **values: Any) -> None:
    """Change a version's columns; the version and its model count as updated now."""
    now = now_ms()
    conn.execute(
        mv.update()
        .where(mv.c.model_key == row.model_key, mv.c.version == row.version)
        .values(last_updated_time=now, **values)
    )
    touch_model(conn, row.model_key, now)


def touch_model(conn: Any, model_key: int, now: int | None = None) -> None:
    conn.execute(
        rm.update()
        .where(rm.c.model_key == model_key)
        .values(last_updated_time=now if now is not None else now_ms())
    )


def checked_tags(tags: Sequence[Any], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in tags:
        key, value = check_registry_tag(tag.key, tag.value, what)
        found[key] = value
    return found


def optional_id(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise InvalidParameter(f"Invalid {what} {value!r}.")
    return value


def put_pairs(conn: Any, table: sa.Table, where: dict[str, Any], pairs: dict[str, str]) -> None:
    """Set key/value rows (replacing those keys) under ``where``'s columns."""
    if not pairs:
        return
    match = [table.c[k] == v for k, v in where.items()]
    conn.execute(table.delete().where(*match, table.c.key.in_(list(pairs))))
    conn.execute(table.insert(), [{**where, "key": k, "value": v} for k, v in pairs.items()])
