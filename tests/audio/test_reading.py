"""Reading a prompt (issue 17): tempo clamped to a musical range, keys read only where they are keys, named
instruments used or reported, more genres, and every word either understood or reported as not understood."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from songy.adapters.synth.style import GENRES, MAX_BPM, MIN_BPM, NOTE_NAMES, interpret


@pytest.mark.parametrize(
    ("prompt", "bpm"),
    [("techno 1000 bpm", 200), ("techno, 1000bpm", 200), ("ambient 3 bpm", 50), ("house at 128 BPM", 128),
     ("tempo: 95, funky", 95), ("lofi 82.5 bpm", 82)],
)  # fmt: skip
def test_a_stated_tempo_is_read_whole_and_clamped(prompt: str, bpm: int) -> None:
    """ "techno 1000 bpm" came out at 40 bpm (the reader saw "000")."""
    _, reading = interpret(prompt, seed=0)
    assert reading.bpm == bpm
    assert reading.sources["bpm"] == "prompt"


@pytest.mark.parametrize(
    ("prompt", "key"),
    [
        ("a happy song in a major key", None),  # "a" is an article: the key is the seed's, the mode major
        ("a minor key ballad", None),
        ("am I dreaming", None),
        ("A happy pop song", None),
        ("song in a minor", "A minor"),
        ("happy pop in Bb major", "A# major"),
        ("F#m trap beat", "F# minor"),
        ("jazz in the key of E", "E"),
        ("rock in G", "G"),
        ("Melancholic strings in D minor", "D minor"),
        ("c minor nocturne", "C minor"),
    ],
)
def test_keys_are_read_only_where_they_are_keys(prompt: str, key: str | None) -> None:
    style, reading = interpret(prompt, seed=4)
    if key is None:
        assert reading.sources["key"] == "seed" and style.root == 4
    else:
        assert reading.sources["key"] == "prompt"
        name, *mode = key.split()
        assert NOTE_NAMES[style.root] == name
        if mode:
            assert reading.mode == mode[0]
    if "major key" in prompt:
        assert reading.mode == "major"
    if "minor key" in prompt:
        assert reading.mode == "minor"


@pytest.mark.parametrize(
    ("prompt", "genre"),
    [("roots reggae", "reggae"), ("heavy metal", "metal"), ("orchestral", "orchestral"), ("jazz swing", "jazz"),
     ("cinematic score", "orchestral"), ("dnb", "drum and bass")],
)  # fmt: skip
def test_more_genres(prompt: str, genre: str) -> None:
    style, reading = interpret(prompt, seed=0)
    assert style.genre == reading.genre == genre
    assert "heavy" not in reading.not_understood


def test_metal_is_distorted_orchestral_has_no_drums_jazz_swings() -> None:
    assert interpret("heavy metal", 0)[0].distortion > 0.5
    assert "drums" not in interpret("orchestral", 0)[0].roles
    assert interpret("jazz", 0)[0].swing >= 0.25


def test_named_instruments_are_used_or_reported() -> None:
    _, flute = interpret("solo flute melody", 0)
    assert [(i["role"], i["program"]) for i in flute.instruments] == [("lead", 73)]
    _, missing = interpret("folk with ukulele and vocals", 0)
    assert "ukulele" in missing.not_available and "vocals (instrumental only)" in missing.not_available
    assert any("ukulele" in note for note in missing.notes)


@pytest.mark.parametrize("prompt", ["", "🎵🎶", "静かなピアノ", "موسيقى هادئة", "zorblax quux"])
def test_what_is_not_understood_is_said(prompt: str) -> None:
    """Empty, emoji-only, Japanese and Arabic prompts became default pop silently."""
    _, reading = interpret(prompt, seed=0)
    assert reading.sources["genre"] == "default"
    assert list(reading.not_understood) == prompt.split()


@settings(max_examples=200, deadline=None)
@given(prompt=st.text(max_size=80), seed=st.integers(0, 2**32 - 1))
def test_any_prompt_reads_to_a_playable_style(prompt: str, seed: int) -> None:
    style, reading = interpret(prompt, seed)
    assert MIN_BPM <= style.bpm == reading.bpm <= MAX_BPM
    assert style.genre in {g.name for g in GENRES}
    assert style.parts, "something plays"
    words = prompt.lower().split()
    assert all(any(w in word for word in words) for w in reading.not_understood)
    assert reading.as_dict()["bpm"] == style.bpm
