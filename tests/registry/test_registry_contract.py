"""The model registry store contract, on SQLite, PostgreSQL, MariaDB and through a live server
(``RestRegistryStore``): registered models, versions, tags, aliases, stages, search, and bad
input that leaves nothing behind."""

from __future__ import annotations

import pytest

from mltrail.entities import ModelVersionTag, RegisteredModelTag
from mltrail.exceptions import AlreadyExists, InvalidParameter, NotFound


def _names(page) -> list[str]:
    return [m.name for m in page]


def _register(stores, name: str, n: int = 1, tags: dict | None = None) -> list:
    """``n`` versions of ``name`` (created), each from a fresh run."""
    reg = stores.registry
    try:
        reg.get_registered_model(name)
    except NotFound:
        reg.create_registered_model(name)
    found = []
    for _ in range(n):
        run_id = stores.new_run().info.run_id
        tag_list = [ModelVersionTag(k, v) for k, v in (tags or {}).items()]
        found.append(reg.create_model_version(name, f"runs:/{run_id}/model", run_id, tag_list))
    return found


# -- registered models --------------------------------------------------------------------------


def test_create_get_and_duplicate(stores):
    reg = stores.registry
    made = reg.create_registered_model("clf", [RegisteredModelTag("team", "ml")], "first")
    assert (made.name, made.description, made.tags) == ("clf", "first", {"team": "ml"})
    got = reg.get_registered_model("clf")
    assert got.tags == {"team": "ml"}
    assert got.latest_versions == [] and got.aliases == {}
    assert got.creation_timestamp > 0
    with pytest.raises(AlreadyExists, match=r"Registered Model \(name=clf\) already exists"):
        reg.create_registered_model("clf", [RegisteredModelTag("team", "other")], "second")
    assert reg.get_registered_model("clf").description == "first"  # untouched
    assert reg.get_registered_model("clf").tags == {"team": "ml"}


@pytest.mark.parametrize("bad", ["", "   ", "a" * 300, "a/b", "a:b", "x\\y", ".."])
def test_bad_names_create_nothing(stores, bad):
    with pytest.raises(InvalidParameter):
        stores.registry.create_registered_model(bad)
    assert list(stores.registry.search_registered_models()) == []


def test_unknown_model(stores):
    with pytest.raises(NotFound, match="nope"):
        stores.registry.get_registered_model("nope")
    with pytest.raises(NotFound):
        stores.registry.create_model_version("nope", "runs:/x/model", "x")


def test_rename_keeps_versions_tags_and_aliases(stores):
    reg = stores.registry
    _register(stores, "old", 2)
    reg.set_registered_model_tag("old", RegisteredModelTag("k", "v"))
    reg.set_registered_model_alias("old", "champion", 2)
    renamed = reg.rename_registered_model("old", "new")
    assert renamed.name == "new"
    assert renamed.aliases == {"champion": 2} and renamed.tags == {"k": "v"}
    assert reg.get_model_version("new", 1).name == "new"
    assert reg.get_model_version_by_alias("new", "champion").version == 2
    with pytest.raises(NotFound):
        reg.get_registered_model("old")
    reg.create_registered_model("other")
    with pytest.raises(AlreadyExists):
        reg.rename_registered_model("other", "new")
    assert _names(reg.search_registered_models()) == ["new", "other"]


def test_update_and_delete_model(stores):
    reg = stores.registry
    _register(stores, "m", 2)
    assert reg.update_registered_model("m", "better").description == "better"
    assert reg.get_registered_model("m").description == "better"
    reg.delete_registered_model("m")
    with pytest.raises(NotFound):
        reg.get_registered_model("m")
    assert list(reg.search_model_versions("name = 'm'")) == []
    # The name is free again, and numbering starts over for the new model.
    assert _register(stores, "m")[0].version == 1


# -- versions -----------------------------------------------------------------------------------


def test_versions_are_numbered_and_never_reused(stores):
    reg = stores.registry
    versions = _register(stores, "m", 3)
    assert [v.version for v in versions] == [1, 2, 3]
    assert all(v.status == "READY" and v.current_stage == "None" for v in versions)
    reg.delete_model_version("m", 3)
    with pytest.raises(NotFound, match=r"Model Version \(name=m, version=3\) not found"):
        reg.get_model_version("m", 3)
    assert _register(stores, "m")[0].version == 4


