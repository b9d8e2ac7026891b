"""The permission of every route in the shared route table (``mltrail.protocol``): each one,
under each path it is mounted at, has a rule, and where a route carries a ``Permission`` of its
own, it says the same as the auth rules, so the two can never drift apart. A route with
neither is refused (fail closed). The live check over every route the app mounts (UI, ajax,
artifact proxy, multipart, registry, logged models, users API, admin pages) is
``test_auth.test_every_route_has_a_rule_and_unknown_ones_are_refused``."""

from __future__ import annotations

import pytest

from mltrail.protocol import ROUTES, Route
from mltrail.server.auth.rules import Rule, find_rule, rule_for_template, rule_from_route_table

# Resolvers of the auth rules, by the kind of resource they find.
_KIND_OF = {
    "registered_model": "registered_model",
    "registered_model_and_source_run": "registered_model",
    "experiment": "experiment",
    "run": "run",
    "model": "logged_model",
    "artifact": "artifact",
}


def _written_rule(route: Route, path: str) -> Rule | None:
    return rule_for_template(route.method, path)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.full_path}")
def test_every_route_of_the_table_has_a_rule_at_each_path(route: Route) -> None:
    for path in route.mounted_paths:
        ruled = _written_rule(route, path) or rule_from_route_table(route.method, path)
        assert ruled is not None, f"{route.method} {path} has no permission rule"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.permission is not None], ids=lambda r: r.full_path
)
def test_a_permission_beside_the_path_agrees_with_the_rules(route: Route) -> None:
    permission = route.permission
    assert permission is not None
    for path in route.mounted_paths:
        rule = _written_rule(route, path)
        if rule is None:
            continue  # the route's own permission is the rule
        if permission.resource == "public":
            assert rule.need == "public", path
        elif permission.resource == "server":
            assert rule.need == ("admin" if permission.level == "MANAGE" else "user"), path
        else:
            level = "READ" if permission.level == "USE" else permission.level
            assert (rule.need, _KIND_OF.get(rule.on or "")) == (level, permission.resource), path


def test_a_route_without_rule_or_permission_is_refused() -> None:
    bare = Route("POST", "/experiments/brand-new-thing")
    assert find_rule(bare.method, bare.full_path) is None
    assert rule_from_route_table(bare.method, bare.full_path) is None  # not in the table
