"""Reading a prompt: genre, mood, tempo, key and instruments, into a :class:`Style` the composer follows."""

from __future__ import annotations

import re
from dataclasses import dataclass

NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
INSTRUMENTS = ("piano", "synth", "bass", "drums", "strings", "guitar", "pad", "bells", "organ")


@dataclass(frozen=True)
class Genre:
    name: str
    words: tuple[str, ...]
    bpm: int
    minor: bool
    instruments: tuple[str, ...]
    swing: float = 0.0
    brightness: float = 0.5
    density: float = 0.5


GENRES: tuple[Genre, ...] = (
    Genre(
        "drum and bass", ("drum and bass", "dnb", "jungle"), 172, True, ("drums", "bass", "pad", "synth"), 0, 0.6, 0.8
    ),
    Genre("techno", ("techno",), 130, True, ("drums", "bass", "synth"), 0, 0.6, 0.7),
    Genre(
        "house",
        ("house", "edm", "dance", "electronic", "club", "disco"),
        124,
        False,
        ("drums", "bass", "synth", "pad"),
        0,
        0.7,
        0.7,
    ),
    Genre(
        "hip hop",
        ("hip hop", "hip-hop", "rap", "trap", "boom bap"),
        90,
        True,
        ("drums", "bass", "piano"),
        0.15,
        0.4,
        0.5,
    ),
    Genre("lofi", ("lofi", "lo-fi", "chillhop", "study"), 80, False, ("drums", "bass", "piano", "pad"), 0.2, 0.25, 0.4),
    Genre("jazz", ("jazz", "swing", "bebop", "lounge"), 112, False, ("drums", "bass", "piano"), 0.33, 0.45, 0.6),
    Genre("rock", ("rock", "punk", "grunge", "indie"), 126, False, ("drums", "bass", "guitar"), 0, 0.7, 0.7),
    Genre("metal", ("metal",), 150, True, ("drums", "bass", "guitar"), 0, 0.8, 0.9),
    Genre(
        "ambient",
        ("ambient", "drone", "atmospheric", "meditation", "space"),
        68,
        False,
        ("pad", "bells", "strings"),
        0,
        0.35,
        0.2,
    ),
    Genre(
        "classical",
        ("classical", "orchestral", "cinematic", "symphonic", "epic"),
        92,
        True,
        ("strings", "piano", "bass"),
        0,
        0.5,
        0.5,
    ),
    Genre("pop", ("pop",), 116, False, ("drums", "bass", "piano", "synth"), 0, 0.6, 0.6),
    Genre("folk", ("folk", "acoustic", "country"), 100, False, ("guitar", "bass", "strings"), 0, 0.5, 0.5),
)
DEFAULT_GENRE = GENRES[-2]

_TEMPO_WORDS = {
    "very slow": 60,
    "slow": 72,
    "calm": 74,
    "relaxing": 74,
    "chill": 84,
    "mellow": 84,
    "laid-back": 86,
    "moderate": 104,
    "groovy": 112,
    "upbeat": 124,
    "energetic": 132,
    "fast": 140,
    "frantic": 168,
}
_MINOR_WORDS = ("sad", "dark", "melancholic", "melancholy", "minor", "moody", "haunting", "tense", "ominous", "gloomy")
_MAJOR_WORDS = ("happy", "bright", "uplifting", "cheerful", "joyful", "major", "sunny", "hopeful", "triumphant")
_BRIGHT_WORDS = ("bright", "crisp", "sparkling", "shiny", "aggressive", "energetic")
_DARK_WORDS = ("dark", "warm", "muffled", "soft", "mellow", "lofi", "lo-fi", "deep")
_ALIASES = {
    "synthesizer": "synth",
    "synthesizers": "synth",
    "synths": "synth",
    "keys": "piano",
    "drum": "drums",
    "beat": "drums",
    "beats": "drums",
    "percussion": "drums",
    "violin": "strings",
    "cello": "strings",
    "orchestra": "strings",
    "guitars": "guitar",
    "pads": "pad",
    "bell": "bells",
    "chimes": "bells",
    "bassline": "bass",
    "808": "bass",
    "rhodes": "piano",
}


@dataclass(frozen=True)
class Style:
    """Everything the composer needs to know, read from the prompt."""

    genre: str
    bpm: int
    root: int  # 0 = C ... 11 = B
    minor: bool
    instruments: tuple[str, ...]
    brightness: float  # 0..1: how many harmonics the voices keep
    density: float  # 0..1: how busy melody and drums are
    swing: float  # 0..0.33: delay of off-beat eighths, as a fraction of an eighth

    @property
    def key_name(self) -> str:
        return f"{NOTE_NAMES[self.root]} {'minor' if self.minor else 'major'}"


def read_style(prompt: str, seed: int) -> Style:
    """Interpret ``prompt``; what it does not say comes from its genre, and then from ``seed``."""
    text = prompt.lower()
    genre = next((g for g in GENRES if any(_has_word(text, w) for w in g.words)), DEFAULT_GENRE)

    bpm = genre.bpm
    if match := re.search(r"(\d{2,3})\s*bpm", text):
        bpm = int(match[1])
    else:
        for word, value in sorted(_TEMPO_WORDS.items(), key=lambda kv: -len(kv[0])):
            if _has_word(text, word):
                bpm = round((bpm + 2 * value) / 3)
                break
    bpm = max(40, min(220, bpm))

    minor = genre.minor
    if any(_has_word(text, w) for w in _MAJOR_WORDS):
        minor = False
    if any(_has_word(text, w) for w in _MINOR_WORDS):
        minor = True

    root = seed % 12
    if match := re.search(r"\b([a-g])\s*(#|b|sharp|flat)?\s*(major|minor|maj|min)\b", text):
        name = match[1].upper() + {"#": "#", "sharp": "#", "b": "b", "flat": "b"}.get(match[2] or "", "")
        name = _FLATS.get(name, name)
        root = NOTE_NAMES.index(name) if name in NOTE_NAMES else {"Cb": 11, "Fb": 4, "E#": 5, "B#": 0}[name]
        minor = match[3].startswith("min")

    named = [i for i in INSTRUMENTS if _has_word(text, i)] + [a for w, a in _ALIASES.items() if _has_word(text, w)]
    solo = any(_has_word(text, w) for w in ("solo", "only", "just", "unaccompanied"))
    rhythm = () if solo else tuple(i for i in genre.instruments if i in ("drums", "bass"))
    instruments = tuple(dict.fromkeys([*rhythm, *named])) if named else genre.instruments
    if any(_has_word(text, w) for w in ("no drums", "without drums", "drumless", "beatless")):
        instruments = tuple(i for i in instruments if i != "drums")
    if not any(i for i in instruments if i not in ("drums", "bass")):
        instruments = (*instruments, "piano")

    brightness = genre.brightness
    brightness += 0.25 * any(_has_word(text, w) for w in _BRIGHT_WORDS)
    brightness -= 0.25 * any(_has_word(text, w) for w in _DARK_WORDS)
    density = genre.density + 0.2 * (bpm > genre.bpm + 10) - 0.2 * (bpm < genre.bpm - 10)
    density += 0.2 * any(_has_word(text, w) for w in ("busy", "intense", "energetic", "complex", "driving"))
    density -= 0.2 * any(_has_word(text, w) for w in ("minimal", "sparse", "calm", "simple", "gentle"))
    return Style(
        genre=genre.name,
        bpm=bpm,
        root=root,
        minor=minor,
        instruments=instruments,
        brightness=min(1.0, max(0.05, brightness)),
        density=min(1.0, max(0.1, density)),
        swing=genre.swing,
    )


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
