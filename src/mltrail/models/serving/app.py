"""The scoring server's ASGI app: ``/invocations``, ``/ping``, ``/health``, ``/version``.

``POST /invocations`` is answered by a raw ASGI handler, the rest by plain Starlette (no
FastAPI: nothing to validate but the body), all behind the tracking server's Host/Origin checks
and body cap. Predictions run in a worker thread, so a slow model never blocks ``/ping``; a
request that runs past ``timeout`` gets 504. Only small numeric blocks for a model whose
predictions have been measured to take under a millisecond are answered on the event loop
(``MatrixPath.inline``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
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
_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"
Answer = tuple[int, bytes, bytes]  # status, body, content type


def _error(exc: ScoringError | MltrailException, status: int) -> Answer:
    if isinstance(exc, ScoringError) and exc.plain:
        return status, exc.message.encode(), _TEXT
    return status, orjson.dumps(exc.to_dict()), _JSON


async def _send(send: Send, answer: Answer) -> None:
    status, body, media = answer
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ScoringSecurity(SecurityMiddleware):
    """The tracking server's middleware; its 413 answered without the API's error stack."""

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send(send, _error(_too_large(self.max_body), 413))


def _too_large(limit: int) -> ScoringError:
    return ScoringError(BodyTooLarge(limit).message, 413, "INVALID_PARAMETER_VALUE")


class _ClientGone(Exception):
    """The client disconnected before sending its whole body."""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class Scorer:
    """``/invocations`` for one model: the body parsed, the model run, the answer encoded."""

    def __init__(self, model: Any, timeout: float, max_body_bytes: int) -> None:
        self.model = model
        self.schema = model.metadata.get_input_schema()
        self.fast = matrix_path(model)
        self.gate = PandasGate()
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes

    def _score(self, data: Any, params: dict[str, Any] | None) -> bytes:
        return predictions_json(self.model.predict(data, params=params))

    def _score_block(self, block: Any, _params: None) -> bytes:
        return predictions_json(self.fast.predict(block))  # type: ignore[union-attr]

    async def answer(self, content_type: str | None, receive: Receive) -> Answer:
        try:
            return 200, await self._predict(content_type, receive), _JSON
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
        except _ClientGone:
            raise
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

    async def _predict(self, content_type: str | None, receive: Receive) -> bytes:
        media = check_content_type(content_type)
        try:
            body = await _read_body(receive)
        except BodyTooLarge:
            raise _too_large(self.max_body_bytes) from None
        gate = self.gate
        if media == JSON:
            document = loads_json(body)
            block = self.fast.block(document) if self.fast is not None else None
            if block is not None:
                if gate.wanted:
                    await gate.ensure()
                if self.fast.inline(len(block)):  # type: ignore[union-attr]
                    return self._score_block(block, None)  # cheaper than a thread hand-off
                return await asyncio.wait_for(
                    gate.run(self._score_block, block, None), self.timeout
                )
            await gate.ensure()
            data, params = parse_json_document(document, self.schema)
        else:
            await gate.ensure()
            data, params = parse_body(body, media, self.schema)
        return await asyncio.wait_for(gate.run(self._score, data, params), self.timeout)


class ScoringApp:
    """``POST /invocations`` answered directly (the hot path: no routing, request or
    response objects); everything else by the Starlette app behind."""

    def __init__(self, scorer: Scorer, rest: Any) -> None:
        self.scorer = scorer
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/invocations"
            and scope["method"] == "POST"
        ):
            content_type = None
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value.decode("latin-1")
                    break
            try:
                answer = await self.scorer.answer(content_type, receive)
            except _ClientGone:
                return
            await _send(send, answer)
            return
        await self.rest(scope, receive, send)


def create_scoring_app(
    model: Any,
    timeout: float = 60.0,
    allowed_hosts: tuple[str, ...] = (),
    cors_allowed_origins: tuple[str, ...] = (),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Any:
    """The app serving ``model`` (a ``PyFuncModel``)."""
    scorer = Scorer(model, timeout, max_body_bytes)

    async def invocations(request: Request) -> Response:
        # Reached only by methods other than POST, which Starlette answers with 405.
        status, body, media = await scorer.answer(
            request.headers.get("content-type"), request.receive
        )
        return Response(body, status_code=status, media_type=media.decode())

    async def ping(request: Request) -> Response:
        return Response("\n", media_type=JSON)

    async def version(request: Request) -> Response:
        return Response(__version__, media_type=JSON)

    rest = Starlette(
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
    return ScoringSecurity(ScoringApp(scorer, rest), settings)
