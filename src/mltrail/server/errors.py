"""The one place that turns exceptions into HTTP answers.

API errors are MLflow's ``{"error_code", "message"}`` with MLflow's status for the code, so the
real ``mlflow`` client reacts as it does with MLflow (404 RESOURCE_DOES_NOT_EXIST means
"create it", 5xx means "retry"). Unknown routes and wrong methods answer in plain text: the
client reads a 404 that is not JSON as ENDPOINT_NOT_FOUND and falls back to older routes.
Nothing leaks a traceback to the caller.

The UI's pages answer the same errors with the same status and message, drawn as an HTML
page: a page route is marked with ``html_error_pages(render)`` and the handlers here hand
their status and message to ``render`` instead of writing JSON.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mltrail.exceptions import InvalidParameter, MltrailException, SearchSyntaxError
from mltrail.store.sql.engine import driver_error_types, translate_driver_error

log = logging.getLogger("mltrail.server")


# Draws the error page of a UI route: (request, status, message) -> an HTML answer.
PageRenderer = Callable[[Request, int, str], Response]
F = TypeVar("F", bound=Callable[..., Any])

# The page routes (their endpoint functions) whose errors answer as a page, and its renderer.
_page_routes: dict[Callable[..., Any], PageRenderer] = {}


def html_error_pages(render: PageRenderer) -> Callable[[F], F]:
    """A decorator for page routes: their errors answer as ``render``'s page (with the
    status and message the API would answer), not as JSON. The route is not wrapped: the
    handlers below find it by the endpoint the request was routed to."""

    def mark(route: F) -> F:
        _page_routes[route] = render
        return route

    return mark


def error_response(error_code: str, message: str, status: int, **extra: Any) -> Response:
    body = {"error_code": error_code, "message": message, **extra}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def status_of(exc: MltrailException) -> int:
    """The HTTP status an mltrail error answers with (MLflow's for its error code)."""
    status: int = getattr(exc, "http_status", None) or exc.get_http_status_code()
    return status


def _answer(request: Request, error_code: str, message: str, status: int, **extra: Any) -> Response:
    """The error as JSON, or as the page of a UI page route; capacity answers say when to
    come back (``Retry-After``)."""
    endpoint = request.scope.get("endpoint")  # set when the request was routed
    render = _page_routes.get(endpoint) if endpoint is not None else None
    response = None
    if render is not None:
        try:
            response = render(request, status, message)
        except Exception:  # noqa: BLE001 - a page that cannot be drawn still gets an answer
            log.exception("The error page for %s could not be drawn", request.url.path)
    if response is None:
        response = error_response(error_code, message, status, **extra)
    return _with_retry_after(response)


async def _mltrail_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MltrailException)
    extra = dict(exc.extra)
    if isinstance(exc, SearchSyntaxError) and exc.position is not None:
        extra["position"] = exc.position  # lets a search box point at the mistake
    return _answer(request, exc.error_code, exc.message, status_of(exc), **extra)


def _with_retry_after(response: Response) -> Response:
    """Capacity answers (429, 503) say when to come back; clients honour it."""
    if response.status_code in (429, 503):
        response.headers["Retry-After"] = "1"
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    message = f"Invalid value for parameter '{where or 'request'}': {first.get('msg', 'invalid')}."
    return _answer(request, "INVALID_PARAMETER_VALUE", message, 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    text = exc.detail if isinstance(exc.detail, str) else "Error"
    path = request.url.path
    wants_page = "text/html" in request.headers.get("accept", "")
    if wants_page and not path.startswith(("/api/", "/ajax-api/")):
        page = _PAGE.format(status=exc.status_code, text=html.escape(text))
        return Response(page, exc.status_code, exc.headers, media_type="text/html")
    # Not JSON on purpose: the mlflow client reads a bare 404 as ENDPOINT_NOT_FOUND.
    return Response(text, exc.status_code, exc.headers, media_type="text/plain")


_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{status} {text} - mltrail</title>"
    "</head><body><h1>{status} {text}</h1><p>There is nothing here. "
    '<a href="/">Back to the experiments</a>.</p></body></html>'
)


async def _database_error(request: Request, exc: Exception) -> Response:
    # Failures that escaped the store, translated by the store's engine (the one owner of
    # driver errors): a value the database refused, or a database that is busy or down (503,
    # so clients retry). The driver's text goes to the log, not to the client.
    log.warning("%s %s failed: %s", request.method, request.url.path, exc)
    translated = translate_driver_error(exc)
    if isinstance(translated, InvalidParameter):
        return _answer(
            request, "INVALID_PARAMETER_VALUE", "The database refused a value in the request.", 400
        )
    return _answer(
        request, "TEMPORARILY_UNAVAILABLE", "The tracking database is busy or unreachable.", 503
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this answer, so the traceback lands in the server log only.
    return _answer(
        request,
        "INTERNAL_ERROR",
        "The server failed unexpectedly; the details are in the server's log.",
        500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(MltrailException, _mltrail_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for db_error in driver_error_types():
        app.add_exception_handler(db_error, _database_error)
    app.add_exception_handler(Exception, _unexpected)
