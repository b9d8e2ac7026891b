"""What a version page shows from the model's own files: the flavors, the signature and the
input example, read from the ``MLmodel`` file at the version's stored location (through the
UI's artifact access, which reads only storage the server was configured with)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from mltrail.entities import ModelVersion
from mltrail.exceptions import MltrailException
from mltrail.server.ui.artifact_access import run_artifacts
from mltrail.server.ui.common import settings_of

MAX_EXAMPLE_BYTES = 64 * 1024


def model_summary(request: Request, version: ModelVersion) -> dict[str, Any]:
    """``{flavors, inputs, outputs, example, problem}``; ``problem`` says why files are
    missing (not a model folder, or stored where this server does not read)."""
    import yaml

    found: dict[str, Any] = {"flavors": [], "inputs": None, "outputs": None, "example": None,
                             "problem": None}  # fmt: skip
    try:
        files = run_artifacts(settings_of(request), version.download_uri)
        with files.local_file("MLmodel") as path, open(path, encoding="utf-8") as handle:
            meta = yaml.safe_load(handle.read(1024 * 1024)) or {}
    except (MltrailException, OSError, ValueError) as exc:
        found["problem"] = getattr(exc, "message", None) or "No MLmodel file at this location."
        return found
    if not isinstance(meta, dict):
        found["problem"] = "The MLmodel file is not a mapping."
        return found
    found["flavors"] = sorted((meta.get("flavors") or {}).keys())
    signature = meta.get("signature") or {}
    found["inputs"] = _schema(signature.get("inputs"))
    found["outputs"] = _schema(signature.get("outputs"))
    example = (meta.get("saved_input_example_info") or {}).get("artifact_path")
    if isinstance(example, str) and example:
        try:
            with files.local_file(example) as path, open(path, encoding="utf-8") as handle:
                text = handle.read(MAX_EXAMPLE_BYTES)
            found["example"] = _pretty(text)
        except (MltrailException, OSError, ValueError):
            found["example"] = None
    return found


def _schema(raw: Any) -> list[dict[str, str]] | None:
    """Columns of a signature part (MLflow keeps it as a JSON string in the YAML)."""
    if not raw:
        return None
    try:
        cols = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(cols, list):
        return None
    return [
        {
            "name": str(c.get("name", "")),
            "type": str(c.get("type", "")) if c.get("type") != "tensor"
            else f"tensor {c.get('tensor-spec', {}).get('dtype', '')}"
            f"{c.get('tensor-spec', {}).get('shape', '')}",
        }
        for c in cols
        if isinstance(c, dict)
    ]


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2)[:MAX_EXAMPLE_BYTES]
    except ValueError:
        return text
