"""Object keys for stored audio: ``music/{timestamp}_{sanitized_name}.{ext}`` as the seed names them."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from songy.domain.formats import OutputFormat

KEY_PREFIX = "music/"
MAX_NAME_CHARS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def sanitize_name(name: str) -> str:
    """Reduce a display name to ``[A-Za-z0-9_-]``: accents folded, other runs become one ``_``.

    ``"My Awesome Song"`` -> ``"My_Awesome_Song"``; a name with nothing usable becomes ``"untitled"``.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("_", folded).strip("_")[:MAX_NAME_CHARS].strip("_")
    return cleaned or "untitled"


def key_timestamp(moment: datetime) -> str:
    """``2024-09-01T00-45-30-123Z``: ISO-8601 UTC with milliseconds, safe in a key (no ``:`` or ``.``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H-%M-%S-") + f"{utc.microsecond // 1000:03d}Z"


def music_object_key(moment: datetime, name: str, output_format: OutputFormat) -> str:
    """The blob key of a track rendered at ``moment``."""
    return f"{KEY_PREFIX}{key_timestamp(moment)}_{sanitize_name(name)}.{output_format.extension}"


def variant_object_key(original_key: str, output_format: OutputFormat) -> str:
    """The key of the same track transcoded to another format, stored next to the original."""
    stem = original_key.rsplit(".", 1)[0]
    return f"{stem}.{output_format.name}.{output_format.extension}"
