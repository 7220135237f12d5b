"""One user's endpoint cannot break webhook delivery for everybody else: whatever one delivery raises is
recorded on that delivery and retried on its schedule, and every other delivery of the pass is sent once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from songy.adapters.memory.system import FixedClock, SequentialIds
from songy.adapters.memory.unit_of_work import MemoryDatabase, MemoryUnitOfWork
from songy.domain.use_cases.webhook_endpoints import DeliverWebhooks
from songy.domain.webhooks import BACKOFF, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from songy.ports.events import WebhookSendError

POISON = "https://poisoned.example:99999/"
FAULTS = [
    ValueError("Port out of range 0-65535"),
    KeyError("scheme"),
    TypeError("expected str"),
    UnicodeError("label too long"),
    RuntimeError("boom"),
    OSError("too many open files"),
    ZeroDivisionError("division by zero"),
    AssertionError("unexpected"),
    WebhookSendError("refusing to deliver"),
]


class FakeSender:
    """Answers 204, except for :data:`POISON`, where it raises ``fault``; counts sends per message id."""

    def __init__(self, fault: Exception) -> None:
        self.fault = fault
        self.sent: Counter[str] = Counter()

    async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
        self.sent[message_id] += 1
        if url == POISON:
            raise self.fault
        return 204


class World:
    def __init__(self, users: int, poisoned_at: int, sender: object) -> None:
        self.clock = FixedClock()
        self.db = MemoryDatabase()
        ids = SequentialIds("wh")
        now = self.clock.now()
        self.poisoned: str = ""
        for n in range(users):
            url = POISON if n == poisoned_at else f"https://receiver.example/user{n}"
            endpoint = WebhookEndpoint(ids.new_id(), f"user{n}", url, [], "whsec_" + "A" * 43, now)
            self.db.endpoints[endpoint.id] = endpoint
            delivery = WebhookDelivery(
                ids.new_id(), endpoint.id, endpoint.user_id, "music.generation.completed", {}, now, now
            )
            self.db.deliveries[delivery.id] = delivery
            if url == POISON:
                self.poisoned = delivery.id
        self.deliverer = DeliverWebhooks(self.uow, sender, self.clock)  # type: ignore[arg-type]

    async def deliver(self) -> int:
        """One pass, and every send it started made and recorded."""
        started = await self.deliverer()
        await self.deliverer.settle()
        return started

    def uow(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.db, self.clock.now, lambda: None)

    def delivery(self, delivery_id: str) -> WebhookDelivery:
        return self.db.deliveries[delivery_id]


@settings(max_examples=30, deadline=None)
@given(fault=st.sampled_from(FAULTS), poisoned_at=st.integers(0, 19))
async def test_a_poisoned_endpoint_among_20_users_breaks_nobody_else(fault: Exception, poisoned_at: int) -> None:
    sender = FakeSender(fault)
    world = World(20, poisoned_at, sender)
    assert await world.deliver() == 20
    others = [d for d in world.db.deliveries.values() if d.id != world.poisoned]
    assert all(d.status is DeliveryStatus.SUCCEEDED and d.attempts == 1 for d in others)
    poisoned = world.delivery(world.poisoned)
    assert poisoned.status is DeliveryStatus.PENDING and poisoned.attempts == 1
    assert poisoned.last_error and str(fault.args[0]) in poisoned.last_error
    assert poisoned.next_attempt_at == world.clock.now() + BACKOFF[0]

    # the poisoned delivery is retried on its schedule, then FAILED with the reason; nobody else is sent again
    for wait in BACKOFF:
        assert await world.deliver() == 0  # not due yet
        world.clock.advance(wait)
        assert await world.deliver() == 1
    poisoned = world.delivery(world.poisoned)
    assert poisoned.status is DeliveryStatus.FAILED and poisoned.attempts == len(BACKOFF) + 1
    assert poisoned.last_error and str(fault.args[0]) in poisoned.last_error
    assert sender.sent == Counter({d.id: 1 for d in others} | {world.poisoned: len(BACKOFF) + 1})


async def test_one_slow_receiver_does_not_hold_the_others_back() -> None:
    """The pass sends concurrently: the slow receiver answers only once all the others have been sent to."""

    class SlowFirst(FakeSender):
        def __init__(self) -> None:
            super().__init__(RuntimeError())
            self.others_done = asyncio.Event()

        async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
            self.sent[message_id] += 1
            if url == POISON:
                await self.others_done.wait()
            elif len(self.sent) == 20:
                self.others_done.set()
            return 204

    sender = SlowFirst()
    world = World(20, 0, sender)
    async with asyncio.timeout(10):  # sent one after another, the slow one would wait forever
        assert await world.deliver() == 20
    assert all(d.status is DeliveryStatus.SUCCEEDED for d in world.db.deliveries.values())


async def test_a_deleted_endpoint_fails_its_delivery_at_once() -> None:
    sender = FakeSender(RuntimeError())
    world = World(2, -1, sender)
    gone = next(iter(world.db.endpoints))
    del world.db.endpoints[gone]
    assert await world.deliver() == 2
    failed = [d for d in world.db.deliveries.values() if d.endpoint_id == gone]
    assert [(d.status, d.last_error) for d in failed] == [(DeliveryStatus.FAILED, "endpoint deleted")]
    assert sum(sender.sent.values()) == 1


def test_an_error_is_recorded_printable_and_bounded() -> None:
    now = datetime(2024, 9, 1, tzinfo=FixedClock().now().tzinfo)
    delivery = WebhookDelivery("d1", "e1", "u1", "music.generation.completed", {}, now, now)
    delivery.record(now + timedelta(seconds=1), None, "bad\x00byte\n" + "x" * 5000)
    assert delivery.last_error is not None and len(delivery.last_error) == 500
    assert delivery.last_error.startswith("bad byte x") and delivery.last_error.isprintable()


async def test_a_silent_users_backlog_holds_neither_the_pass_nor_anyone_elses_delivery() -> None:
    """Ten endpoints that never answer, with thirty deliveries each, all older than another user's one delivery."""

    class Silent(FakeSender):
        async def send(self, url: str, secret: str, message_id: str, body: bytes, timestamp: datetime) -> int:
            self.sent[message_id] += 1
            if "silent" in url:
                await asyncio.Event().wait()  # holds the connection as long as it is let
            return 204

    sender = Silent(RuntimeError())
    world = World(0, -1, sender)
    ids, now = SequentialIds("t"), world.clock.now()
    for n in range(10):
        endpoint = WebhookEndpoint(ids.new_id(), "attacker", f"https://silent.example/{n}", [], "whsec_x", now)
        world.db.endpoints[endpoint.id] = endpoint
        for age in range(30):
            then = now - timedelta(seconds=30 - age)
            delivery = WebhookDelivery(
                ids.new_id(), endpoint.id, "attacker", "music.generation.completed", {}, then, then
            )
            world.db.deliveries[delivery.id] = delivery
    victim = WebhookEndpoint("ep-victim", "victim", "https://victim.example/", [], "whsec_x", now)
    world.db.endpoints[victim.id] = victim
    world.db.deliveries["d-victim"] = WebhookDelivery("d-victim", victim.id, "victim", "x", {}, now, now)

    async with asyncio.timeout(10):
        assert await world.deliverer() == 11  # one per endpoint, started at once: the pass does not wait for them
        while world.delivery("d-victim").status is not DeliveryStatus.SUCCEEDED:  # noqa: ASYNC110 - another task records it
            await asyncio.sleep(0.01)
        assert await world.deliverer() == 0  # every silent endpoint already has its one delivery in flight
    assert sum(sender.sent.values()) == 11  # ten held, one delivered; the backlog waits its turn, per endpoint
    await world.deliverer.stop()  # what was held is abandoned: its lease runs out and it is sent again later
    assert all(d.attempts == 0 for d in world.db.deliveries.values() if d.user_id == "attacker")
