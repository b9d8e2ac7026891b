"""The registry's entities in MLflow's JSON (REST 2.0): written by the server, read by
``RestRegistryStore``. Versions travel as strings, timestamps as int64 numbers, unset fields
are left out."""

from __future__ import annotations

from typing import Any

from mltrail.entities import ModelVersion, RegisteredModel


def _key_values(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def model_version_to_json(v: ModelVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.creation_timestamp,
        "last_updated_timestamp": v.last_updated_timestamp,
        "current_stage": v.current_stage,
        "source": v.source,
        "status": v.status,
    }
    for name in ("description", "user_id", "run_id", "run_link", "status_message", "model_id"):
        value = getattr(v, name)
        if value:
            out[name] = value
    if v.tags:
        out["tags"] = _key_values(v.tags)
    if v.aliases:
        out["aliases"] = list(v.aliases)
    return out


def registered_model_to_json(m: RegisteredModel) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": m.name,
        "creation_timestamp": m.creation_timestamp,
        "last_updated_timestamp": m.last_updated_timestamp,
    }
    if m.description:
        out["description"] = m.description
    if m.user_id:
        out["user_id"] = m.user_id
    if m.latest_versions:
        out["latest_versions"] = [model_version_to_json(v) for v in m.latest_versions]
    if m.tags:
        out["tags"] = _key_values(m.tags)
    if m.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in m.aliases.items()]
    return out


def _tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {i["key"]: i.get("value", "") for i in items or []}


def model_version_from_json(d: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=d["name"],
        version=int(d["version"]),
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        source=d.get("source", ""),
        current_stage=d.get("current_stage", "None"),
        description=d.get("description") or None,
        user_id=d.get("user_id") or None,
        run_id=d.get("run_id") or None,
        run_link=d.get("run_link") or None,
        status=d.get("status", "READY"),
        status_message=d.get("status_message") or None,
        model_id=d.get("model_id") or None,
        tags=_tags(d.get("tags")),
        aliases=list(d.get("aliases", [])),
    )


def registered_model_from_json(d: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=d["name"],
        creation_timestamp=int(d.get("creation_timestamp", 0)),
        last_updated_timestamp=int(d.get("last_updated_timestamp", 0)),
        description=d.get("description") or None,
        user_id=d.get("user_id") or None,
        tags=_tags(d.get("tags")),
        aliases={a["alias"]: int(a["version"]) for a in d.get("aliases", [])},
        latest_versions=[model_version_from_json(v) for v in d.get("latest_versions", [])],
    )
