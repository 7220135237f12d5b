"""The production wiring, built by ``Container`` from production-like settings (nothing is fetched at build time),
keeps the address guard and https-only switched on: no private flag is flipped by hand here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dependency_injector import providers

from songy.adapters.memory.unit_of_work import MemoryDatabase, MemoryUnitOfWork
from songy.container import Container, build_container
from songy.domain.errors import ValidationError
from songy.domain.user import Identity, User
from songy.ports.events import WebhookSendError
from songy.settings import Settings

SECRET = "whsec_" + "A" * 43
CAROL = Identity("user_carol", "carol@example.com", "Carol")
INTERNAL = [
    "127.0.0.1",
    "::1",
    "10.0.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.100.200",
    "fd00::1",
    "::ffff:127.0.0.1",
    "2002:a00:1::",
    "64:ff9b::a9fe:a9fe",
]


def production_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mode": "production",
        "auth": "clerk",
        "clerk_jwks_url": "https://clerk.example.invalid/.well-known/jwks.json",
        "clerk_issuer": "https://clerk.example.invalid",
        "data_dir": data_dir,
        "webhooks_allow_private": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Container]:
    container = build_container(production_settings(tmp_path))
    db = MemoryDatabase()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    db.users[CAROL.subject] = User(
        id="u_carol", clerk_id=CAROL.subject, email=CAROL.email, name=CAROL.name, created_at=now, updated_at=now
    )
    container.unit_of_work.override(providers.Factory(MemoryUnitOfWork, db, lambda: now, lambda: None))
    yield container
    container.unit_of_work.reset_override()


@pytest.mark.parametrize("address", INTERNAL)
async def test_the_production_sender_refuses_internal_addresses(production: Container, address: str) -> None:
    sender = production.webhook_sender()
    with pytest.raises(WebhookSendError, match="non-public"):
        await sender.resolve(address, 443)


async def test_the_production_sender_refuses_plain_http_and_literal_loopback_urls(production: Container) -> None:
    sender = production.webhook_sender()
    # refused by the URL rules, before any name is resolved or any connection opened
    with pytest.raises(WebhookSendError, match="must use https"):
        await sender.send("http://127.0.0.1:9/x", SECRET, "msg_1", b"{}", datetime.now(UTC))
    with pytest.raises(WebhookSendError, match="loopback"):
        await sender.send("https://[::1]:9/x", SECRET, "msg_2", b"{}", datetime.now(UTC))
    await sender.aclose()


async def test_production_registration_refuses_http_and_takes_https(production: Container) -> None:
    endpoints = production.webhook_endpoints()
    for url in ("http://example.com/hook", "https://10.0.0.1/hook", "https://localhost/hook"):
        with pytest.raises(ValidationError) as refused:
            await endpoints.register(CAROL, url, None)
        assert [d.field for d in refused.value.details] == ["url"], url
    endpoint = await endpoints.register(CAROL, "https://example.com/hook", None)
    assert endpoint.url == "https://example.com/hook"
    assert [e.url for e in await endpoints.list(CAROL)] == ["https://example.com/hook"]


async def test_the_documented_switch_lets_private_targets_through(tmp_path: Path) -> None:
    container = build_container(production_settings(tmp_path, webhooks_allow_private=True))
    assert await container.webhook_sender().resolve("10.0.0.1", 80) == "10.0.0.1"
    assert container.webhook_urls().check("http://10.0.0.1/hook") == "http://10.0.0.1/hook"
