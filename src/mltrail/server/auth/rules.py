"""What each route needs. Most routes of the shared route table (``mltrail.protocol``) carry a
``Permission`` beside their path, read here by ``rule_from_route_table``; the tables below
hold the rest (creates, searches over many experiments, lookups by name, the users API, the
web UI, the artifact proxy) and every route outside the table. A route of the app with
neither is refused to everyone (fail closed), and tests check that every route has one and
that a route's Permission and a rule written here never disagree.

A rule names the level needed and the resource it is needed on:

* ``public``: anyone (probes, static files, multipart parts, whose random upload id is the
  capability, as a presigned URL is);
* ``user``: any signed-in user (creating an experiment, searching: results are filtered);
* ``admin``: administrators only;
* ``self_or_admin``: the user named in the request, or an administrator;
* ``READ`` / ``EDIT`` / ``MANAGE`` on an ``experiment`` (found from the request's experiment
  id or name, run id, logged-model id or proxied artifact path) or a ``registered_model``;
* ``browse`` / ``browse_edit`` / ``browse_manage``: web-UI pages that show or change many
  experiments at once: administrators, or everyone when the server's default permission is
  at least READ / EDIT / MANAGE.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

API_PREFIXES = ("/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/")
API3_PREFIXES = ("/api/3.0/mlflow/", "/ajax-api/3.0/mlflow/")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/")


@dataclass(frozen=True)
class Rule:
    need: str
    on: str | None = None  # how to find the resource: see ``middleware.Resolver``
    body: bool = False  # the resource id is in the JSON body
    creates: str | None = None  # "experiment" / "registered_model": the creator gets MANAGE
    field: str | None = None  # the id's name, when not the resolver's usual one


R, E, M = "READ", "EDIT", "MANAGE"

# Routes under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/ (relative to that prefix).
API_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "runs/create"): Rule(E, "experiment_or_default", body=True),
    ("POST", "runs/search"): Rule(R, "experiment_ids", body=True),
    ("GET", "metrics/get-history-bulk"): Rule(R, "run_ids"),
    ("GET", "metrics/get-history-bulk-interval"): Rule(R, "run_ids"),
    ("POST", "experiments/create"): Rule("user", creates="experiment"),
    ("GET", "experiments/get-by-name"): Rule(R, "experiment_name"),
    ("POST", "logged-models/search"): Rule(R, "experiment_ids", body=True),
    # MLflow's basic-auth API (``auth.api``).
    ("POST", "users/create"): Rule("admin"),
    ("GET", "users/get"): Rule("self_or_admin"),
    ("GET", "users/current"): Rule("user"),
    ("PATCH", "users/update-password"): Rule("self_or_admin", body=True),
    ("PATCH", "users/update-admin"): Rule("admin"),
    ("DELETE", "users/delete"): Rule("admin"),
    ("POST", "experiments/permissions/create"): Rule(M, "experiment", body=True),
    ("GET", "experiments/permissions/get"): Rule(M, "experiment"),
    ("PATCH", "experiments/permissions/update"): Rule(M, "experiment", body=True),
    ("DELETE", "experiments/permissions/delete"): Rule(M, "experiment", body=True),
    ("POST", "registered-models/permissions/create"): Rule(M, "registered_model", body=True),
    ("GET", "registered-models/permissions/get"): Rule(M, "registered_model"),
    ("PATCH", "registered-models/permissions/update"): Rule(M, "registered_model", body=True),
    ("DELETE", "registered-models/permissions/delete"): Rule(M, "registered_model", body=True),
    # The model registry (MLflow's routes; names as its REST API has them).
    ("POST", "registered-models/create"): Rule("user", creates="registered_model"),
    ("POST", "model-versions/create"): Rule(E, "registered_model_and_source_run", body=True),
    # The other registry routes and the webhooks: the Permission beside each path in
    # ``mltrail.protocol.registry_routes``.
}

# Everything else, by absolute path.
OTHER_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/health"): Rule("public"),
    ("GET", "/login"): Rule("public"),
    ("POST", "/login"): Rule("public"),
    ("POST", "/logout"): Rule("public"),  # ends the session in its cookie, if any
    ("GET", "/version"): Rule("public"),
    ("GET", "/ui/static/plotly.min.js"): Rule("public"),
    ("GET", "/ui/static/{name}"): Rule("public"),
    ("GET", "/openapi.json"): Rule("user"),
    ("HEAD", "/openapi.json"): Rule("user"),
    ("GET", "/docs"): Rule("user"),
    ("HEAD", "/docs"): Rule("user"),
    ("GET", "/docs/oauth2-redirect"): Rule("user"),
    ("HEAD", "/docs/oauth2-redirect"): Rule("user"),
    ("GET", "/api/3.0/mlflow/server-info"): Rule("user"),
    ("GET", "/ajax-api/3.0/mlflow/server-info"): Rule("user"),
    ("GET", "/get-artifact"): Rule(R, "run"),
    ("POST", "/api/3.0/mlflow/users/permissions/grant"): Rule(M, "typed_resource", body=True),
    ("POST", "/ajax-api/3.0/mlflow/users/permissions/grant"): Rule(M, "typed_resource", body=True),
    ("POST", "/api/3.0/mlflow/users/permissions/revoke"): Rule(M, "typed_resource", body=True),
    ("POST", "/ajax-api/3.0/mlflow/users/permissions/revoke"): Rule(M, "typed_resource", body=True),
    ("GET", "/api/3.0/mlflow/users/permissions/get"): Rule(M, "typed_resource"),
    ("GET", "/ajax-api/3.0/mlflow/users/permissions/get"): Rule(M, "typed_resource"),
    # The admin pages (server/auth/admin.py).
    ("GET", "/admin"): Rule("admin"),
    ("GET", "/admin/users"): Rule("admin"),
    ("GET", "/admin/users/{username}"): Rule("admin"),
    ("GET", "/admin/groups"): Rule("admin"),
    ("POST", "/admin/{section}/{action}"): Rule("admin"),
    # The web UI.
    ("GET", "/"): Rule("browse"),
    ("GET", "/models"): Rule("browse"),
    ("GET", "/compare"): Rule("browse"),
    ("GET", "/experiments/{experiment_ids}"): Rule(R, "path_experiment_ids"),
    ("GET", "/experiments/{experiment_id}/models"): Rule(R, "experiment", field="experiment_id"),
    ("GET", "/ajax-api/ui/experiments/{experiment_id}/models"): Rule(
        R, "experiment", field="experiment_id"
    ),
    ("GET", "/runs/{run_id}"): Rule(R, "path_run"),
    ("GET", "/ui/artifacts/{run_id}/raw"): Rule(R, "path_run"),
    ("GET", "/ui/artifacts/{run_id}/zip"): Rule(R, "path_run"),
    ("GET", "/ajax-api/ui/experiments"): Rule("browse"),
    ("GET", "/ajax-api/ui/runs"): Rule("browse"),
    ("GET", "/ajax-api/ui/compare"): Rule("browse"),
    ("GET", "/ajax-api/ui/metric-history"): Rule("browse"),
    ("GET", "/ajax-api/ui/artifacts"): Rule("browse"),
    ("GET", "/ajax-api/ui/artifacts/preview"): Rule("browse"),
    ("GET", "/ajax-api/ui/runs/{run_id}"): Rule(R, "path_run"),
    ("GET", "/ajax-api/ui/runs/{run_id}/summary"): Rule(R, "path_run"),
    ("POST", "/ajax-api/ui/experiments/create"): Rule("user", creates="experiment"),
    ("POST", "/ajax-api/ui/experiments/rename"): Rule("browse_edit"),
    ("POST", "/ajax-api/ui/experiments/delete"): Rule("browse_manage"),
    ("POST", "/ajax-api/ui/experiments/restore"): Rule("browse_manage"),
    ("POST", "/ajax-api/ui/runs/delete"): Rule("browse_manage"),
    ("POST", "/ajax-api/ui/runs/restore"): Rule("browse_manage"),
    ("POST", "/ajax-api/ui/runs/set-tag"): Rule("browse_edit"),
    ("POST", "/ajax-api/ui/runs/delete-tag"): Rule("browse_edit"),
    ("POST", "/ajax-api/ui/runs/rename"): Rule("browse_edit"),
    ("POST", "/ajax-api/ui/runs/note"): Rule("browse_edit"),
}

# The artifact proxy (under both artifact prefixes): the experiment is the path's first part.
ARTIFACT_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "artifacts"): Rule(R, "artifact_query"),
    ("GET", "artifacts/{path:path}"): Rule(R, "artifact"),
    ("PUT", "artifacts/{path:path}"): Rule(E, "artifact"),
    ("DELETE", "artifacts/{path:path}"): Rule(M, "artifact"),
    ("POST", "mpu/create/{path:path}"): Rule(E, "artifact"),
    ("POST", "mpu/complete/{path:path}"): Rule(E, "artifact"),
    ("POST", "mpu/abort/{path:path}"): Rule(E, "artifact"),
    ("PUT", "mpu/part/{upload_id}/{part_number}"): Rule("public"),
    ("GET", "presigned/{path:path}"): Rule(R, "artifact"),
}


def _pattern(template: str) -> re.Pattern[str]:
    out = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name, _, kind = piece[1:-1].partition(":")
            out += f"(?P<{name}>.*)" if kind == "path" else f"(?P<{name}>[^/]+)"
        else:
            out += re.escape(piece)
    return re.compile(out + "$")


@dataclass(frozen=True)
class Compiled:
    method: str
    pattern: re.Pattern[str]
    rule: Rule
    template: str


def _compile(rules: dict[tuple[str, str], Rule], prefixes: tuple[str, ...]) -> list[Compiled]:
    return [
        Compiled(method, _pattern(prefix + template), rule, prefix + template)
        for prefix in prefixes
        for (method, template), rule in rules.items()
    ]


COMPILED: list[Compiled] = (
    _compile(API_RULES, API_PREFIXES)
    + _compile(ARTIFACT_RULES, ARTIFACT_PREFIXES)
    + _compile(OTHER_RULES, ("",))
)
_EXACT = {(c.method, c.template): c for c in COMPILED if "{" not in c.template}
_PATTERNED = [c for c in COMPILED if "{" in c.template]


def find_rule(method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
    """The rule for a request, with the path parameters it names."""
    exact = _EXACT.get((method, path))
    if exact is not None:
        return exact.rule, {}
    for compiled in _PATTERNED:
        if compiled.method == method:
            found = compiled.pattern.match(path)
            if found:
                return compiled.rule, found.groupdict()
    return None


_RESOLVERS = {
    "experiment": "experiment",
    "run": "run",
    "logged_model": "model",
    "registered_model": "registered_model",
    "artifact": "artifact",
}


def rule_from_route_table(method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
    """The ``Permission`` a route of the shared route table carries, as a rule (see below)."""
    found = _rule_from_route_table(method, path)
    return None if found is None else (found[0], dict(found[1]))


@functools.lru_cache(maxsize=4096)  # the busiest routes (log-batch) are asked for constantly
def _rule_from_route_table(
    method: str, path: str
) -> tuple[Rule, tuple[tuple[str, str], ...]] | None:
    found = _uncached_rule_from_route_table(method, path)
    return None if found is None else (found[0], tuple(found[1].items()))


def _uncached_rule_from_route_table(method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
    """A route the table above does not know, but whose entry in the shared route table
    (``mltrail.protocol``) carries a ``Permission``: that permission, as a rule. A route with
    neither stays refused."""
    from mltrail.protocol import find_route

    route = find_route(method, path)
    if route is None or route.permission is None:
        return None
    permission = route.permission
    if permission.resource == "public":
        return Rule("public"), {}
    if permission.resource == "server":
        return Rule("admin" if permission.level == "MANAGE" else "user"), {}
    on = _RESOLVERS.get(permission.resource)
    if on is None:
        return None
    level = "READ" if permission.level == "USE" else permission.level
    twin = route.ajax and path.startswith("/ajax-api/")
    plain = "/api/" + path[len("/ajax-api/") :] if twin else path
    found = _pattern(route.full_path).match(plain)
    params = found.groupdict() if found else {}
    body = method in ("POST", "PATCH", "PUT", "DELETE")
    return Rule(level, on, body=body, field=permission.id_field), params


def template_for(method: str, path: str) -> str | None:
    """The route template a request matches (a bounded label, e.g. for metrics)."""
    exact = _EXACT.get((method, path))
    if exact is not None:
        return exact.template
    for compiled in _PATTERNED:
        if compiled.method == method and compiled.pattern.match(path):
            return compiled.template
    from mltrail.protocol import find_route

    route = find_route(method, path)
    if route is None:
        return None
    if route.ajax_path is not None and path.startswith("/ajax-api/"):
        return route.ajax_path
    return route.full_path


def rule_for_template(method: str, template: str) -> Rule | None:
    """For the completeness test: the rule written for a route's own path template."""
    for compiled in COMPILED:
        if compiled.method == method and compiled.template == template:
            return compiled.rule
    return None
