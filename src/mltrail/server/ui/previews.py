"""What the artifact browser shows for a file: a kind and the data to draw it.

Everything here reads a bounded prefix of the file, so a 10 GB log or table previews as fast
as a small one. Markup-capable files (HTML, SVG) are never inlined: the browser loads them
from the raw route, which serves them with ``Content-Security-Policy: sandbox``.
"""

from __future__ import annotations

import json
import os
from typing import Any

TEXT_LIMIT = 512 * 1024
TABLE_ROWS = 500
STRUCTURED_LIMIT = 5 * 1024 * 1024

IMAGE = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".svg", ".ico", ".avif"}
HTML = {".html", ".htm"}
JSON = {".json", ".geojson", ".jsonl"}
YAML = {".yaml", ".yml"}
TABLE = {".csv", ".tsv", ".parquet"}
TEXT = {
    ".txt", ".log", ".md", ".py", ".out", ".err", ".cfg", ".ini", ".toml", ".sh", ".rst",
    ".xml", ".r", ".sql", ".js", ".ts", ".java", ".scala", ".c", ".h", ".cpp", ".go", ".rs",
    ".ipynb", ".conf", ".env", ".properties", ".tex", ".mlproject",
}  # fmt: skip


def kind_of(path: str) -> str:
    """The preview kind a file name suggests (``"text"`` is decided by content later)."""
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if name == "MLmodel":
        return "mlmodel"
    if name in ("MLproject", "requirements.txt", "conda.yaml", "python_env.yaml"):
        return "yaml" if name != "requirements.txt" else "text"
    for kind, exts in (("image", IMAGE), ("html", HTML), ("json", JSON), ("yaml", YAML)):
        if ext in exts:
            return kind
    if ext in TABLE:
        return "table"
    if ext in TEXT:
        return "text"
    return "unknown"


def _head(local: str, limit: int) -> tuple[bytes, bool]:
    with open(local, "rb") as f:
        data = f.read(limit + 1)
    return data[:limit], len(data) > limit


def _text(local: str) -> dict[str, Any]:
    data, truncated = _head(local, TEXT_LIMIT)
    return {"text": data.decode("utf-8", errors="replace"), "truncated": truncated}


def looks_binary(local: str) -> bool:
    data, _ = _head(local, 8192)
    return b"\x00" in data


def build_preview(local: str, rel: str, size: int | None) -> dict[str, Any]:
    """The preview of the file at ``local`` (known to the user as ``rel``)."""
    kind = kind_of(rel)
    base: dict[str, Any] = {"path": rel, "size": size, "kind": kind}
    if kind in ("image", "html"):
        return base
    if kind == "unknown":
        if looks_binary(local):
            return {**base, "kind": "binary"}
        return {**base, "kind": "text", **_text(local)}
    if kind == "table":
        return {**base, **_table(local, rel)}
    if kind == "json" and (size or 0) <= STRUCTURED_LIMIT and not rel.endswith(".jsonl"):
        return {**base, **_json(local)}
    if kind == "mlmodel":
        return {**base, **_text(local), "summary": mlmodel_summary(local)}
    return {**base, "kind": "yaml" if kind == "yaml" else "text", **_text(local)}


def _json(local: str) -> dict[str, Any]:
    with open(local, "rb") as f:
        raw = f.read()
    try:
        pretty = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return {"kind": "text", "text": raw.decode("utf-8", "replace"), "note": "Not valid JSON."}
    if len(pretty) > TEXT_LIMIT:
        return {"text": pretty[:TEXT_LIMIT], "truncated": True}
    return {"text": pretty, "truncated": False}


def _table(local: str, rel: str) -> dict[str, Any]:
    """The first rows of a CSV, TSV or Parquet file, as strings."""
    try:
        if rel.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(local)
            batch = next(parquet.iter_batches(batch_size=TABLE_ROWS), None)
            frame = batch.to_pandas() if batch is not None else None
            total = parquet.metadata.num_rows
            if frame is None:
                frame = parquet.schema_arrow.empty_table().to_pandas()
        else:
            import pandas as pd

            sep = "\t" if rel.lower().endswith(".tsv") else ","
            frame = pd.read_csv(local, sep=sep, nrows=TABLE_ROWS, dtype=str, keep_default_na=False)
            total = None
    except Exception as exc:  # noqa: BLE001 - a broken file previews as text, with the reason
        if rel.lower().endswith(".parquet"):
            return {"kind": "binary", "note": f"Could not read this Parquet file ({exc})."}
        return {"kind": "text", **_text(local), "note": f"Could not read as a table ({exc})."}
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": rows,
        "total_rows": total,
        "truncated": len(rows) >= TABLE_ROWS,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 500 else text[:500] + "…"


def mlmodel_summary(local: str) -> dict[str, Any]:
    """Flavors, signature and origin of an MLmodel file (YAML read with ``safe_load``)."""
    import yaml

    try:
        with open(local, encoding="utf-8") as f:
            doc = yaml.safe_load(f.read(STRUCTURED_LIMIT))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return {"error": f"Not a valid MLmodel file: {exc}"}
    if not isinstance(doc, dict):
        return {"error": "Not a valid MLmodel file: expected a mapping."}
    raw_flavors, raw_signature = doc.get("flavors"), doc.get("signature")
    flavors: dict[Any, Any] = raw_flavors if isinstance(raw_flavors, dict) else {}
    signature: dict[Any, Any] = raw_signature if isinstance(raw_signature, dict) else {}
    return {
        "flavors": [
            {"name": str(name), "details": _flavor_details(conf)} for name, conf in flavors.items()
        ],
        "inputs": _schema(signature.get("inputs")),
        "outputs": _schema(signature.get("outputs")),
        "run_id": str(doc.get("run_id", "")),
        "created": str(doc.get("utc_time_created", "")),
        "model_uuid": str(doc.get("model_uuid", "")),
    }


def _flavor_details(conf: Any) -> str:
    if not isinstance(conf, dict):
        return ""
    keys = ("loader_module", "python_version", "sklearn_version", "pytorch_version", "code")
    return ", ".join(f"{k}: {conf[k]}" for k in keys if conf.get(k))


def _schema(raw: Any) -> list[dict[str, str]]:
    """Columns of a signature schema, stored by MLflow as a JSON string inside the YAML."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    if not isinstance(raw, list):
        return []
    cols = []
    for item in raw[:200]:
        if isinstance(item, dict):
            shape = item.get("tensor-spec", {}).get("shape") if item.get("type") == "tensor" else ""
            kind = item.get("tensor-spec", {}).get("dtype") if item.get("type") == "tensor" else ""
            cols.append(
                {
                    "name": str(item.get("name", "")),
                    "type": str(kind or item.get("type", "")),
                    "shape": str(shape or ""),
                }
            )
    return cols
