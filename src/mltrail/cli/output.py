"""How commands print: ``rich`` tables for people, stable JSON for scripts.

JSON keeps a fixed key order and maps NaN and infinities to the strings "NaN", "Infinity" and
"-Infinity" (as protobuf's JSON mapping does), so every answer parses with any JSON reader.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from mltrail.protocol.doubles import encode_double

if TYPE_CHECKING:
    from rich.console import Console

    from mltrail.entities import Experiment, FileInfo, Run


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(_finite(obj), indent=2, allow_nan=False))


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return encode_double(obj)
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def console() -> Console:
    import os

    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # Into a file or a pipe: never fold IDs and paths to fit an imaginary 80 columns.
        out.width = 100_000
    return out


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    """A plain table; a column whose name ends in "ID" is never wrapped (IDs get copied)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for name in columns:
        if name.endswith("ID"):
            table.add_column(name, no_wrap=True)
        else:
            table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


def print_mapping(title: str, values: Mapping[str, Any], sort: bool = True) -> None:
    """A two-column key/value table, or a short line saying there is nothing."""
    if not values:
        click.echo(f"{title}: none")
        return
    items = sorted(values.items()) if sort else list(values.items())
    print_table(["Key", "Value"], items, title=title)


def format_number(value: float | None) -> str:
    """A metric in a table cell: up to 6 significant digits; empty when the run lacks it."""
    if value is None:
        return ""
    return f"{value:.6g}"


def format_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start_ms: int | None, end_ms: int | None) -> str:
    if start_ms is None or end_ms is None:
        return ""
    elapsed_ms = max(0, end_ms - start_ms)
    if elapsed_ms < 1000:  # short runs are common (tests, sweeps): "0.0s" told nothing
        return f"{elapsed_ms}ms"
    seconds = elapsed_ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# -- entities to JSON-ready dicts (the stable shapes of --json) --------------------------------
def experiment_dict(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": exp.artifact_location,
        "lifecycle_stage": exp.lifecycle_stage,
        "creation_time": exp.creation_time,
        "last_update_time": exp.last_update_time,
        "tags": dict(sorted(exp.tags.items())),
    }


def run_dict(run: Run) -> dict[str, Any]:
    info = run.info
    return {
        "info": {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "lifecycle_stage": info.lifecycle_stage,
            "artifact_uri": info.artifact_uri,
        },
        "data": {
            "params": dict(sorted(run.data.params.items())),
            "metrics": dict(sorted(run.data.metrics.items())),
            "tags": dict(sorted(run.data.tags.items())),
        },
    }


def file_dict(info: FileInfo) -> dict[str, Any]:
    return {"path": info.path, "is_dir": info.is_dir, "file_size": info.file_size}
