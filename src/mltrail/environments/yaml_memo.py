"""YAML parsed once per content: ``MLproject``, ``python_env.yaml`` and conda files are read
on every ``mltrail run``, and loading PyYAML costs more than the rest of a cached run's work.

The memo is one JSON file in the environment cache, ``<cache>/yaml-memo.json``, holding the
last texts parsed (newest first) and what they parsed to. A text is looked up by its whole content
(compared in full, not by a hash), so an edited file is never answered from a stale parse:
it is parsed again and remembered beside the old one. Only results that JSON gives back
unchanged are kept (mappings with string keys, lists, strings, finite numbers, booleans,
null); anything else (dates, integer keys...) is parsed every time. Errors are never kept:
a file that does not parse raises the same error on every run.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

MEMO_NAME = "yaml-memo.json"
MAX_ENTRIES = 32
MAX_TEXT = 16 * 1024  # bigger files (long exported conda lists) are parsed every time


def safe_load(text: str, cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """``yaml.safe_load(text)``, answered from the memo when this exact text was parsed
    before. Raises ``yaml.YAMLError`` as PyYAML does."""
    memo_path = _memo_path(cache_dir)
    entries = _read(memo_path) if len(text) <= MAX_TEXT else []
    for known, data in entries:
        if known == text:
            return data
    import yaml  # only when this text has not been seen

    data = yaml.safe_load(text)
    if len(text) <= MAX_TEXT and _is_plain(data):
        _write(memo_path, [[text, data], *entries][:MAX_ENTRIES])
    return data


def _memo_path(cache_dir: str | os.PathLike[str] | None) -> Path:
    if cache_dir is None:
        from mltrail.environments.python_envs import default_cache_dir

        cache_dir = default_cache_dir()
    return Path(cache_dir) / MEMO_NAME


def _is_plain(value: Any) -> bool:
    """True when ``json.loads(json.dumps(value)) == value`` with the same types."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _read(path: Path) -> list[list[Any]]:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError):
        return []
    entries = raw.get("entries") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, list) and len(e) == 2 and isinstance(e[0], str)]


def _write(path: Path, entries: list[list[Any]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"entries": entries}), encoding="utf-8")
        os.replace(tmp, path)  # readers see the old memo or the new one, never half
    except OSError:
        pass  # only a memo: the next run parses again
