"""Idempotency keys on create routes: a retried create makes nothing twice.

A client that lost the answer to ``runs/create`` (a dropped connection, a timeout) cannot know
whether the run was made; retrying blindly would make a second one. When the request carries
an ``Idempotency-Key`` header, the first attempt's answer is kept under that key, and a retry
with the same key and the same body gets that answer again. The same key with another
request is refused (400). mltrail's client sends a fresh key per create call (and the same
one on its retries); the ``mlflow`` client sends none and is served as before.

Keys are kept for a day, in ``mltrail_idempotency_keys``, shared by every worker.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.store.sql.idempotency import IdempotencyKeys

HEADER = "idempotency-key"
WAIT_FOR_FIRST_SECONDS = 20.0
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


async def once(request: Request, route: str, answer: Callable[[], Awaitable[Response]]) -> Response:
    """Run a create route at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    keys: IdempotencyKeys | None = getattr(request.app.state, "idempotency", None)
    if key is None or keys is None or not keys.enabled:
        return await answer()
    if not _KEY.match(key):
        raise InvalidParameter(
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
        )
    digest = hashlib.sha256(await request.body()).hexdigest()
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while True:
        stored = await run_in_threadpool(keys.claim, key, route, digest)
        if stored is None:
            break
        status, body = stored
        if status is not None:
            return Response(body or b"", status_code=status, media_type="application/json")
        if time.monotonic() > deadline:  # the first attempt is still running
            raise MltrailException(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                error_code="TEMPORARILY_UNAVAILABLE",
            )
        await asyncio.sleep(0.05)
    try:
        response = await answer()
    except BaseException:
        await run_in_threadpool(keys.release, key)
        raise
    if response.status_code == 200:
        await run_in_threadpool(keys.keep, key, 200, bytes(response.body))
    else:
        await run_in_threadpool(keys.release, key)
    return response
