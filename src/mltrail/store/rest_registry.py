"""``RestRegistryStore``: the model registry of a remote server, over MLflow's REST API 2.0
(the same requests the real ``mlflow`` client sends, so it talks to MLflow servers too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mltrail.entities import (
    ModelVersion,
    ModelVersionTag,
    PagedList,
    RegisteredModel,
    RegisteredModelTag,
)
from mltrail.protocol import Route
from mltrail.protocol import registry_routes as routes
from mltrail.store import registry_base as base
from mltrail.store.registry_base import ModelRegistryStore
from mltrail.store.registry_wire import model_version_from_json, registered_model_from_json
from mltrail.store.rest import RestStore
from mltrail.store.rest_http import HttpClient


class RestRegistryStore(ModelRegistryStore):
    def __init__(self, uri: str, client: HttpClient | None = None) -> None:
        # The tracking store's transport: one pooled session, retries and auth for both.
        self._transport = RestStore(uri, client)
        self.uri = self._transport.uri

    def _call(self, route: Route, body: dict[str, Any] | None = None) -> Any:
        return self._transport._call(route, body)

    # -- registered models -------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        base.check_model_name(name)
        body = {"name": name, "tags": _pairs(tags), "description": description}
        answer = self._call(routes.CREATE_REGISTERED_MODEL, body)
        return registered_model_from_json(answer["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        answer = self._call(routes.GET_REGISTERED_MODEL, {"name": name})
        return registered_model_from_json(answer["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = {"name": name, "new_name": new_name}
        answer = self._call(routes.RENAME_REGISTERED_MODEL, body)
        return registered_model_from_json(answer["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        body = {"name": name, "description": description if description is not None else ""}
        answer = self._call(routes.UPDATE_REGISTERED_MODEL, body)
        return registered_model_from_json(answer["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self._call(routes.DELETE_REGISTERED_MODEL, {"name": name})

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = base.SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        query = _search_query(filter_string, max_results, order_by, page_token)
        answer = self._call(routes.SEARCH_REGISTERED_MODELS, query)
        return _page(answer, "registered_models", registered_model_from_json)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = {"name": name, "stages": list(stages or []) or None}
        answer = self._call(routes.GET_LATEST_VERSIONS, body)
        return [model_version_from_json(v) for v in answer.get("model_versions", [])]

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        body = {"name": name, "key": tag.key, "value": tag.value}
        self._call(routes.SET_REGISTERED_MODEL_TAG, body)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call(routes.DELETE_REGISTERED_MODEL_TAG, {"name": name, "key": key})

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
        body = {
            "name": name,
            "source": source,
            "run_id": run_id,
            "tags": _pairs(tags),
            "run_link": run_link,
            "description": description,
            "model_id": model_id,
        }
        answer = self._call(routes.CREATE_MODEL_VERSION, body)
        return model_version_from_json(answer["model_version"])

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        query = {"name": name, "version": str(version)}
        return model_version_from_json(self._call(routes.GET_MODEL_VERSION, query)["model_version"])

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        body = {"name": name, "version": str(version), "description": description or ""}
        answer = self._call(routes.UPDATE_MODEL_VERSION, body)
        return model_version_from_json(answer["model_version"])

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": bool(archive_existing_versions),
        }
        answer = self._call(routes.TRANSITION_STAGE, body)
        return model_version_from_json(answer["model_version"])

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._call(routes.DELETE_MODEL_VERSION, {"name": name, "version": str(version)})

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        query = {"name": name, "version": str(version)}
        return str(self._call(routes.GET_DOWNLOAD_URI, query)["artifact_uri"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = base.SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        query = _search_query(filter_string, max_results, order_by, page_token)
        answer = self._call(routes.SEARCH_MODEL_VERSIONS, query)
        return _page(answer, "model_versions", model_version_from_json)

    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        body = {"name": name, "version": str(version), "key": tag.key, "value": tag.value}
        self._call(routes.SET_MODEL_VERSION_TAG, body)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        body = {"name": name, "version": str(version), "key": key}
        self._call(routes.DELETE_MODEL_VERSION_TAG, body)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        body = {"name": name, "alias": alias, "version": str(version)}
        self._call(routes.SET_ALIAS, body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call(routes.DELETE_ALIAS, {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        answer = self._call(routes.GET_VERSION_BY_ALIAS, {"name": name, "alias": alias})
        return model_version_from_json(answer["model_version"])


def _pairs(items: Sequence[RegisteredModelTag | ModelVersionTag]) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value} for t in items]


def _search_query(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> dict[str, Any]:
    """A registry search's GET query; empty values become None, which the request leaves out."""
    return {
        "filter": filter_string or None,
        "max_results": max_results,
        "order_by": list(order_by or []) or None,
        "page_token": page_token or None,
    }


def _page(answer: dict[str, Any], key: str, convert: Callable[[dict[str, Any]], Any]) -> PagedList:
    found = [convert(item) for item in answer.get(key, [])]
    return PagedList(found, answer.get("next_page_token") or None)
