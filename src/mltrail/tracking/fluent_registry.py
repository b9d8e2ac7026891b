"""Fluent registry functions: ``register_model``, ``search_registered_models`` and
``search_model_versions``, with MLflow's names and behaviour."""

from __future__ import annotations

import contextlib
from typing import Any

from mltrail.entities import ModelVersion, RegisteredModel
from mltrail.entities.tracking import collect_pages
from mltrail.exceptions import AlreadyExists, InvalidParameter, MltrailException
from mltrail.tracking import artifact_uris
from mltrail.tracking.client import TrailClient
from mltrail.tracking.registry_client import resolve_registered_model_uri
from mltrail.tracking.state import Setting

# models:/<name>/<version> and models:/<name>@<alias> resolve wherever artifact and model
# functions take a URI, once the registry is imported (``import mltrail`` does).
artifact_uris.set_registered_model_resolver(resolve_registered_model_uri)

# Like the tracking URI: for the whole process, kept by a context that set it (``state.py``).
_registry_uri = Setting[str | None]("mltrail_registry_uri", None)


def set_registry_uri(uri: str | None) -> None:
    """Where registry calls go (default: the tracking URI, or MLTRAIL_REGISTRY_URI /
    MLFLOW_REGISTRY_URI)."""
    _registry_uri.set(str(uri) if uri else None)


def reset_registry_uri() -> None:
    _registry_uri.reset()


def get_registry_uri() -> str:
    """The registry URI in effect."""
    from mltrail.tracking.fluent import get_tracking_uri
    from mltrail.tracking.registry_client import resolve_registry_uri

    return resolve_registry_uri(_registry_uri.get(), get_tracking_uri())


def _client() -> TrailClient:
    from mltrail.tracking.fluent import _get_client

    client = _get_client()
    registry_uri = _registry_uri.get()
    if registry_uri is not None and client._registry_uri != registry_uri:
        return TrailClient(client.tracking_uri, registry_uri)
    return client


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = 300,
    *,
    tags: dict[str, Any] | None = None,
    **_ignored: Any,
) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name`` (the registered model
    is created if it does not exist yet).

    ``model_uri`` is ``runs:/<run_id>/<path>`` (the logged model the run produced under that
    name when there is one, else the run's artifacts at that path), ``models:/<model_id>``
    (a logged model), ``models:/<name>/<version>`` or ``@<alias>`` (a copy of a registered
    version), or a location inside the artifact root.
    """
    client = _client()
    with contextlib.suppress(AlreadyExists):  # registering into an existing model
        client.create_registered_model(name)
    if isinstance(model_uri, str) and model_uri.startswith("models:/"):
        rest = model_uri[len("models:/") :]
        if not rest.startswith("m-"):
            original = client.get_model_version_by_uri(model_uri)
            return client.registry_store.copy_model_version(original, name)
    source, run_id, model_id = _source_of(client, model_uri)
    return client.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)


def _source_of(client: TrailClient, model_uri: str) -> tuple[str, str | None, str | None]:
    """(source, run id, logged model id) to register for a model URI."""
    if not isinstance(model_uri, str) or not model_uri:
        raise InvalidParameter(f"register_model needs a model URI, got {model_uri!r}.")
    if model_uri.startswith("models:/m-"):
        logged_id = model_uri[len("models:/") :].strip("/")
        model = client.get_logged_model(logged_id)
        return model_uri, model.source_run_id, logged_id
    if model_uri.startswith("runs:/"):
        run_id, _, path = model_uri[len("runs:/") :].partition("/")
        model_id = _logged_model_of_run(client, run_id, path.strip("/"))
        if model_id is not None:  # MLflow 3: the run's files of that name are a logged model
            return f"models:/{model_id}", run_id, model_id
        return model_uri, run_id, None
    return model_uri, None, None


def _logged_model_of_run(client: TrailClient, run_id: str, name: str) -> str | None:
    if not name or "/" in name:
        return None
    try:
        run = client.get_run(run_id)
        page = client.search_logged_models(
            [run.info.experiment_id],
            filter_string=f"source_run_id = '{run_id}' AND name = '{name}'",
            max_results=1,
        )
    except MltrailException:
        return None  # a store without logged models: the run's own artifacts
    return page[0].model_id if page else None


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """Every registered model that matches (all pages), or the first ``max_results``."""
    client = _client()
    return collect_pages(
        lambda size, token: client.search_registered_models(filter_string, size, order_by, token),
        1000,
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """Every model version that matches (all pages), or the first ``max_results``."""
    client = _client()
    return collect_pages(
        lambda size, token: client.search_model_versions(filter_string, size, order_by, token),
        10000,
        max_results,
    )
