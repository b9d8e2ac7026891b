"""Turn the URIs users hand to artifact and model functions (``runs:/``, ``models:/``) into
the storage URI behind them (a path, ``s3://``, ``mlflow-artifacts:/``, ...).

``models:/<model_id>[/path]`` names a logged model (MLflow 3). Registered models
(``models:/<name>/<version>``, ``models:/<name>@<alias>``) are resolved by the model
registry: it registers its resolver with ``set_registered_model_resolver``.
"""

from __future__ import annotations

from collections.abc import Callable

from mltrail.exceptions import InvalidParameter, NotFound
from mltrail.tracking.client import TrailClient

# (models URI, client) -> storage URI of a registered model version, or None if the URI does
# not name one. Set by the registry package; None until then.
RegisteredModelResolver = Callable[[str, TrailClient], "str | None"]
_registered_model_resolver: RegisteredModelResolver | None = None


def set_registered_model_resolver(resolver: RegisteredModelResolver | None) -> None:
    """Let ``models:/<name>/<version>`` and ``models:/<name>@<alias>`` resolve (the registry
    calls this once, when it is imported)."""
    global _registered_model_resolver
    _registered_model_resolver = resolver


def resolve_artifact_uri(uri: str, client: TrailClient) -> str:
    """The storage URI behind ``uri``; URIs of other schemes come back unchanged."""
    root, path = resolve_artifact_location(uri, client)
    return _join(root, path)


def resolve_artifact_location(uri: str, client: TrailClient) -> tuple[str, str]:
    """(storage root, path under it) for ``uri``: a run's or a logged model's artifact root
    and the path after the id. Other URIs come back whole, with an empty path."""
    if uri.startswith("runs:"):
        return _resolve_runs_uri(uri, client)
    if uri.startswith("models:"):
        return _resolve_models_uri(uri, client)
    return uri, ""


def split_scheme_path(uri: str, scheme: str) -> list[str]:
    """``runs:/a/b/c`` -> ``["a", "b", "c"]`` (empty segments dropped)."""
    rest = uri[len(scheme) + 1 :]
    if not rest.startswith("/"):
        raise InvalidParameter(f"Malformed URI {uri!r}: expected {scheme}:/<id>/<path>.")
    return [part for part in rest.split("/") if part]


def _join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}" if path else base


def _relative(parts: list[str]) -> str:
    from mltrail.store.artifact.paths import safe_relative_path

    return safe_relative_path("/".join(parts))


def _resolve_runs_uri(uri: str, client: TrailClient) -> tuple[str, str]:
    parts = split_scheme_path(uri, "runs")
    if not parts:
        raise InvalidParameter(f"Malformed URI {uri!r}: expected runs:/<run_id>/<path>.")
    return client.artifact_uri(parts[0]), _relative(parts[1:])


def _resolve_models_uri(uri: str, client: TrailClient) -> tuple[str, str]:
    parts = split_scheme_path(uri, "models")
    if not parts:
        raise InvalidParameter(f"Malformed URI {uri!r}: expected models:/<model_id>.")
    first = parts[0]
    if "@" not in first:
        try:
            model = client.get_logged_model(first)
        except NotFound:
            model = None
        if model is not None:
            return model.artifact_location, _relative(parts[1:])
    if _registered_model_resolver is not None:
        resolved = _registered_model_resolver(uri, client)
        if resolved is not None:
            return resolved, ""
    raise NotFound(
        f"{uri!r} names no logged model"
        + ("" if _registered_model_resolver is not None else " (and no model registry is set up)")
        + ". Use models:/<model_id> with an id from mltrail.search_logged_models()."
    )
