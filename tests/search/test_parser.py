from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from mltrail.exceptions import InvalidParameter, SearchSyntaxError
from mltrail.search import (
    And,
    Comparison,
    Identifier,
    Not,
    Or,
    OrderTerm,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)
from mltrail.store.sql.schema import runs
from mltrail.store.sql.search import apply_run_search, run_filter_clause


def metric(key: str, aggregate: str | None = None) -> Identifier:
    return Identifier("metric", key, aggregate)  # type: ignore[arg-type]


def param(key: str) -> Identifier:
    return Identifier("param", key)


def tag(key: str) -> Identifier:
    return Identifier("tag", key)


def attr(key: str) -> Identifier:
    return Identifier("attribute", key)


ACC_HIGH = Comparison(metric("acc"), ">", 0.9)
ADAM = Comparison(param("solver"), "=", "adam")


# -- forms that parse ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_no_filter(text: str | None) -> None:
    assert parse_run_filter(text) is None
    assert parse_experiment_filter(text) is None


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("metric", "metric"),
        ("metrics", "metric"),
        ("param", "param"),
        ("params", "param"),
        ("parameter", "param"),
        ("parameters", "param"),
        ("tag", "tag"),
        ("tags", "tag"),
        ("Tags", "tag"),
        ("METRICS", "metric"),
    ],
)
def test_prefixes(prefix: str, kind: str) -> None:
    value = "1" if kind == "metric" else "'1'"
    node = parse_run_filter(f"{prefix}.k = {value}")
    expected = 1 if kind == "metric" else "1"
    assert node == Comparison(Identifier(kind, "k"), "=", expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "attribute.", "attributes.", "attr.", "run."])
def test_attribute_prefixes(prefix: str) -> None:
    assert parse_run_filter(f"{prefix}status = 'FINISHED'") == Comparison(
        attr("status"), "=", "FINISHED"
    )


