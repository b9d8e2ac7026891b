"""The search language of runs and experiments: parse filters and order-by items to a tree
(``search.ast``), which the SQL store compiles to SQLAlchemy Core
(``mltrail.store.sql.search``).

    node = parse_run_filter("metrics.acc > 0.9 AND params.solver = 'adam'")
    terms = parse_run_order_by(["metrics.acc DESC"])

Page tokens for every paged search live in ``search.paging``.
"""

from mltrail.search.ast import And, Comparison, Identifier, Node, Not, Or, OrderTerm
from mltrail.search.parser import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_logged_model_filter,
    parse_model_version_filter,
    parse_model_version_order_by,
    parse_registered_model_filter,
    parse_registered_model_order_by,
    parse_run_filter,
    parse_run_order_by,
)

__all__ = [
    "And",
    "Comparison",
    "Identifier",
    "Node",
    "Not",
    "Or",
    "OrderTerm",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_logged_model_filter",
    "parse_model_version_filter",
    "parse_model_version_order_by",
    "parse_registered_model_filter",
    "parse_registered_model_order_by",
    "parse_run_filter",
    "parse_run_order_by",
]
