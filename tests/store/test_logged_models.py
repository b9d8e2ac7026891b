"""Logged models in the tracking store, on every SQL backend the machine has and through a live
server (the REST store): lifecycle, tags and params, search, run outputs and inputs, metrics
logged with a model id, and bad input."""

from __future__ import annotations

import math
import re

import pytest

from mltrail.entities import (
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    Param,
    ViewType,
)
from mltrail.entities.tracking import Dataset
from mltrail.exceptions import InvalidParameter, MltrailException, NotFound


@pytest.fixture
def store(store_anywhere):
    return store_anywhere


@pytest.fixture
def exp_id(store) -> str:
    return store.create_experiment("models")


def _run_id(store, exp_id: str) -> str:
    return store.create_run(exp_id, "alice", 1000, [], None).info.run_id


def _names(page) -> list[str]:
    return [m.name for m in page]


# -- lifecycle ----------------------------------------------------------------------------------


def test_create_get_finalize(store, exp_id):
    run_id = _run_id(store, exp_id)
    model = store.create_logged_model(
        exp_id,
        name="clf",
        source_run_id=run_id,
        tags=[LoggedModelTag("mlflow.user", "alice")],
        params=[LoggedModelParameter("C", "1.0")],
        model_type="classifier",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status == LoggedModelStatus.PENDING
    location = store.get_experiment(exp_id).artifact_location
    assert model.artifact_location == f"{location}/models/{model.model_id}/artifacts"
    got = store.get_logged_model(model.model_id)
    assert (got.name, got.experiment_id, got.source_run_id) == ("clf", exp_id, run_id)
    assert got.model_type == "classifier"
    assert got.tags == {"mlflow.user": "alice"}
    assert got.params == {"C": "1.0"}
    assert got.creation_timestamp == got.last_updated_timestamp > 0

    ready = store.finalize_logged_model(model.model_id, "READY")
    assert ready.status == "READY"
    assert ready.last_updated_timestamp >= got.last_updated_timestamp
    assert store.get_logged_model(model.model_id).status == "READY"
    assert store.finalize_logged_model(model.model_id, 3).status == LoggedModelStatus.FAILED


def test_name_is_generated_when_absent(store, exp_id):
    model = store.create_logged_model(exp_id)
    assert model.name and not set(model.name) & set("/:.%\"'")
    assert store.get_logged_model(model.model_id).name == model.name


@pytest.mark.parametrize(
    "name", ["", "   ", "a/b", "a:b", "v1.2", "50%", 'say"hi', "it's", "nul\x00", "n" * 501]
)
def test_bad_names_are_refused(store, exp_id, name):
    with pytest.raises(InvalidParameter) as info:
        store.create_logged_model(exp_id, name=name)
    assert "name" in str(info.value)
    assert store.search_logged_models([exp_id]) == []


def test_create_refuses_unknown_or_deleted_places(store, exp_id):
    with pytest.raises(NotFound):
        store.create_logged_model("98765", name="m")
    with pytest.raises(NotFound):
        store.create_logged_model(exp_id, name="m", source_run_id="f" * 32)
    with pytest.raises(InvalidParameter):
        store.create_logged_model(exp_id, name="m", source_run_id="no such run!")
    with pytest.raises(InvalidParameter, match="model_type"):
        store.create_logged_model(exp_id, name="m", model_type="t" * 501)
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameter, match="active"):
        store.create_logged_model(exp_id, name="m")


def test_unknown_and_deleted_models_are_not_found(store, exp_id):
    for bad in ("m-" + "0" * 32, "nope", "m-\x00", "../etc"):
        with pytest.raises(NotFound, match="not found"):
            store.get_logged_model(bad)
    model = store.create_logged_model(exp_id, name="gone")
    store.delete_logged_model(model.model_id)
    with pytest.raises(NotFound):
        store.get_logged_model(model.model_id)
    assert store.get_logged_model(model.model_id, allow_deleted=True).name == "gone"
    with pytest.raises(NotFound):
        store.finalize_logged_model(model.model_id, "READY")
    with pytest.raises(NotFound):
        store.delete_logged_model(model.model_id)
    assert store.search_logged_models([exp_id]) == []


def test_bad_status_is_refused(store, exp_id):
    model = store.create_logged_model(exp_id, name="m")
    with pytest.raises(InvalidParameter):
        store.finalize_logged_model(model.model_id, "DONE")
    assert store.get_logged_model(model.model_id).status == LoggedModelStatus.PENDING


