"""``mltrail gc``: permanently remove deleted runs, logged models and experiments, with their
artifacts, so storage is reclaimed and names can be used again.

Artifacts go first, rows after: if storage cannot be reached, the rows stay (still deleted,
still listed by the next gc) rather than leaving files nobody can find. A run's files are the
folder ``<experiment location>/<run_id>`` (its ``artifacts`` and anything beside it), a logged
model's ``<experiment location>/models/<model_id>``; nothing outside those folders is touched,
whatever the artifact URI in the database says.

Proxied artifacts (``mlflow-artifacts:/...``) are deleted in the server's
``--artifacts-destination`` when it is given (local folder or S3), else through the server's
artifact proxy at ``--tracking-uri``.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mltrail.exceptions import InvalidParameter, MltrailException, NotFound
from mltrail.store.artifact import ArtifactRepository, get_artifact_repository
from mltrail.store.artifact.paths import safe_relative_path
from mltrail.store.sql import purge

_AGE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_age(text: str) -> float:
    """``"30d"``, ``"1d2h"``, ``"90m"``, ``"45s"`` -> seconds (MLflow's ``--older-than``)."""
    compact = text.strip().lower().replace(" ", "")
    parts = _AGE_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise InvalidParameter(
            f"Invalid age {text!r}: write it like 30d, 1d2h, 90m or 45s (days, hours, minutes, "
            "seconds)."
        )
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


@dataclass
class GcReport:
    dry_run: bool
    runs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)  # "name (id)"
    failures: list[str] = field(default_factory=list)


def _item_folder(uri: str | None, item_id: str) -> tuple[str, str] | None:
    """``"<parent>/<id>/artifacts"`` -> ``("<parent>", "<id>")``; other shapes -> None."""
    if not uri:
        return None
    trimmed = uri.rstrip("/")
    suffix = f"/{item_id}/artifacts"
    if not trimmed.endswith(suffix):
        return None
    return trimmed[: -len(suffix)], item_id


def _proxied_rel(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme.lower() == "mlflow-artifacts":
        return safe_relative_path(parts.path.lstrip("/"))
    if parts.scheme.lower() in ("http", "https") and "/mlflow-artifacts/artifacts" in parts.path:
        return safe_relative_path(parts.path.split("/mlflow-artifacts/artifacts", 1)[1])
    return None


class ArtifactDeleter:
    def __init__(self, artifacts_destination: str | None, tracking_uri: str | None) -> None:
        self.destination = artifacts_destination
        self.tracking_uri = tracking_uri

    def repository(self, parent_uri: str) -> ArtifactRepository:
        rel = _proxied_rel(parent_uri)
        if rel is None:
            return get_artifact_repository(parent_uri)
        if self.destination:
            root = self.destination.rstrip("/")
            return get_artifact_repository(posixpath.join(root, rel) if rel else root)
        if self.tracking_uri and self.tracking_uri.startswith(("http://", "https://")):
            return get_artifact_repository(parent_uri, self.tracking_uri)
        raise InvalidParameter(
            f"The artifacts at {parent_uri!r} are kept by a tracking server: give its "
            "--artifacts-destination (to delete them directly) or --tracking-uri (to delete "
            "them through its artifact proxy)."
        )

    def delete(self, uri: str | None, item_id: str) -> str | None:
        """Delete the item's folder; returns what was deleted (or None if it had none)."""
        folder = _item_folder(uri, item_id)
        if folder is None:
            return None
        parent, name = folder
        repo = self.repository(parent)
        try:
            repo.delete_artifacts(name)
        except NotFound:
            return None
        return f"{parent}/{name}"


def collect(
    engine: object,
    *,
    older_than_seconds: float | None = None,
    run_ids: Sequence[str] = (),
    experiment_ids: Sequence[str] = (),
    model_ids: Sequence[str] = (),
    artifacts_destination: str | None = None,
    tracking_uri: str | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda line: None,
    registry_engine: object | None = None,
) -> GcReport:
    """Remove (or with ``dry_run`` only list) what was deleted before ``older_than_seconds``
    ago; ``say`` hears one line per item. ``registry_engine``: the registry's own database,
    when it has one (its model versions keep their runs and logged models)."""
    cutoff = None
    if older_than_seconds is not None:
        cutoff = int((time.time() - older_than_seconds) * 1000)
    garbage = purge.find_garbage(engine, cutoff, run_ids, experiment_ids, model_ids)
    report = GcReport(dry_run=dry_run)
    deleter = ArtifactDeleter(artifacts_destination, tracking_uri)
    blocked: set[str] = set()  # experiments whose content could not all be removed
    verb = "Would remove" if dry_run else "Removed"

    def attempt(kind: str, item_id: str, experiment_id: str, uri: str | None) -> bool:
        if dry_run:
            say(f"{verb} {kind} {item_id} and its artifacts ({uri or 'none'})")
            return True
        try:
            deleter.delete(uri, item_id)
        except (MltrailException, OSError) as exc:
            message = exc.message if isinstance(exc, MltrailException) else str(exc)
            report.failures.append(f"{kind} {item_id}: artifacts not deleted: {message}")
            blocked.add(experiment_id)
            return False
        say(f"{verb} {kind} {item_id} and its artifacts ({uri or 'none'})")
        return True

    registered_runs, registered_models = _registered(registry_engine or engine)
    for run in garbage.runs:
        if run.run_id in registered_runs:  # a model version's files live there
            report.failures.append(
                f"run {run.run_id}: kept, {registered_runs[run.run_id]} uses its artifacts"
            )
            blocked.add(run.experiment_id)
            continue
        if attempt("run", run.run_id, run.experiment_id, run.artifact_uri):
            if not dry_run:
                purge.purge_run(engine, run.run_id)
            report.runs.append(run.run_id)
    for model in garbage.models:
        if model.model_id in registered_models:
            report.failures.append(
                f"logged model {model.model_id}: kept, {registered_models[model.model_id]} "
                "uses its files"
            )
            blocked.add(model.experiment_id)
            continue
        if attempt("logged model", model.model_id, model.experiment_id, model.artifact_location):
            if not dry_run:
                purge.purge_model(engine, model.model_id)
            report.models.append(model.model_id)
    for exp in garbage.experiments:
        label = f"{exp.name} ({exp.experiment_id})"
        if exp.experiment_id in blocked:
            report.failures.append(f"experiment {label}: kept, some of its artifacts remain")
            continue
        if not dry_run:
            purge.purge_experiment(engine, exp.experiment_id)
        say(f"{verb} experiment {label}; its name can be used again")
        report.experiments.append(label)
    return report


def _registered(engine: object) -> tuple[dict[str, str], dict[str, str]]:
    """Runs and logged models that registered model versions still use, each with the first
    such version ("model 'churn' version 3"): gc keeps them (delete the versions first)."""
    import sqlalchemy as sa

    from mltrail.store.sql.registry_schema import model_versions, registered_models

    mv, rm = model_versions, registered_models
    runs: dict[str, str] = {}
    models: dict[str, str] = {}
    query = sa.select(rm.c.name, mv.c.version, mv.c.run_id, mv.c.model_id).select_from(
        mv.join(rm, rm.c.model_key == mv.c.model_key)
    )
    with engine.connect() as conn:  # type: ignore[attr-defined]
        for name, version, run_id, model_id in conn.execute(query):
            label = f"model '{name}' version {version}"
            if run_id:
                runs.setdefault(run_id, label)
            if model_id:
                models.setdefault(model_id, label)
    return runs, models
