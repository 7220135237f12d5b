"""The cache of verified tokens: served only while the token is valid and for a bounded time; never a failure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from songy.adapters.devauth.tokens import DevTokens
from songy.adapters.jwt_claims import VerifiedTokens
from songy.domain.errors import AuthenticationError
from songy.domain.user import Identity

ALICE = Identity("user_alice")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_served_until_the_token_expires() -> None:
    clock = Clock()
    cache = VerifiedTokens(clock=clock)
    cache.put("t", ALICE, expires_at=1_030)
    clock.now = 1_029.9
    assert cache.get("t") is ALICE
    clock.now = 1_030
    assert cache.get("t") is None
    assert cache.get("t") is None  # and it is gone


def test_served_at_most_max_age_after_verification() -> None:
    clock = Clock()
    cache = VerifiedTokens(max_age=60, clock=clock)
    cache.put("t", ALICE, expires_at=10_000)
    clock.now += 59
    assert cache.get("t") is ALICE
    clock.now += 1
    assert cache.get("t") is None


def test_bounded_least_recently_used_first() -> None:
    cache = VerifiedTokens(max_entries=2, clock=Clock())
    cache.put("a", ALICE, 2_000)
    cache.put("b", ALICE, 2_000)
    assert cache.get("a") is ALICE  # "b" is now the least recently used
    cache.put("c", ALICE, 2_000)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (ALICE, None, ALICE)


def test_a_token_without_a_numeric_expiry_is_not_cached() -> None:
    cache = VerifiedTokens(clock=Clock())
    assert cache.put("t", ALICE, expires_at=None) is ALICE
    assert cache.get("t") is None


def test_dev_tokens_reject_a_tampered_token_even_after_the_genuine_one_was_cached() -> None:
    tokens = DevTokens("s" * 40)
    token = tokens.mint("user_alice", ttl=timedelta(minutes=5))
    assert tokens.verify_sync(token).subject == "user_alice"
    assert tokens.verify_sync(token).subject == "user_alice"  # served from the cache
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):  # a failure is never cached: both attempts are verified, and both fail
        with pytest.raises(AuthenticationError):
            tokens.verify_sync(forged)
