"""Who is asking, and may they: one ASGI middleware in front of every route.

Credentials are what the ``mlflow`` client sends from its environment: HTTP basic
(``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``) or a bearer token
(``MLFLOW_TRACKING_TOKEN``, here a personal API token from ``mltrail users create-token``).
A browser gets the basic-auth prompt. No credentials: 401 with ``WWW-Authenticate``; wrong
ones: 401; not allowed: 403 ``PERMISSION_DENIED``; a route without a rule: 403 for everyone.

Argon2 verification is deliberately slow, so a verified (user, password) pair is remembered
for a few minutes per worker (keyed by an HMAC, never the password), as are run -> experiment
lookups and grants (a few seconds: a changed grant applies everywhere within that time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail.exceptions import MltrailException, NotFound
from mltrail.server.auth.login import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_HOURS,
    cookie_value,
    login_redirect,
    wants_page,
)
from mltrail.server.auth.rules import Rule, find_rule, rule_from_route_table
from mltrail.server.auth.store import RANK, AuthStore, User
from mltrail.server.errors import error_response

# A resource id for "no such thing": the route itself answers (404), as the mlflow client
# expects (``set_experiment`` creates the experiment when get-by-name says 404).
UNKNOWN = "-"
# Artifact storage that no experiment owns (the store's root, a stray folder).
UNMAPPED = "!"
# A verified credential is trusted for a few seconds: long enough that HTTP basic auth does not
# pay the argon2 hash on each request (one hash per client per 5 s is negligible), short enough
# that a password change, a deletion or a demotion made through another worker takes effect
# within seconds.
CREDENTIAL_SECONDS = 5.0
GRANT_SECONDS = 5.0
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Ttl:
    def __init__(self, seconds: float, size: int = 100_000) -> None:
        self.seconds, self.size = seconds, size
        self.data: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self.data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self.data) >= self.size:
            self.data.clear()
        self.data[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        self.data.clear()


class Denied(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after = retry_after


class AuthMiddleware:
    def __init__(
        self, app: ASGIApp, auth: AuthStore, tracking: Any, default_permission: str
    ) -> None:
        self.app = app
        self.auth = auth
        self.tracking = tracking
        self.default = default_permission
        self._key = secrets.token_bytes(32)
        self.credentials = _Ttl(CREDENTIAL_SECONDS)
        self.grants = _Ttl(GRANT_SECONDS)
        self.owners = _Ttl(3600.0)  # run / model -> experiment id: never changes
        self.router: Any = None  # set by install(): answers "does this route exist?"
        self.throttle = auth.throttle

    # -- the ASGI entry -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        found = find_rule(method, path) or (find_rule("GET", path) if method == "HEAD" else None)
        found = found or rule_from_route_table("GET" if method == "HEAD" else method, path)
        user: User | None = None
        try:
            if found is None:
                if self._route_exists(scope):
                    raise Denied(403, "PERMISSION_DENIED", f"No permission rule for {path}.")
                await self.app(scope, receive, send)  # 404 / 405 from the app
                return
            rule, params = found
            if rule.need == "public":
                await self.app(scope, receive, send)
                return
            body = b""
            if rule.body or _is_form_post(scope):  # a form carries its CSRF value in the body
                body, receive = await _buffer(receive)
            user = await run_in_threadpool(self._user, scope, body)
            await run_in_threadpool(self._check, rule, user, scope, params, body)
        except Denied as denied:
            if denied.status == 401 and wants_page(scope):  # a browser: the login page
                query = scope.get("query_string", b"").decode("latin-1")
                await login_redirect(path, query)(scope, receive, send)
                return
            await self._refuse(denied, scope, receive, send)
            if method in STATE_CHANGING or denied.status == 401:
                self._note(user.username if user else None, scope, denied.status)
            return
        scope["mltrail.user"] = user
        # Administrators read every experiment and model: their searches skip the filtering.
        scope["mltrail.can_read_experiment"] = (
            None if user.is_admin else (lambda exp_id: self._allowed(user, "READ", exp_id))
        )
        scope["mltrail.can_read_model"] = (
            None
            if user.is_admin
            else (lambda name: self._allowed(user, "READ", name, "registered_model"))
        )
        await self._serve(rule, user, scope, receive, send)

    async def _serve(
        self, rule: Rule, user: User, scope: Scope, receive: Receive, send: Send
    ) -> None:
        status = 0
        held: list[Message] = []  # a create's answer waits until its creator's grant is in

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            if rule.creates:
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, watching_send)
        if rule.creates:
            if status == 200:
                body = b"".join(m.get("body", b"") for m in held if m["type"].endswith("body"))
                await run_in_threadpool(self._grant_creator, rule.creates, user, body)
            for message in held:
                await send(message)
        if scope["method"] in STATE_CHANGING:
            self._note(user.username, scope, status)

    def _note(self, username: str | None, scope: Scope, status: int) -> None:
        client = scope.get("client") or ("", 0)
        self.auth.note(username, scope["method"], scope["path"], status, str(client[0]))

    async def _refuse(self, denied: Denied, scope: Scope, receive: Receive, send: Send) -> None:
        answer = error_response(denied.code, denied.message, denied.status)
        if denied.status == 401:
            answer.headers["WWW-Authenticate"] = 'Basic realm="mltrail", charset="UTF-8"'
        if denied.retry_after:
            answer.headers["Retry-After"] = str(denied.retry_after)
        await answer(scope, receive, send)

    def _route_exists(self, scope: Scope) -> bool:
        from starlette.routing import Match

        if self.router is None:
            return False
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match != Match.NONE:
                return True
        return False

    # -- who ------------------------------------------------------------------------------------
    def _user(self, scope: Scope, body: bytes = b"") -> User:
        header = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if not header:
            return self._session_user(scope, body)
        cache_key = hmac.new(self._key, header.encode("utf-8"), hashlib.sha256).digest()
        cached = self.credentials.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        user: User | None = None
        client = str((scope.get("client") or ("", 0))[0])
        keys = [f"ip:{client}"]
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            username, sep, password = decoded.partition(":")
            keys.append(f"user:{username}")
            self._check_throttle(keys)
            if sep:
                user = self.auth.authenticate(username, password)
                if user is None and password.startswith("mlt_"):
                    token_user = self.auth.user_for_token(password)  # token as the password
                    user = token_user if token_user and token_user.username == username else None
        elif scheme == "bearer":
            self._check_throttle(keys)
            user = self.auth.user_for_token(credentials.strip())
        if user is None:
            self.throttle.failed(*keys)
            raise Denied(401, "UNAUTHENTICATED", "The credentials are not valid.")
        self.throttle.succeeded(*keys[1:])  # a right password clears its user's count
        self.credentials.put(cache_key, user)
        return user

    def _check_throttle(self, keys: list[str]) -> None:
        wait = self.throttle.retry_after(*keys)
        if wait:
            raise Denied(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                f"Too many failed sign-ins; try again in {wait} seconds.",
                retry_after=wait,
            )

    def _session_user(self, scope: Scope, body: bytes = b"") -> User:
        """The web UI's session cookie; changes must carry the CSRF token as well: in the
        ``X-CSRF-Token`` header (the pages' scripts), or a form's ``csrf`` field (HTML forms)."""
        headers = scope["headers"]
        session = cookie_value(headers, SESSION_COOKIE)
        if not session:
            raise Denied(
                401,
                "UNAUTHENTICATED",
                "Authentication required: give a user name and password (HTTP basic) or an "
                "API token (bearer), or sign in at /login.",
            )
        cache_key = hmac.new(self._key, b"session:" + session.encode(), hashlib.sha256).digest()
        user = self.credentials.get(cache_key)
        if user is None:
            user = self.auth.user_for_session(session, SESSION_HOURS * 3600 * 1000)
            if user is None:
                raise Denied(401, "UNAUTHENTICATED", "The session has ended; sign in again.")
            self.credentials.put(cache_key, user)
        if scope["method"] in STATE_CHANGING:
            sent = next((v.decode("latin-1") for k, v in headers if k == CSRF_HEADER.encode()), "")
            if not sent and _is_form_post(scope):
                sent = _form_field(body, "csrf")
            expected = cookie_value(headers, CSRF_COOKIE) or ""
            if not expected or not secrets.compare_digest(sent, expected):
                raise Denied(
                    403,
                    "PERMISSION_DENIED",
                    "The request lacks the page's CSRF token (X-CSRF-Token); reload the page.",
                )
        return user  # type: ignore[no-any-return]

    def forget_credentials(self) -> None:
        """After a password change, deletion or demotion: verify everything afresh."""
        self.credentials.clear()
        self.grants.clear()

    # -- may they -------------------------------------------------------------------------------
    def _check(
        self, rule: Rule, user: User, scope: Scope, params: dict[str, str], body: bytes
    ) -> None:
        if user.is_admin:
            return
        need = rule.need
        if need == "user":
            return
        if need == "admin":
            raise Denied(403, "PERMISSION_DENIED", "Only administrators may do this.")
        if need.startswith("browse"):
            wanted = {"browse": "READ", "browse_edit": "EDIT", "browse_manage": "MANAGE"}[need]
            if RANK[self.default] < RANK[wanted]:
                raise Denied(
                    403,
                    "PERMISSION_DENIED",
                    "These pages are for administrators "
                    "on this server; open an experiment you may read by its address.",
                )
            return
        values = _request_values(scope, body)
        if need == "self_or_admin":
            if values.get("username") != user.username:
                raise Denied(
                    403, "PERMISSION_DENIED", "Only administrators may do this for another user."
                )
            return
        if rule.field:  # an id named by the shared route table: under the resolver's name
            usual = {
                "experiment": "experiment_id",
                "run": "run_id",
                "model": "model_id",
                "registered_model": "name",
                "artifact": "path",
            }.get(rule.on or "")
            given = params.get(rule.field) or values.get(rule.field)
            if usual and given is not None:
                values = {**values, usual: given}
                params = {**params, usual: str(given)}
        kind, resources = self._resources(rule.on or "", values, params)
        for kind_, resource in resources:
            if not self._allowed(user, need, resource, kind_):
                raise Denied(
                    403,
                    "PERMISSION_DENIED",
                    f"Permission denied: this needs {need} on {kind_.replace('_', ' ')} "
                    f"'{resource}'.",
                )
        del kind

    def _allowed(self, user: User, need: str, resource: str, kind: str = "experiment") -> bool:
        if user.is_admin:
            return True
        if resource == UNMAPPED:
            return False  # storage no experiment owns: administrators only
        key = (user.id, kind, resource)
        have = self.grants.get(key)
        if have is None:
            # The user's own grant wins (it may take rights away); else the best of their
            # groups'; else the server's default.
            have = (
                self.auth.get_grant(kind, resource, user.id)
                or self.auth.group_grant(kind, resource, user.id)
                or self.default
            )
            self.grants.put(key, have)
        return RANK[have] >= RANK[need]

    def _resources(
        self, on: str, values: dict[str, Any], params: dict[str, str]
    ) -> tuple[str, list[tuple[str, str]]]:
        exp = "experiment"
        if on == "experiment":
            return exp, [(exp, _required(values, "experiment_id"))]
        if on == "experiment_or_default":
            return exp, [(exp, str(values.get("experiment_id") or "0"))]
        if on == "experiment_name":
            found = self.tracking.get_experiment_by_name(_required(values, "experiment_name"))
            return exp, [(exp, found.experiment_id if found else "-")]
        if on == "experiment_ids":
            ids = values.get("experiment_ids") or []
            return exp, [(exp, str(i)) for i in (ids if isinstance(ids, list) else [ids])]
        if on == "path_experiment_ids":
            return exp, [(exp, i) for i in params.get("experiment_ids", "").split(",") if i]
        if on == "run":
            run_id = values.get("run_id") or values.get("run_uuid")
            return exp, [(exp, self._run_experiment(_text(run_id, "run_id")))]
        if on == "path_run":
            return exp, [(exp, self._run_experiment(params["run_id"]))]
        if on == "run_ids":
            ids = values.get("run_ids") or values.get("run_id") or []
            ids = ids if isinstance(ids, list) else [ids]
            return exp, [(exp, self._run_experiment(str(i))) for i in ids]
        if on == "model":
            model_id = params.get("model_id") or values.get("model_id")
            return exp, [(exp, self._model_experiment(_text(model_id, "model_id")))]
        if on in ("artifact", "artifact_query"):
            path = params.get("path") if on == "artifact" else values.get("path")
            return exp, [(exp, self._artifact_experiment(str(path or "")))]
        if on == "typed_resource":
            typed = str(values.get("resource_type", "")).lower()
            if typed not in ("experiment", "registered_model"):
                raise Denied(
                    400,
                    "INVALID_PARAMETER_VALUE",
                    "Invalid resource_type: use experiment or registered_model.",
                )
            return typed, [(typed, _required(values, "resource_id"))]
        if on == "registered_model":
            return "registered_model", [("registered_model", _required(values, "name"))]
        if on == "registered_model_and_source_run":
            found = [("registered_model", _required(values, "name"))]
            if values.get("run_id"):
                # Registering a run's model needs READ on that run's experiment as well.
                found.append((exp, self._run_experiment(str(values["run_id"]))))
            return "registered_model", found
        raise Denied(403, "PERMISSION_DENIED", "No permission rule for this request.")

    def _run_experiment(self, run_id: str) -> str:
        cached = self.owners.get(("run", run_id))
        if cached is None:
            try:
                cached = self.tracking.get_run(run_id).info.experiment_id
            except NotFound:
                cached = "-"  # unknown run: the route answers 404 if allowed to run at all
            self.owners.put(("run", run_id), cached)
        return str(cached)

    def _model_experiment(self, model_id: str) -> str:
        cached = self.owners.get(("model", model_id))
        if cached is None:
            try:
                cached = self.tracking.get_logged_model(model_id, allow_deleted=True).experiment_id
            except NotFound:
                cached = "-"
            self.owners.put(("model", model_id), cached)
        return str(cached)

    def _artifact_experiment(self, path: str) -> str:
        first = path.strip("/").split("/", 1)[0]
        if first.isdigit():
            return first
        if not first:
            return UNMAPPED  # the whole store
        # A location under the proxy chosen at creation (mlflow-artifacts:/team-a).
        cached = self.owners.get(("artifact", first))
        if cached is None:
            cached = UNMAPPED
            for exp in self.tracking.search_experiments(view_type=3, max_results=50000):
                if exp.artifact_location.rstrip("/") == f"mlflow-artifacts:/{first}":
                    cached = exp.experiment_id
                    break
            self.owners.put(("artifact", first), cached)
        return str(cached)

    def _grant_creator(self, kind: str, user: User, answer: bytes) -> None:
        if user.is_admin:
            return
        try:
            data = json.loads(answer or b"{}")
        except ValueError:
            return
        resource = data.get("experiment_id") if kind == "experiment" else None
        if kind == "registered_model":
            resource = (data.get("registered_model") or {}).get("name")
        if resource:
            try:
                self.auth.grant(kind, str(resource), user.username, "MANAGE")
            except MltrailException:
                self.auth.update_grant(kind, str(resource), user.username, "MANAGE")
            self.grants.clear()


def _required(values: dict[str, Any], name: str) -> str:
    return _text(values.get(name), name)


def _text(value: object, name: str) -> str:
    if value is None or value == "":
        # Let the route say what is missing (400), without telling what exists.
        raise Denied(
            400, "INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'."
        )
    return str(value)


def _request_values(scope: Scope, body: bytes) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, items in parse_qs(scope.get("query_string", b"").decode("latin-1")).items():
        values[key] = items if len(items) > 1 or key.endswith("_ids") else items[0]
    if body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = None
        if isinstance(data, dict):
            values.update(data)
    return values


def _is_form_post(scope: Scope) -> bool:
    if scope["method"] not in STATE_CHANGING:
        return False
    for key, value in scope["headers"]:
        if key == b"content-type":
            kind = bytes(value).split(b";")[0].strip().lower()
            return kind == b"application/x-www-form-urlencoded"
    return False


def _form_field(body: bytes, name: str) -> str:
    values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(name)
    return values[0] if values else ""


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole (capped) body, and a ``receive`` that hands it over again."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def install(app: Any, auth: AuthStore, default_permission: str) -> Callable[[], None]:
    """Add the middleware; returns the function that drops cached credentials."""
    holder: dict[str, AuthMiddleware] = {}

    class Bound(AuthMiddleware):
        def __init__(self, inner: ASGIApp) -> None:
            super().__init__(inner, auth, app.state.store, default_permission)
            self.router = app.router
            holder["middleware"] = self

    app.add_middleware(Bound)

    def forget() -> None:
        if "middleware" in holder:
            holder["middleware"].forget_credentials()

    return forget
