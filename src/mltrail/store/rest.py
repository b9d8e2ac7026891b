"""``RestStore``: the tracking store of a remote server, spoken over MLflow's REST API 2.0.

Requests and answers follow MLflow's wire format (snake_case fields, ``run_id`` and
``run_uuid`` both sent, NaN and infinities as strings, repeated query keys for lists), so the
same store talks to an mltrail server or to an MLflow one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import orjson

from mltrail.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from mltrail.exceptions import MltrailException, NotFound
from mltrail.protocol import Route
from mltrail.protocol import tracking_routes as routes
from mltrail.store.base import (
    LOGGED_MODELS_MAX_RESULTS_DEFAULT,
    MODEL_ID_PATTERN,
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
    model_not_found,
)
from mltrail.store.rest_heartbeats import heartbeats_for
from mltrail.store.rest_http import (
    HttpClient,
    raise_for_error,
    shared_client,
    split_userinfo,
    trust_origin,
)
from mltrail.store.rest_wire import (
    dataset_input_to_json,
    drop_none,
    experiment_from_json,
    logged_model_from_json,
    metric_from_json,
    metric_to_json,
    pairs,
    query_params,
    run_from_json,
    run_info_from_json,
)
from mltrail.utils import validation
from mltrail.utils.validation import MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS

MAX_BATCH_ITEMS = 1000
HISTORY_PAGE_SIZE = 25000


class RestStore(TrackingStore):
    def __init__(self, uri: str, client: HttpClient | None = None) -> None:
        self._base = uri.rstrip("/")  # may hold user:password@, used for requests only
        self.uri = split_userinfo(self._base)[0]  # safe to show in messages
        self._http = client or shared_client()
        trust_origin(self.uri)
        self._heartbeats = heartbeats_for(self._http, self._base)

    # -- transport ---------------------------------------------------------------------------
    def _call(
        self,
        route: Route,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> Any:
        method, url_path = route.method, route.url(**path)
        url = self._base + url_path
        endpoint = url_path[len(route.prefix) + 1 :]  # "runs/get": short, for messages
        if method == "GET":
            response = self._http.request(method, url, params=query_params(body or {}))
        else:
            payload = json.dumps(drop_none(body or {}), allow_nan=False)
            response = self._http.request(method, url, json_body=payload, headers=headers)
        raise_for_error(response, f"{method} {endpoint}")
        content = response.content
        if not content or content.strip() == b"200 OK":
            return {}
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass  # MLflow's server writes NaN and Infinity as bare words, which orjson refuses
        try:
            return json.loads(content)
        except ValueError:
            raise MltrailException(
                f"{self.uri} answered {endpoint} with something that is not JSON; is it an "
                "mltrail or MLflow tracking server?"
            ) from None

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        body = {"name": name, "artifact_location": artifact_location, "tags": pairs(tags)}
        answer = self._call(routes.CREATE_EXPERIMENT, body, _idempotent())
        return str(answer["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        answer = self._call(routes.GET_EXPERIMENT, {"experiment_id": experiment_id})
        return experiment_from_json(answer["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._call(routes.GET_EXPERIMENT_BY_NAME, {"experiment_name": name})
        except NotFound:
            return None
        return experiment_from_json(answer["experiment"])

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        body = {
            "view_type": ViewType.to_string(ViewType.normalize(view_type)),
            "max_results": max_results,
            "filter": filter_string or None,
            "order_by": list(order_by or []) or None,
            "page_token": page_token or None,
        }
        answer = self._call(routes.SEARCH_EXPERIMENTS, body)
        found = [experiment_from_json(e) for e in answer.get("experiments", [])]
        return PagedList(found, answer.get("next_page_token") or None)

    def delete_experiment(self, experiment_id: str) -> None:
        self._call(routes.DELETE_EXPERIMENT, {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._call(routes.RESTORE_EXPERIMENT, {"experiment_id": experiment_id})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        body = {"experiment_id": experiment_id, "new_name": new_name}
        self._call(routes.UPDATE_EXPERIMENT, body)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        body = {"experiment_id": experiment_id, "key": tag.key, "value": tag.value}
        self._call(routes.SET_EXPERIMENT_TAG, body)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        body = {"experiment_id": experiment_id, "key": key}
        self._call(routes.DELETE_EXPERIMENT_TAG, body)

    # -- runs --------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        body = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": pairs(tags),
            "run_name": run_name,
        }
        run = run_from_json(self._call(routes.CREATE_RUN, body, _idempotent())["run"])
        self._heartbeats.start(run.info.run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        answer = self._call(routes.GET_RUN, {"run_id": run_id, "run_uuid": run_id})
        return run_from_json(answer["run"])

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = {
            "run_id": run_id,
            "run_uuid": run_id,
            "status": status,
            "end_time": end_time,
            "run_name": run_name,
        }
        info = run_info_from_json(self._call(routes.UPDATE_RUN, body)["run_info"])
        if info.status == "RUNNING":
            self._heartbeats.start(run_id)  # resumed
        else:
            self._heartbeats.stop(run_id)
        return info

    def delete_run(self, run_id: str) -> None:
        self._call(routes.DELETE_RUN, {"run_id": run_id})
        self._heartbeats.stop(run_id)

    def restore_run(self, run_id: str) -> None:
        self._call(routes.RESTORE_RUN, {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        # Refuse bad input here with the same sentence the server would give, before sending.
        metrics = [validation.checked_metric(m) for m in metrics]
        body = {
            "run_id": run_id,
            "metrics": [metric_to_json(m) for m in metrics],
            "params": pairs(params),
            "tags": pairs(tags),
        }
        self._call(routes.LOG_BATCH, body)

    def write_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Any number of items (the client's buffer), sent as log-batch calls that each fit
        the server's limits (see ``split_batch``)."""
        for chunk_params, chunk_metrics, chunk_tags in split_batch(metrics, params, tags):
            self.log_batch(run_id, chunk_metrics, chunk_params, chunk_tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call(routes.DELETE_TAG, {"run_id": run_id, "key": key})

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        body = {
            "run_id": run_id,
            "datasets": [dataset_input_to_json(d) for d in datasets],
            "models": [{"model_id": m.model_id} for m in models] or None,
        }
        self._call(routes.LOG_INPUTS, body)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        query = {
            "run_id": run_id,
            "run_uuid": run_id,
            "metric_key": metric_key,
            "max_results": max_results if max_results is not None else HISTORY_PAGE_SIZE,
            "page_token": page_token,
        }
        answer = self._call(routes.GET_METRIC_HISTORY, query)
        points = [metric_from_json(m) for m in answer.get("metrics", [])]
        return PagedList(points, answer.get("next_page_token") or None)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        max_results: int = 2500,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        query = {
            "run_ids": list(run_ids),
            "metric_key": metric_key,
            "max_results": max_results,
            "start_step": start_step,
            "end_step": end_step,
        }
        answer = self._call(routes.GET_METRIC_HISTORY_BULK_INTERVAL, query)
        return [metric_from_json(m) for m in answer.get("metrics", [])]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        body = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter_string or None,
            "run_view_type": ViewType.to_string(ViewType.normalize(run_view_type)),
            "max_results": max_results,
            "order_by": list(order_by or []) or None,
            "page_token": page_token or None,
        }
        answer = self._call(routes.SEARCH_RUNS, body)
        found = [run_from_json(r) for r in answer.get("runs", [])]
        return PagedList(found, answer.get("next_page_token") or None)

    # -- logged models -----------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        # The first params ride along with the create; the rest follow in batches (as the
        # mlflow client does), so no request carries more than the server takes at once.
        params = list(params)
        body = {
            "experiment_id": str(experiment_id),
            "name": name,
            "model_type": model_type,
            "source_run_id": source_run_id,
            "params": pairs(params[:MAX_BATCH_PARAMS]),
            "tags": pairs(tags),
        }
        answer = self._call(routes.CREATE_LOGGED_MODEL, body, _idempotent())
        model = logged_model_from_json(answer["model"])
        if len(params) > MAX_BATCH_PARAMS:
            self.log_logged_model_params(model.model_id, params[MAX_BATCH_PARAMS:])
            model = self.get_logged_model(model.model_id)
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        query = {"allow_deleted": True} if allow_deleted else {}
        answer = self._call(routes.GET_LOGGED_MODEL, query, model_id=_model_id(model_id))
        return logged_model_from_json(answer["model"])

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        body = {"model_id": model_id, "status": LoggedModelStatus.normalize(status).wire_name}
        answer = self._call(routes.FINALIZE_LOGGED_MODEL, body, model_id=_model_id(model_id))
        return logged_model_from_json(answer["model"])

    def delete_logged_model(self, model_id: str) -> None:
        body = {"model_id": model_id}
        self._call(routes.DELETE_LOGGED_MODEL, body, model_id=_model_id(model_id))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[dict[str, str | None]] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[dict[str, object] | str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        body = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter_string or None,
            "datasets": [drop_none(dict(d)) for d in datasets or []] or None,
            "max_results": max_results,
            "order_by": [drop_none(_order_item(o)) for o in order_by or []] or None,
            "page_token": page_token or None,
        }
        answer = self._call(routes.SEARCH_LOGGED_MODELS, body)
        found = [logged_model_from_json(m) for m in answer.get("models", [])]
        return PagedList(found, answer.get("next_page_token") or None)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        body = {"tags": pairs(tags)}
        self._call(routes.SET_LOGGED_MODEL_TAGS, body, model_id=_model_id(model_id))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        route = routes.DELETE_LOGGED_MODEL_TAG
        self._call(route, None, model_id=_model_id(model_id), tag_key=key)

    def log_logged_model_params(
        self, model_id: str, params: Sequence[LoggedModelParameter]
    ) -> None:
        params = list(params)
        for start in range(0, len(params), MAX_BATCH_PARAMS):
            chunk = params[start : start + MAX_BATCH_PARAMS]
            body = {"model_id": model_id, "params": pairs(chunk)}
            self._call(routes.LOG_LOGGED_MODEL_PARAMS, body, model_id=_model_id(model_id))

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        body = {
            "run_id": run_id,
            "models": [{"model_id": m.model_id, "step": m.step} for m in models],
        }
        self._call(routes.LOG_OUTPUTS, body)


