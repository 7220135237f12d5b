"""ChunkBody: a list of chunks read as one seekable file, byte for byte."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from songy.adapters.s3.chunks import ChunkBody


@given(
    chunks=st.lists(st.binary(max_size=64), max_size=12),
    reads=st.lists(st.integers(1, 100), min_size=1, max_size=20),
    start=st.integers(0, 200),
)
def test_reads_of_any_size_from_any_position_match_the_joined_bytes(
    chunks: list[bytes], reads: list[int], start: int
) -> None:
    joined = b"".join(chunks)
    body, reference = ChunkBody(chunks), io.BytesIO(joined)
    assert len(body) == len(joined)
    assert body.seek(start) == reference.seek(start)
    for size in reads:
        assert body.read(size) == reference.read(size)
        assert body.tell() == reference.tell()
    body.seek(0)
    assert body.read() == joined


def test_seek_relative_to_the_end_and_current_position() -> None:
    body = ChunkBody([b"abc", b"", b"defg", b"h"])
    assert body.seek(-3, os.SEEK_END) == 5
    assert body.read(2) == b"fg"
    assert body.seek(-4, os.SEEK_CUR) == 3
    assert body.read() == b"defgh"
    assert body.read(5) == b""
    with pytest.raises(ValueError):
        body.seek(-1)
