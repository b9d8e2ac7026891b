"""``SqlRegistryStore``: the model registry on SQLAlchemy Core, by default in the tracking
database (so a version's source is checked against its run and logged model in the same
transaction); with ``tracking_uri`` (the server's ``--registry-store-uri``) in a database of
its own, reading runs and logged models from the tracking database.

Every write runs in one transaction and checks everything before it changes anything, so a
refused write leaves no row behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from mltrail.entities import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
)
from mltrail.exceptions import AlreadyExists, InvalidParameter, MltrailException, NotFound
from mltrail.store import registry_base as base
from mltrail.store.model_sources import resolve_source
from mltrail.store.registry_base import ModelRegistryStore
from mltrail.store.sql import registry_search as search
from mltrail.store.sql.common import now_ms
from mltrail.store.sql.engine import get_engine, transaction
from mltrail.store.sql.registry_rows import (
    VERSION_COLUMNS,
    VERSION_FROM,
    load_models,
    load_versions,
    model_row,
    version_row,
)
from mltrail.store.sql.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from mltrail.store.sql.registry_sources import SqlSourceLookup

rm, mv = registered_models, model_versions
aliases_t = registered_model_aliases


@contextmanager
def _unique_name(name: str) -> Iterator[None]:
    """A unique-name violation (two creates racing) as the error a duplicate name gets."""
    try:
        yield
    except MltrailException as exc:
        if exc.error_code == "RESOURCE_CONFLICT":
            raise AlreadyExists(f"Registered Model (name={name}) already exists.") from None
        raise


class SqlRegistryStore(ModelRegistryStore):
    """Registered models and versions in one SQL database (SQLite, PostgreSQL, MySQL)."""

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str | None = None,
        *,
        tracking_uri: str | None = None,
    ) -> None:
        from mltrail.store.sql.store import migrate_database

        self.db_uri = db_uri
        self.engine = get_engine(db_uri)
        self.default_artifact_root = (default_artifact_root or "").rstrip("/") or None
        migrate_database(self.engine)
        self.tracking_engine = None
        if tracking_uri is not None and tracking_uri != db_uri:
            self.tracking_engine = get_engine(tracking_uri)

    @contextmanager
    def _sources(self, conn: Any) -> Iterator[SqlSourceLookup]:
        """The source check's view: this transaction, plus the tracking database if apart."""
        if self.tracking_engine is None:
            yield SqlSourceLookup(conn)
            return
        with self.tracking_engine.connect() as tracking:
            yield SqlSourceLookup(conn, tracking)

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        base.check_model_name(name)
        tag_map = _tags(tags, "registered model")
        description = base.check_description(description)
        now = now_ms()
        with _unique_name(name), transaction(self.engine, write=True) as conn:
            if conn.execute(sa.select(rm.c.model_key).where(rm.c.name == name)).first():
                raise AlreadyExists(f"Registered Model (name={name}) already exists.")
            key: int = conn.execute(
                rm.insert().values(
                    name=name,
                    description=description,
                    creation_time=now,
                    last_updated_time=now,
                    last_version=0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            _put_pairs(conn, registered_model_tags, {"model_key": key}, tag_map)
        return RegisteredModel(name, now, now, description, None, tag_map)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.engine.connect() as conn:
            return load_models(conn, [model_row(conn, name)])[0]

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        base.check_model_name(new_name, "new model name")
        with _unique_name(new_name), transaction(self.engine, write=True) as conn:
            row = model_row(conn, name)
            if (
                new_name != name
                and conn.execute(sa.select(rm.c.model_key).where(rm.c.name == new_name)).first()
            ):
                raise AlreadyExists(f"Registered Model (name={new_name}) already exists.")
            conn.execute(
                rm.update()
                .where(rm.c.model_key == row.model_key)
                .values(name=new_name, last_updated_time=now_ms())
            )
            return load_models(conn, [model_row(conn, new_name)])[0]

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = base.check_description(description)
        with transaction(self.engine, write=True) as conn:
            row = model_row(conn, name)
            conn.execute(
                rm.update()
                .where(rm.c.model_key == row.model_key)
                .values(description=description, last_updated_time=now_ms())
            )
            return load_models(conn, [model_row(conn, name)])[0]

    def delete_registered_model(self, name: str) -> None:
        with transaction(self.engine, write=True) as conn:
            key = model_row(conn, name).model_key
            # Children first: MySQL and SQLite without foreign keys do not cascade for us.
            for table in (aliases_t, model_version_tags, mv, registered_model_tags):
                conn.execute(table.delete().where(table.c.model_key == key))
            conn.execute(rm.delete().where(rm.c.model_key == key))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = base.SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import (
            paging,
            parse_registered_model_filter,
            parse_registered_model_order_by,
        )

        base.check_search_max_results(
            max_results, base.SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD
        )
        node, wants_prompts = search.split_prompt_clauses(
            parse_registered_model_filter(filter_string)
        )
        terms = parse_registered_model_order_by(order_by)
        offset = paging.decode_page_token(page_token)
        query = sa.select(rm).where(search.prompt_test(rm.c.model_key, wants_prompts))
        clause = search.model_filter(node)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*search.model_order(terms)).offset(offset).limit(max_results + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            found = load_models(conn, rows[:max_results])
        token = paging.encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(found, token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        wanted = [ModelVersionStage.normalize(s) for s in stages or []]
        with self.engine.connect() as conn:
            model = load_models(conn, [model_row(conn, name)])[0]
        latest = model.latest_versions
        if wanted:
            latest = [v for v in latest if v.current_stage in wanted]
        return sorted(latest, key=lambda v: v.version)

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        key, value = base.check_registry_tag(tag.key, tag.value, "registered model")
        with transaction(self.engine, write=True) as conn:
            row = model_row(conn, name)
            _put_pairs(conn, registered_model_tags, {"model_key": row.model_key}, {key: value})
            _touch_model(conn, row.model_key)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with transaction(self.engine, write=True) as conn:
            row = model_row(conn, name)
            t = registered_model_tags
            conn.execute(t.delete().where(t.c.model_key == row.model_key, t.c.key == key))

    # -- model versions ----------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        base.check_model_name(name)
        tag_map = _tags(tags, "model version")
        description = base.check_description(description)
        run_id = _optional_id(run_id, "run_id")
        model_id = _optional_id(model_id, "model_id")
        if run_link is not None and (len(run_link) > 4096 or "\x00" in run_link):
            raise InvalidParameter("run_link must be at most 4096 characters, without NUL.")
        with transaction(self.engine, write=True) as conn:
            key: int = model_row(conn, name).model_key
            with self._sources(conn) as lookup:
                resolved = resolve_source(
                    source, run_id, model_id, self.default_artifact_root, lookup
                )
            now = now_ms()
            # The counter's UPDATE is what serializes concurrent registrations of one model.
            conn.execute(
                rm.update()
                .where(rm.c.model_key == key)
                .values(last_version=rm.c.last_version + 1, last_updated_time=now)
            )
            number: int = conn.execute(
                sa.select(rm.c.last_version).where(rm.c.model_key == key)
            ).scalar_one()
            conn.execute(
                mv.insert().values(
                    model_key=key,
                    version=number,
                    creation_time=now,
                    last_updated_time=now,
                    description=description,
                    current_stage=ModelVersionStage.NONE,
                    source=resolved.source,
                    storage_location=resolved.storage_location,
                    run_id=resolved.run_id,
                    run_link=run_link or None,
                    status=ModelVersionStatus.READY,
                    model_id=resolved.model_id,
                )
            )
            _put_pairs(conn, model_version_tags, {"model_key": key, "version": number}, tag_map)
            return self._version(conn, key, number)

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        with self.engine.connect() as conn:
            _, row = version_row(conn, name, version)
            return load_versions(conn, [row])[0]

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        description = base.check_description(description)
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            self._update_version(conn, row, description=description)
            return self._version(conn, model.model_key, row.version)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        stage = ModelVersionStage.normalize(stage)
        if archive_existing_versions and stage not in (
            ModelVersionStage.STAGING,
            ModelVersionStage.PRODUCTION,
        ):
            raise InvalidParameter(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are Staging and Production."
            )
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            now = now_ms()
            if archive_existing_versions:
                conn.execute(
                    mv.update()
                    .where(
                        mv.c.model_key == model.model_key,
                        mv.c.version != row.version,
                        mv.c.current_stage == stage,
                    )
                    .values(current_stage=ModelVersionStage.ARCHIVED, last_updated_time=now)
                )
            self._update_version(conn, row, current_stage=stage)
            return self._version(conn, model.model_key, row.version)

    def delete_model_version(self, name: str, version: str | int) -> None:
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            where = {"model_key": model.model_key, "version": row.version}
            for table in (aliases_t, model_version_tags, mv):
                conn.execute(
                    table.delete().where(
                        table.c.model_key == where["model_key"], table.c.version == row.version
                    )
                )
            _touch_model(conn, model.model_key)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        return self.get_model_version(name, version).download_uri

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = base.SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        from mltrail.search import paging, parse_model_version_filter, parse_model_version_order_by

        base.check_search_max_results(max_results, base.SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD)
        node, wants_prompts = search.split_prompt_clauses(parse_model_version_filter(filter_string))
        terms = parse_model_version_order_by(order_by)
        offset = paging.decode_page_token(page_token)
        query = (
            sa.select(*VERSION_COLUMNS)
            .select_from(VERSION_FROM)
            .where(search.prompt_test(mv.c.model_key, wants_prompts))
        )
        clause = search.version_filter(node)
        if clause is not None:
            query = query.where(clause)
        query = query.order_by(*search.version_order(terms)).offset(offset).limit(max_results + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            found = load_versions(conn, rows[:max_results])
        token = paging.encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(found, token)

    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        key, value = base.check_registry_tag(tag.key, tag.value, "model version")
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            where = {"model_key": model.model_key, "version": row.version}
            _put_pairs(conn, model_version_tags, where, {key: value})
            self._update_version(conn, row)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            t = model_version_tags
            conn.execute(
                t.delete().where(
                    t.c.model_key == model.model_key, t.c.version == row.version, t.c.key == key
                )
            )

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        base.check_alias(alias)
        with transaction(self.engine, write=True) as conn:
            model, row = version_row(conn, name, version)
            a = aliases_t
            conn.execute(a.delete().where(a.c.model_key == model.model_key, a.c.alias == alias))
            conn.execute(
                a.insert().values(model_key=model.model_key, alias=alias, version=row.version)
            )
            _touch_model(conn, model.model_key)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        base.check_alias(alias)
        with transaction(self.engine, write=True) as conn:
            model = model_row(conn, name)
            a = aliases_t
            conn.execute(a.delete().where(a.c.model_key == model.model_key, a.c.alias == alias))
            _touch_model(conn, model.model_key)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        if not isinstance(alias, str) or not alias:
            raise InvalidParameter(f"An alias must be a non-empty string, got {alias!r}.")
        with self.engine.connect() as conn:
            model = model_row(conn, name)
            a = aliases_t
            number: int | None = conn.execute(
                sa.select(a.c.version).where(a.c.model_key == model.model_key, a.c.alias == alias)
            ).scalar()
            if number is None:
                raise NotFound(
                    f"Registered model alias {alias} not found on model {name}: set it with "
                    "set_registered_model_alias first."
                )
            return self._version(conn, model.model_key, number)

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _version(conn: Any, model_key: int, number: int) -> ModelVersion:
        row = conn.execute(
            sa.select(*VERSION_COLUMNS)
            .select_from(VERSION_FROM)
            .where(mv.c.model_key == model_key, mv.c.version == number)
        ).first()
        return load_versions(conn, [row])[0]

    @staticmethod
    def _update_version(conn: Any, row: Any, **values: Any) -> None:
        now = now_ms()
        conn.execute(
            mv.update()
            .where(mv.c.model_key == row.model_key, mv.c.version == row.version)
            .values(last_updated_time=now, **values)
        )
        _touch_model(conn, row.model_key, now)


def _touch_model(conn: Any, model_key: int, now: int | None = None) -> None:
    conn.execute(
        rm.update()
        .where(rm.c.model_key == model_key)
        .values(last_updated_time=now if now is not None else now_ms())
    )


def _tags(tags: Sequence[Any], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in tags:
        key, value = base.check_registry_tag(tag.key, tag.value, what)
        found[key] = value
    return found


def _optional_id(value: str | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise InvalidParameter(f"Invalid {what} {value!r}.")
    return value


def _put_pairs(conn: Any, table: sa.Table, where: dict[str, Any], pairs: dict[str, str]) -> None:
    """Set key/value rows (replacing those keys) under ``where``'s columns."""
    if not pairs:
        return
    match = [table.c[k] == v for k, v in where.items()]
    conn.execute(table.delete().where(*match, table.c.key.in_(list(pairs))))
    conn.execute(table.insert(), [{**where, "key": k, "value": v} for k, v in pairs.items()])