def _idempotent() -> dict[str, str]:
    """A fresh key for one create call: its retries (same key) create nothing twice."""
    return {"Idempotency-Key": uuid.uuid4().hex}


def _model_id(model_id: str) -> str:
    if not isinstance(model_id, str) or not MODEL_ID_PATTERN.match(model_id):
        raise model_not_found(model_id)
    return model_id


def _order_item(item: dict[str, object] | str) -> dict[str, object]:
    """A search order as the wire takes it; ``"metrics.acc DESC"`` is accepted too."""
    if isinstance(item, dict):
        return dict(item)
    words = item.strip().rsplit(None, 1)
    if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
        return {"field_name": words[0], "ascending": words[1].upper() == "ASC"}
    return {"field_name": item.strip()}


# -- batching ----------------------------------------------------------------------------------
def split_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> list[tuple[list[Param], list[Metric], list[RunTag]]]:
    """Cut a batch into requests of at most 100 params, 100 tags, 1000 metrics and 1000 items.

    Every param is sent before any metric and every metric before any tag: a changed param
    (the likeliest error) fails before anything else lands, and tags such as
    ``mlflow.runName`` describe data already stored.
    """
    chunks: list[tuple[list[Param], list[Metric], list[RunTag]]] = []
    p, m, t = list(params), list(metrics), list(tags)
    while p or m or t:
        chunk_p, p = p[:MAX_BATCH_PARAMS], p[MAX_BATCH_PARAMS:]
        room = MAX_BATCH_ITEMS - len(chunk_p)
        n_metrics = 0 if p else min(room, MAX_BATCH_METRICS)
        chunk_m, m = m[:n_metrics], m[n_metrics:]
        room -= len(chunk_m)
        n_tags = 0 if p or m else min(room, MAX_BATCH_TAGS)
        chunk_t, t = t[:n_tags], t[n_tags:]
        chunks.append((chunk_p, chunk_m, chunk_t))
    return chunks
