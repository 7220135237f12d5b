"""A request body made of the chunks a generator yielded, read in place: no joined copy of a part is ever made."""

from __future__ import annotations

import bisect
import io
import os


class ChunkBody(io.RawIOBase):
    """A seekable, read-only file over a list of byte chunks, as botocore wants a body (it reads the body once to
    checksum it, seeks back and reads it again to send it). Holding the chunks as they came avoids the copies and
    the transient doubling of growing one buffer."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._starts: list[int] = []
        total = 0
        for chunk in chunks:
            self._starts.append(total)
            total += len(chunk)
        self._size = total
        self._pos = 0

    def __len__(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        written = 0
        while written < len(target) and self._pos < self._size:
            index = bisect.bisect_right(self._starts, self._pos) - 1
            chunk = self._chunks[index]
            offset = self._pos - self._starts[index]
            take = min(len(chunk) - offset, len(target) - written)
            target[written : written + take] = memoryview(chunk)[offset : offset + take]
            written += take
            self._pos += take
        return written
