"""``mltrail.spark.autolog``: record the data sources Spark reads, as MLflow's run tag
``sparkDatasourceInfo`` (one line per source: ``path=...,format=...``, with
``version=...`` when a Delta version is asked for).

MLflow learns of reads from a JVM listener shipped as a Spark package, when a query runs.
mltrail needs no Spark package: it wraps ``DataFrameReader`` (``load``, ``parquet``, ``csv``,
``json``, ``orc``, ``text``, ``table``) and records a source when the DataFrame is made
(Spark resolves file paths then: a path that does not exist fails the read and records
nothing). A source read while a run is active is added to that run's tag; every run started
afterwards gets the sources read so far in this process, as MLflow's context provider does.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any

from mltrail.autologging import config, import_hooks, safety

FLAVOR = "spark"
TAG = "sparkDatasourceInfo"
_FILE_READS = ("parquet", "csv", "json", "orc", "text")

_lock = threading.Lock()
_seen: list[str] = []  # every source read since autolog was turned on, in order
_by_run: dict[str, list[str]] = {}  # run id -> the lines its tag holds


def autolog(disable: bool = False, silent: bool = False, _explicit: bool = True) -> None:
    """Record the data sources Spark reads while autologging is on (MLflow's arguments)."""
    config.set_config(FLAVOR, {"disable": disable, "silent": silent}, explicit=_explicit)
    if disable:
        forget()
        return
    import_hooks.when_imported("pyspark.sql", _install)
    _add_start_hook()


def forget() -> None:
    """Stop recording and forget the sources seen (``disable=True``, and between tests)."""
    safety.unpatch_all(FLAVOR)
    _remove_start_hook()
    with _lock:
        _seen.clear()
        _by_run.clear()


def _install(_module: Any) -> None:
    from pyspark.sql.readwriter import DataFrameReader

    safety.patch(FLAVOR, DataFrameReader, "format", _remembering("_mltrail_format"))
    safety.patch(FLAVOR, DataFrameReader, "option", _remembering_option)
    safety.patch(FLAVOR, DataFrameReader, "load", _load_wrapper)
    for name in _FILE_READS:
        safety.patch(FLAVOR, DataFrameReader, name, functools.partial(_file_wrapper, name))
    safety.patch(FLAVOR, DataFrameReader, "table", _table_wrapper)


# -- what a reader was told before it reads ------------------------------------------------------
def _remembering(attribute: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            setattr(self, attribute, value)
            return original(self, value, *args, **kwargs)

        return method

    return make


def _remembering_option(original: Callable[..., Any]) -> Callable[..., Any]:
    def option(self: Any, key: str, value: Any) -> Any:
        if str(key).lower() in ("versionasof", "timestampasof"):
            self._mltrail_version = value
        return original(self, key, value)

    return option


# -- the reads -------------------------------------------------------------------------------------
def _load_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    def load(self: Any, path: Any = None, format: Any = None, *args: Any, **options: Any) -> Any:
        frame = original(self, path, format, *args, **options)
        if config.get_config(FLAVOR) is not None and path is not None:
            version = _version_of(options) or getattr(self, "_mltrail_version", None)
            data_format = format or getattr(self, "_mltrail_format", None)
            safety.guarded(FLAVOR, _record_paths, path, data_format or _default_format(self),
                           version)
        return frame

    return load


def _file_wrapper(data_format: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = original(self, *args, **kwargs)
        if config.get_config(FLAVOR) is not None:
            paths = args if data_format == "parquet" else args[:1]
            if not paths:
                paths = tuple(v for k, v in kwargs.items() if k in ("path", "paths"))
            for path in paths:
                safety.guarded(FLAVOR, _record_paths, path, data_format,
                               getattr(self, "_mltrail_version", None))
        return frame

    return read


def _table_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    def table(self: Any, tableName: str) -> Any:  # noqa: N803 - Spark's own argument name
        frame = original(self, tableName)
        if config.get_config(FLAVOR) is not None:
            safety.guarded(FLAVOR, _record, str(tableName), "table",
                           getattr(self, "_mltrail_version", None))
        return frame

    return table


def _version_of(options: dict[str, Any]) -> Any:
    for key, value in options.items():
        if key.lower() in ("versionasof", "timestampasof"):
            return value
    return None


def _default_format(reader: Any) -> str:
    session: Any = getattr(reader, "_spark", None)
    try:
        return str(session.conf.get("spark.sql.sources.default", "parquet"))
    except Exception:  # noqa: BLE001 - a session without the setting: Spark's own default
        return "parquet"


def _record_paths(paths: Any, data_format: str, version: Any) -> None:
    """One line per path (a path, or a list of them; an RDD of rows is no source)."""
    items = [paths] if isinstance(paths, str) else paths if isinstance(paths, list | tuple) else []
    for path in items:
        if isinstance(path, str):
            _record(_absolute(path), data_format, version)


def _absolute(path: str) -> str:
    if "://" in path or path.startswith(("file:", "/")):
        return path
    return os.path.abspath(path)


def info_line(path: str, data_format: str, version: Any = None) -> str:
    """MLflow's line for one source."""
    if version is not None:
        return f"path={path},version={version},format={data_format}"
    return f"path={path},format={data_format}"


def _record(path: str, data_format: str, version: Any) -> None:
    from mltrail.tracking import fluent

    line = info_line(path, data_format, version)
    with _lock:
        if line not in _seen:
            _seen.append(line)
    active = fluent.active_run()
    if active is not None:
        _tag_run(active.info.run_id, [line])


def _tag_run(run_id: str, lines: list[str]) -> None:
    from mltrail.autologging import runs

    with _lock:
        held = _by_run.setdefault(run_id, [])
        new = [line for line in lines if line not in held]
        if not new:
            return
        held.extend(new)
        value = "\n".join(held)
    runs.set_tags(run_id, {TAG: value})


# -- runs started after reads ----------------------------------------------------------------------
def _on_run_start(run_id: str, client: Any, resumed: bool) -> None:
    if resumed or config.get_config(FLAVOR) is None:
        return  # as MLflow: context tags go to new runs only
    with _lock:
        lines = list(_seen)
    if lines:
        safety.guarded(FLAVOR, _tag_run, run_id, lines)


def _add_start_hook() -> None:
    from mltrail.tracking import run_companions

    run_companions.add_start_hook(_on_run_start)


def _remove_start_hook() -> None:
    from mltrail.tracking import run_companions

    run_companions.remove_start_hook(_on_run_start)