# -- tags and params ----------------------------------------------------------------------------


def test_tags_set_overwrite_delete(store, exp_id):
    model = store.create_logged_model(exp_id, name="m", tags=[LoggedModelTag("a", "1")])
    store.set_logged_model_tags(
        model.model_id, [LoggedModelTag("a", "2"), LoggedModelTag("path/like.key", "x")]
    )
    assert store.get_logged_model(model.model_id).tags == {"a": "2", "path/like.key": "x"}
    store.delete_logged_model_tag(model.model_id, "path/like.key")
    assert store.get_logged_model(model.model_id).tags == {"a": "2"}
    with pytest.raises(NotFound):
        store.delete_logged_model_tag(model.model_id, "path/like.key")
    with pytest.raises(InvalidParameter):
        store.set_logged_model_tags(model.model_id, [LoggedModelTag("bad*key", "v")])
    with pytest.raises(NotFound):
        store.set_logged_model_tags("m-" + "1" * 32, [LoggedModelTag("a", "b")])


def test_params_are_added_and_never_changed(store, exp_id):
    model = store.create_logged_model(exp_id, name="m", params=[LoggedModelParameter("a", "1")])
    many = [LoggedModelParameter(f"p{i}", str(i)) for i in range(150)]  # REST sends 2 batches
    store.log_logged_model_params(model.model_id, [LoggedModelParameter("a", "1"), *many])
    params = store.get_logged_model(model.model_id).params
    assert len(params) == 151 and params["a"] == "1" and params["p149"] == "149"
    with pytest.raises(InvalidParameter, match="Changing param values is not allowed"):
        store.log_logged_model_params(model.model_id, [LoggedModelParameter("a", "2")])
    with pytest.raises(InvalidParameter, match="Duplicate"):
        store.create_logged_model(
            exp_id, params=[LoggedModelParameter("x", "1"), LoggedModelParameter("x", "2")]
        )


def test_create_with_many_params(store, exp_id):
    params = [LoggedModelParameter(f"k{i:03}", "v") for i in range(250)]
    model = store.create_logged_model(exp_id, name="wide", params=params)
    assert len(store.get_logged_model(model.model_id).params) == 250


# -- runs and models ----------------------------------------------------------------------------


def test_run_outputs_and_model_inputs(store, exp_id):
    run_id = _run_id(store, exp_id)
    made = store.create_logged_model(exp_id, name="made", source_run_id=run_id)
    used = store.create_logged_model(exp_id, name="used")
    store.log_outputs(run_id, [LoggedModelOutput(made.model_id, 3)])
    store.log_outputs(run_id, [LoggedModelOutput(made.model_id, 3)])  # idempotent
    dataset = Dataset("iris", "abc123", "local", '{"uri": "x"}')
    store.log_inputs(run_id, [DatasetInput(dataset)], [LoggedModelInput(used.model_id)])
    run = store.get_run(run_id)
    assert run.outputs.model_outputs == [LoggedModelOutput(made.model_id, 3)]
    assert run.inputs.model_inputs == [LoggedModelInput(used.model_id)]
    assert [d.dataset.name for d in run.inputs.dataset_inputs] == ["iris"]
    fresh = store.get_run(_run_id(store, exp_id))
    assert fresh.outputs.model_outputs == [] and fresh.inputs.model_inputs == []


def test_search_runs_carries_outputs(store, exp_id):
    """search_runs results list the models each run produced, as get_run does."""
    with_models = _run_id(store, exp_id)
    without = _run_id(store, exp_id)
    first = store.create_logged_model(exp_id, name="a", source_run_id=with_models)
    second = store.create_logged_model(exp_id, name="b", source_run_id=with_models)
    store.log_outputs(
        with_models, [LoggedModelOutput(second.model_id, 2), LoggedModelOutput(first.model_id, 1)]
    )
    found = {r.info.run_id: r for r in store.search_runs([exp_id], None, ViewType.ALL, 100)}
    assert found[with_models].outputs.model_outputs == [
        LoggedModelOutput(first.model_id, 1),
        LoggedModelOutput(second.model_id, 2),
    ]
    assert found[without].outputs.model_outputs == []


