"""Differential cases: the model registry through ``MlflowClient`` (registered models,
versions, aliases, tags). Names are made unique per scenario (the registry is global).

In process only for now: through a server, MLflow's REST client itself reports alias
versions as strings and an unset description as "" (its local client: ints and None), so the
local run is no expectation for a server; that comparison needs ``mlflow server`` itself."""

from __future__ import annotations

from typing import Any

from diff_harness import Ctx, case


def _name(ctx: Ctx, base: str = "model") -> str:
    name = f"{base}-{ctx.exp_id}-{ctx.impl.name}"
    ctx.name_id(name, f"<{base}>")
    return name


def _model_view(ctx: Ctx, name: str) -> Any:
    try:
        model = ctx.client.get_registered_model(name)
    except Exception as exc:  # noqa: BLE001
        return ctx.error(exc).as_tuple()
    return {
        "name": model.name,
        "description": model.description,
        "tags": dict(model.tags),
        "aliases": dict(getattr(model, "aliases", {}) or {}),
    }


def _version_view(ctx: Ctx, name: str, version: str) -> Any:
    try:
        mv = ctx.client.get_model_version(name, version)
    except Exception as exc:  # noqa: BLE001
        return ctx.error(exc).as_tuple()
    return {
        "name": mv.name,
        "version": str(mv.version),
        "description": mv.description,
        "tags": dict(mv.tags),
        "aliases": sorted(mv.aliases or []),
        "run_id": mv.run_id,
        "current_stage": mv.current_stage,
    }


@case("registry_create_model", ["plain", "duplicate", "with_tags"], server=False)
def registry_create_model(ctx: Ctx, how: str) -> Any:
    name = _name(ctx)
    tags = {"team": "vision"} if how == "with_tags" else None
    first = ctx.call(lambda: ctx.client.create_registered_model(name, tags, "about").name)
    second = None
    if how == "duplicate":
        second = ctx.call(lambda: ctx.client.create_registered_model(name).name)
    return [first, second, _model_view(ctx, name)]


@case(
    "registry_missing",
    ["get_model", "get_version", "delete_model", "rename", "alias"],
    server=False,
)
def registry_missing(ctx: Ctx, what: str) -> Any:
    c = ctx.client
    name = _name(ctx, "absent")
    calls = {
        "get_model": lambda: c.get_registered_model(name),
        "get_version": lambda: c.get_model_version(name, "1"),
        "delete_model": lambda: c.delete_registered_model(name),
        "rename": lambda: c.rename_registered_model(name, name + "-x"),
        "alias": lambda: c.get_model_version_by_alias(name, "champion"),
    }
    return ctx.call(calls[what])


@case("registry_versions_and_aliases", server=False)
def registry_versions_and_aliases(ctx: Ctx, _: Any) -> Any:
    c = ctx.client
    name = _name(ctx)
    c.create_registered_model(name)
    run_id = ctx.new_run()
    source = f"runs:/{run_id}/model"
    versions = [str(c.create_model_version(name, source, run_id=run_id).version) for _ in range(3)]
    c.set_registered_model_alias(name, "champion", versions[1])
    c.set_model_version_tag(name, versions[0], "k", "v")
    c.update_model_version(name, versions[2], description="third")
    moved = ctx.call(c.set_registered_model_alias, name, "champion", versions[2])
    by_alias = str(c.get_model_version_by_alias(name, "champion").version)
    bad_alias = ctx.call(c.set_registered_model_alias, name, "v1", versions[0])
    c.delete_model_version(name, versions[0])
    return {
        "versions": versions,
        "moved": moved,
        "by_alias": by_alias,
        "bad_alias": bad_alias,
        "model": _model_view(ctx, name),
        "v2": _version_view(ctx, name, versions[1]),
        "v3": _version_view(ctx, name, versions[2]),
        "deleted": _version_view(ctx, name, versions[0]),
    }


@case("registry_tags", server=False)
def registry_tags(ctx: Ctx, _: Any) -> Any:
    c = ctx.client
    name = _name(ctx)
    c.create_registered_model(name)
    c.set_registered_model_tag(name, "a", 1)
    c.set_registered_model_tag(name, "b", "x")
    c.delete_registered_model_tag(name, "b")
    gone = ctx.call(c.delete_registered_model_tag, name, "b")
    return [gone, _model_view(ctx, name)]


@case("registry_rename", server=False)
def registry_rename(ctx: Ctx, _: Any) -> Any:
    # The stored outcome only: MLflow 3.18's client returns None despite its annotation
    # (mltrail returns the renamed model).
    c = ctx.client
    name = _name(ctx)
    other = _name(ctx, "other")
    renamed_name = _name(ctx, "renamed")
    c.create_registered_model(name)
    c.create_registered_model(other)
    taken = ctx.call(lambda: c.rename_registered_model(name, other) and None)
    renamed = ctx.call(lambda: c.rename_registered_model(name, renamed_name) and None)
    return [taken, renamed, _model_view(ctx, renamed_name), _model_view(ctx, name)]
