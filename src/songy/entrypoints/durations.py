"""Parsing human durations for the CLI: ``30s``, ``1m30s``, ``2m``, ``4500ms``, ``1h``, or plain seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> timedelta:
    """Raise ``ValueError`` with the offending text when it is not a duration."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return timedelta(seconds=float(value))
    parts = _PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"not a duration: {text!r} (try 30s, 1m30s, 4500ms)")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return timedelta(seconds=sum(float(n) * scale[u] for n, u in parts))
