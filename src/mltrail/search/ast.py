"""The syntax tree of a search filter or order-by term: small frozen dataclasses.

The parser resolves aliases (``created`` -> ``start_time``, ``params`` -> ``param``) and checks
types, so every tree it returns is valid and the compilers never see an unknown name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

Kind: TypeAlias = Literal["metric", "param", "tag", "attribute", "dataset"]
Aggregate: TypeAlias = Literal["min", "max", "last"]
Op: TypeAlias = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]
Value: TypeAlias = int | float | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Identifier:
    """``kind.key``; ``aggregate`` is set only for metrics (``min(metrics.loss)``).

    Attribute keys are canonical: ``run_id``, ``run_name``, ``status``, ``user_id``,
    ``artifact_uri``, ``start_time``, ``end_time`` for runs; ``name``, ``experiment_id``,
    ``creation_time``, ``last_update_time`` for experiments. Dataset keys are ``name``,
    ``digest`` and ``context``.
    """

    kind: Kind
    key: str
    aggregate: Aggregate | None = None

    def __str__(self) -> str:
        plain = f"{self.kind}s.`{self.key}`" if self.kind != "attribute" else self.key
        return f"{self.aggregate}({plain})" if self.aggregate else plain


@dataclass(frozen=True, slots=True)
class Comparison:
    """One test: ``left op value``. ``value`` is a number, a string, a tuple of strings (for
    ``IN``/``NOT IN``) or ``None`` (for ``IS NULL``/``IS NOT NULL``)."""

    left: Identifier
    op: Op
    value: Value = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One ``order_by`` item: what to sort on and in which direction."""

    key: Identifier
    ascending: bool = True
