"""``/files/{key}``: the local blob store's audio over HTTP, with single-range requests so players can seek.

A request is served only with a valid, unexpired signature for its key and ``download`` name (403 otherwise,
whether or not the file exists), or unsigned when ``SONGY_PUBLIC_AUDIO=true``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, Request, Response, get
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from songy.adapters.content_disposition import attachment
from songy.adapters.localfs.blob_store import InvalidKey, LocalFsBlobStore

CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive for a single ``bytes=`` range, ``None`` for the whole file.

    Raises a 416 for a range that cannot be satisfied; multi-range requests get the whole file.
    """
    if not header or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if match[1]:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
    else:
        length = int(match[2])
        start, end = max(0, size - length), size - 1
    if start >= size or start > end:
        raise HTTPException(
            status_code=416, detail=f"range {header} not satisfiable", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


async def _read(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    remaining = end - start + 1
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        while remaining > 0:
            chunk = await handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


class FilesController(Controller):
    path = "/files"
    tags = ["files"]

    @get("/{key:path}", summary="Stored audio (local blob store)", include_in_schema=True)
    async def serve(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        expires: FromQuery[str | None] = None,
        signature: FromQuery[str | None] = None,
        download: FromQuery[str | None] = None,
    ) -> Response[Any]:
        store: LocalFsBlobStore = request.app.state.container.blob_store()
        key = key.lstrip("/")
        if not store.authorizes(key, expires, signature, download):
            raise HTTPException(status_code=403, detail="audio link missing, expired or invalid")
        try:
            path = store.path_for(key)
        except InvalidKey:
            raise NotFoundException("file not found") from None
        try:
            if not path.is_file():
                raise FileNotFoundError(key)
            size = path.stat().st_size
        except OSError:  # missing, a directory, or deleted a moment ago
            raise NotFoundException("file not found") from None
        byte_range = parse_range(request.headers.get("range"), size)
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
        if download:
            headers["Content-Disposition"] = attachment(download)
        media_type = store.content_type(key)
        if byte_range is None:
            headers["Content-Length"] = str(size)
            return Stream(_read(path, 0, size - 1), media_type=media_type, headers=headers)
        start, end = byte_range
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        headers["Content-Length"] = str(end - start + 1)
        return Stream(_read(path, start, end), status_code=206, media_type=media_type, headers=headers)
