"""CheckDependencies: ask every dependency (database, queue, blob store) whether it can be used now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from songy.ports.health import HealthCheck

OK = "ok"


async def outcome(action: Callable[[], Awaitable[object]], timeout_s: float) -> str:
    """``"ok"`` when ``action`` finished within ``timeout_s``, else why not (the exception, or the timeout)."""
    try:
        async with asyncio.timeout(timeout_s):
            await action()
    except TimeoutError:
        return f"timed out after {timeout_s:g}s"
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"[:300]
    return OK


class CheckDependencies:
    """All checks at once, each within ``timeout_s``: name -> ``"ok"`` or the reason. Never raises: a dependency
    that is down (or cannot even be built, e.g. a misconfigured client) is a result, not an error.

    ``dependencies`` maps a name to a callable that returns the dependency (a provider), called at each check so
    that a replaced dependency is the one checked."""

    def __init__(self, dependencies: Mapping[str, Callable[[], HealthCheck]], timeout_s: float = 2.0) -> None:
        self._dependencies = dependencies
        self.timeout_s = timeout_s

    async def __call__(self) -> dict[str, str]:
        names = list(self._dependencies)
        results = await asyncio.gather(*(outcome(self._checker(n), self.timeout_s) for n in names))
        return dict(zip(names, results, strict=True))

    def _checker(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self._dependencies[name]().check()

        return run