def test_outputs_and_inputs_refuse_unknown_models_without_writing(store, exp_id):
    run_id = _run_id(store, exp_id)
    missing = "m-" + "2" * 32
    with pytest.raises(NotFound, match=missing):
        store.log_outputs(run_id, [LoggedModelOutput(missing, 0)])
    dataset = Dataset("iris", "abc123", "local", "{}")
    with pytest.raises(NotFound, match=missing):
        store.log_inputs(run_id, [DatasetInput(dataset)], [LoggedModelInput(missing)])
    run = store.get_run(run_id)
    assert run.outputs.model_outputs == [] and run.inputs.dataset_inputs == []
    model = store.create_logged_model(exp_id, name="m")
    with pytest.raises(NotFound):
        store.log_outputs("f" * 32, [LoggedModelOutput(model.model_id, 0)])
    store.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="active"):
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 0)])


def test_metrics_logged_with_a_model_id_fill_the_models_metrics(store, exp_id):
    run_id = _run_id(store, exp_id)
    model = store.create_logged_model(exp_id, name="m", source_run_id=run_id)
    mid = model.model_id
    points = [
        Metric("acc", 0.8, 10, 0, model_id=mid),
        Metric("acc", 0.9, 20, 1, model_id=mid, dataset_name="val", dataset_digest="d1"),
        Metric("odd", float("nan"), 10, 0, model_id=mid),
        Metric("run_only", 1.0, 10, 0),
    ]
    store.log_batch(run_id, metrics=points, params=[Param("lr", "0.1")])
    store.log_batch(run_id, metrics=points[:1])  # sent again: one copy
    found = store.get_logged_model(mid).metrics
    assert [(m.key, m.value, m.step) for m in found if m.key == "acc"] == [
        ("acc", 0.8, 0),
        ("acc", 0.9, 1),
    ]
    assert all(m.model_id == mid and m.run_id == run_id for m in found)
    val = next(m for m in found if m.dataset_name)
    assert (val.dataset_name, val.dataset_digest) == ("val", "d1")
    assert math.isnan(next(m for m in found if m.key == "odd").value)
    assert "run_only" not in {m.key for m in found}
    # The run keeps every point as before.
    assert store.get_run(run_id).data.metrics["acc"] == 0.9
    assert len(store.get_metric_history(run_id, "acc")) == 2


def test_metrics_for_an_unknown_model_land_nowhere(store, exp_id):
    run_id = _run_id(store, exp_id)
    missing = "m-" + "3" * 32
    with pytest.raises(NotFound, match=missing):
        store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0, model_id=missing)])
    assert store.get_run(run_id).data.metrics == {}


# -- search -------------------------------------------------------------------------------------


@pytest.fixture
def three_models(store, exp_id):
    """Models a, b, c created in that order, with metrics, params, tags and statuses."""
    run_id = _run_id(store, exp_id)
    made = {}
    for name, acc, family, status in (
        ("a", 0.7, "linear", "READY"),
        ("b", 0.9, "tree", "READY"),
        ("c", None, "tree", "PENDING"),
    ):
        model = store.create_logged_model(
            exp_id,
            name=name,
            source_run_id=run_id,
            params=[LoggedModelParameter("family", family)],
            tags=[LoggedModelTag("owner", f"team-{name}")],
            model_type="classifier" if name != "c" else None,
        )
        if acc is not None:
            store.log_batch(
                run_id,
                metrics=[
                    Metric("acc", acc, 1, 0, model_id=model.model_id),
                    Metric("acc", acc - 0.5, 1, 0, model_id=model.model_id, dataset_name="hard"),
                ],
            )
        if status != "PENDING":
            store.finalize_logged_model(model.model_id, status)
        made[name] = model
    return made


def test_default_order_is_newest_first(store, exp_id, three_models):
    assert _names(store.search_logged_models([exp_id])) == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'b'", ["b"]),
        ("name != 'b'", ["c", "a"]),
        ("name IN ('a', 'c')", ["c", "a"]),
        ("name LIKE 'a%'", ["a"]),
        ("status = 'READY'", ["b", "a"]),
        ("status = 'LOGGED_MODEL_PENDING'", ["c"]),
        ("model_type = 'classifier'", ["b", "a"]),
        ("model_type != 'classifier'", ["c"]),
        ("metrics.acc > 0.8", ["b"]),
        ("metrics.acc >= 0.7", ["b", "a"]),
        ("metrics.acc < 1", ["b", "a"]),
        ("params.family = 'tree'", ["c", "b"]),
        ("params.family != 'tree'", ["a"]),
        ("tags.owner LIKE 'team-%' AND params.family = 'tree'", ["c", "b"]),
        ("tags.owner ILIKE 'TEAM-A'", ["a"]),
        ("tags.missing IS NULL", ["c", "b", "a"]),
        ("params.family = 'linear' OR name = 'c'", ["c", "a"]),
        ("NOT params.family = 'tree'", ["a"]),
        ("creation_timestamp > 0", ["c", "b", "a"]),
        ("last_updated_time >= 0 AND attributes.name = 'a'", ["a"]),
        ("min(metrics.acc) < 0.5", ["b", "a"]),
        ("max(metrics.acc) > 0.8", ["b"]),
        ("last(metrics.acc) < 0.3", ["a"]),
        ("NOT metrics.acc > 0.8", ["c", "a"]),
    ],
)
def test_filters(store, exp_id, three_models, filter_string, expected):
    assert _names(store.search_logged_models([exp_id], filter_string)) == expected


