"""``Content-Disposition: attachment`` for any file name, encoded as RFC 6266 / RFC 5987 ask.

The name travels as ``filename*=utf-8''<percent-encoded>`` (the encoding Litestar's ``File`` response uses), with a
plain ASCII ``filename="..."`` fallback for old clients. Whatever the name holds (non-ASCII, quotes, CR/LF,
separators, lone surrogates) the header value is printable ASCII: no header injection, no encoding error.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FALLBACK_NAME = "download"


def attachment(filename: str) -> str:
    """The header value that makes a browser save the response as ``filename``."""
    utf8 = (filename or FALLBACK_NAME).encode("utf-8", "replace")  # a lone surrogate becomes "?", never an exception
    fallback = _FALLBACK_UNSAFE.sub("_", utf8.decode("ascii", "replace")).strip("_")
    if not fallback or fallback.startswith("."):  # "漢字.mp3" -> "download.mp3", never a hidden file
        fallback = FALLBACK_NAME + fallback
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(utf8, safe='')}"
