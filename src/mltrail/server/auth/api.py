"""The REST API of MLflow's basic-auth app, so its client and scripts written for it work:
users (create, get, current, update-password, update-admin, delete), grants on experiments and
registered models (``experiments/permissions/*``, ``registered-models/permissions/*``) and
MLflow 3's ``users/permissions/grant|revoke|get``. Who may call what is in ``rules``; the
middleware has checked it before these run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from mltrail.exceptions import InvalidParameter
from mltrail.server.api.encode import reply
from mltrail.server.api.wire import call, read_body_dict
from mltrail.server.auth.store import RANK, AuthStore, User, permission_name

router = APIRouter(tags=["users and permissions"])
PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
PREFIXES_V3 = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")
KINDS = {"experiment": "experiment", "registered_model": "registered_model"}


def _auth(request: Request) -> AuthStore:
    return request.app.state.auth  # type: ignore[no-any-return]


def _forget(request: Request) -> None:
    request.app.state.forget_credentials()


def _me(request: Request) -> User:
    return request.scope["mltrail.user"]  # type: ignore[no-any-return]


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None or value == "":
        raise InvalidParameter(f"Missing value for required parameter '{name}'.")
    return str(value)


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "is_admin": user.is_admin}


def _route(method: str, suffix: str, v3: bool = False) -> Callable[[Any], Any]:
    def register(endpoint: Any) -> Any:
        for prefix in PREFIXES_V3 if v3 else PREFIXES:
            router.add_api_route(
                prefix + suffix,
                endpoint,
                methods=[method],
                include_in_schema=prefix.startswith("/api/"),
            )
        return endpoint

    return register


async def _values(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    return await read_body_dict(request)


# -- users ---------------------------------------------------------------------------------------
@_route("POST", "/users/create")
async def create_user(request: Request) -> Response:
    data = await _values(request)
    user = await call(_auth(request).create_user, _text(data, "username"), data.get("password"))
    return reply({"user": _user_json(user)})


@_route("GET", "/users/get")
async def get_user(request: Request) -> Response:
    auth = _auth(request)
    user = await call(auth.get_user, _text(await _values(request), "username"))
    answer = _user_json(user)
    experiments = await call(auth.grants_of, "experiment", user.id)
    models = await call(auth.grants_of, "registered_model", user.id)
    answer["experiment_permissions"] = [
        {"experiment_id": k, "user_id": user.id, "permission": v} for k, v in experiments.items()
    ]
    answer["registered_model_permissions"] = [
        {"name": k, "user_id": user.id, "permission": v} for k, v in models.items()
    ]
    return reply({"user": answer})


@_route("GET", "/users/current")
async def current_user(request: Request) -> Response:
    return reply({"user": _user_json(_me(request))})


@_route("PATCH", "/users/update-password")
async def update_password(request: Request) -> Response:
    data = await _values(request)
    username = _text(data, "username")
    auth = _auth(request)
    current = data.get("current_password")
    self_service = current is not None and not _me(request).is_admin
    if self_service and await call(auth.authenticate, username, str(current)) is None:
        raise InvalidParameter("The current password is not right.")
    await call(auth.update_password, username, data.get("password"))
    _forget(request)
    return reply()


@_route("PATCH", "/users/update-admin")
async def update_admin(request: Request) -> Response:
    data = await _values(request)
    is_admin = data.get("is_admin")
    if isinstance(is_admin, str):
        is_admin = is_admin.lower() == "true"
    if not isinstance(is_admin, bool):
        raise InvalidParameter("is_admin must be true or false.")
    await call(_auth(request).update_admin, _text(data, "username"), is_admin)
    _forget(request)
    return reply()


@_route("DELETE", "/users/delete")
async def delete_user(request: Request) -> Response:
    data = await _values(request)
    username = _text(data, "username")
    if username == _me(request).username:
        raise InvalidParameter("You cannot delete yourself; ask another administrator.")
    await call(_auth(request).delete_user, username)
    _forget(request)
    return reply()


# -- grants --------------------------------------------------------------------------------------
def _grant_routes(kind: str, path: str, id_field: str, answer_key: str) -> None:
    def shape(resource: str, user_id: int, permission: str) -> dict[str, Any]:
        return {answer_key: {id_field: resource, "user_id": user_id, "permission": permission}}

    async def create(request: Request) -> Response:
        data = await _values(request)
        resource, username = _text(data, id_field), _text(data, "username")
        permission = permission_name(data.get("permission"))
        auth = _auth(request)
        await call(auth.grant, kind, resource, username, permission)
        _forget(request)
        user = await call(auth.get_user, username)
        return reply(shape(resource, user.id, permission))

    async def get(request: Request) -> Response:
        data = await _values(request)
        resource, username = _text(data, id_field), _text(data, "username")
        auth = _auth(request)
        user = await call(auth.get_user, username)
        found = await call(auth.get_grant, kind, resource, user.id)
        if found is None:
            from mltrail.exceptions import NotFound

            raise NotFound(f"No permission of user '{username}' on {kind} '{resource}'.")
        return reply(shape(resource, user.id, found))

    async def update(request: Request) -> Response:
        data = await _values(request)
        resource, username = _text(data, id_field), _text(data, "username")
        await call(_auth(request).update_grant, kind, resource, username, data.get("permission"))
        _forget(request)
        return reply()

    async def delete(request: Request) -> Response:
        data = await _values(request)
        await call(
            _auth(request).delete_grant, kind, _text(data, id_field), _text(data, "username")
        )
        _forget(request)
        return reply()

    for method, name, endpoint in (
        ("POST", "create", create),
        ("GET", "get", get),
        ("PATCH", "update", update),
        ("DELETE", "delete", delete),
    ):
        _route(method, f"/{path}/permissions/{name}")(endpoint)


_grant_routes("experiment", "experiments", "experiment_id", "experiment_permission")
_grant_routes("registered_model", "registered-models", "name", "registered_model_permission")


# -- MLflow 3's generic grants ---------------------------------------------------------------
def _typed(data: dict[str, Any]) -> tuple[str, str, str]:
    kind = KINDS.get(str(data.get("resource_type", "")).lower())
    if kind is None:
        raise InvalidParameter(
            f"Invalid resource_type {data.get('resource_type')!r}: use experiment or "
            "registered_model."
        )
    return kind, _text(data, "resource_id"), _text(data, "username")


@_route("POST", "/users/permissions/grant", v3=True)
async def grant_permission(request: Request) -> Response:
    data = await _values(request)
    kind, resource, username = _typed(data)
    permission = permission_name(data.get("permission"))
    auth = _auth(request)
    user = await call(auth.get_user, username)
    if await call(auth.get_grant, kind, resource, user.id) is None:
        await call(auth.grant, kind, resource, username, permission)
    else:
        await call(auth.update_grant, kind, resource, username, permission)
    _forget(request)
    return reply()


@_route("POST", "/users/permissions/revoke", v3=True)
async def revoke_permission(request: Request) -> Response:
    kind, resource, username = _typed(await _values(request))
    await call(_auth(request).delete_grant, kind, resource, username)
    _forget(request)
    return reply()


@_route("GET", "/users/permissions/get", v3=True)
async def get_permission(request: Request) -> Response:
    kind, resource, username = _typed(await _values(request))
    auth = _auth(request)
    user = await call(auth.get_user, username)
    have = "MANAGE" if user.is_admin else await call(auth.get_grant, kind, resource, user.id)
    have = have or await call(auth.group_grant, kind, resource, user.id)
    have = have or request.app.state.settings.auth_default_permission
    return reply({"allowed": RANK[have] > 0, "permission": have})
