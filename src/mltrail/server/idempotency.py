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
import random
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.server.server_tables import ensure_server_tables, idempotency_keys

HEADER = "idempotency-key"
KEEP_MS = 24 * 3600 * 1000
WAIT_FOR_FIRST_SECONDS = 20.0
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _now_ms() -> int:
    return int(time.time() * 1000)


class IdempotencyKeys:
    """The answers of create requests, by key."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.enabled = ensure_server_tables(engine)

    def claim(self, key: str, route: str, digest: str) -> tuple[int | None, bytes | None] | None:
        """``None``: the caller is first and must answer, then ``keep`` or ``release``.
        Otherwise the stored ``(status, body)``; status ``None`` while the first is running."""
        from mltrail.store.sql.engine import transaction

        for attempt in range(2):
            try:
                with transaction(self.engine, write=True) as conn:
                    row = conn.execute(
                        sa.select(
                            idempotency_keys.c.route,
                            idempotency_keys.c.request_hash,
                            idempotency_keys.c.status,
                            idempotency_keys.c.body,
                        ).where(idempotency_keys.c.idem_key == key)
                    ).first()
                    if row is None:
                        conn.execute(
                            idempotency_keys.insert().values(
                                idem_key=key, route=route, request_hash=digest, created_ms=_now_ms()
                            )
                        )
                        if random.random() < 0.01:
                            self._purge(conn)
                        return None
            except MltrailException:
                if attempt == 1:
                    raise
                continue  # another worker inserted the same key at the same moment
            if (row.route, row.request_hash) != (route, digest):
                raise InvalidParameter(
                    f"The Idempotency-Key {key!r} was already used for a different request; "
                    "use a new key for each distinct create."
                )
            return row.status, row.body
        return None  # not reached

    def keep(self, key: str, status: int, body: bytes) -> None:
        from mltrail.store.sql.engine import transaction

        with transaction(self.engine, write=True) as conn:
            conn.execute(
                idempotency_keys.update()
                .where(idempotency_keys.c.idem_key == key)
                .values(status=status, body=body)
            )

    def release(self, key: str) -> None:
        from mltrail.store.sql.engine import transaction

        with transaction(self.engine, write=True) as conn:
            conn.execute(idempotency_keys.delete().where(idempotency_keys.c.idem_key == key))

    def _purge(self, conn: Any) -> None:
        cutoff = _now_ms() - KEEP_MS
        conn.execute(idempotency_keys.delete().where(idempotency_keys.c.created_ms < cutoff))


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