def test_filter_by_model_and_run_ids(store, exp_id, three_models):
    a = three_models["a"]
    assert _names(store.search_logged_models([exp_id], f"model_id = '{a.model_id}'")) == ["a"]
    found = store.search_logged_models([exp_id], f"source_run_id = '{a.source_run_id}'")
    assert _names(found) == ["c", "b", "a"]


def test_datasets_narrow_metric_filters(store, exp_id, three_models):
    hard = [{"dataset_name": "hard"}]
    assert _names(store.search_logged_models([exp_id], "metrics.acc > 0.3", datasets=hard)) == ["b"]
    assert _names(store.search_logged_models([exp_id], "metrics.acc > 0.3")) == ["b", "a"]


def test_order_by(store, exp_id, three_models):
    def order(*items):
        return _names(store.search_logged_models([exp_id], order_by=list(items)))

    assert order({"field_name": "name", "ascending": True}) == ["a", "b", "c"]
    assert order({"field_name": "name", "ascending": False}) == ["c", "b", "a"]
    assert order({"field_name": "creation_timestamp", "ascending": True}) == ["a", "b", "c"]
    # Models without the metric come last in both directions.
    assert order({"field_name": "metrics.acc", "ascending": True}) == ["a", "b", "c"]
    assert order({"field_name": "metrics.acc", "ascending": False}) == ["b", "a", "c"]
    by_hard = {"field_name": "metrics.acc", "ascending": False, "dataset_name": "hard"}
    assert order(by_hard) == ["b", "a", "c"]
    assert order("name DESC") == ["c", "b", "a"]


def test_paging(store, exp_id, three_models):
    first = store.search_logged_models([exp_id], max_results=2)
    assert _names(first) == ["c", "b"] and first.token
    rest = store.search_logged_models([exp_id], max_results=2, page_token=first.token)
    assert _names(rest) == ["a"] and rest.token is None
    with pytest.raises(InvalidParameter, match="another search"):
        store.search_logged_models([exp_id], "name = 'a'", max_results=2, page_token=first.token)
    with pytest.raises(InvalidParameter, match="page token"):
        store.search_logged_models([exp_id], page_token="garbage")


def test_search_spans_experiments_and_skips_others(store, exp_id, three_models):
    other = store.create_experiment("other")
    store.create_logged_model(other, name="z")
    assert _names(store.search_logged_models([exp_id, other], "name IN ('a', 'z')")) == ["z", "a"]
    assert _names(store.search_logged_models([other])) == ["z"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"filter_string": "metrics.acc > 'high'"}, "number"),
        ({"filter_string": "params.family = tree"}, "quoted"),
        ({"filter_string": "flavor = 'x'"}, "unknown"),
        ({"filter_string": "experiment_id = '1'"}, "experiment_ids"),
        ({"filter_string": "name = "}, "value"),
        ({"order_by": [{"field_name": "params.family"}]}, "order_by"),
        ({"order_by": [{"field_name": "name", "dataset_name": "x"}]}, "metrics"),
        ({"order_by": [{"field_name": "metrics.acc", "dataset_digest": "d"}]}, "dataset_name"),
        ({"order_by": ["name", "name DESC"]}, "twice"),
        ({"max_results": 0}, "max_results"),
        ({"datasets": [{"dataset_digest": "d"}]}, "dataset_name"),
    ],
)
def test_bad_searches_are_one_clear_error(store, exp_id, kwargs, words):
    with pytest.raises(MltrailException) as info:
        store.search_logged_models([exp_id], **kwargs)
    assert info.value.get_http_status_code() == 400
    assert words in str(info.value)


def test_search_needs_experiments(store):
    with pytest.raises(MltrailException) as info:
        store.search_logged_models([])
    assert info.value.get_http_status_code() == 400
    assert "experiment_ids" in str(info.value)
