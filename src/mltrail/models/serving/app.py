"""The scoring server's ASGI app: ``/invocations``, ``/ping``, ``/health``, ``/version``.

Plain Starlette (no FastAPI: it starts faster and there is nothing to validate but the body),
behind the tracking server's Host/Origin checks and body cap. Predictions run in a worker
thread, so a slow model never blocks ``/ping``; a request that runs past ``timeout`` gets 504.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.models.enforcement import SchemaEnforcementError
from mltrail.models.serving.fast_path import matrix_path
from mltrail.models.serving.lean_load import PandasGate
from mltrail.models.serving.parsing import (
    ScoringError,
    check_content_type,
    loads_json,
    parse_body,
    parse_json_document,
    predictions_json,
)
from mltrail.server.security import BodyTooLarge, SecurityMiddleware
from mltrail.server.settings import DEFAULT_MAX_BODY_BYTES, ServerSettings
from mltrail.version import __version__

log = logging.getLogger("mltrail.scoring")
JSON = "application/json"


def _error(exc: ScoringError | MltrailException, status: int) -> Response:
    if isinstance(exc, ScoringError) and exc.plain:
        return PlainTextResponse(exc.message, status_code=status)
    return Response(orjson.dumps(exc.to_dict()), status_code=status, media_type=JSON)


class ScoringSecurity(SecurityMiddleware):
    """The tracking server's middleware; its 413 answered without the API's error stack."""

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(_too_large(self.max_body), 413)(scope, receive, send)


def _too_large(limit: int) -> ScoringError:
    return ScoringError(BodyTooLarge(limit).message, 413, "INVALID_PARAMETER_VALUE")


def create_scoring_app(
    model: Any,
    timeout: float = 60.0,
    allowed_hosts: tuple[str, ...] = (),
    cors_allowed_origins: tuple[str, ...] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Any:
    """The app serving ``model`` (a ``PyFuncModel``)."""
    schema = model.metadata.get_input_schema()
    fast = matrix_path(model)
    gate = PandasGate()

    def score(data: Any, params: dict[str, Any] | None) -> bytes:
        return predictions_json(model.predict(data, params=params))

    def score_block(block: Any, _params: None) -> bytes:
        return predictions_json(fast.predict(block))  # type: ignore[union-attr]

    async def invocations(request: Request) -> Response:
        try:
            media = check_content_type(request.headers.get("content-type"))
            try:
                body = await request.body()
            except BodyTooLarge:
                raise _too_large(max_body_bytes) from None
            run: Any = score
            if media == JSON:
                document = loads_json(body)
                data = fast.block(document) if fast is not None else None
                if data is not None:
                    params, run = None, score_block
                    if gate.wanted:
                        await gate.ensure()
                else:
                    await gate.ensure()
                    data, params = parse_json_document(document, schema)
            else:
                await gate.ensure()
                data, params = parse_body(body, media, schema)
            payload = await asyncio.wait_for(gate.run(run, data, params), timeout)
        except ScoringError as exc:
            return _error(exc, exc.status)
        except TimeoutError:
            return _error(
                MltrailException("Request processing time exceeded limit", "DEADLINE_EXCEEDED"),
                504,
            )
        except SchemaEnforcementError as exc:
            exc.message = f"Failed to predict data. \nError: {exc.message}"
            return _error(exc, 400)
        except InvalidParameter as exc:
            return _error(exc, 400)
        except Exception as exc:  # noqa: BLE001 - the model's own failure: 400, server lives on
            log.exception("The model failed on a request")
            return _error(
                ScoringError(
                    "Encountered an unexpected error while evaluating the model. Verify that "
                    "the serialized input Dataframe is compatible with the model for "
                    f"inference. Error: {type(exc).__name__}: {exc}"
                ),
                400,
            )
        return Response(payload, media_type=JSON)

    async def ping(request: Request) -> Response:
        return Response("\n", media_type=JSON)

    async def version(request: Request) -> Response:
        return Response(__version__, media_type=JSON)

    app = Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
            Route("/version", version, methods=["GET"]),
        ]
    )
    settings = ServerSettings(
        backend_store_uri="",
        default_artifact_root="",
        artifacts_destination="",
        allowed_hosts=allowed_hosts,
        cors_allowed_origins=cors_allowed_origins,
        max_body_bytes=max_body_bytes,
    )
    return ScoringSecurity(app, settings)
