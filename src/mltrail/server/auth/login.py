"""The web UI's sign-in: a login page, a session cookie, and CSRF protection on every change.

``POST /login`` (a form) checks the password and sets two cookies: ``mltrail_session`` (an
HttpOnly, SameSite=Strict session token, stored like an API token and valid for
``SESSION_HOURS``) and ``mltrail_csrf`` (random, readable by the page's script). Every
state-changing request authenticated by the session cookie must repeat the CSRF value in an
``X-CSRF-Token`` header (the UI's ``postJSON`` does); a page on another site can make the
browser send the cookies but cannot read them. The login form itself carries the value too
(double submit), so nobody can sign a browser in to their own account. ``POST /logout`` ends
the session.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mltrail.server.auth.store import AuthStore

SESSION_COOKIE = "mltrail_session"
CSRF_COOKIE = "mltrail_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_NAME = "ui-session"
SESSION_HOURS = 12

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · mltrail</title><link rel="stylesheet" href="{root}/ui/static/app.css"></head>
<body><main id="main" class="login">
<h1>Sign in to mltrail</h1>
{error}
<form method="post" action="{root}/login">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<p><label>User name<br><input name="username" autocomplete="username" required
 autofocus></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password"
 required></label></p>
<p><button type="submit">Sign in</button></p>
</form>
<p class="muted">Scripts and the mlflow client use a user name and password or an API token
(MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN).</p>
</main></body></html>
"""


def _safe_next(value: str | None) -> str:
    """Only a path on this site: no ``//host`` or ``scheme:`` redirects."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _page(
    request: Request, csrf: str, next_path: str, error: str = "", status: int = 200
) -> HTMLResponse:
    from mltrail.server.ui.templating import PAGE_HEADERS

    shown = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    root = html.escape(request.scope.get("root_path", ""))
    body = _PAGE.format(error=shown, csrf=html.escape(csrf), next=html.escape(next_path), root=root)
    return HTMLResponse(body, status_code=status, headers=dict(PAGE_HEADERS))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
async def login_page(request: Request) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    answer = _page(request, csrf, _safe_next(request.query_params.get("next")))
    answer.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=_secure(request), path="/"
    )
    return answer


@router.post("/login")
async def login(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8")).items()}
    next_path = _safe_next(form.get("next"))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
        return _page(request, cookie or secrets.token_urlsafe(24), next_path,
                     "The form expired; please sign in again.", 403)  # fmt: skip
    auth: AuthStore = request.app.state.auth
    keys = (f"ip:{_client(request)}", f"user:{form.get('username', '')}")
    wait = auth.throttle.retry_after(*keys)
    if wait:
        message = f"Too many failed sign-ins; try again in {wait} s."
        refused = _page(request, cookie, next_path, message, 429)
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = await run_in_threadpool(
        auth.authenticate, form.get("username", ""), form.get("password", "")
    )
    if user is None:
        auth.throttle.failed(*keys)
        request.app.state.auth.note(
            form.get("username") or None, "POST", "/login", 401, _client(request)
        )
        return _page(request, cookie, next_path, "Wrong user name or password.", 401)
    session = await run_in_threadpool(auth.create_token, user.username, SESSION_NAME)
    answer = RedirectResponse(next_path, status_code=303)
    secure = _secure(request)
    answer.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    fresh = secrets.token_urlsafe(24)  # a new CSRF value with the new session
    answer.set_cookie(
        CSRF_COOKIE, fresh, httponly=False, samesite="strict", secure=secure, path="/"
    )
    return answer


@router.post("/logout")
async def logout(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    session = request.cookies.get(SESSION_COOKIE)
    if session:
        await run_in_threadpool(request.app.state.auth.revoke_token, session)
        request.app.state.forget_credentials()
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


def login_redirect(path: str, query: str) -> Response:
    target = path + (f"?{query}" if query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def cookie_value(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """One cookie's value from raw ASGI headers."""
    from http.cookies import SimpleCookie

    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header counts as none
                return None
            morsel = jar.get(name)
            return morsel.value if morsel is not None else None
    return None


def wants_page(scope: MutableMapping[str, Any]) -> bool:
    """A browser navigating (not a script calling the API)."""
    if scope["method"] != "GET" or scope["path"].startswith(("/api/", "/ajax-api/")):
        return False
    for key, value in scope["headers"]:
        if key == b"accept":
            return b"text/html" in value
    return False
