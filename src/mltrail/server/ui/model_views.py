"""Logged models in the UI: an experiment's models (``/experiments/<id>/models``) and the
models section of a run's page (MLmodel summary, signature, input example, load snippet).

A model's files are read through the storage the server was configured with
(``artifact_access.run_artifacts``), never from a location a client names; a model whose
files cannot be read is listed with the reason instead of its details.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mltrail.entities import LoggedModel, LoggedModelStatus
from mltrail.exceptions import MltrailException, NotFound
from mltrail.server.ui.artifact_access import run_artifacts
from mltrail.server.ui.common import finite, json_response, settings_of, store_of
from mltrail.server.ui.errors import html_errors, json_errors
from mltrail.server.ui.templating import render
from mltrail.store.base import TrackingStore

router = APIRouter()
MAX_MODELS = 200
MAX_EXAMPLE_BYTES = 64 * 1024
EXAMPLE_ROWS = 5
_NATIVE_LOADERS = {"sklearn", "pytorch", "spark"}


def _read_text(files: Any, rel: str, limit: int) -> str | None:
    try:
        if (files.size(rel) or 0) > limit:
            return None
        with files.local_file(rel) as path, open(path, encoding="utf-8") as f:
            return f.read(limit)
    except (MltrailException, OSError, UnicodeDecodeError):
        return None


def _signature_rows(schema: Any) -> list[dict[str, str]]:
    if schema is None:
        return []
    rows = []
    for spec in schema.inputs:
        if hasattr(spec, "shape"):
            kind = f"tensor {spec.type} {list(spec.shape)}"
        else:
            kind = getattr(spec.type, "value", None) or repr(spec.type)
        rows.append(
            {
                "name": "" if spec.name is None else str(spec.name),
                "type": kind,
                "required": "yes" if spec.required else "no",
            }
        )
    return rows


def _example(files: Any, info: dict[str, Any] | None) -> dict[str, Any] | None:
    if not info:
        return None
    text = _read_text(
        files, str(info.get("artifact_path", "input_example.json")), MAX_EXAMPLE_BYTES
    )
    if text is None:
        return {"text": "(too large to show, or unreadable)"}
    try:
        content = json.loads(text)
    except ValueError:
        return {"text": text[:2000]}
    if str(info.get("params", "")).lower() == "true" and isinstance(content, dict):
        content = content.get("inputs")
    if info.get("type") == "dataframe" and isinstance(content, dict) and "data" in content:
        rows = content.get("data") or []
        return {
            "columns": [
                str(c) for c in content.get("columns") or range(len(rows[0]) if rows else 0)
            ],
            "rows": [[json.dumps(v) for v in row] for row in rows[:EXAMPLE_ROWS]],
            "more": max(0, len(rows) - EXAMPLE_ROWS),
        }
    return {"text": json.dumps(content, indent=1)[:2000]}


def _snippet(uri: str, flavors: list[str]) -> str:
    native = next((f for f in flavors if f in _NATIVE_LOADERS), None)
    lines = [
        "import mltrail",
        "",
        f'model = mltrail.pyfunc.load_model("{uri}")',
        "predictions = model.predict(data)",
    ]
    if native:
        lines += [
            "",
            f"# or the {native} object itself:",
            f'{native}_model = mltrail.{native}.load_model("{uri}")',
        ]
    return "\n".join(lines)


def describe_model_dir(settings: Any, location: str, uri: str) -> dict[str, Any]:
    """Flavors, signature, example and snippet of the model stored at ``location``."""
    from mltrail.models.model import Model

    out: dict[str, Any] = {"uri": uri, "flavors": [], "error": None}
    try:
        files = run_artifacts(settings, location)
        text = _read_text(files, "MLmodel", MAX_EXAMPLE_BYTES)
        if text is None:
            raise NotFound("This model has no readable MLmodel file.")
        import yaml

        meta = Model.from_dict(yaml.safe_load(text) or {})
    except (MltrailException, ValueError) as exc:
        out["error"] = getattr(exc, "message", str(exc))
        return out
    except Exception as exc:  # noqa: BLE001 - malformed YAML from a client: show, never crash
        out["error"] = f"The MLmodel file could not be read ({type(exc).__name__})."
        return out
    flavors = sorted(meta.flavors)
    pyfunc = meta.flavors.get("python_function", {})
    out.update(
        flavors=flavors,
        loader=pyfunc.get("loader_module", ""),
        python_version=pyfunc.get("python_version", ""),
        saved_at=meta.utc_time_created,
        size=meta.model_size_bytes,
        inputs=_signature_rows(meta.get_input_schema()),
        outputs=_signature_rows(meta.get_output_schema()),
        params=[
            {
                "name": p.name,
                "type": getattr(p.dtype, "value", repr(p.dtype)),
                "default": json.dumps(p.to_dict()["default"]),
            }
            for p in (meta.get_params_schema().params if meta.get_params_schema() else [])
        ],
        example=_example(files, meta.saved_input_example_info),
        snippet=_snippet(uri, flavors),
    )
    return out


def _short_status(status: object) -> str:
    return str(LoggedModelStatus.normalize(status))


def model_row(settings: Any, model: LoggedModel, detailed: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "model_id": model.model_id,
        "name": model.name,
        "status": _short_status(model.status),
        "source_run_id": model.source_run_id,
        "created": model.creation_timestamp,
        "model_type": model.model_type or "",
        "metrics": [
            {"key": m.key, "value": finite(m.value), "step": m.step}
            for m in sorted(model.metrics, key=lambda m: (m.key, m.step))
        ],
        "params": sorted(model.params.items()),
        "flavors": [],  # a model still PENDING has no files to describe yet
        "error": None,
    }
    if detailed or LoggedModelStatus.normalize(model.status) is LoggedModelStatus.READY:
        row.update(describe_model_dir(settings, model.artifact_location, model.model_uri))
    return row


def run_models(store: TrackingStore, settings: Any, run_id: str) -> list[dict[str, Any]]:
    """The models a run produced: its logged models, and MLmodel folders in its artifacts
    (models logged the MLflow 2 way, such as Spark's)."""
    run = store.get_run(run_id)
    out = []
    for output in run.outputs.model_outputs[:MAX_MODELS]:
        try:
            model = store.get_logged_model(output.model_id)
        except MltrailException:
            continue
        out.append(model_row(settings, model, detailed=True))
    out.extend(_artifact_models(settings, run.info.artifact_uri, run_id))
    return out


def _artifact_models(settings: Any, artifact_uri: str, run_id: str) -> list[dict[str, Any]]:
    try:
        files = run_artifacts(settings, artifact_uri)
        folders = [f.path for f in files.list(None) if f.is_dir][:50]
        found = [p for p in folders if any(c.path == f"{p}/MLmodel" for c in files.list(p))]
    except (MltrailException, OSError):
        return []
    rows = []
    for path in found:
        row = describe_model_dir(
            settings, f"{artifact_uri.rstrip('/')}/{path}", f"runs:/{run_id}/{path}"
        )
        rows.append(
            {
                "model_id": "",
                "name": path,
                "status": "READY",
                "source_run_id": run_id,
                "metrics": [],
                "params": [],
                "created": None,
                "model_type": "",
                **row,
            }
        )
    return rows


def experiment_models(
    store: TrackingStore,
    settings: Any,
    experiment_id: str,
    page_token: str | None = None,
    page: int = 1,
) -> dict[str, Any]:
    """One page of an experiment's models, newest first. ``page_token`` is the store's token
    from the previous page (opaque: it also fingerprints the search); ``page`` only numbers
    the rows shown."""
    experiment = store.get_experiment(experiment_id)
    found = store.search_logged_models(
        [experiment_id], max_results=MAX_MODELS, page_token=page_token or None
    )
    models = [model_row(settings, m, detailed=False) for m in found]
    page = max(1, page) if page_token else 1
    first = (page - 1) * MAX_MODELS
    token = getattr(found, "token", None) or None
    return {
        "experiment": {"experiment_id": experiment.experiment_id, "name": experiment.name},
        "models": models,
        "paging": {
            "page": page,
            "per": MAX_MODELS,
            "first": first + 1 if models else 0,
            "last": first + len(models),
            "has_next": token is not None,
            "next_page_token": token,
        },
    }


def _paging_args(request: Request) -> tuple[str | None, int]:
    token = request.query_params.get("page_token") or None
    raw = request.query_params.get("page", "1")
    return token, int(raw) if raw.isdigit() and len(raw) < 7 else 1


@router.get("/experiments/{experiment_id}/models", include_in_schema=False)
@html_errors
def experiment_models_page(request: Request, experiment_id: str) -> Response:
    token, page = _paging_args(request)
    data = experiment_models(store_of(request), settings_of(request), experiment_id, token, page)
    return render(
        request, "logged_models.html", {"title": f"Models of {data['experiment']['name']}", **data}
    )


@router.get("/ajax-api/ui/experiments/{experiment_id}/models", include_in_schema=False)
@json_errors
def experiment_models_json(request: Request, experiment_id: str) -> Any:
    token, page = _paging_args(request)
    return json_response(
        experiment_models(store_of(request), settings_of(request), experiment_id, token, page)
    )
