"""The health port: anything Songy depends on can say whether it can be used now."""

from __future__ import annotations

from typing import Protocol


class HealthCheck(Protocol):
    async def check(self) -> None:
        """Return when the dependency answers; raise (with the reason) when it cannot be used."""
        ...
