"""``/api/webhook-endpoints``: where Songy POSTs your music's completion, failure and cancellation."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from songy.domain.user import Identity
from songy.domain.webhooks import WebhookDelivery, WebhookEndpoint
from songy.entrypoints.http.auth import current_identity
from songy.entrypoints.http.envelope import ok
from songy.entrypoints.http.presenters import iso_timestamp


def endpoint_view(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    view = {
        "endpointId": endpoint.id,
        "url": endpoint.url,
        "events": endpoint.events or ["*"],
        "createdAt": iso_timestamp(endpoint.created_at),
    }
    if with_secret:
        view["secret"] = endpoint.secret
    return view


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "deliveryId": delivery.id,
        "event": delivery.event_name,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "nextAttemptAt": iso_timestamp(delivery.next_attempt_at) if delivery.status.value == "pending" else None,
        "createdAt": iso_timestamp(delivery.created_at),
        "deliveredAt": iso_timestamp(delivery.delivered_at) if delivery.delivered_at else None,
        "payload": delivery.payload,
    }


class WebhookEndpointsController(Controller):
    path = "/api/webhook-endpoints"
    tags = ["webhooks"]
    dependencies = {"identity": Provide(current_identity)}
    security = [{"BearerAuth": []}]

    @post("/", status_code=201, summary="Register an endpoint; the signing secret is shown only here")
    async def register(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], data: JSONBody[dict[str, Any]]
    ) -> Response[dict[str, Any]]:
        endpoint = await request.app.state.container.webhook_endpoints().register(
            identity, data.get("url"), data.get("events")
        )
        return ok(endpoint_view(endpoint, with_secret=True), "Webhook endpoint registered", status_code=201)

    @get("/", summary="Your endpoints")
    async def list_endpoints(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity]
    ) -> Response[dict[str, Any]]:
        endpoints = await request.app.state.container.webhook_endpoints().list(identity)
        return ok({"items": [endpoint_view(e) for e in endpoints]})

    @delete("/{endpoint_id:str}", status_code=200, summary="Remove an endpoint")
    async def remove(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], endpoint_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        await request.app.state.container.webhook_endpoints().delete(identity, endpoint_id)
        return ok({"endpointId": endpoint_id, "deleted": True})

    @get("/{endpoint_id:str}/deliveries", summary="The delivery log of an endpoint, newest first")
    async def deliveries(
        self, request: Request[Any, Any, Any], identity: NamedDependency[Identity], endpoint_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        log = await request.app.state.container.webhook_endpoints().deliveries(identity, endpoint_id)
        return ok({"items": [delivery_view(d) for d in log]})
