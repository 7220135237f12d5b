"""Text that can be stored: the one rule every string from outside meets before it goes anywhere.

PostgreSQL's ``text`` cannot hold U+0000, and a lone surrogate (U+D800-U+DFFF, which JSON's ``"\\ud800"`` escape
and undecodable bytes produce in Python) has no UTF-8 encoding. Both are refused wherever a string enters.
Other control characters (tab, newline, ESC, ...) are valid Unicode, stored as given and returned JSON-escaped;
fields with a stricter rule (ids, formats, statuses) check it themselves.
"""

from __future__ import annotations

NUL = "\x00"


def unstorable_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL character, a lone surrogate), or ``None`` when it can."""
    if NUL in text:
        return "must not contain NUL (U+0000)"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"must be valid UTF-8 text (a lone surrogate or undecodable byte at character {exc.start})"
    return None
