"""Fluent functions MLflow tracking code calls beyond the core: restoring runs and
experiments, experiment tag deletion, tables, and MLflow 3's logged-model calls."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from mltrail.entities import LoggedModel, LoggedModelOutput
from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.tracking import client as client_module
from mltrail.tracking.fluent import _active_run_id, _get_client, _resolve_experiment_id

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"  # MLflow's index of a run's tables


def restore_run(run_id: str) -> None:
    """Bring back a deleted run."""
    _get_client().restore_run(run_id)


def restore_experiment(experiment_id: str) -> None:
    """Bring back a deleted experiment."""
    _get_client().restore_experiment(str(experiment_id))


def delete_experiment_tag(key: str) -> None:
    """Remove a tag from the current experiment."""
    _get_client().delete_experiment_tag(_resolve_experiment_id(), key)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log a table (a dict of columns or a DataFrame) as a JSON artifact in pandas' "split"
    layout. Rows are appended when the run already has a table at ``artifact_file``."""
    import pandas as pd

    if not artifact_file.endswith(".json"):
        raise InvalidParameter(f"artifact_file must end in .json, got {artifact_file!r}.")
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameter("log_table takes a dict of columns or a pandas DataFrame.")
    client, run = _get_client(), _active_run_id(run_id)
    previous = _existing_table(client, run, artifact_file)
    if previous is not None:
        data = pd.concat([previous, data], ignore_index=True)
    with tempfile.TemporaryDirectory(prefix="mltrail-table-") as folder:
        path = os.path.join(folder, os.path.basename(artifact_file))
        data.to_json(path, orient="split", index=False, date_format="iso")
        parent = os.path.dirname(artifact_file)
        client.log_artifact(run, path, parent or None)
    _index_table(client, run, artifact_file)


def _existing_table(client: client_module.TrailClient, run_id: str, artifact_file: str) -> Any:
    import pandas as pd

    parent, _, name = artifact_file.rpartition("/")
    if not any(f.path == artifact_file for f in client.list_artifacts(run_id, parent or None)):
        return None
    with tempfile.TemporaryDirectory(prefix="mltrail-table-") as folder:
        local = client.download_artifacts(run_id, artifact_file, folder)
        with open(local, encoding="utf-8") as f:
            split = json.load(f)
    return pd.DataFrame(split.get("data", []), columns=split.get("columns"))


def _index_table(client: client_module.TrailClient, run_id: str, artifact_file: str) -> None:
    """MLflow's UI finds tables through a tag listing them; keep it in the same shape."""
    raw = client.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG)
    listed = json.loads(raw) if raw else []
    entry = {"path": artifact_file, "type": "table"}
    if entry not in listed:
        listed.append(entry)
        client.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(listed), synchronous=True)


# -- logged models (MLflow 3) --------------------------------------------------------------------
def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new PENDING model in ``experiment_id`` (default: the current experiment), made by the
    active run unless ``source_run_id`` names another."""
    from mltrail.tracking.fluent import active_run

    if source_run_id is None:
        current = active_run()
        source_run_id = current.info.run_id if current is not None else None
    return _get_client().create_logged_model(
        experiment_id or _resolve_experiment_id(), name, source_run_id, tags, params, model_type
    )


def finalize_logged_model(model_id: str, status: Any) -> LoggedModel:
    """Mark a model READY or FAILED."""
    return _get_client().finalize_logged_model(model_id, status)


def last_logged_model() -> LoggedModel | None:
    """The model this process logged or created last, or None."""
    model_id = client_module.last_logged_model_id()
    if model_id is None:
        return None
    try:
        return _get_client().get_logged_model(model_id)
    except NotFound:
        return None


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    _get_client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _get_client().delete_logged_model_tag(model_id, key)


def log_model_params(params: dict[str, str], model_id: str | None = None) -> None:
    """Params of a model (default: the one logged last in this process)."""
    model_id = model_id or client_module.last_logged_model_id()
    if model_id is None:
        raise InvalidParameter("log_model_params needs a model_id: no model was logged yet.")
    _get_client().log_model_params(model_id, params)


def log_outputs(models: Sequence[LoggedModelOutput] | None = None) -> None:
    """Record models as outputs of the active run (started if there is none)."""
    _get_client().log_outputs(_active_run_id(), list(models or []))