@pytest.mark.parametrize(
    ("written", "canonical", "value"),
    [
        ("run_id", "run_id", "'x'"),
        ("run_name", "run_name", "'x'"),
        ("status", "status", "'x'"),
        ("user_id", "user_id", "'x'"),
        ("artifact_uri", "artifact_uri", "'x'"),
        ("start_time", "start_time", "1"),
        ("end_time", "end_time", "1"),
        ("created", "start_time", "1"),
        ("Created", "start_time", "1"),
        ("STATUS", "status", "'x'"),
        ("`run name`", "run_name", "'x'"),
        ("`Run name`", "run_name", "'x'"),
        ("`Run Name`", "run_name", "'x'"),
        ('"run_name"', "run_name", "'x'"),
        ("attributes.`Run Name`", "run_name", "'x'"),
    ],
)
def test_run_attributes(written: str, canonical: str, value: str) -> None:
    node = parse_run_filter(f"{written} = {value}")
    assert isinstance(node, Comparison) and node.left == attr(canonical)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tags.`my key` = 'v'", "my key"),
        ("tags.\"mlflow.runName\" = 'v'", "mlflow.runName"),
        ("tags.mlflow.runName = 'v'", "mlflow.runName"),
        ("tags.`a``b` = 'v'", "a`b"),
        ("tags.`a.b c-d/e:f` = 'v'", "a.b c-d/e:f"),
        ("tags.val-loss = 'v'", "val-loss"),
        ("tags.in = 'v'", "in"),
        ("tags.and = 'v'", "and"),
        ("tags.`1st` = 'v'", "1st"),
    ],
)
def test_keys(text: str, key: str) -> None:
    assert parse_run_filter(text) == Comparison(tag(key), "=", "v")


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("metrics.acc = 1", "=", 1),
        ("metrics.acc == 1", "=", 1),
        ("metrics.acc != 1", "!=", 1),
        ("metrics.acc <> 1", "!=", 1),
        ("metrics.acc < 1", "<", 1),
        ("metrics.acc <= 1", "<=", 1),
        ("metrics.acc > 1", ">", 1),
        ("metrics.acc >= 1", ">=", 1),
        ("metrics.acc>=1", ">=", 1),
        ("metrics.acc > -1", ">", -1),
        ("metrics.acc > +1", ">", 1),
        ("metrics.acc > 0.5", ">", 0.5),
        ("metrics.acc > .5", ">", 0.5),
        ("metrics.acc > 5.", ">", 5.0),
        ("metrics.acc > 1e3", ">", 1000.0),
        ("metrics.acc > -2.5E-3", ">", -0.0025),
        ("metrics.acc > 1e400", ">", float("inf")),
        ("metrics.acc > 99999999999999999999", ">", 1e20),
    ],
)
def test_numbers(text: str, op: str, value: float) -> None:
    node = parse_run_filter(text)
    assert node == Comparison(metric("acc"), op, value)  # type: ignore[arg-type]
    assert type(node.value) is type(value)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("params.p = 'a b'", "a b"),
        ('params.p = "a b"', "a b"),
        ("params.p = ''", ""),
        ("params.p = 'it''s'", "it's"),
        ("params.p = 'it\\'s'", "it's"),
        ('params.p = "say ""hi"""', 'say "hi"'),
        ('params.p = "it\'s"', "it's"),
        ("params.p = 'C:\\data'", "C:\\data"),
        ("params.p = 'a\\\\b'", "a\\b"),
        ("params.p = 'a\\_b'", "a\\_b"),
        ("params.p = 'ünï cødé'", "ünï cødé"),
    ],
)
def test_strings(text: str, value: str) -> None:
    assert parse_run_filter(text) == Comparison(param("p"), "=", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.p LIKE 'a%'", Comparison(param("p"), "LIKE", "a%")),
        ("params.p like 'a%'", Comparison(param("p"), "LIKE", "a%")),
        ("params.p ILIKE 'a%'", Comparison(param("p"), "ILIKE", "a%")),
        ("params.p iLike 'a%'", Comparison(param("p"), "ILIKE", "a%")),
        ("params.p NOT LIKE 'a%'", Not(Comparison(param("p"), "LIKE", "a%"))),
        ("params.p not ilike 'a%'", Not(Comparison(param("p"), "ILIKE", "a%"))),
        ("params.p IS NULL", Comparison(param("p"), "IS NULL")),
        ("params.p is null", Comparison(param("p"), "IS NULL")),
        ("params.p IS NOT NULL", Comparison(param("p"), "IS NOT NULL")),
        ("tags.t Is Not Null", Comparison(tag("t"), "IS NOT NULL")),
        ("run_id IN ('a')", Comparison(attr("run_id"), "IN", ("a",))),
        ("run_id in ('a', \"b\",'c')", Comparison(attr("run_id"), "IN", ("a", "b", "c"))),
        ("run_id NOT IN ('a','b')", Comparison(attr("run_id"), "NOT IN", ("a", "b"))),
        ("run_name != 'x'", Comparison(attr("run_name"), "!=", "x")),
        ("dataset.name = 'x'", Comparison(Identifier("dataset", "name"), "=", "x")),
        ("datasets.digest IN ('x')", Comparison(Identifier("dataset", "digest"), "IN", ("x",))),
        ("dataset.context LIKE 'tr%'", Comparison(Identifier("dataset", "context"), "LIKE", "tr%")),
        ("min(metrics.loss) < 0.1", Comparison(metric("loss", "min"), "<", 0.1)),
        ("MAX(metrics.acc) >= 0.9", Comparison(metric("acc", "max"), ">=", 0.9)),
        ("last( metrics.`a b` ) = 1", Comparison(metric("a b", "last"), "=", 1)),
    ],
)
def test_comparisons(text: str, expected: object) -> None:
    assert parse_run_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc > 0.9 AND params.solver = 'adam'", And((ACC_HIGH, ADAM))),
        ("metrics.acc > 0.9 and params.solver = 'adam'", And((ACC_HIGH, ADAM))),
        ("metrics.acc > 0.9 OR params.solver = 'adam'", Or((ACC_HIGH, ADAM))),
        ("NOT metrics.acc > 0.9", Not(ACC_HIGH)),
        ("not not metrics.acc > 0.9", Not(Not(ACC_HIGH))),
        ("(metrics.acc > 0.9)", ACC_HIGH),
        ("((metrics.acc > 0.9))", ACC_HIGH),
        # NOT binds tighter than AND, AND tighter than OR
        ("NOT metrics.acc > 0.9 AND params.solver = 'adam'", And((Not(ACC_HIGH), ADAM))),
        ("NOT (metrics.acc > 0.9 AND params.solver = 'adam')", Not(And((ACC_HIGH, ADAM)))),
        (
            "metrics.acc > 0.9 OR params.solver = 'adam' AND tags.t IS NULL",
            Or((ACC_HIGH, And((ADAM, Comparison(tag("t"), "IS NULL"))))),
        ),
        (
            "(metrics.acc > 0.9 OR params.solver = 'adam') AND tags.t IS NULL",
            And((Or((ACC_HIGH, ADAM)), Comparison(tag("t"), "IS NULL"))),
        ),
        # chains are flat, also across redundant parentheses
        (
            "metrics.acc > 0.9 AND (params.solver = 'adam' AND tags.t IS NULL)",
            And((ACC_HIGH, ADAM, Comparison(tag("t"), "IS NULL"))),
        ),
        (
            "metrics.acc > 0.9 OR params.solver = 'adam' OR tags.t IS NULL",
            Or((ACC_HIGH, ADAM, Comparison(tag("t"), "IS NULL"))),
        ),
    ],
)
def test_boolean_structure(text: str, expected: object) -> None:
    assert parse_run_filter(text) == expected


