"""Parse run and experiment filters and order-by items into the tree of ``search.ast``.

Grammar (keywords in any case; NOT binds tighter than AND, AND tighter than OR)::

    filter     := or_expr EOF
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison := operand comparator [value]
    operand    := ("min" | "max" | "last") "(" identifier ")" | identifier
    identifier := [prefix "."] (word | `quoted` | "quoted")
    order_item := operand ["ASC" | "DESC"] EOF

Type rules follow MLflow (metrics take unquoted numbers, params and tags quoted strings, ...).
Every malformed input raises ``SearchSyntaxError`` with the offset where it broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NoReturn

from mltrail.exceptions import InvalidParameter, SearchSyntaxError
from mltrail.search.ast import (
    And,
    Comparison,
    Identifier,
    Kind,
    Node,
    Not,
    Op,
    Or,
    OrderTerm,
    Value,
)
from mltrail.search.lexer import Token, tokenize

_NUMERIC_OPS: tuple[Op, ...] = ("=", "!=", "<", "<=", ">", ">=")
_TEXT_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL")
_ATTR_TEXT_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS: tuple[Op, ...] = ("IN", "NOT IN")
_AGGREGATES = ("min", "max", "last")
_MAX_DEPTH = 64  # nesting of parentheses / NOT; deeper input is surely not a human's filter
# Bounds checked before any SQL is built: past them a database refuses the statement (SQLite's
# expression depth) or SQLAlchemy recurses too deep, and the caller would see a 5xx.
MAX_FILTER_LENGTH = 50_000  # an IN list of 1000 run ids is about 35,000 characters
MAX_FILTER_COMPARISONS = 200
MAX_ORDER_BY_TERMS = 20
MAX_ORDER_BY_LENGTH = 1_000


@dataclass(frozen=True)
class _Language:
    """What one kind of search accepts: prefixes, attributes and their types."""

    what: str  # "run" or "experiment", for messages
    shown_prefixes: str  # the usual spellings, for messages
    prefixes: dict[str, Kind]
    # lower-cased spelling -> (canonical name, "number" | "string" | "id" (string, lists ok))
    attributes: dict[str, tuple[str, str]]
    refused_prefixes: dict[str, str] = field(default_factory=dict)  # prefix -> advice
    refused_attributes: dict[str, str] = field(default_factory=dict)  # name -> advice
    order_kinds: tuple[Kind, ...] = ("attribute",)


# The spellings of the metric, param, tag and attribute prefixes every entity shares.
_ENTITY_PREFIXES: dict[str, Kind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
}

_RUNS = _Language(
    what="run",
    shown_prefixes="metrics., params., tags., attributes., datasets.",
    prefixes={
        **_ENTITY_PREFIXES,
        "run": "attribute",
        "dataset": "dataset",
        "datasets": "dataset",
    },
    attributes={
        "run_id": ("run_id", "id"),
        "run_name": ("run_name", "string"),
        "run name": ("run_name", "string"),
        "status": ("status", "string"),
        "user_id": ("user_id", "string"),
        "artifact_uri": ("artifact_uri", "string"),
        "start_time": ("start_time", "number"),
        "created": ("start_time", "number"),
        "end_time": ("end_time", "number"),
    },
    refused_attributes={
        "experiment_id": "choose experiments with the experiment_ids argument instead",
        "lifecycle_stage": "choose deleted or active runs with run_view_type instead",
    },
    order_kinds=("metric", "param", "tag", "attribute"),
)

_EXPERIMENTS = _Language(
    what="experiment",
    shown_prefixes="attribute., tags.",
    prefixes={"attribute": "attribute", "tag": "tag", "tags": "tag"},
    attributes={
        "name": ("name", "string"),
        "experiment_id": ("experiment_id", "id"),
        "creation_time": ("creation_time", "number"),
        "last_update_time": ("last_update_time", "number"),
    },
    refused_prefixes={
        "attributes": "write attribute.<name> or just the name",
        "attr": "write attribute.<name> or just the name",
        "metric": "experiments have no metrics",
        "metrics": "experiments have no metrics",
        "param": "experiments have no params",
        "params": "experiments have no params",
    },
)

# MLflow 3's logged models: attributes, metrics, params and tags (no datasets prefix: a
# search narrows metrics to datasets with its own field).
_LOGGED_MODELS = _Language(
    what="logged model",
    shown_prefixes="metrics., params., tags., attributes.",
    prefixes=_ENTITY_PREFIXES,
    attributes={
        "name": ("name", "id"),
        "model_id": ("model_id", "id"),
        "model_type": ("model_type", "id"),
        "status": ("status", "id"),
        "source_run_id": ("source_run_id", "id"),
        "creation_timestamp": ("creation_timestamp", "number"),
        "creation_time": ("creation_timestamp", "number"),
        "last_updated_timestamp": ("last_updated_timestamp", "number"),
        "last_updated_time": ("last_updated_timestamp", "number"),
    },
    refused_attributes={
        "experiment_id": "choose experiments with the experiment_ids argument instead",
    },
    order_kinds=("metric", "attribute"),
)

# The model registry: registered models (name and tags) and model versions.
_REGISTRY_PREFIXES: dict[str, Kind] = {
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
}

_REGISTERED_MODELS = _Language(
    what="registered model",
    shown_prefixes="tags., attribute.",
    prefixes=_REGISTRY_PREFIXES,
    attributes={
        "name": ("name", "id"),
        "timestamp": ("last_updated_timestamp", "number"),
        "last_updated_timestamp": ("last_updated_timestamp", "number"),
        "creation_timestamp": ("creation_timestamp", "number"),
    },
)

_MODEL_VERSIONS = _Language(
    what="model version",
    shown_prefixes="tags., attribute.",
    prefixes=_REGISTRY_PREFIXES,
    attributes={
        "name": ("name", "id"),
        "run_id": ("run_id", "id"),
        "model_id": ("model_id", "id"),
        "source_path": ("source_path", "string"),
        "current_stage": ("current_stage", "id"),
        "version_number": ("version_number", "number"),
        "creation_timestamp": ("creation_timestamp", "number"),
        "last_updated_timestamp": ("last_updated_timestamp", "number"),
        "timestamp": ("last_updated_timestamp", "number"),
    },
)

# Spelling -> (canonical name, type) of the logged-model attributes, for structured order_by.
LOGGED_MODEL_ATTRIBUTES = _LOGGED_MODELS.attributes

_DATASET_KEYS = ("name", "digest", "context")


# -- public entry points ------------------------------------------------------------------------


def parse_run_filter(text: str | None) -> Node | None:
    """The tree of a search-runs filter; ``None`` for an empty or missing filter.

    Trees are immutable, so the last few hundred filters' trees are kept: a notebook or the UI
    runs the same search again and again, and parsing it costs a tenth of a small search."""
    if not isinstance(text, str):
        return _parse_filter(text, _RUNS)  # None, or the error for a non-string
    return _cached_run_filter(text)


@lru_cache(maxsize=512)
def _cached_run_filter(text: str) -> Node | None:
    return _parse_filter(text, _RUNS)  # an error is raised afresh each time: never cached


def parse_experiment_filter(text: str | None) -> Node | None:
    """The tree of a search-experiments filter; ``None`` for an empty or missing filter."""
    return _parse_filter(text, _EXPERIMENTS)


def parse_logged_model_filter(text: str | None) -> Node | None:
    """The tree of a search-logged-models filter; ``None`` for an empty or missing filter."""
    return _parse_filter(text, _LOGGED_MODELS)


def parse_registered_model_filter(text: str | None) -> Node | None:
    """The tree of a search-registered-models filter; ``None`` for an empty filter."""
    return _parse_filter(text, _REGISTERED_MODELS)


def parse_model_version_filter(text: str | None) -> Node | None:
    """The tree of a search-model-versions filter; ``None`` for an empty filter."""
    return _parse_filter(text, _MODEL_VERSIONS)


def parse_registered_model_order_by(items: Sequence[str] | None) -> list[OrderTerm]:
    """Parse search-registered-models ``order_by`` items such as ``"name DESC"``."""
    return _parse_order_by(items, _REGISTERED_MODELS)


def parse_model_version_order_by(items: Sequence[str] | None) -> list[OrderTerm]:
    """Parse search-model-versions ``order_by`` items such as ``"version_number DESC"``."""
    return _parse_order_by(items, _MODEL_VERSIONS)


def parse_run_order_by(items: Sequence[str] | None) -> list[OrderTerm]:
    """Parse search-runs ``order_by`` items such as ``"metrics.acc DESC"`` (the last few
    hundred lists' terms are kept, as filters' trees are)."""
    if isinstance(items, list | tuple) and all(isinstance(item, str) for item in items):
        return list(_cached_run_order_by(tuple(items)))
    return _parse_order_by(items, _RUNS)


@lru_cache(maxsize=512)
def _cached_run_order_by(items: tuple[str, ...]) -> tuple[OrderTerm, ...]:
    return tuple(_parse_order_by(items, _RUNS))


def parse_experiment_order_by(items: Sequence[str] | None) -> list[OrderTerm]:
    """Parse search-experiments ``order_by`` items such as ``"creation_time DESC"``."""
    return _parse_order_by(items, _EXPERIMENTS)


def _parse_filter(text: str | None, lang: _Language) -> Node | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise SearchSyntaxError(
            f"The filter must be a string, not {type(text).__name__}.", position=0, text=None
        )
    if not text.strip():
        return None
    if len(text) > MAX_FILTER_LENGTH:
        raise SearchSyntaxError(
            f"The filter is {len(text):,} characters long; at most {MAX_FILTER_LENGTH:,} are "
            "accepted. Narrow the search, or split it into several searches.",
            position=MAX_FILTER_LENGTH,
            text=None,
        )
    parser = _Parser(text, lang)
    node = parser.or_expr(depth=0)
    tok = parser.peek()
    if tok.type != "EOF":
        hint = (
            "no ( is open" if tok.type == "RPAREN" else "perhaps an AND or OR is missing before it"
        )
        parser.fail(f"unexpected {tok.raw!r} at position {tok.pos}; {hint}", tok)
    return node


def _parse_order_by(items: Sequence[str] | None, lang: _Language) -> list[OrderTerm]:
    if not items:
        return []
    if isinstance(items, str):
        items = [items]  # a lone string is a common slip; treat it as one item
    if len(items) > MAX_ORDER_BY_TERMS:
        raise InvalidParameter(
            f"order_by has {len(items)} items; at most {MAX_ORDER_BY_TERMS} are accepted."
        )
    terms: list[OrderTerm] = []
    seen: dict[Identifier, str] = {}
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise SearchSyntaxError(
                f"Invalid order_by clause {item!r}: expected a field name such as "
                f"{'metrics.acc DESC' if lang is _RUNS else 'creation_time DESC'}.",
                position=0,
                text=item if isinstance(item, str) else None,
            )
        if len(item) > MAX_ORDER_BY_LENGTH:
            raise InvalidParameter(
                f"An order_by item is {len(item):,} characters long; at most "
                f"{MAX_ORDER_BY_LENGTH:,} are accepted."
            )
        term = _Parser(item, lang, order_by=True).order_item()
        if term.key in seen:
            raise InvalidParameter(
                f"order_by names the same field twice ({seen[term.key]!r} and {item!r}); "
                "give each field at most once."
            )
        seen[term.key] = item
        terms.append(term)
    return terms


# -- the parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, lang: _Language, order_by: bool = False) -> None:
        self.text = text
        self.lang = lang
        self.order_by = order_by
        try:
            self.tokens = tokenize(text)
        except SearchSyntaxError as exc:
            raise SearchSyntaxError(self.sentence(exc.message), exc.position, text) from None
        self.i = 0
        self.comparisons = 0

    # token helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def at_word(self, *words: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.type == "WORD" and tok.value.upper() in words

    def fail(self, message: str, tok: Token) -> NoReturn:
        raise SearchSyntaxError(self.sentence(message), position=tok.pos, text=self.text)

    def sentence(self, message: str) -> str:
        where = "order_by clause" if self.order_by else "filter"
        text = self.text if len(self.text) <= 120 else self.text[:100] + "..."
        return f"Invalid {where} {text!r}: {message}."

    @staticmethod
    def describe(tok: Token) -> str:
        return "the end" if tok.type == "EOF" else repr(tok.raw)

    # boolean structure
    def or_expr(self, depth: int) -> Node:
        items = [self.and_expr(depth)]
        while self.at_word("OR"):
            self.next()
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else Or(_flatten(items, Or))

    def and_expr(self, depth: int) -> Node:
        items = [self.not_expr(depth)]
        while self.at_word("AND"):
            self.next()
            items.append(self.not_expr(depth))
        return items[0] if len(items) == 1 else And(_flatten(items, And))

    def not_expr(self, depth: int) -> Node:
        if depth > _MAX_DEPTH:
            self.fail(
                f"nesting deeper than {_MAX_DEPTH} levels at position {self.peek().pos}",
                self.peek(),
            )
        if self.at_word("NOT") and not self.at_word("IN", "LIKE", "ILIKE", ahead=1):
            self.next()
            return Not(self.not_expr(depth + 1))
        tok = self.peek()
        if tok.type == "LPAREN":
            self.next()
            if self.peek().type == "RPAREN":
                self.fail(f"empty parentheses at position {tok.pos}", tok)
            node = self.or_expr(depth + 1)
            close = self.peek()
            if close.type != "RPAREN":
                self.fail(
                    f"expected ) to close the ( at position {tok.pos}, got "
                    f"{self.describe(close)} at position {close.pos}",
                    close,
                )
            self.next()
            return node
        return self.comparison()

    # one comparison
    def comparison(self) -> Node:
        start = self.peek().pos
        self.comparisons += 1
        if self.comparisons > MAX_FILTER_COMPARISONS:
            self.fail(
                f"more than {MAX_FILTER_COMPARISONS} comparisons (at position {start}); narrow "
                "the search or use IN (...) lists",
                self.peek(),
            )
        left, number_typed, ops = self.operand()
        op_tok = self.peek()
        op, negate = self.comparator(start)
        if op not in ops:
            self.fail(
                f"{op} cannot be used with {self.text[start : op_tok.pos].strip()} at position "
                f"{op_tok.pos}; it takes {', '.join(ops)}",
                op_tok,
            )
        after = self.text[start : self.tokens[self.i - 1].pos + len(self.tokens[self.i - 1].raw)]
        value = self.value(op, number_typed, after)
        node: Node = Comparison(left, op, value)
        return Not(node) if negate else node

    def operand(self) -> tuple[Identifier, bool, tuple[Op, ...]]:
        """The identifier, whether it takes numbers, and the operators it allows."""
        tok = self.peek()
        if (
            tok.type == "WORD"
            and tok.value.lower() in _AGGREGATES
            and self.peek(1).type == "LPAREN"
        ):
            self.next()
            self.next()
            ident = self.identifier()
            close = self.peek()
            if close.type != "RPAREN":
                self.fail(
                    f"expected ) to close {tok.value}( at position {close.pos}, got "
                    f"{self.describe(close)}",
                    close,
                )
            self.next()
            if ident.kind != "metric":
                self.fail(
                    f"{tok.value}() at position {tok.pos} applies only to metrics "
                    f"(e.g. {tok.value.lower()}(metrics.loss))",
                    tok,
                )
            ident = Identifier("metric", ident.key, tok.value.lower())  # type: ignore[arg-type]
        elif tok.type == "WORD" and self.peek(1).type == "LPAREN":
            self.fail(
                f"unknown function {tok.value!r} at position {tok.pos}; use min(), max() or "
                "last() around a metric",
                tok,
            )
        else:
            ident = self.identifier()
        return ident, *self.rules(ident, tok)

    def identifier(self) -> Identifier:
        tok = self.next()
        lang = self.lang
        if tok.type == "QUOTED_KEY" or (tok.type == "STRING" and tok.raw.startswith('"')):
            return self.attribute(tok.value, tok)
        if tok.type != "WORD" or tok.value.upper() in ("AND", "OR", "NOT"):
            example = "metrics.acc > 0.9" if lang is _RUNS else "name = 'my-experiment'"
            self.fail(
                f"expected a field name at position {tok.pos}, got {self.describe(tok)} "
                f"(a comparison looks like {example})",
                tok,
            )
        if "." not in tok.value:
            return self.attribute(tok.value, tok)
        prefix, key = tok.value.split(".", 1)
        kind = self.kind(prefix, tok)
        if not key:
            quoted = self.next()
            if quoted.type == "STRING" and quoted.raw.startswith("'"):
                self.fail(
                    f"quote the key after {tok.value!r} at position {quoted.pos} with backticks "
                    f"or double quotes, not single quotes",
                    quoted,
                )
            if quoted.type not in ("QUOTED_KEY", "STRING"):
                self.fail(f"expected a key after {tok.value!r} at position {quoted.pos}", quoted)
            key = quoted.value
            if not key:
                self.fail(f"empty key after {tok.value!r} at position {quoted.pos}", quoted)
        if kind == "attribute":
            return self.attribute(key, tok)
        if kind == "dataset" and key not in _DATASET_KEYS:
            self.fail(
                f"unknown dataset field {key!r} at position {tok.pos}; use "
                f"{', '.join('dataset.' + k for k in _DATASET_KEYS)}",
                tok,
            )
        return Identifier(kind, key)

    def kind(self, prefix: str, tok: Token) -> Kind:
        lang = self.lang
        lowered = prefix.lower()
        if lowered in lang.prefixes:
            return lang.prefixes[lowered]
        advice = lang.refused_prefixes.get(lowered)
        if advice is None:
            advice = f"use {lang.shown_prefixes} or no prefix for an attribute"
        self.fail(
            f"unknown prefix {prefix!r} in {tok.raw!r} at position {tok.pos} of this "
            f"{lang.what} filter; {advice}",
            tok,
        )

    def attribute(self, name: str, tok: Token) -> Identifier:
        lang = self.lang
        lowered = name.lower()
        if lowered in lang.attributes:
            return Identifier("attribute", lang.attributes[lowered][0])
        if lowered in lang.refused_attributes:
            self.fail(
                f"{name!r} at position {tok.pos} cannot be searched; "
                f"{lang.refused_attributes[lowered]}",
                tok,
            )
        valid = sorted({canonical for canonical, _ in lang.attributes.values()})
        hint = "" if lang is _EXPERIMENTS else " (or prefix a key with metrics., params., tags.)"
        self.fail(
            f"unknown {lang.what} attribute {name!r} at position {tok.pos}; use one of "
            f"{', '.join(valid)}{hint}",
            tok,
        )

    def rules(self, ident: Identifier, tok: Token) -> tuple[bool, tuple[Op, ...]]:
        if self.order_by and ident.kind not in self.lang.order_kinds:
            self.fail(f"cannot order {self.lang.what}s by {tok.raw!r} at position {tok.pos}", tok)
        if ident.kind == "metric":
            return True, _NUMERIC_OPS
        if ident.kind in ("param", "tag"):
            return False, _TEXT_OPS
        if ident.kind == "dataset":
            return False, _ATTR_TEXT_OPS + _LIST_OPS
        typ = next(t for c, t in self.lang.attributes.values() if c == ident.key)
        if typ == "number":
            return True, _NUMERIC_OPS
        return False, _ATTR_TEXT_OPS + (_LIST_OPS if typ == "id" else ())

    def comparator(self, start: int) -> tuple[Op, bool]:
        """The operator; the flag says it was written ``NOT LIKE`` / ``NOT ILIKE``."""
        tok = self.next()
        if tok.type == "OP":
            return tok.value, False  # type: ignore[return-value]
        word = tok.value.upper() if tok.type == "WORD" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return word, False  # type: ignore[return-value]
        if word == "NOT" and self.at_word("IN", "LIKE", "ILIKE"):
            second: Op = self.next().value.upper()  # type: ignore[assignment]
            return ("NOT IN", False) if second == "IN" else (second, True)
        if word == "IS":
            negated = self.at_word("NOT")
            if negated:
                self.next()
            null = self.next()
            if not (null.type == "WORD" and null.value.upper() == "NULL"):
                self.fail(
                    f"expected NULL after IS{' NOT' if negated else ''} at position {null.pos}, "
                    f"got {self.describe(null)}",
                    null,
                )
            return ("IS NOT NULL" if negated else "IS NULL"), False
        self.fail(
            f"expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, "
            f"IS NULL, IS NOT NULL) after {self.text[start : tok.pos].strip()!r} at position "
            f"{tok.pos}, got {self.describe(tok)}",
            tok,
        )

    def value(self, op: Op, number_typed: bool, after: str) -> Value:
        if op in ("IS NULL", "IS NOT NULL"):
            return None
        tok = self.next()
        if op in _LIST_OPS:
            return self.string_list(tok, after)
        if tok.type == "EOF":
            self.fail(f"expected a value after {after!r} at the end (position {tok.pos})", tok)
        if number_typed:
            if tok.type != "NUMBER":
                self.fail(
                    f"expected a number after {after!r} at position {tok.pos}, got {tok.raw}; "
                    "metrics and times are compared with unquoted numbers",
                    tok,
                )
            return _number(tok.value)
        if tok.type != "STRING":
            field_name = after.rsplit(None, 1)[0] if " " in after else after
            self.fail(
                f"expected a quoted string after {after!r} at position {tok.pos}, got {tok.raw} "
                f"(write {field_name} {op} '{tok.raw}')",
                tok,
            )
        return tok.value

    def string_list(self, open_tok: Token, after: str) -> tuple[str, ...]:
        if open_tok.type != "LPAREN":
            self.fail(
                f"expected a list such as ('a', 'b') after {after!r} at position "
                f"{open_tok.pos}, got {self.describe(open_tok)}",
                open_tok,
            )
        if self.peek().type == "RPAREN":
            self.fail(f"empty list after {after!r} at position {open_tok.pos}", open_tok)
        values: list[str] = []
        while True:
            tok = self.next()
            if tok.type != "STRING":
                self.fail(
                    f"expected a quoted string in the list after {after!r} at position "
                    f"{tok.pos}, got {self.describe(tok)}",
                    tok,
                )
            values.append(tok.value)
            sep = self.next()
            if sep.type == "RPAREN":
                return tuple(values)
            if sep.type != "COMMA":
                self.fail(
                    f"expected , or ) in the list after {after!r} at position {sep.pos}, got "
                    f"{self.describe(sep)}",
                    sep,
                )

    # order_by
    def order_item(self) -> OrderTerm:
        ident, _, _ = self.operand()
        ascending = True
        if self.at_word("ASC", "DESC"):
            ascending = self.next().value.upper() == "ASC"
        tok = self.peek()
        if tok.type != "EOF":
            self.fail(f"expected ASC, DESC or the end at position {tok.pos}, got {tok.raw!r}", tok)
        return OrderTerm(ident, ascending)


def _flatten(items: list[Node], cls: type[And] | type[Or]) -> tuple[Node, ...]:
    out: list[Node] = []
    for item in items:
        out.extend(item.items if isinstance(item, cls) else (item,))
    return tuple(out)


def _number(text: str) -> int | float:
    try:
        number = int(text)
    except ValueError:
        return float(text)
    # Beyond 64 bits no column can hold it and SQLite cannot bind it: compare as a float.
    return number if -(2**63) <= number < 2**63 else float(number)
