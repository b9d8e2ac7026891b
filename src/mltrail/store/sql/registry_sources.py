"""What the source check (``store.model_sources``) needs to know: runs and logged models from
the tracking tables (in the registry's own transaction when both share a database, else
through ``tracking``, a connection to the tracking database), versions from the registry."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mltrail.exceptions import NotFound
from mltrail.store.registry_base import check_alias
from mltrail.store.sql.registry_rows import version_row
from mltrail.store.sql.registry_schema import registered_model_aliases, registered_models
from mltrail.store.sql.schema import logged_models, runs


class SqlSourceLookup:
    def __init__(self, conn: Any, tracking: Any = None) -> None:
        self.conn = conn
        self.tracking = conn if tracking is None else tracking

    def run_artifact_uri(self, run_id: str) -> str:
        uri = self.tracking.execute(
            sa.select(runs.c.artifact_uri).where(runs.c.run_uuid == run_id)
        ).scalar()
        if uri is None:
            raise NotFound(f"Run with id={run_id} not found.")
        return str(uri)

    def logged_model_location(self, model_id: str) -> str:
        location = self.tracking.execute(
            sa.select(logged_models.c.artifact_location).where(logged_models.c.model_id == model_id)
        ).scalar()
        if location is None:
            raise NotFound(f"Logged model with ID '{model_id}' not found.")
        return str(location)

    def logged_model_run(self, model_id: str) -> str | None:
        run_id = self.conn.execute(
            sa.select(logged_models.c.source_run_id).where(logged_models.c.model_id == model_id)
        ).scalar()
        return str(run_id) if run_id else None

    def version_location(self, name: str, version: str) -> tuple[str, str | None, str | None]:
        if not version.isdigit():  # an alias: models:/<name>@<alias>
            check_alias(version)
            rm, a = registered_models, registered_model_aliases
            number = self.conn.execute(
                sa.select(a.c.version)
                .select_from(a.join(rm, rm.c.model_key == a.c.model_key))
                .where(rm.c.name == name, a.c.alias == version)
            ).scalar()
            if number is None:
                raise NotFound(f"Registered model alias {version} not found on model {name}.")
            version = str(number)
        _, row = version_row(self.conn, name, version)
        return row.storage_location or row.source, row.run_id, row.model_id

    def owners(self, candidates: list[str]) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        run_ids = [c for c in candidates if len(c) == 32]
        if run_ids:
            for run_id, uri in self.tracking.execute(
                sa.select(runs.c.run_uuid, runs.c.artifact_uri).where(runs.c.run_uuid.in_(run_ids))
            ):
                if uri:
                    found.append(("run", run_id, uri))
        model_ids = [c for c in candidates if c.startswith("m-")]
        if model_ids:
            lm = logged_models
            for model_id, location in self.tracking.execute(
                sa.select(lm.c.model_id, lm.c.artifact_location).where(lm.c.model_id.in_(model_ids))
            ):
                found.append(("model", model_id, location))
        return found
