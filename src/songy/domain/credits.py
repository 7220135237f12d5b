"""Credits: one credit buys one second of audio. Reserved at request time, kept on completion, released on
failure, cancellation or deletion before completion."""

from __future__ import annotations

import math

from songy.domain.music import Music
from songy.ports.repositories import UnitOfWork


def cost_of(length_ms: int) -> int:
    """Credits a track of ``length_ms`` costs (seconds, rounded up)."""
    return math.ceil(length_ms / 1000)


async def release_credits(uow: UnitOfWork, music: Music) -> int:
    """Give the reservation of an unfinished track back to its owner, once; returns how many."""
    amount = music.credits_reserved
    if amount:
        await uow.users.add_credits(music.user_id, amount)
        music.credits_reserved = 0
    return amount
