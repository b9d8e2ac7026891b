"""Searching logged models: filters, structured ``order_by`` items and page tokens, compiled to
SQLAlchemy Core over ``logged_models`` and its tag, param and metric tables.

Filters are written in the run search language (``mltrail.search``'s parser, so AND, OR, NOT
and parentheses work as they do for runs) with the logged-model fields:

* attributes ``name``, ``model_id``, ``model_type``, ``status``, ``source_run_id`` (text);
  ``creation_timestamp`` / ``creation_time`` and ``last_updated_timestamp`` /
  ``last_updated_time`` (numbers);
* ``metrics.<key>``: some point of that key passes (a model often has one point of a key
  per dataset); ``last()``, ``min()`` and ``max()`` test its latest, least and greatest
  point. Points are narrowed to the search's ``datasets`` when given;
* ``params.<key>`` and ``tags.<key>``.

A ``status`` compared with ``=``, ``!=`` or ``IN`` may be spelled short (``'READY'``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, and_, case, exists, func, literal, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from mltrail.entities import LoggedModelStatus
from mltrail.exceptions import InvalidParameter
from mltrail.search import parse_logged_model_filter
from mltrail.search.ast import And, Comparison, Identifier, Node, Not
from mltrail.search.parser import LOGGED_MODEL_ATTRIBUTES
from mltrail.search.patterns import Double, exact, like, missing_last
from mltrail.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)

lm = logged_models

_COLUMNS: dict[str, Any] = {
    "name": lm.c.name,
    "model_id": lm.c.model_id,
    "model_type": lm.c.model_type,
    "status": lm.c.status,
    "source_run_id": lm.c.source_run_id,
    "creation_timestamp": lm.c.creation_timestamp_ms,
    "last_updated_timestamp": lm.c.last_updated_timestamp_ms,
}
_NULLABLE = frozenset({"model_type", "source_run_id"})


@dataclass(frozen=True, slots=True)
class DatasetRef:
    """Metric points of one dataset: by name, and by digest too when it is given."""

    name: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class ModelOrder:
    """One ``order_by`` item: an attribute (canonical name) or a metric key."""

    field: str
    is_metric: bool
    ascending: bool = True
    dataset: DatasetRef | None = None


# -- reading the request ------------------------------------------------------------------------


def parse_filter(text: str | None) -> Node | None:
    return parse_logged_model_filter(text)


def parse_datasets(items: Sequence[Any] | None) -> list[DatasetRef]:
    found = []
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise InvalidParameter(
                f"datasets[{i}] must be an object with dataset_name (and dataset_digest)."
            )
        name, digest = item.get("dataset_name"), item.get("dataset_digest")
        if not isinstance(name, str) or not name:
            raise InvalidParameter(f"datasets[{i}] needs a non-empty dataset_name.")
        if digest is not None and not isinstance(digest, str):
            raise InvalidParameter(f"datasets[{i}].dataset_digest must be a string.")
        found.append(DatasetRef(name, digest or None))
    return found


def parse_order_by(items: Sequence[Any] | None) -> list[ModelOrder]:
    """Structured items ({field_name, ascending, dataset_name, dataset_digest}), as MLflow's
    client sends them, or strings such as ``"metrics.acc DESC"``."""
    orders: list[ModelOrder] = []
    seen: set[tuple[str, bool]] = set()
    for i, item in enumerate(items or []):
        if isinstance(item, str):
            words = item.strip().rsplit(None, 1)
            ascending = True
            if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
                ascending = words[1].upper() == "ASC"
                item = {"field_name": words[0], "ascending": ascending}
            else:
                item = {"field_name": item.strip()}
        if not isinstance(item, dict):
            raise InvalidParameter(
                f"order_by[{i}] must be an object such as "
                '{"field_name": "creation_timestamp", "ascending": false}.'
            )
        order = _order_item(i, item)
        if (order.field, order.is_metric) in seen:
            raise InvalidParameter(
                f"order_by names {item.get('field_name')!r} twice; give each field at most once."
            )
        seen.add((order.field, order.is_metric))
        orders.append(order)
    return orders


def _order_item(i: int, item: dict[str, Any]) -> ModelOrder:
    field_name = item.get("field_name")
    if not isinstance(field_name, str) or not field_name.strip():
        raise InvalidParameter(f"order_by[{i}] needs a field_name, e.g. 'creation_timestamp'.")
    ascending = item.get("ascending", True)
    if ascending is None:
        ascending = True
    if not isinstance(ascending, bool):
        raise InvalidParameter(f"order_by[{i}].ascending must be true or false.")
    dataset_name, dataset_digest = item.get("dataset_name"), item.get("dataset_digest")
    if dataset_digest and not dataset_name:
        raise InvalidParameter(
            f"order_by[{i}] gives dataset_digest without dataset_name; give both, or only "
            "dataset_name."
        )
    prefix, dot, rest = field_name.strip().partition(".")
    if dot and prefix.lower() in ("metric", "metrics"):
        key = rest.strip()
        if len(key) >= 2 and key[0] == key[-1] and key[0] in '`"':
            key = key[1:-1]
        if not key:
            raise InvalidParameter(f"order_by[{i}]: name the metric, e.g. 'metrics.accuracy'.")
        dataset = DatasetRef(dataset_name, dataset_digest or None) if dataset_name else None
        return ModelOrder(key, True, ascending, dataset)
    if dot and prefix.lower() in ("attribute", "attributes", "attr"):
        field_name = rest
    canonical = LOGGED_MODEL_ATTRIBUTES.get(field_name.strip().lower())
    if canonical is None:
        names = ", ".join(sorted({c for c, _ in LOGGED_MODEL_ATTRIBUTES.values()}))
        raise InvalidParameter(
            f"Invalid order_by field {field_name!r} for logged models: use one of {names}, "
            "or metrics.<name>."
        )
    if dataset_name:
        raise InvalidParameter(
            f"order_by[{i}] gives a dataset for {field_name!r}; datasets narrow metrics only."
        )
    return ModelOrder(canonical[0], False, ascending)


# -- filters ------------------------------------------------------------------------------------


def filter_clause(node: Node | None, datasets: Sequence[DatasetRef]) -> ColumnElement[bool] | None:
    if node is None:
        return None
    return _compile(node, datasets)


def _compile(node: Node, datasets: Sequence[DatasetRef]) -> ColumnElement[bool]:
    # Every leaf is true or false, never NULL (EXISTS, or columns read through COALESCE), so
    # NOT is a plain complement.
    if isinstance(node, Comparison):
        return _leaf(node, datasets)
    if isinstance(node, Not):
        return not_(_compile(node.item, datasets))
    parts = [_compile(item, datasets) for item in node.items]
    return and_(*parts) if isinstance(node, And) else or_(*parts)


def _leaf(cmp: Comparison, datasets: Sequence[DatasetRef]) -> ColumnElement[bool]:
    kind = cmp.left.kind
    if kind == "attribute":
        return _attribute_pred(cmp)
    if kind == "metric":
        return _metric_pred(cmp, datasets)
    table = (logged_model_params if kind == "param" else logged_model_tags).alias()
    row = and_(table.c.model_id == lm.c.model_id, table.c.key == cmp.left.key)
    if cmp.op in ("IS NULL", "IS NOT NULL"):
        present = exists(select(1).where(row))
        return not_(present) if cmp.op == "IS NULL" else present
    return exists(select(1).where(row, _text_pred(table.c.value, cmp.op, cmp.value)))


def _attribute_pred(cmp: Comparison) -> ColumnElement[bool]:
    key, op, value = cmp.left.key, cmp.op, cmp.value
    col = _COLUMNS[key]
    if isinstance(value, int | float):
        return _number_pred(col, op, value)
    if key in _NULLABLE:
        col = func.coalesce(col, "")
    if key == "status" and op in ("=", "!=", "IN", "NOT IN"):
        value = _status_names(value)
    return _text_pred(col, op, value)


def _status_names(value: Any) -> Any:
    def one(text: str) -> str:
        try:
            return LoggedModelStatus.normalize(text).wire_name
        except InvalidParameter:
            return text  # not a status: matches nothing, as any other unknown value

    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def _text_pred(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op in ("LIKE", "ILIKE"):
        return like(col, str(value), ignore_case=op == "ILIKE")
    text: ColumnElement[Any] = exact(col)
    if op in ("=", "!="):
        found: ColumnElement[bool] = text == value if op == "=" else text != value
        return found
    if op == "IN":
        return text.in_(list(value))
    return text.not_in(list(value))


def _number_pred(col: Any, op: str, value: Any) -> ColumnElement[bool]:
    # Typed binds: PostgreSQL would otherwise take 10**10 for an INTEGER and overflow.
    bound = literal(value, BigInteger()) if isinstance(value, int) else literal(value, Double())
    compare = {
        "=": col.__eq__, "!=": col.__ne__, "<": col.__lt__, "<=": col.__le__,
        ">": col.__gt__, ">=": col.__ge__,
    }[op]  # fmt: skip
    found: ColumnElement[bool] = compare(bound)
    return found


def _of_datasets(points: Any, datasets: Sequence[DatasetRef]) -> ColumnElement[bool]:
    if not datasets:
        return true()
    return or_(
        *[
            and_(points.c.dataset_name == d.name, points.c.dataset_digest == d.digest)
            if d.digest
            else points.c.dataset_name == d.name
            for d in datasets
        ]
    )


def _points(key: str, datasets: Sequence[DatasetRef]) -> tuple[Any, list[ColumnElement[bool]]]:
    """An alias of the metric points and the conditions that keep the model's points of
    ``key`` (in ``datasets``)."""
    points = logged_model_metrics.alias()
    where = [
        points.c.model_id == lm.c.model_id,
        points.c.key == key,
        _of_datasets(points, datasets),
    ]
    return points, where


def _is_latest(points: Any, datasets: Sequence[DatasetRef]) -> ColumnElement[bool]:
    """No later point of the same model and key: the latest by step, then timestamp, then
    arrival (a total order, so exactly one point is the latest)."""
    later = logged_model_metrics.alias()
    after = or_(
        later.c.step > points.c.step,
        and_(
            later.c.step == points.c.step,
            or_(
                later.c.timestamp > points.c.timestamp,
                and_(
                    later.c.timestamp == points.c.timestamp,
                    later.c.point_id > points.c.point_id,
                ),
            ),
        ),
    )
    return not_(
        exists(
            select(1).where(
                later.c.model_id == points.c.model_id,
                later.c.key == points.c.key,
                _of_datasets(later, datasets),
                after,
            )
        )
    )


def _metric_pred(cmp: Comparison, datasets: Sequence[DatasetRef]) -> ColumnElement[bool]:
    ident: Identifier = cmp.left
    value = float(cmp.value)  # type: ignore[arg-type]
    points, where = _points(ident.key, datasets)
    if ident.aggregate in ("min", "max"):
        agg = func.min if ident.aggregate == "min" else func.max
        found = select(agg(points.c.value)).where(*where, not_(points.c.is_nan)).scalar_subquery()
        return and_(found.is_not(None), _number_pred(found, cmp.op, value))
    if cmp.op == "!=":  # NaN differs from every number
        test = or_(points.c.is_nan, points.c.value != literal(value, Double()))
    else:
        test = and_(not_(points.c.is_nan), _number_pred(points.c.value, cmp.op, value))
    if ident.aggregate == "last":
        where.append(_is_latest(points, datasets))
    return exists(select(1).where(*where, test))


# -- ordering -----------------------------------------------------------------------------------


def order_clauses(orders: Sequence[ModelOrder], datasets: Sequence[DatasetRef]) -> list[Any]:
    """The ORDER BY items, with ``creation_timestamp DESC, model_id ASC`` as tie-breakers."""
    out: list[Any] = []
    named = set()
    for order in orders:
        if order.is_metric:
            out += _by_metric(order, [order.dataset] if order.dataset else datasets)
            continue
        named.add(order.field)
        col = _COLUMNS[order.field]
        if order.field in _NULLABLE:
            out.append(missing_last(col, order.ascending))
        else:
            out.append(col.asc() if order.ascending else col.desc())
    if "creation_timestamp" not in named:
        out.append(lm.c.creation_timestamp_ms.desc())
    if "model_id" not in named:
        out.append(lm.c.model_id.asc())
    return out


def _by_metric(order: ModelOrder, datasets: Sequence[DatasetRef]) -> list[Any]:
    """By the latest point of the metric (of the order's dataset, else of the search's):
    real values first (in the direction asked), then NaN, then models without the metric."""

    def latest(read: Any) -> Any:
        points, where = _points(order.field, datasets)
        return select(read(points)).where(*where, _is_latest(points, datasets)).scalar_subquery()

    rank = func.coalesce(latest(lambda p: case((p.c.is_nan, 1), else_=0)), 2)
    value = latest(lambda p: p.c.value)
    return [rank.asc(), value.asc() if order.ascending else value.desc()]


# -- page tokens --------------------------------------------------------------------------------


def search_fingerprint(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    datasets: Sequence[DatasetRef],
    orders: Sequence[ModelOrder],
) -> str:
    """A short digest of what is searched: a token only pages the search that made it."""
    shape = [
        list(experiment_ids),
        filter_string or "",
        [[d.name, d.digest] for d in datasets],
        [[o.field, o.is_metric, o.ascending, o.dataset and [o.dataset.name, o.dataset.digest]]
         for o in orders],
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(shape).encode("utf-8")).hexdigest()[:16]


def encode_page_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"offset": offset, "search": fingerprint}).encode("utf-8")
    return base64.b64encode(raw).decode("ascii")


def decode_page_token(token: str | None, fingerprint: str) -> int:
    if token is None or token == "":
        return 0
    try:
        data = json.loads(base64.b64decode(token, validate=True))
    except (TypeError, ValueError, binascii.Error):
        data = None
    offset = data.get("offset") if isinstance(data, dict) else None
    if type(offset) is not int or offset < 0:
        shown = token if len(str(token)) <= 80 else f"{str(token)[:80]}..."
        raise InvalidParameter(
            f"Invalid page token {shown!r}: pass back the next_page_token of an earlier "
            "search unchanged, or no token for the first page."
        )
    if data.get("search") != fingerprint:
        raise InvalidParameter(
            "The page token belongs to another search: pass the same experiment_ids, filter, "
            "datasets and order_by as the search that returned it."
        )
    return offset