# -- errors -------------------------------------------------------------------------------------

RUN_ERRORS = [
    ("params.solver = 0.5", 16, "expected a quoted string after 'params.solver ='"),
    ("params.solver = 0.5", 16, "write params.solver = '0.5'"),
    ("tags.t = adam", 9, "expected a quoted string"),
    ("status = 1", 9, "expected a quoted string"),
    ("metrics.acc > '0.9'", 14, "expected a number after 'metrics.acc >'"),
    ("start_time > 'yesterday'", 13, "expected a number"),
    ("params.x = 'abc", 11, "unterminated quoted string starting at position 11"),
    ('params.x = "abc', 11, "unterminated quoted string"),
    ("tags.`abc = 'x'", 5, "unterminated quoted key"),
    ("foo.bar = 'x'", 0, "unknown prefix 'foo'"),
    ("metricz.acc > 1", 0, "unknown prefix 'metricz'"),
    ("bogus = 'x'", 0, "unknown run attribute 'bogus'"),
    ("attributes.bogus = 'x'", 0, "unknown run attribute 'bogus'"),
    ("`my run` = 'x'", 0, "unknown run attribute 'my run'"),
    ("experiment_id = '1'", 0, "experiment_ids"),
    ("attributes.lifecycle_stage = 'active'", 0, "run_view_type"),
    ("dataset.foo = 'x'", 0, "unknown dataset field 'foo'"),
    ("metrics.acc LIKE '1'", 12, "LIKE cannot be used with metrics.acc"),
    ("metrics.acc IS NULL", 12, "IS NULL cannot be used with metrics.acc"),
    ("metrics.acc IN ('1')", 12, "IN cannot be used"),
    ("params.x > 'a'", 9, "> cannot be used with params.x"),
    ("params.x IN ('a')", 9, "IN cannot be used with params.x"),
    ("tags.x NOT IN ('a')", 7, "NOT IN cannot be used"),
    ("status IN ('a')", 7, "IN cannot be used with status"),
    ("status IS NULL", 7, "IS NULL cannot be used with status"),
    ("start_time LIKE '1%'", 11, "LIKE cannot be used with start_time"),
    ("dataset.name IS NULL", 13, "IS NULL cannot be used"),
    ("run_id IN ()", 10, "empty list after 'run_id IN'"),
    ("run_id IN ('a',)", 15, "expected a quoted string in the list"),
    ("run_id IN ('a' 'b')", 15, "expected , or )"),
    ("run_id IN ('a'", 14, "expected , or )"),
    ("run_id IN 'a'", 10, "expected a list such as ('a', 'b')"),
    ("run_id IN (1)", 11, "expected a quoted string in the list"),
    ("metrics.acc > 0.9 extra", 18, "unexpected 'extra'"),
    ("metrics.acc > 0.9 params.x = 'a'", 18, "unexpected 'params.x'"),
    ("metrics.acc > 0.9 AND", 21, "expected a field name at position 21, got the end"),
    ("metrics.acc > 0.9 OR OR metrics.a > 1", 21, "got 'OR'"),
    ("(metrics.acc > 0.9", 18, "expected ) to close the ( at position 0"),
    ("metrics.acc > 0.9)", 17, "unexpected ')'"),
    ("()", 0, "empty parentheses"),
    ("metrics.acc", 11, "expected a comparison operator"),
    ("metrics.acc 1", 12, "expected a comparison operator"),
    ("metrics.acc NOT 1", 12, "expected a comparison operator"),
    ("metrics.acc >", 13, "expected a value after 'metrics.acc >'"),
    ("metrics.acc ! 1", 12, "unexpected character '!'"),
    ("metrics.acc > 1; DROP TABLE runs", 15, "unexpected character ';'"),
    ("metrics.acc > 1abc", 14, "invalid number '1abc'"),
    ("metrics.acc > 1.2.3", 14, "invalid number"),
    ("params.x IS 'a'", 12, "expected NULL after IS"),
    ("params.x IS NOT 1", 16, "expected NULL after IS NOT"),
    ("min(params.x) < 1", 0, "min() at position 0 applies only to metrics"),
    ("max(status) = 'a'", 0, "applies only to metrics"),
    ("min(metrics.x < 1", 14, "expected ) to close min("),
    ("avg(metrics.x) < 1", 0, "unknown function 'avg'"),
    ("tags.'x' = 'a'", 5, "backticks or double quotes"),
    ("tags. = 'a'", 6, "expected a key after 'tags.'"),
    ("tags.`` = 'a'", 5, "empty key"),
    ("'abc' = 'x'", 0, "expected a field name"),
    ("= 1", 0, "expected a field name"),
    ("NOT", 3, "got the end"),
    ("params.x = 'a' AND (", 20, "got the end"),
    ("(" * 70 + "metrics.a > 1" + ")" * 70, 65, "nesting deeper than 64"),
    ("NOT " * 70 + "metrics.a > 1", 260, "nesting deeper than 64"),
]


