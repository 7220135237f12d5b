"""Completion webhooks: register endpoints, fan events out to deliveries, deliver them with retries."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from songy.domain.errors import FieldError, ValidationError, WebhookEndpointNotFound
from songy.domain.events import DomainEvent
from songy.domain.use_cases.audio_urls import AudioUrls
from songy.domain.use_cases.resolve_user import ResolveUser
from songy.domain.user import Identity
from songy.domain.webhooks import (
    BACKOFF,
    DELIVERABLE_EVENTS,
    MAX_ENDPOINTS_PER_USER,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    event_body,
)
from songy.ports.events import WebhookSender, WebhookSendError, WebhookUrlPolicy
from songy.ports.repositories import UnitOfWork, UnitOfWorkFactory
from songy.ports.system import Clock, IdGenerator

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
RETRY_SCHEDULE = sum(BACKOFF, timedelta())  # from a delivery's first attempt to its last


class ManageWebhookEndpoints:
    def __init__(
        self, uow: UnitOfWorkFactory, resolve_user: ResolveUser, ids: IdGenerator, clock: Clock, urls: WebhookUrlPolicy
    ) -> None:
        self._uow = uow
        self._resolve_user = resolve_user
        self._ids = ids
        self._clock = clock
        self._urls = urls

    async def register(self, identity: Identity, url: object, events: object) -> WebhookEndpoint:
        clean_url, clean_events = WebhookEndpoint.validate(url, events, self._urls)
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            endpoint = WebhookEndpoint(self._ids.new_id(), user.id, clean_url, clean_events, secret, self._clock.now())
            if not await uow.webhooks.add_endpoint(endpoint, limit=MAX_ENDPOINTS_PER_USER):
                raise ValidationError([FieldError("url", f"at most {MAX_ENDPOINTS_PER_USER} endpoints per user")])
            await uow.commit()
        return endpoint

    async def list(self, identity: Identity) -> list[WebhookEndpoint]:
        async with self._uow() as uow:
            user = await self._resolve_user(uow, identity)
            endpoints = await uow.webhooks.list_endpoints(user.id)
            await uow.commit()
        return endpoints

    async def delete(self, identity: Identity, endpoint_id: str) -> None:
        async with self._uow() as uow:
            await self._owned(uow, identity, endpoint_id)
            if not await uow.webhooks.delete_endpoint(endpoint_id):  # a concurrent delete won
                raise WebhookEndpointNotFound()
            await uow.commit()

    async def deliveries(self, identity: Identity, endpoint_id: str, limit: int = 50) -> list[WebhookDelivery]:
        async with self._uow() as uow:
            endpoint = await self._owned(uow, identity, endpoint_id)
            return await uow.webhooks.list_deliveries(endpoint.user_id, endpoint_id, limit)

    async def _owned(self, uow: UnitOfWork, identity: Identity, endpoint_id: str) -> WebhookEndpoint:
        user = await self._resolve_user(uow, identity)
        endpoint = next((e for e in await uow.webhooks.list_endpoints(user.id) if e.id == endpoint_id), None)
        if endpoint is None:
            raise WebhookEndpointNotFound()
        return endpoint


class FanOutWebhooks:
    """Inside the relay's transaction: one pending delivery per endpoint that wants the event.

    A completion carries ``audioUrl`` only as ``audio_urls`` gives it: signed here, once for all the event's
    deliveries, and valid for the audio URL lifetime plus the whole retry schedule, so that even the last retry
    arrives with a link that works for the full lifetime. Without ``audio_urls`` no ``audioUrl`` is sent.
    """

    def __init__(self, ids: IdGenerator, clock: Clock, audio_urls: AudioUrls | None = None) -> None:
        self._ids = ids
        self._clock = clock
        self._audio_urls = audio_urls

    async def __call__(self, uow: UnitOfWork, event: DomainEvent) -> int:
        if event.name not in DELIVERABLE_EVENTS:
            return 0
        endpoints = [e for e in await uow.webhooks.list_endpoints(event.user_id) if e.wants(event.name)]
        if not endpoints:
            return 0
        now = self._clock.now()
        payload = await self._payload(uow, event)
        for endpoint in endpoints:
            body = event_body(event.name, payload, now)
            delivery = WebhookDelivery(self._ids.new_id(), endpoint.id, event.user_id, event.name, body, now, now)
            await uow.webhooks.add_delivery(delivery)
        return len(endpoints)

    async def _payload(self, uow: UnitOfWork, event: DomainEvent) -> dict[str, Any]:
        payload = event.payload()
        if "audio_url" in payload:  # the stored, unsigned URL never leaves: a freshly signed one or none
            payload["audio_url"] = await self._signed_audio_url(uow, event.music_id)
        return payload

    async def _signed_audio_url(self, uow: UnitOfWork, music_id: str) -> str | None:
        if self._audio_urls is None:
            return None
        music = await uow.music.get(music_id)
        if music is None:
            return None
        return await self._audio_urls(music, valid_for=self._audio_urls.ttl + RETRY_SCHEDULE)


class DeliverWebhooks:
    """Send what is due; each attempt is recorded on the delivery (the owner's delivery log).

    Deliveries are isolated from one another. A pass starts the sends of what is due and returns at once: each
    delivery is sent and recorded on its own, at most one per endpoint at a time in this process and
    ``concurrency`` in all, so a slow or silent receiver holds one slot for at most the sender's deadline and never
    the relay, another endpoint or the next pass. Due deliveries are taken one per endpoint, oldest first, so one
    endpoint's backlog never queues anyone else's. Whatever goes wrong with one delivery (a refused or unparsable
    URL, a network error, any exception of the sender) is recorded on it, retried on its schedule and finally
    FAILED with the reason."""

    def __init__(self, uow: UnitOfWorkFactory, sender: WebhookSender, clock: Clock, *, concurrency: int = 64) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self._concurrency = concurrency
        self._in_flight: dict[str, asyncio.Task[None]] = {}  # endpoint id -> its delivery being sent

    async def __call__(self) -> int:
        """Lease what is due and start sending it; returns how many sends were started."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        # lease the due deliveries, send outside any transaction, then record each result: a slow receiver
        # never holds database locks, and a crash mid-send only delays the retry until the lease ends
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.webhooks.due_deliveries(now, free, busy_endpoints=frozenset(self._in_flight))
            if not due:
                return 0
            endpoints = {
                e.id: e for user_id in {d.user_id for d in due} for e in await uow.webhooks.list_endpoints(user_id)
            }
            for delivery in due:
                await uow.webhooks.save_delivery(replace(delivery, next_attempt_at=now + LEASE))
            await uow.commit()
        for delivery in due:
            task = asyncio.create_task(self._deliver(endpoints.get(delivery.endpoint_id), delivery))
            self._in_flight[delivery.endpoint_id] = task
            task.add_done_callback(lambda _, endpoint_id=delivery.endpoint_id: self._in_flight.pop(endpoint_id))
        return len(due)

    async def settle(self) -> None:
        """Wait until every send started so far has been made and recorded."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Abandon the sends in flight: their leases run out and they are sent again later (by any process)."""
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _deliver(self, endpoint: WebhookEndpoint | None, delivery: WebhookDelivery) -> None:
        await self._attempt(endpoint, delivery)
        try:
            async with self._uow() as uow:
                await uow.webhooks.save_delivery(delivery)
                await uow.commit()
        except Exception:  # the lease runs out and the delivery is sent again: at least once, never lost
            log.exception("could not record webhook delivery %s; it is sent again when its lease ends", delivery.id)

    async def _attempt(self, endpoint: WebhookEndpoint | None, delivery: WebhookDelivery) -> None:
        """One send, its outcome recorded on ``delivery``; never raises (bar cancellation)."""
        if endpoint is None:
            delivery.record(self._clock.now(), None, "endpoint deleted")
            delivery.status = DeliveryStatus.FAILED
            return
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        try:
            status = await self._sender.send(endpoint.url, endpoint.secret, delivery.id, body, self._clock.now())
        except WebhookSendError as exc:
            delivery.record(self._clock.now(), None, str(exc))
        except Exception as exc:  # a fault of one delivery is that delivery's, never the pass's
            log.warning("webhook %s to endpoint %s raised", delivery.id, endpoint.id, exc_info=True)
            delivery.record(self._clock.now(), None, f"{exc.__class__.__name__}: {exc}")
        else:
            delivery.record(self._clock.now(), status, None if 200 <= status < 300 else f"HTTP {status}")
        log.info("webhook %s to %s: %s (attempt %d)", delivery.id, endpoint.id, delivery.status, delivery.attempts)