def test_version_from_run_records_run_and_location(stores):
    reg = stores.registry
    run = stores.new_run()
    reg.create_registered_model("m")
    v = reg.create_model_version(
        "m", f"runs:/{run.info.run_id}/model", run.info.run_id,
        [ModelVersionTag("k", "v")], "http://ci/run/1", "desc",
    )  # fmt: skip
    assert (v.run_id, v.run_link, v.description, v.tags) == (
        run.info.run_id, "http://ci/run/1", "desc", {"k": "v"},
    )  # fmt: skip
    assert v.source == f"runs:/{run.info.run_id}/model"
    uri = reg.get_model_version_download_uri("m", 1)
    assert uri.rstrip("/").endswith(f"{run.info.run_id}/artifacts/model")
    got = reg.get_model_version("m", "1")
    assert got.version == 1 and got.tags == {"k": "v"}


def test_update_version_and_tags(stores):
    reg = stores.registry
    _register(stores, "m", 1, {"a": "1"})
    assert reg.update_model_version("m", 1, "new words").description == "new words"
    reg.set_model_version_tag("m", 1, ModelVersionTag("a", "2"))
    reg.set_model_version_tag("m", 1, ModelVersionTag("b", "x"))
    assert reg.get_model_version("m", 1).tags == {"a": "2", "b": "x"}
    reg.delete_model_version_tag("m", 1, "a")
    assert reg.get_model_version("m", 1).tags == {"b": "x"}
    reg.set_registered_model_tag("m", RegisteredModelTag("t", "1"))
    reg.delete_registered_model_tag("m", "t")
    assert reg.get_registered_model("m").tags == {}
    with pytest.raises(NotFound):
        reg.set_model_version_tag("m", 9, ModelVersionTag("a", "1"))
    with pytest.raises(InvalidParameter):
        reg.set_model_version_tag("m", 1, ModelVersionTag("../x", "1"))
    with pytest.raises(InvalidParameter, match="version"):
        reg.get_model_version("m", "one")


# -- aliases ------------------------------------------------------------------------------------


def test_aliases_point_move_and_go_with_their_version(stores):
    reg = stores.registry
    _register(stores, "m", 3)
    reg.set_registered_model_alias("m", "champion", 1)
    reg.set_registered_model_alias("m", "challenger", "2")
    assert reg.get_registered_model("m").aliases == {"challenger": 2, "champion": 1}
    assert reg.get_model_version("m", 1).aliases == ["champion"]
    reg.set_registered_model_alias("m", "champion", 3)  # moves
    assert reg.get_model_version_by_alias("m", "champion").version == 3
    assert reg.get_model_version("m", 1).aliases == []
    reg.delete_model_version("m", 3)  # its alias goes with it
    assert reg.get_registered_model("m").aliases == {"challenger": 2}
    with pytest.raises(NotFound, match="champion"):
        reg.get_model_version_by_alias("m", "champion")
    reg.delete_registered_model_alias("m", "challenger")
    assert reg.get_registered_model("m").aliases == {}


@pytest.mark.parametrize(
    "bad", ["v1", "V12", "latest", "LATEST", "has space", "a/b", "", "x" * 300]
)
def test_reserved_and_malformed_aliases_are_refused(stores, bad):
    reg = stores.registry
    _register(stores, "m", 1)
    with pytest.raises(InvalidParameter):
        reg.set_registered_model_alias("m", bad, 1)
    assert reg.get_registered_model("m").aliases == {}


def test_alias_on_unknown_version(stores):
    _register(stores, "m", 1)
    with pytest.raises(NotFound):
        stores.registry.set_registered_model_alias("m", "champion", 7)
    assert stores.registry.get_registered_model("m").aliases == {}


# -- stages (deprecated, kept for clients) ------------------------------------------------------


def test_stages_and_latest_versions(stores):
    reg = stores.registry
    _register(stores, "m", 4)
    assert reg.transition_model_version_stage("m", 1, "production").current_stage == "Production"
    reg.transition_model_version_stage("m", 2, "Staging")
    reg.transition_model_version_stage("m", 3, "Production", archive_existing_versions=True)
    assert reg.get_model_version("m", 1).current_stage == "Archived"
    latest = {v.current_stage: v.version for v in reg.get_latest_versions("m")}
    assert latest == {"Archived": 1, "Staging": 2, "Production": 3, "None": 4}
    assert [v.version for v in reg.get_latest_versions("m", ["production"])] == [3]
    stages = {v.current_stage for v in reg.get_registered_model("m").latest_versions}
    assert stages == {"Archived", "Staging", "Production", "None"}
    with pytest.raises(InvalidParameter, match="Invalid Model Version stage"):
        reg.transition_model_version_stage("m", 4, "Prod")
    with pytest.raises(InvalidParameter):
        reg.transition_model_version_stage("m", 4, "Archived", archive_existing_versions=True)


