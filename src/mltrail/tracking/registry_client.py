"""The model registry half of ``TrailClient`` (= ``MlflowClient``): MLflow's method names,
arguments and return values, over the registry store of the registry URI (the tracking URI
unless ``registry_uri``, ``MLTRAIL_REGISTRY_URI`` or ``MLFLOW_REGISTRY_URI`` says otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from mltrail.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
)
from mltrail.exceptions import InvalidParameter
from mltrail.store.registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    ModelRegistryStore,
)
from mltrail.utils.parts import part_method

_P = ParamSpec("_P")
_R = TypeVar("_R")


def resolve_registry_uri(registry_uri: str | None, tracking_uri: str) -> str:
    if registry_uri:
        return registry_uri
    found = os.environ.get("MLTRAIL_REGISTRY_URI") or os.environ.get("MLFLOW_REGISTRY_URI")
    return found or tracking_uri


def parse_registry_uri(model_uri: str) -> tuple[str, str | None, str | None]:
    """``models:/<name>/<version or stage or latest>`` or ``models:/<name>@<alias>`` as
    (name, version-or-stage, alias)."""
    if not isinstance(model_uri, str) or not model_uri.startswith("models:/"):
        raise InvalidParameter(
            f"Not a registry model URI: {model_uri!r}; expected models:/<name>/<version> or "
            "models:/<name>@<alias>."
        )
    rest = model_uri[len("models:/") :].strip("/")
    if "@" in rest and "/" not in rest.split("@", 1)[1]:
        name, _, alias = rest.rpartition("@")
        if name and alias:
            return name, None, alias
    name, sep, version = rest.rpartition("/")
    if not sep or not name or not version:
        raise InvalidParameter(
            f"Invalid model URI {model_uri!r}: expected models:/<name>/<version>, "
            "models:/<name>/<stage>, models:/<name>/latest or models:/<name>@<alias>."
        )
    return name, version, None


class RegistryCalls:
    """The registry part of a ``TrailClient``: its registry calls, over the registry store of
    its registry URI. ``TrailClient`` exposes each as a method of its own (``client_method``),
    so no class is mixed into another."""

    def __init__(self, tracking_uri: str, registry_uri: str | None) -> None:
        self.tracking_uri = tracking_uri
        self._registry_uri = registry_uri

    @property
    def registry_store(self) -> ModelRegistryStore:
        from mltrail.store.store_cache import get_registry_store

        uri = resolve_registry_uri(self._registry_uri, self.tracking_uri)
        if not uri.startswith(("http:", "https:")):
            from mltrail.tracking.uri import normalize_tracking_uri

            uri = normalize_tracking_uri(uri)
        return get_registry_store(uri)

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self, /,
        name: str,
        tags: dict[str, Any] | None = None,
        description: str | None = None,
        **_ignored: Any,
    ) -> RegisteredModel:
        tag_list = [RegisteredModelTag(k, str(v)) for k, v in (tags or {}).items()]
        return self.registry_store.create_registered_model(name, tag_list, description)

    def get_registered_model(self, /, name: str) -> RegisteredModel:
        return self.registry_store.get_registered_model(name)

    def rename_registered_model(self, /, name: str, new_name: str) -> RegisteredModel:
        return self.registry_store.rename_registered_model(name, new_name)

    def update_registered_model(
        self, /, name: str, description: str | None = None, **_ignored: Any
    ) -> RegisteredModel:
        return self.registry_store.update_registered_model(name, description)

    def delete_registered_model(self, /, name: str) -> None:
        self.registry_store.delete_registered_model(name)

    def search_registered_models(
        self, /,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.registry_store.search_registered_models(
            filter_string or None, max_results, order_by, page_token
        )

    def get_latest_versions(
        self, /, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self.registry_store.get_latest_versions(name, stages)

    def set_registered_model_tag(self, /, name: str, key: str, value: Any) -> None:
        self.registry_store.set_registered_model_tag(name, RegisteredModelTag(key, str(value)))

    def delete_registered_model_tag(self, /, name: str, key: str) -> None:
        self.registry_store.delete_registered_model_tag(name, key)

    # -- model versions ----------------------------------------------------------------------
    def create_model_version(
        self, /,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
        **_ignored: Any,
    ) -> ModelVersion:
        tag_list = [ModelVersionTag(k, str(v)) for k, v in (tags or {}).items()]
        return self.registry_store.create_model_version(
            name, source, run_id, tag_list, run_link, description, model_id
        )

    def get_model_version(self, /, name: str, version: str | int) -> ModelVersion:
        return self.registry_store.get_model_version(name, version)

    def update_model_version(
        self, /, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        return self.registry_store.update_model_version(name, version, description)

    def delete_model_version(self, /, name: str, version: str | int) -> None:
        self.registry_store.delete_model_version(name, version)

    def transition_model_version_stage(
        self, /, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return self.registry_store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    def get_model_version_download_uri(self, /, name: str, version: str | int) -> str:
        return self.registry_store.get_model_version_download_uri(name, version)

    def search_model_versions(
        self, /,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        return self.registry_store.search_model_versions(
            filter_string or None, max_results, order_by, page_token
        )

    def set_model_version_tag(
        self, /, name: str, version: str | int | None = None, key: str | None = None,
        value: Any = None, stage: str | None = None,
    ) -> None:  # fmt: skip
        number = self._version_or_stage(name, version, stage)
        if key is None:
            raise InvalidParameter("set_model_version_tag needs a key.")
        self.registry_store.set_model_version_tag(name, number, ModelVersionTag(key, str(value)))

    def delete_model_version_tag(
        self, /, name: str, version: str | int | None = None, key: str | None = None,
        stage: str | None = None,
    ) -> None:  # fmt: skip
        number = self._version_or_stage(name, version, stage)
        if key is None:
            raise InvalidParameter("delete_model_version_tag needs a key.")
        self.registry_store.delete_model_version_tag(name, number, key)

    def copy_model_version(self, /, src_model_uri: str, dst_name: str) -> ModelVersion:
        """A new version of ``dst_name`` (created if missing) with the files, run and tags of
        the version ``src_model_uri`` names (``models:/<name>/<version>`` or ``@<alias>``)."""
        source = self.get_model_version_by_uri(src_model_uri)
        return self.registry_store.copy_model_version(source, dst_name)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, /, name: str, alias: str, version: str | int) -> None:
        self.registry_store.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, /, name: str, alias: str) -> None:
        self.registry_store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, /, name: str, alias: str) -> ModelVersion:
        return self.registry_store.get_model_version_by_alias(name, alias)

    # -- model URIs --------------------------------------------------------------------------
    def get_model_version_by_uri(self, /, model_uri: str) -> ModelVersion:
        """The version a ``models:/`` URI names: ``/<version>``, ``/<stage>`` (newest in that
        stage), ``/latest`` (newest of all) or ``@<alias>``."""
        name, version, alias = parse_registry_uri(model_uri)
        if alias is not None:
            return self.get_model_version_by_alias(name, alias)
        assert version is not None
        if version.isdigit():
            return self.get_model_version(name, version)
        if version.lower() == "latest":
            found = self.get_latest_versions(name)
        else:
            found = self.get_latest_versions(name, [version])
        if not found:
            raise InvalidParameter(
                f"No versions of model {name!r} match {model_uri!r} (stage {version!r})."
            )
        return max(found, key=lambda v: v.version)

    def _version_or_stage(self, name: str, version: Any, stage: str | None) -> str | int:
        if version is not None:
            return version  # type: ignore[no-any-return]
        if stage is None:
            raise InvalidParameter("Give the model version (or, deprecated, its stage).")
        found = self.get_latest_versions(name, [stage])
        if not found:
            raise InvalidParameter(f"Model {name!r} has no version in stage {stage!r}.")
        return found[0].version


def resolve_registered_model_uri(uri: str, client: Any) -> str | None:
    """The storage URI behind ``models:/<name>/<version|stage|latest>[/path]`` or
    ``models:/<name>@<alias>[/path]`` (the resolver ``tracking.artifact_uris`` calls);
    ``None`` for a URI that names no registered model."""
    parts = [p for p in uri[len("models:") :].split("/") if p]
    if not parts:
        return None
    if "@" in parts[0]:
        ref, rest = f"models:/{parts[0]}", parts[1:]
    elif len(parts) >= 2:
        ref, rest = f"models:/{parts[0]}/{parts[1]}", parts[2:]
    else:
        return None
    location = client.get_model_version_by_uri(ref).download_uri
    if location.startswith("models:/"):  # a version stored before its location was known
        location = client.get_logged_model(location[len("models:/") :]).artifact_location
    if not rest:
        return str(location)
    from mltrail.store.artifact.paths import safe_relative_path

    return f"{location.rstrip('/')}/{safe_relative_path('/'.join(rest))}"



def client_method(
    method: Callable[Concatenate[RegistryCalls, _P], _R],
) -> Callable[Concatenate[Any, _P], _R]:
    """``method`` as a method of ``TrailClient``, run on the client's ``RegistryCalls`` part
    (see ``parts.py``)."""
    return part_method("_registry", method)
