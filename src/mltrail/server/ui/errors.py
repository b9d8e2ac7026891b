"""Errors on UI routes: a friendly HTML page for pages, MLflow's error body for JSON.

Routes are wrapped rather than relying on an app-wide handler so that the JSON API keeps
its own error shape and UI pages never show a traceback or a bare JSON 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mltrail.exceptions import MltrailException, NotFound, SearchSyntaxError
from mltrail.server.ui.templating import render

F = TypeVar("F", bound=Callable[..., Any])


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    context = {"title": title, "message": message, "status": status}
    return render(request, "error.html", context, status_code=status)


def not_found_page(request: Request, message: str) -> Response:
    return error_page(request, 404, "Not found", message)


def html_errors(route: F) -> F:
    """Turn store errors raised by a page into an error page with the right status."""

    @functools.wraps(route)
    def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        try:
            return route(request, *args, **kwargs)
        except NotFound as exc:
            return not_found_page(request, exc.message)
        except MltrailException as exc:
            status = exc.get_http_status_code()
            title = "Something went wrong" if status >= 500 else "Bad request"
            return error_page(request, status, title, exc.message)

    return wrapper  # type: ignore[return-value]


def json_error(exc: MltrailException) -> JSONResponse:
    body: dict[str, Any] = {"error_code": exc.error_code, "message": exc.message}
    if isinstance(exc, SearchSyntaxError):
        body["position"] = exc.position
    return JSONResponse(body, status_code=exc.get_http_status_code())


def json_errors(route: F) -> F:
    """Turn store errors raised by a JSON route into ``{"error_code", "message"}``."""

    @functools.wraps(route)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return route(*args, **kwargs)
        except MltrailException as exc:
            return json_error(exc)

    return wrapper  # type: ignore[return-value]