@pytest.mark.parametrize(("text", "position", "fragment"), RUN_ERRORS)
def test_run_filter_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        parse_run_filter(text)
    error = info.value
    assert fragment in str(error)
    assert error.position == position
    assert f"position {position}" in str(error)
    assert error.text == text
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert str(error).startswith("Invalid filter ") and str(error).endswith(".")


EXPERIMENT_ERRORS = [
    ("attributes.name = 'x'", 0, "unknown prefix 'attributes'"),
    ("attr.name = 'x'", 0, "unknown prefix 'attr'"),
    ("metrics.x > 1", 0, "experiments have no metrics"),
    ("params.x = 'a'", 0, "experiments have no params"),
    ("dataset.name = 'a'", 0, "unknown prefix 'dataset'"),
    ("run_id = 'x'", 0, "unknown experiment attribute 'run_id'"),
    ("name IN ('a')", 5, "IN cannot be used with name"),
    ("creation_time = 'x'", 16, "expected a number"),
    ("experiment_id = 1", 16, "expected a quoted string"),
    ("experiment_id IN ()", 17, "empty list"),
    ("tags.t > 'a'", 7, "> cannot be used"),
]


@pytest.mark.parametrize(("text", "position", "fragment"), EXPERIMENT_ERRORS)
def test_experiment_filter_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        parse_experiment_filter(text)
    assert fragment in str(info.value)
    assert info.value.position == position


def test_experiment_filter_forms() -> None:
    assert parse_experiment_filter("attribute.name = 'x'") == Comparison(attr("name"), "=", "x")
    assert parse_experiment_filter("experiment_id IN ('1', '2')") == Comparison(
        attr("experiment_id"), "IN", ("1", "2")
    )
    assert parse_experiment_filter("tag.t IS NULL OR last_update_time > 5") == Or(
        (Comparison(tag("t"), "IS NULL"), Comparison(attr("last_update_time"), ">", 5))
    )


def test_filter_must_be_a_string() -> None:
    with pytest.raises(SearchSyntaxError, match="must be a string"):
        parse_run_filter(5)  # type: ignore[arg-type]


# -- order_by -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc", OrderTerm(metric("acc"), True)),
        ("metrics.acc ASC", OrderTerm(metric("acc"), True)),
        ("metrics.acc desc", OrderTerm(metric("acc"), False)),
        ("  metrics.`a b`   DESC ", OrderTerm(metric("a b"), False)),
        ("min(metrics.loss) ASC", OrderTerm(metric("loss", "min"), True)),
        ("max(metrics.loss) DESC", OrderTerm(metric("loss", "max"), False)),
        ("params.lr", OrderTerm(param("lr"), True)),
        ('tags."mlflow.runName" DESC', OrderTerm(tag("mlflow.runName"), False)),
        ("start_time", OrderTerm(attr("start_time"), True)),
        ("attributes.created DESC", OrderTerm(attr("start_time"), False)),
        ("`Run name`", OrderTerm(attr("run_name"), True)),
        ("run_id", OrderTerm(attr("run_id"), True)),
    ],
)
def test_run_order_by(item: str, expected: OrderTerm) -> None:
    assert parse_run_order_by([item]) == [expected]


