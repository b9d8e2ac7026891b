"""Searching the model registry: filters and order-by items (parsed by ``mltrail.search``)
compiled to SQLAlchemy Core over the registry tables.

* Registered models: ``name`` (``= != LIKE ILIKE IN NOT IN``), ``tags.<key>``, and the
  timestamps; ordered by ``name``, ``timestamp`` / ``last_updated_timestamp`` or
  ``creation_timestamp``, with ``name`` as the tie-breaker.
* Model versions: ``name``, ``run_id``, ``model_id``, ``current_stage`` (lists allowed),
  ``source_path`` (the source as given), ``version_number`` and the timestamps, and
  ``tags.<key>``; default order ``last_updated_timestamp DESC, name, version_number DESC``.

Prompts (MLflow 3 keeps them as registered models tagged ``mlflow.prompt.is_prompt='true'``)
are left out unless the filter asks for them with ``tags.`mlflow.prompt.is_prompt` = 'true'``;
any other test of that tag (the mlflow client adds ``!= 'true'`` to every search) is dropped,
so it never requires the tag to exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, exists, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from mltrail.search.ast import And, Comparison, Node, OrderTerm
from mltrail.search.patterns import exact
from mltrail.store.sql.registry_schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from mltrail.store.sql.search.filters import (
    compile_filter,
    key_exists,
    number_pred,
    text_pred,
    two_valued,
)

PROMPT_TAG = "mlflow.prompt.is_prompt"

rm, mv = registered_models, model_versions

_MODEL_COLUMNS: dict[str, Any] = {
    "name": rm.c.name,
    "creation_timestamp": rm.c.creation_time,
    "last_updated_timestamp": rm.c.last_updated_time,
}
_VERSION_COLUMNS: dict[str, Any] = {
    "name": rm.c.name,
    "run_id": mv.c.run_id,
    "model_id": mv.c.model_id,
    "source_path": mv.c.source,
    "current_stage": mv.c.current_stage,
    "version_number": mv.c.version,
    "creation_timestamp": mv.c.creation_time,
    "last_updated_timestamp": mv.c.last_updated_time,
}
_NULLABLE = frozenset({"run_id", "model_id"})


def split_prompt_clauses(node: Node | None) -> tuple[Node | None, bool]:
    """The filter without its tests of the prompt tag, and whether it asks for prompts."""
    if node is None:
        return None, False
    items = list(node.items) if isinstance(node, And) else [node]
    kept, wants_prompts = [], False
    for item in items:
        if isinstance(item, Comparison) and item.left.kind == "tag" and item.left.key == PROMPT_TAG:
            value = str(item.value).lower() if isinstance(item.value, str) else None
            if (item.op == "=" and value == "true") or (item.op == "!=" and value == "false"):
                wants_prompts = True
            continue
        kept.append(item)
    if not kept:
        return None, wants_prompts
    return (kept[0] if len(kept) == 1 else And(tuple(kept))), wants_prompts


def prompt_test(model_key: Any, wants_prompts: bool) -> ColumnElement[bool]:
    """Models that are prompts (``wants_prompts``) or that are not."""
    t = registered_model_tags.alias()
    is_prompt = exists(
        select(1).where(
            t.c.model_key == model_key, t.c.key == PROMPT_TAG, exact(t.c.value) == "true"
        )
    )
    return is_prompt if wants_prompts else not_(is_prompt)


def model_filter(node: Node | None) -> ColumnElement[bool] | None:
    return None if node is None else _compile(node, _MODEL_COLUMNS, _model_tag)


def version_filter(node: Node | None) -> ColumnElement[bool] | None:
    return None if node is None else _compile(node, _VERSION_COLUMNS, _version_tag)


def model_order(terms: list[OrderTerm]) -> list[Any]:
    clauses = [_direction(_MODEL_COLUMNS[t.key.key], t.ascending) for t in terms]
    if not any(t.key.key == "name" for t in terms):
        clauses.append(rm.c.name.asc())
    return clauses


def version_order(terms: list[OrderTerm]) -> list[Any]:
    if not terms:
        return [mv.c.last_updated_time.desc(), rm.c.name.asc(), mv.c.version.desc()]
    clauses = [_direction(_VERSION_COLUMNS[t.key.key], t.ascending) for t in terms]
    named = {t.key.key for t in terms}
    if "name" not in named:
        clauses.append(rm.c.name.asc())
    if "version_number" not in named:
        clauses.append(mv.c.version.desc())
    return clauses


# -- compiling ------------------------------------------------------------------------------------


def _direction(col: Any, ascending: bool) -> Any:
    return col.asc() if ascending else col.desc()


def _compile(
    node: Node, columns: dict[str, Any], tag: Callable[[Comparison], ColumnElement[bool]]
) -> ColumnElement[bool]:
    # Every leaf is true or false, never NULL (EXISTS, or nullable columns through a
    # COALESCE), so a negated leaf is its plain complement.
    def leaf(cmp: Comparison) -> ColumnElement[bool]:
        return tag(cmp) if cmp.left.kind == "tag" else _attribute(cmp, columns)

    return compile_filter(node, two_valued(leaf), False)


def _attribute(cmp: Comparison, columns: dict[str, Any]) -> ColumnElement[bool]:
    key = cmp.left.key
    col = columns[key]
    if isinstance(cmp.value, int | float) and not isinstance(cmp.value, bool):
        return number_pred(col, cmp.op, cmp.value)
    if key in _NULLABLE:
        col = func.coalesce(col, "")
    return text_pred(col, cmp.op, cmp.value)


def _model_tag(cmp: Comparison) -> ColumnElement[bool]:
    t = registered_model_tags.alias()
    return key_exists(
        and_(t.c.model_key == rm.c.model_key, t.c.key == cmp.left.key), t.c.value, cmp
    )


def _version_tag(cmp: Comparison) -> ColumnElement[bool]:
    t = model_version_tags.alias()
    row = and_(
        t.c.model_key == mv.c.model_key, t.c.version == mv.c.version, t.c.key == cmp.left.key
    )
    return key_exists(row, t.c.value, cmp)
