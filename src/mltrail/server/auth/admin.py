"""Admin pages of a server run with ``--auth``: users (create, administrator or not, delete),
their grants on experiments and registered models, and groups (members, grants).

Plain HTML forms, for administrators only (``rules``: ``admin``). A form signed in by the
session cookie repeats the page's CSRF value in a ``csrf`` field, which the auth middleware
checks before anything here runs; other sites cannot post at all (the Origin check). Each
change answers 303 back to its page; a refused one shows the page again with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.server.auth.login import CSRF_COOKIE
from mltrail.server.auth.store import PERMISSIONS, AuthStore, User
from mltrail.server.ui.templating import render

router = APIRouter(include_in_schema=False)
KINDS = {"experiment": "Experiment", "registered_model": "Registered model"}

Form = dict[str, str]


def _auth(request: Request) -> AuthStore:
    return request.app.state.auth  # type: ignore[no-any-return]


def _me(request: Request) -> User:
    return request.scope["mltrail.user"]  # type: ignore[no-any-return]


def _field(form: Form, name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidParameter(f"Fill in the {name.replace('_', ' ')}.")
    return value


# -- pages ---------------------------------------------------------------------------------------
def _users_context(request: Request) -> dict[str, Any]:
    return {"title": "Users", "users": _auth(request).list_users()}


def _user_context(request: Request, username: str) -> dict[str, Any]:
    auth = _auth(request)
    user = auth.get_user(username)
    grants = [
        (kind, resource, permission)
        for kind in KINDS
        for resource, permission in sorted(auth.grants_of(kind, user.id).items())
    ]
    groups = [name for name, members in auth.list_groups().items() if username in members]
    return {"title": f"User {username}", "user": user, "grants": grants, "groups": groups}


def _groups_context(request: Request) -> dict[str, Any]:
    auth = _auth(request)
    found = auth.list_groups()
    groups = [(name, members, auth.group_grants(name)) for name, members in found.items()]
    return {"title": "Groups", "groups": groups}


_PAGES: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "users": ("admin_users.html", _users_context),
    "user": ("admin_user.html", _user_context),
    "groups": ("admin_groups.html", _groups_context),
}


async def _page(
    request: Request, page: str, *args: str, error: str = "", status: int = 200
) -> Response:
    template, context_of = _PAGES[page]
    context = await run_in_threadpool(context_of, request, *args)
    context.update(
        csrf=request.cookies.get(CSRF_COOKIE, ""),
        kinds=KINDS,
        permissions=PERMISSIONS,
        me=_me(request).username,
        error=error,
        saved=request.query_params.get("saved") == "1" and not error,
    )
    return render(request, template, context, status_code=status)


@router.get("/admin")
async def admin_home(request: Request) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users")
async def users_page(request: Request) -> Response:
    return await _page(request, "users")


@router.get("/admin/users/{username}")
async def user_page(request: Request, username: str) -> Response:
    try:
        return await _page(request, "user", username)
    except MltrailException as exc:
        return await _page(request, "users", error=exc.message, status=404)


@router.get("/admin/groups")
async def groups_page(request: Request) -> Response:
    return await _page(request, "groups")


# -- changes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One form: what it does, and the page it belongs to (page name, its argument field)."""

    run: Callable[[Request, Form], None]
    page: str
    page_arg: str | None = None


def _kind(form: Form) -> str:
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise InvalidParameter("Choose an experiment or a registered model.")
    return kind


def _checked_resource(request: Request, form: Form) -> tuple[str, str]:
    """The form's (kind, resource), the resource looked up so a typo is caught."""
    kind, resource = _kind(form), _field(form, "resource")
    if kind == "experiment":
        request.app.state.store.get_experiment(resource)
    else:
        request.app.state.registry_store.get_registered_model(resource)
    return kind, resource


def _not_myself(request: Request, form: Form, what: str) -> str:
    username = _field(form, "username")
    if username == _me(request).username:
        raise InvalidParameter(f"You cannot {what} yourself here; ask another administrator.")
    return username


def _create_user(request: Request, form: Form) -> None:
    admin = form.get("is_admin") == "on"
    _auth(request).create_user(_field(form, "username"), form.get("password", ""), admin)


def _set_admin(request: Request, form: Form) -> None:
    username = _not_myself(request, form, "change the administrator rights of")
    _auth(request).update_admin(username, form.get("is_admin") == "true")


def _delete_user(request: Request, form: Form) -> None:
    _auth(request).delete_user(_not_myself(request, form, "delete"))


def _grant_user(request: Request, form: Form) -> None:
    kind, resource = _checked_resource(request, form)
    auth, username = _auth(request), _field(form, "username")
    auth.set_grant(kind, resource, username, form.get("permission", ""))


def _revoke_user(request: Request, form: Form) -> None:
    _auth(request).delete_grant(_kind(form), _field(form, "resource"), _field(form, "username"))


def _group_grant(request: Request, form: Form) -> None:
    kind, resource = _checked_resource(request, form)
    _auth(request).grant_group(_field(form, "group"), kind, resource, form.get("permission", ""))


CHANGES: dict[str, Change] = {
    "users/create": Change(_create_user, "users"),
    "users/set-admin": Change(_set_admin, "users"),
    "users/delete": Change(_delete_user, "users"),
    "users/grant": Change(_grant_user, "user", "username"),
    "users/revoke": Change(_revoke_user, "user", "username"),
    "groups/create": Change(lambda r, f: _auth(r).create_group(_field(f, "group")), "groups"),
    "groups/delete": Change(lambda r, f: _auth(r).delete_group(_field(f, "group")), "groups"),
    "groups/add-member": Change(
        lambda r, f: _auth(r).add_member(_field(f, "group"), _field(f, "username")), "groups"
    ),
    "groups/remove-member": Change(
        lambda r, f: _auth(r).remove_member(_field(f, "group"), _field(f, "username")), "groups"
    ),
    "groups/grant": Change(_group_grant, "groups"),
    "groups/revoke": Change(
        lambda r, f: _auth(r).revoke_group(_field(f, "group"), _kind(f), _field(f, "resource")),
        "groups",
    ),
}


@router.post("/admin/{section}/{action}")
async def change(request: Request, section: str, action: str) -> Response:
    found = CHANGES.get(f"{section}/{action}")
    if found is None:
        return Response("No such admin action.", status_code=404, media_type="text/plain")
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=100).items()}
    subject = form.get(found.page_arg, "") if found.page_arg else ""
    args: tuple[str, ...] = (subject,) if found.page_arg else ()
    try:
        await run_in_threadpool(found.run, request, form)
    except MltrailException as exc:
        status = exc.get_http_status_code()
        try:
            return await _page(request, found.page, *args, error=exc.message, status=status)
        except MltrailException:  # the page's own subject is gone: the list instead
            return await _page(request, "users", error=exc.message, status=status)
    request.app.state.forget_credentials()  # a changed user or grant applies at once
    back = f"/admin/{found.page}"
    if found.page_arg:
        back = "/admin/users/" + quote(subject, safe="")
    return RedirectResponse(back + "?saved=1", status_code=303)
