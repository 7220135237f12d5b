"""The real clock and cuid2 identifiers."""

from __future__ import annotations

from datetime import UTC, datetime

from cuid2 import Cuid


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Cuid2Ids:
    def __init__(self) -> None:
        self._cuid = Cuid()

    def new_id(self) -> str:
        return self._cuid.generate()