def test_run_order_by_keeps_the_order_of_items() -> None:
    assert parse_run_order_by(["params.a", "metrics.b DESC"]) == [
        OrderTerm(param("a")),
        OrderTerm(metric("b"), False),
    ]
    assert parse_run_order_by(None) == []
    assert parse_run_order_by([]) == []


@pytest.mark.parametrize(
    ("items", "position", "fragment"),
    [
        (["dataset.name"], 0, "cannot order runs by 'dataset.name'"),
        (["metrics.a sideways"], 10, "expected ASC, DESC or the end"),
        (["metrics.a ASC DESC"], 14, "expected ASC, DESC or the end"),
        (["metrics.a > 1"], 10, "expected ASC, DESC or the end"),
        ([""], 0, "expected a field name"),
        (["bogus"], 0, "unknown run attribute"),
        (["params.`x"], 7, "unterminated quoted key"),
        (["min(params.x)"], 0, "applies only to metrics"),
    ],
)
def test_run_order_by_errors(items: list[str], position: int, fragment: str) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        parse_run_order_by(items)
    assert fragment in str(info.value)
    assert info.value.position == position
    assert str(info.value).startswith("Invalid order_by clause")


@pytest.mark.parametrize(
    "items",
    [
        ["metrics.a", "metrics.`a`"],
        ["metrics.a DESC", "metrics.a ASC"],
        ["created", "start_time DESC"],
        ["tags.x", "tag.x"],
    ],
)
def test_duplicate_order_fields(items: list[str]) -> None:
    with pytest.raises(InvalidParameter, match="names the same field twice") as info:
        parse_run_order_by(items)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_same_metric_with_different_aggregates_is_not_a_duplicate() -> None:
    assert len(parse_run_order_by(["metrics.a", "min(metrics.a)", "max(metrics.a)"])) == 3


def test_experiment_order_by() -> None:
    assert parse_experiment_order_by(["name", "creation_time DESC"]) == [
        OrderTerm(attr("name")),
        OrderTerm(attr("creation_time"), False),
    ]
    assert parse_experiment_order_by(["attribute.last_update_time"]) == [
        OrderTerm(attr("last_update_time"))
    ]
    for bad in (["tags.x"], ["metrics.x"], ["bogus"], ["name", "name DESC"]):
        with pytest.raises(InvalidParameter):
            parse_experiment_order_by(bad)


# -- robustness ---------------------------------------------------------------------------------

_COMPARISONS = [
    "metrics.acc > 0.5", "min(metrics.loss) <= -1", "metrics.`x y` != 1e9", "params.p = 'a'",
    "tags.t LIKE '%b_'", "tags.\"m.n\" IS NULL", "params.p IS NOT NULL", "status != 'RUNNING'",
    "run_id IN ('a', 'b')", "run_id NOT IN ('c')", "start_time >= 10", "dataset.name = 'd'",
    "dataset.context NOT LIKE 'tr%'", "`Run name` ILIKE 'X%'", "NOT end_time < 5",
]  # fmt: skip
_NOISE = ["(", ")", ",", "AND", "OR", "NOT", "IN", "IS", "'", "`", '"', "\\", ";", "1abc", "é"]


def _random_filter(rng: random.Random) -> str:
    parts = [rng.choice(_COMPARISONS)]
    for _ in range(rng.randint(0, 3)):
        parts += [rng.choice(["AND", "OR", "AND NOT", "OR NOT"]), rng.choice(_COMPARISONS)]
    text = " ".join(parts)
    if rng.random() < 0.3:
        text = f"NOT ({text})"
    for _ in range(rng.choice([0, 0, 1, 2])):  # damage it a little
        at = rng.randint(0, len(text))
        cut = rng.randint(0, 3)
        text = text[:at] + rng.choice(["", *_NOISE]) + text[at + cut :]
    return text


def test_random_input_parses_or_fails_cleanly() -> None:
    rng = random.Random(20240531)
    parsed = failed = 0
    for _ in range(3000):
        text = _random_filter(rng)
        try:
            node = parse_run_filter(text)
        except SearchSyntaxError as exc:
            assert exc.position is not None and 0 <= exc.position <= len(text)
            failed += 1
            continue
        parsed += 1
        assert node is not None
        # compiles on both dialects without error, both ways
        stmt = apply_run_search(select(runs.c.run_uuid), node, [])
        str(stmt.compile(dialect=sqlite.dialect()))
        clause = run_filter_clause(node)
        str(select(runs.c.run_uuid).where(clause).compile(dialect=postgresql.dialect()))
    assert parsed > 500 and failed > 500
