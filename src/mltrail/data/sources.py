"""Where a dataset came from, as MLflow records it: a source type and a JSON source."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from mltrail.tracking import context

_TYPE_BY_SCHEME = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gs",
    "http": "http",
    "https": "http",
    "hf": "hugging_face",
    "dbfs": "dbfs",
}


def code_source() -> tuple[str, str]:
    """The data was made by the running code: its source is the script (and user) itself."""
    tags = context.system_tags()
    wanted = (context.USER, context.SOURCE_NAME, context.SOURCE_TYPE, context.GIT_COMMIT)
    return "code", json.dumps({"tags": {k: tags[k] for k in wanted if k in tags}})


def resolve_source(source: Any) -> tuple[str, str]:
    """``(source_type, source JSON)`` for a user-given source: a path or URI string, or an
    object with MLflow's ``_get_source_type()``/``to_json()`` pair."""
    if source is None:
        return code_source()
    if hasattr(source, "to_json") and hasattr(source, "_get_source_type"):
        return str(source._get_source_type()), str(source.to_json())
    text = str(source)
    scheme = urlparse(text).scheme.lower()
    if scheme in _TYPE_BY_SCHEME:
        return _TYPE_BY_SCHEME[scheme], json.dumps(
            {"url" if scheme.startswith("http") else "uri": text}
        )
    return "local", json.dumps({"uri": text})
