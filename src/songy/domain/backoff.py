"""How a long-running loop lives with a dependency that is down: it waits longer after each failure (doubling, up
to ``cap``), writes one line per failed attempt (the traceback only at DEBUG), and one line when it recovers. A
database that is unreachable for a minute is then a dozen lines, not thousands of tracebacks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

BASE_S = 0.5
CAP_S = 30.0


def reason(exc: BaseException) -> str:
    """The exception in one line: its class and the first line of its message."""
    first = str(exc).strip().split("\n", 1)[0]
    return f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__


class Backoff:
    """Failures of one task (``what``): :meth:`failed` logs and says how long to wait, :meth:`succeeded` ends a
    streak with a "recovered" line. ``due`` tells whether the wait is over (for loops that run several tasks)."""

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        base_s: float = BASE_S,
        cap_s: float = CAP_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self._log = logger
        self._base_s = base_s
        self._cap_s = cap_s
        self._clock = clock
        self.failures = 0
        self._next_try = 0.0

    @property
    def delay_s(self) -> float:
        """The wait after the latest failure (0 when the last attempt succeeded)."""
        return 0.0 if not self.failures else min(self._cap_s, self._base_s * 2 ** (self.failures - 1))

    def due(self) -> bool:
        return self._clock() >= self._next_try

    def remaining_s(self) -> float:
        return max(0.0, self._next_try - self._clock())

    def failed(self, exc: BaseException) -> float:
        self.failures += 1
        delay = self.delay_s
        self._next_try = self._clock() + delay
        self._log.error(
            "%s failed (attempt %d): %s; next attempt in %.1f s",
            self.what,
            self.failures,
            reason(exc),
            delay,
            exc_info=exc if self._log.isEnabledFor(logging.DEBUG) else None,
        )
        return delay

    def succeeded(self) -> None:
        if self.failures:
            self._log.warning("%s recovered after %d failed attempts", self.what, self.failures)
        self.failures = 0
        self._next_try = 0.0
