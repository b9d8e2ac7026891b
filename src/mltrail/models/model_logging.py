"""``log_model`` for every flavor, the MLflow 3 way: a LoggedModel record (PENDING), linked to
the active run as an output, its files saved and uploaded to the model's own artifact
location, then READY (or FAILED, and the error raised); optionally registered."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.models.model import Model, ModelInfo

SaveFn = Callable[..., Any]


def resolve_name(name: str | None, artifact_path: str | None) -> str:
    """``name=`` or the older positional/keyword ``artifact_path``; not both."""
    if name is not None and artifact_path is not None:
        raise InvalidParameter(
            "Both `artifact_path` (deprecated) and `name` parameters were specified. "
            "Please only specify `name`."
        )
    chosen = name if name is not None else artifact_path
    if chosen is None:
        return "model"
    if not isinstance(chosen, str) or not chosen.strip():
        raise InvalidParameter("A model name must be a non-empty string, e.g. 'model'.")
    return chosen


_NOT_IN_MODEL_NAMES = set('/:.%"\'')


def _valid_logged_model_name(name: str) -> bool:
    return not (set(name) & _NOT_IN_MODEL_NAMES)


def _run_context(run_id: str | None) -> tuple[Any, str | None, str]:
    from mltrail.tracking import fluent

    client = fluent._get_client()
    if run_id is None:
        active = fluent.active_run()
        run_id = active.info.run_id if active is not None else None
    if run_id is not None:
        experiment_id = client.get_run(run_id).info.experiment_id
    else:
        experiment_id = fluent._resolve_experiment_id()
    return client, run_id, str(experiment_id)


def log_model(
    save_model: SaveFn,
    *,
    name: str | None = None,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """Create the logged model, save with ``save_model(path, mlflow_model=..., **kwargs)``,
    upload, finalize, register."""
    from mltrail.artifacts import get_artifact_repository
    from mltrail.entities import LoggedModelOutput
    from mltrail.tracking.context import current_user

    model_name = resolve_name(name, artifact_path)
    if name is None and artifact_path is not None and not _valid_logged_model_name(artifact_path):
        # MLflow 2 code passes paths such as "Biscoe-0.5" or "models/sk" that a logged model
        # may not be named; keep such code working the MLflow 2 way (the run's artifacts).
        return log_model_to_run(
            save_model,
            artifact_path,
            registered_model_name=registered_model_name,
            run_id=run_id,
            **save_kwargs,
        )
    client, run_id, experiment_id = _run_context(run_id)
    all_params: dict[str, Any] = {}
    if run_id is not None:
        all_params.update(client.get_run(run_id).data.params)
    all_params.update(params or {})
    all_tags = {"mlflow.user": current_user(), **(tags or {})}
    logged = client.create_logged_model(
        experiment_id, model_name, run_id, all_tags, all_params, model_type
    )
    if run_id is not None:
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step)])
        _copy_run_metrics(client, run_id, logged.model_id, step)
    mlflow_model = Model(
        artifact_path=logged.artifact_location,
        run_id=run_id,
        model_id=logged.model_id,
        model_uuid=logged.model_id,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="mltrail-model-") as tmp:
            local = os.path.join(tmp, "model")
            save_model(path=local, mlflow_model=mlflow_model, **save_kwargs)
            repo = get_artifact_repository(logged.artifact_location, client.tracking_uri)
            repo.log_artifacts(local)
    except BaseException:
        client.finalize_logged_model(logged.model_id, "FAILED")
        raise
    client.finalize_logged_model(logged.model_id, "READY")
    info = mlflow_model.get_model_info()
    info.name = model_name
    info.params = {k: str(v) for k, v in all_params.items()}
    info.tags = {k: str(v) for k, v in all_tags.items()}
    if registered_model_name:
        info.registered_model_version = register(info.model_uri, registered_model_name)
    return info


def _copy_run_metrics(client: Any, run_id: str, model_id: str, step: int) -> None:
    """The run's latest metrics at ``step`` are the model's too (as MLflow's client does:
    the points again, with the model's id; the run keeps one copy of an identical point)."""
    from mltrail.entities import Metric

    points = [
        Metric(m.key, m.value, m.timestamp, m.step, model_id=model_id)
        for m in client.get_run(run_id).data.metric_objs
        if m.step == step
    ]
    if points:
        client.log_batch(run_id, metrics=points)


def log_model_to_run(
    save_model: SaveFn,
    artifact_path: str,
    *,
    registered_model_name: str | None = None,
    run_id: str | None = None,
    **save_kwargs: Any,
) -> ModelInfo:
    """The MLflow 2 way, which MLflow keeps for Spark: the files go into the run's own
    artifacts under ``artifact_path`` and the model URI is ``runs:/<run_id>/<path>``."""
    import json

    from mltrail.store.artifact.paths import safe_relative_path
    from mltrail.tracking import fluent

    rel = safe_relative_path(artifact_path)
    if not rel:
        raise InvalidParameter("artifact_path must name a folder, e.g. 'model'.")
    client, run_id, _ = _run_context(run_id)
    if run_id is None:
        run_id = fluent.start_run().info.run_id
    mlflow_model = Model(artifact_path=rel, run_id=run_id)
    with tempfile.TemporaryDirectory(prefix="mltrail-model-") as tmp:
        local = os.path.join(tmp, "model")
        save_model(path=local, mlflow_model=mlflow_model, **save_kwargs)
        client._artifact_repo(run_id).log_artifacts(local, rel)
    history = client.get_run(run_id).data.tags.get("mlflow.log-model.history")
    entries = json.loads(history) if history else []
    entries.append(
        {
            "run_id": run_id,
            "artifact_path": rel,
            "utc_time_created": mlflow_model.utc_time_created,
            "model_uuid": mlflow_model.model_uuid,
            "flavors": {
                k: {kk: vv for kk, vv in v.items() if kk != "config"}
                for k, v in mlflow_model.flavors.items()
            },
        }
    )
    client.set_tag(run_id, "mlflow.log-model.history", json.dumps(entries), synchronous=True)
    info = mlflow_model.get_model_info()
    info.model_uri = f"runs:/{run_id}/{rel}"
    if registered_model_name:
        info.registered_model_version = register(info.model_uri, registered_model_name)
    return info


def register(model_uri: str, name: str) -> int:
    """Register ``model_uri`` as a new version of ``name``; the version number."""
    import mltrail

    register_model = getattr(mltrail, "register_model", None)
    if register_model is None:
        raise MltrailException(
            f"registered_model_name={name!r} needs the model registry, which this mltrail "
            f"does not have yet. The model was logged: load it with {model_uri!r}.",
            error_code="NOT_IMPLEMENTED",
        )
    version = register_model(model_uri, name)
    return int(version.version)
