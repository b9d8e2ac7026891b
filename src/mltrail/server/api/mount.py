"""Mount endpoints at the routes of ``mltrail.protocol``: the table gives the method, the path
and the request model's name; nothing here repeats them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from mltrail.protocol import Route
from mltrail.server.api.wire import body_doc, query_doc

E = TypeVar("E", bound=Callable[..., Any])


def request_model(route: Route, endpoint: Callable[..., Any]) -> type[BaseModel] | None:
    """The request model the table names, found beside the endpoint (its module's names)."""
    if route.request is None:
        return None
    model = getattr(endpoint, "__globals__", {}).get(route.request)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise LookupError(
            f"{route.method} {route.full_path}: the route table names the request model "
            f"{route.request!r}, which {endpoint.__module__} does not define"
        )
    return model


def serve(router: APIRouter, route: Route) -> Callable[[E], E]:
    """Decorator: mount the endpoint at ``route.path`` on a router that the app includes under
    ``route.prefix`` (and under its /ajax-api twin), documented by the route's request model."""

    def mount(endpoint: E) -> E:
        model = request_model(route, endpoint)
        extra = None
        if model is not None:
            extra = query_doc(model) if route.method == "GET" else body_doc(model)
        router.add_api_route(
            route.path,
            endpoint,
            methods=[route.method],
            openapi_extra=extra,
            include_in_schema=route.in_schema,
        )
        return endpoint

    return mount


def serve_at_full_path(router: APIRouter, route: Route, **options: Any) -> Callable[[E], E]:
    """Decorator: mount the endpoint at the route's full path and at its /ajax-api twin (the
    twin left out of the OpenAPI document), on a router included without a prefix."""

    def mount(endpoint: E) -> E:
        for path in route.mounted_paths:
            in_schema = route.in_schema and path == route.full_path
            router.add_api_route(
                path, endpoint, methods=[route.method], include_in_schema=in_schema, **options
            )
        return endpoint

    return mount
