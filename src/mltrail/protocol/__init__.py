"""MLflow's HTTP protocol as data, shared by the server and its clients.

``routes``: every route the server answers, each a ``Route`` (method, path, request model,
answer fields, permission). The server mounts the REST routes from these entries and
``RestStore`` calls them, so a path is written once; a test checks that the app serves exactly
this table. ``doubles``: the one codec of NaN and infinities on the wire.

Adding a resource (e.g. the model registry): write ``<resource>_routes.py`` beside
``tracking_routes.py`` and add its tuple to ``ROUTES`` below.
"""

from __future__ import annotations

from mltrail.protocol import registry_routes, server_routes, tracking_routes
from mltrail.protocol.route import Permission, Route

ROUTES: tuple[Route, ...] = (
    *tracking_routes.ROUTES,
    *server_routes.META_ROUTES,
    *server_routes.ARTIFACT_ROUTES,
    *server_routes.UI_ROUTES,
    *registry_routes.ROUTES,
    *registry_routes.UI_ROUTES,
)


def find_route(method: str, path: str) -> Route | None:
    """The route a request (method, URL path, under /api or /ajax-api) goes to, or None."""
    for route in ROUTES:
        if route.matches(method, path):
            return route
    return None


__all__ = ["ROUTES", "Permission", "Route", "find_route"]
