"""Songy's ids: what a string must look like to name a record, checked before any lookup.

Ids are cuid2 strings: lowercase ASCII letters and digits, 24 characters by default and at most 32 (the cuid2
specification's range). The rule accepts any length from 1 to 32 so that older ids (Prisma's 25-character cuid v1,
as in the seed) and the short ids of the in-memory test doubles stay valid; everything else (NUL, other scripts,
punctuation, capitals, 33+ characters) cannot name a record and is refused without a query.
"""

from __future__ import annotations

import re

ID_MAX_CHARS = 32
ID_RULE = f"1-{ID_MAX_CHARS} lowercase letters and digits"

_ID = re.compile(f"[a-z0-9]{{1,{ID_MAX_CHARS}}}")


def is_id(value: object) -> bool:
    """True when ``value`` could be one of Songy's ids (it may still name no record)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None
