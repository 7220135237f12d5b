"""Object keys: ``music/{timestamp}_{sanitized_name}.{ext}``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from songy.domain.formats import OutputFormat, supported_format_names
from songy.domain.naming import music_object_key, sanitize_name, variant_object_key

KEY = re.compile(r"^music/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z_[A-Za-z0-9_-]{1,100}\.[a-z0-9]+$")


def test_seed_example() -> None:
    moment = datetime(2024, 9, 1, 0, 45, 30, 123456, tzinfo=UTC)
    key = music_object_key(moment, "My Awesome Song", OutputFormat.parse("mp3_44100_128"))
    assert key == "music/2024-09-01T00-45-30-123Z_My_Awesome_Song.mp3"


def test_timestamp_is_converted_to_utc() -> None:
    moment = datetime(2024, 9, 1, 2, 45, 30, tzinfo=timezone(timedelta(hours=2)))
    assert music_object_key(moment, "a", OutputFormat.parse("pcm_16000")).startswith(
        "music/2024-09-01T00-45-30-000Z_a.pcm"
    )


def test_accents_are_folded_and_symbols_collapse() -> None:
    assert sanitize_name("Café del Mar!!! (remix)") == "Cafe_del_Mar_remix"


def test_path_traversal_cannot_escape_the_prefix() -> None:
    assert sanitize_name("../../etc/passwd") == "etc_passwd"


def test_nothing_usable_becomes_untitled() -> None:
    assert sanitize_name("日本語 🎵") == "untitled"


@given(
    st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1), max_value=datetime(2999, 1, 1)),
    st.text(max_size=300),
    st.sampled_from(supported_format_names()),
)
def test_any_name_gives_a_safe_key(moment: datetime, name: str, fmt: str) -> None:
    output = OutputFormat.parse(fmt)
    key = music_object_key(moment, name, output)
    assert KEY.match(key), key
    assert key.endswith("." + output.extension)


@given(st.text(max_size=200))
def test_sanitizing_is_idempotent(name: str) -> None:
    once = sanitize_name(name)
    assert sanitize_name(once) == once


def test_variant_key_sits_next_to_the_original() -> None:
    key = "music/2024-09-01T00-45-30-123Z_Song.mp3"
    assert variant_object_key(key, OutputFormat.parse("wav_44100")) == (
        "music/2024-09-01T00-45-30-123Z_Song.wav_44100.wav"
    )