# -- search -------------------------------------------------------------------------------------


def test_search_registered_models(stores):
    reg = stores.registry
    for name in ("alpha", "Beta", "gamma-1", "gamma_2"):
        reg.create_registered_model(name, [RegisteredModelTag("team", name[0].lower())])
    assert _names(reg.search_registered_models()) == ["Beta", "alpha", "gamma-1", "gamma_2"]
    assert _names(reg.search_registered_models("name LIKE 'gamma%'")) == ["gamma-1", "gamma_2"]
    assert _names(reg.search_registered_models("name LIKE 'b%'")) == []
    assert _names(reg.search_registered_models("name ILIKE 'b%'")) == ["Beta"]
    assert _names(reg.search_registered_models("name = 'alpha'")) == ["alpha"]
    assert _names(reg.search_registered_models("tags.team = 'g'")) == ["gamma-1", "gamma_2"]
    assert _names(reg.search_registered_models("name IN ('alpha', 'Beta')")) == ["Beta", "alpha"]
    assert _names(reg.search_registered_models(order_by=["name DESC"]))[0] == "gamma_2"
    first = reg.search_registered_models(max_results=3)
    assert len(first) == 3 and first.token
    rest = reg.search_registered_models(max_results=3, page_token=first.token)
    assert _names(first) + _names(rest) == ["Beta", "alpha", "gamma-1", "gamma_2"]
    assert rest.token is None
    with pytest.raises(InvalidParameter):
        reg.search_registered_models("metrics.acc > 1")
    with pytest.raises(InvalidParameter):
        reg.search_registered_models(max_results=1001)


def test_search_model_versions(stores):
    reg = stores.registry
    a = _register(stores, "a", 3, {"env": "prod"})
    b = _register(stores, "b", 1)

    def found(flt=None, **kw):
        return [(v.name, v.version) for v in reg.search_model_versions(flt, **kw)]

    assert found("name = 'a'", order_by=["version_number ASC"]) == [("a", 1), ("a", 2), ("a", 3)]
    assert found("name = 'a' AND version_number > 1", order_by=["version_number DESC"]) == [
        ("a", 3), ("a", 2),
    ]  # fmt: skip
    runs = (a[0].run_id, b[0].run_id)
    assert sorted(found(f"run_id IN ('{runs[0]}', '{runs[1]}')")) == [("a", 1), ("b", 1)]
    assert found(f"source_path = 'runs:/{b[0].run_id}/model'") == [("b", 1)]
    assert len(found("source_path LIKE 'runs:/%'")) == 4
    assert found("tags.env = 'prod' AND name = 'b'") == []
    assert len(found("tags.env = 'prod'")) == 3
    page = reg.search_model_versions("name = 'a'", max_results=2)
    assert len(page) == 2 and page.token
    more = reg.search_model_versions("name = 'a'", max_results=2, page_token=page.token)
    assert len(more) == 1 and more.token is None
    with pytest.raises(InvalidParameter):
        reg.search_model_versions("version_number > 'x'")


def test_prompts_are_left_out_unless_asked_for(stores):
    reg = stores.registry
    reg.create_registered_model("plain")
    reg.create_registered_model("prompt", [RegisteredModelTag("mlflow.prompt.is_prompt", "true")])
    client_filter = "tags.`mlflow.prompt.is_prompt` != 'true'"  # what the mlflow client adds
    assert _names(reg.search_registered_models()) == ["plain"]
    assert _names(reg.search_registered_models(client_filter)) == ["plain"]
    asked = reg.search_registered_models("tags.`mlflow.prompt.is_prompt` = 'true'")
    assert _names(asked) == ["prompt"]


# -- copying ------------------------------------------------------------------------------------


def test_copy_model_version(stores):
    reg = stores.registry
    src = _register(stores, "staging-model", 1, {"k": "v"})[0]
    reg.set_registered_model_alias("staging-model", "ok", 1)
    copied = reg.copy_model_version(reg.get_model_version("staging-model", 1), "prod-model")
    assert (copied.name, copied.version, copied.run_id) == ("prod-model", 1, src.run_id)
    assert copied.tags == {"k": "v"}
    assert reg.get_model_version_download_uri("prod-model", 1) == (
        reg.get_model_version_download_uri("staging-model", 1)
    )
    again = reg.create_model_version("prod-model", "models:/staging-model@ok", src.run_id)
    assert again.version == 2
