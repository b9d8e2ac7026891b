"""Webhook routes (MLflow 3's ``WebhookService``): create, list, get, update, delete, and test
a webhook. URLs pass the server's webhook URL policy (``server.webhooks``) when saved."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mltrail.entities.webhooks import WEBHOOK_EVENTS, Webhook, normalize_event
from mltrail.protocol import registry_routes as routes
from mltrail.server.api.encode import paged, reply
from mltrail.server.api.mount import serve
from mltrail.server.api.wire import (
    Int64,
    RequiredText,
    Text,
    WireModel,
    call,
    read_body,
    read_query,
)
from mltrail.server.webhooks import EXAMPLES, deliver

router = APIRouter(tags=["webhooks"])


class EventIn(WireModel):
    entity: RequiredText
    action: RequiredText


class CreateHookIn(WireModel):
    name: RequiredText
    url: RequiredText
    events: list[EventIn] = []
    description: Text | None = None
    secret: Text | None = None
    status: Text | None = None


class UpdateHookIn(WireModel):
    name: Text | None = None
    url: Text | None = None
    events: list[EventIn] | None = None
    description: Text | None = None
    secret: Text | None = None
    status: Text | None = None


class ListHooksIn(WireModel):
    max_results: Int64 | None = None
    page_token: Text | None = None


class TestHookIn(WireModel):
    event: EventIn | None = None


def webhook_json(hook: Webhook) -> dict[str, Any]:
    out: dict[str, Any] = {
        "webhook_id": hook.webhook_id,
        "name": hook.name,
        "url": hook.url,
        "events": [
            {"entity": e.split(".")[0].upper(), "action": e.split(".")[1].upper()}
            for e in hook.events
        ],
        "status": hook.status,
        "creation_timestamp": hook.creation_timestamp,
        "last_updated_timestamp": hook.last_updated_timestamp,
    }
    if hook.description:
        out["description"] = hook.description
    return out


def _hooks(request: Request) -> Any:
    return request.app.state.webhook_store


def _policy(request: Request) -> Any:
    return request.app.state.webhooks.policy


def _events(items: list[EventIn]) -> list[str]:
    return [normalize_event(e.entity, e.action) for e in items]


@serve(router, routes.CREATE_WEBHOOK)
async def create_webhook(request: Request) -> Response:
    body = await read_body(request, CreateHookIn)
    url = await call(_policy(request).check, body.url)
    hook = await call(
        _hooks(request).create, body.name, url, _events(body.events), body.description,
        body.secret, (body.status or "ACTIVE").upper(),
    )  # fmt: skip
    return reply({"webhook": webhook_json(hook)})


@serve(router, routes.LIST_WEBHOOKS)
async def list_webhooks(request: Request) -> Response:
    query = await read_query(request, ListHooksIn)
    found, token = await call(
        _hooks(request).list, query.max_results or 100, query.page_token or None
    )
    return reply(paged("webhooks", [webhook_json(h) for h in found], token))


@serve(router, routes.GET_WEBHOOK)
async def get_webhook(request: Request, webhook_id: str) -> Response:
    return reply({"webhook": webhook_json(await call(_hooks(request).get, webhook_id))})


@serve(router, routes.UPDATE_WEBHOOK)
async def update_webhook(request: Request, webhook_id: str) -> Response:
    body = await read_body(request, UpdateHookIn)
    url = await call(_policy(request).check, body.url) if body.url else None
    hook = await call(
        _hooks(request).update,
        webhook_id,
        name=body.name or None,
        url=url,
        events=_events(body.events) if body.events else None,
        description=body.description,
        secret=body.secret,
        status=body.status.upper() if body.status else None,
    )
    return reply({"webhook": webhook_json(hook)})


@serve(router, routes.DELETE_WEBHOOK)
async def delete_webhook(request: Request, webhook_id: str) -> Response:
    await call(_hooks(request).delete, webhook_id)
    return reply()


@serve(router, routes.TEST_WEBHOOK)
async def test_webhook(request: Request, webhook_id: str) -> Response:
    """Send one example event now and report what the receiver answered."""
    body = await read_body(request, TestHookIn)
    hook = await call(_hooks(request).get, webhook_id)
    if body.event is not None:
        event = normalize_event(body.event.entity, body.event.action)
    else:
        event = hook.events[0] if hook.events else WEBHOOK_EVENTS[0]
    result = await call(deliver, hook, event, EXAMPLES[event], _policy(request))
    out: dict[str, Any] = {"success": result.success}
    if result.response_status is not None:
        out["response_status"] = result.response_status
    if result.response_body:
        out["response_body"] = result.response_body
    if result.error_message:
        out["error_message"] = result.error_message
    return reply({"result": out})
