"""Reading a prompt: genre, tempo, key, mode, instruments and mood, into a :class:`Style` the composer follows,
and the :class:`Interpretation` that says what was understood (and what was not)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_NATURALS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MIN_BPM, MAX_BPM = 50, 200
ROLES = ("drums", "bass", "chords", "pad", "lead")


@dataclass(frozen=True)
class Voice:
    """A General MIDI instrument: its program (0-127) and a name for people."""

    name: str
    program: int


# GM programs (General MIDI Level 1 sound set), by the words that name them
INSTRUMENTS: dict[str, Voice] = {
    "grand piano": Voice("piano", 0),
    "piano": Voice("piano", 0),
    "keys": Voice("electric piano", 4),
    "electric piano": Voice("electric piano", 4),
    "rhodes": Voice("electric piano", 4),
    "harpsichord": Voice("harpsichord", 6),
    "celesta": Voice("celesta", 8),
    "glockenspiel": Voice("glockenspiel", 9),
    "bells": Voice("glockenspiel", 9),
    "music box": Voice("music box", 10),
    "vibraphone": Voice("vibraphone", 11),
    "vibes": Voice("vibraphone", 11),
    "marimba": Voice("marimba", 12),
    "xylophone": Voice("xylophone", 13),
    "chimes": Voice("tubular bells", 14),
    "organ": Voice("organ", 16),
    "hammond": Voice("organ", 16),
    "church organ": Voice("church organ", 19),
    "accordion": Voice("accordion", 21),
    "harmonica": Voice("harmonica", 22),
    "nylon guitar": Voice("nylon guitar", 24),
    "classical guitar": Voice("nylon guitar", 24),
    "acoustic guitar": Voice("acoustic guitar", 25),
    "guitar": Voice("acoustic guitar", 25),
    "electric guitar": Voice("electric guitar", 27),
    "overdriven guitar": Voice("overdriven guitar", 29),
    "distorted guitar": Voice("distortion guitar", 30),
    "upright bass": Voice("upright bass", 32),
    "double bass": Voice("upright bass", 32),
    "bass guitar": Voice("bass", 33),
    "bass": Voice("bass", 33),
    "bassline": Voice("bass", 33),
    "synth bass": Voice("synth bass", 38),
    "808": Voice("synth bass", 38),
    "violin": Voice("violin", 40),
    "fiddle": Voice("violin", 40),
    "viola": Voice("viola", 41),
    "cello": Voice("cello", 42),
    "contrabass": Voice("contrabass", 43),
    "harp": Voice("harp", 46),
    "timpani": Voice("timpani", 47),
    "strings": Voice("strings", 48),
    "string": Voice("strings", 48),
    "orchestra": Voice("strings", 48),
    "choir": Voice("choir", 52),
    "trumpet": Voice("trumpet", 56),
    "trombone": Voice("trombone", 57),
    "tuba": Voice("tuba", 58),
    "horn": Voice("french horn", 60),
    "horns": Voice("french horn", 60),
    "french horn": Voice("french horn", 60),
    "brass": Voice("brass", 61),
    "sax": Voice("alto sax", 65),
    "saxophone": Voice("alto sax", 65),
    "alto sax": Voice("alto sax", 65),
    "tenor sax": Voice("tenor sax", 66),
    "oboe": Voice("oboe", 68),
    "bassoon": Voice("bassoon", 70),
    "clarinet": Voice("clarinet", 71),
    "piccolo": Voice("piccolo", 72),
    "flute": Voice("flute", 73),
    "flutes": Voice("flute", 73),
    "recorder": Voice("recorder", 74),
    "pan flute": Voice("pan flute", 75),
    "whistle": Voice("whistle", 78),
    "ocarina": Voice("ocarina", 79),
    "synth": Voice("saw lead", 81),
    "synths": Voice("saw lead", 81),
    "synthesizer": Voice("saw lead", 81),
    "synthesizers": Voice("saw lead", 81),
    "lead": Voice("saw lead", 81),
    "pad": Voice("warm pad", 89),
    "pads": Voice("warm pad", 89),
    "sitar": Voice("sitar", 104),
    "banjo": Voice("banjo", 105),
    "koto": Voice("koto", 107),
    "kalimba": Voice("kalimba", 108),
    "bagpipe": Voice("bagpipe", 109),
    "bagpipes": Voice("bagpipe", 109),
    "steel drums": Voice("steel drums", 114),
}
DRUM_WORDS = ("drums", "drum", "drum kit", "beat", "beats", "percussion", "breakbeat")
# instruments people ask for that a General MIDI SoundFont cannot play
NOT_AVAILABLE = {
    "vocals": "vocals (instrumental only)",
    "vocal": "vocals (instrumental only)",
    "voice": "vocals (instrumental only)",
    "singing": "vocals (instrumental only)",
    "singer": "vocals (instrumental only)",
    "lyrics": "vocals (instrumental only)",
    "rapper": "vocals (instrumental only)",
    "theremin": "theremin",
    "didgeridoo": "didgeridoo",
    "kazoo": "kazoo",
    "ukulele": "ukulele",
    "mandolin": "mandolin",
    "tabla": "tabla",
    "erhu": "erhu",
    "oud": "oud",
    "turntables": "turntables",
}
_MELODIC = {"lead", "chords", "pad"}
_BASS_PROGRAMS = range(32, 40)
_POLYPHONIC = frozenset([*range(0, 32), 46, 104, 105, 106, 107, 108])  # keyboards, mallets, organs, guitars, harp


@dataclass(frozen=True)
class Genre:
    name: str
    words: tuple[str, ...]
    bpm: int
    minor: bool
    parts: dict[str, int | None]  # role -> GM program (drums: the GM kit, 0)
    swing: float = 0.0
    energy: float = 0.5
    reverb: float = 0.3  # send level 0..1 and room size
    distortion: float = 0.0  # 0..1 on the chords (guitars)
    low: float = 1.0  # gain of the bass and the kick drum: the genre's balance of low end


GENRES: tuple[Genre, ...] = (
    Genre("drum and bass", ("drum and bass", "drum n bass", "dnb", "jungle"), 172, True,
          {"drums": 0, "bass": 38, "chords": None, "pad": 89, "lead": 81}, energy=0.85, reverb=0.3),
    Genre("techno", ("techno",), 130, True, {"drums": 0, "bass": 38, "chords": 81, "pad": 90, "lead": None},
          energy=0.8, reverb=0.25, low=0.6),
    Genre("house", ("house", "edm", "dance", "electronic", "club", "disco"), 124, False,
          {"drums": 0, "bass": 38, "chords": 4, "pad": 89, "lead": 81}, energy=0.75, reverb=0.3),
    Genre("hip hop", ("hip hop", "hip-hop", "rap", "trap", "boom bap"), 90, True,
          {"drums": 0, "bass": 38, "chords": 4, "pad": None, "lead": 11}, swing=0.12, energy=0.6, reverb=0.2),
    Genre("lofi", ("lofi", "lo-fi", "chillhop", "study"), 80, False,
          {"drums": 0, "bass": 32, "chords": 4, "pad": 89, "lead": 11}, swing=0.2, energy=0.4, reverb=0.35),
    Genre("jazz", ("jazz", "swing", "bebop", "lounge"), 126, False,
          {"drums": 0, "bass": 32, "chords": 0, "pad": None, "lead": 65}, swing=0.33, energy=0.55, reverb=0.3),
    Genre("reggae", ("reggae", "ska", "dub", "dancehall"), 76, False,
          {"drums": 0, "bass": 33, "chords": 27, "pad": 16, "lead": 56}, energy=0.5, reverb=0.3, low=1.2),
    Genre("metal", ("metal", "heavy metal", "thrash", "metalcore"), 150, True,
          {"drums": 0, "bass": 34, "chords": 30, "pad": None, "lead": 30}, energy=0.95, reverb=0.15,
          distortion=1.0),
    Genre("rock", ("rock", "punk", "grunge", "indie"), 126, False,
          {"drums": 0, "bass": 34, "chords": 29, "pad": None, "lead": 27}, energy=0.8, reverb=0.2, distortion=0.25,
          low=1.5),
    Genre("ambient", ("ambient", "drone", "atmospheric", "meditation", "space", "new age"), 66, False,
          {"drums": None, "bass": 48, "chords": 46, "pad": 88, "lead": 11}, energy=0.15, reverb=0.8),
    Genre("orchestral", ("orchestral", "classical", "cinematic", "symphonic", "epic", "film score", "symphony"), 92,
          True, {"drums": None, "bass": 45, "chords": 48, "pad": 49, "lead": 40}, energy=0.5, reverb=0.6),
    Genre("folk", ("folk", "acoustic", "country", "americana"), 100, False,
          {"drums": 0, "bass": 32, "chords": 25, "pad": None, "lead": 73}, energy=0.45, reverb=0.3),
    Genre("pop", ("pop",), 116, False, {"drums": 0, "bass": 33, "chords": 0, "pad": 89, "lead": 80},
          energy=0.65, reverb=0.3),
)  # fmt: skip
DEFAULT_GENRE = GENRES[-1]

_TEMPO_WORDS = {
    "very slow": 60, "slow": 70, "ballad": 70, "calm": 72, "relaxing": 72, "peaceful": 70, "chill": 84,
    "mellow": 84, "laid-back": 86, "moderate": 104, "groovy": 112, "upbeat": 124, "energetic": 132, "fast": 145,
    "frantic": 170,
}  # fmt: skip
_MOODS = {
    "calm": ("calm", "relaxing", "peaceful", "gentle", "soft", "quiet", "serene", "tranquil", "soothing", "sleepy",
             "lullaby", "meditative", "slow"),
    "energetic": ("energetic", "intense", "aggressive", "driving", "powerful", "upbeat", "fast", "busy", "frantic",
                  "hype", "party", "pumping", "banger"),
    "sad": ("sad", "melancholic", "melancholy", "sorrowful", "lonely", "heartbreak", "grief", "tragic"),
    "dark": ("dark", "ominous", "haunting", "tense", "gloomy", "sinister", "eerie", "moody", "brooding"),
    "happy": ("happy", "cheerful", "joyful", "uplifting", "sunny", "bright", "hopeful", "playful", "fun"),
    "epic": ("epic", "heroic", "triumphant", "grand", "majestic"),
}  # fmt: skip
_MINOR_MOODS, _MAJOR_MOODS = ("sad", "dark"), ("happy",)
_BRIGHT = ("bright", "crisp", "sparkling", "shiny", "airy")
_DARK = ("dark", "warm", "muffled", "mellow", "lofi", "lo-fi", "deep", "murky")
_NO_DRUMS = ("no drums", "without drums", "drumless", "beatless", "no percussion", "without percussion")
_SOLO = ("solo", "only", "just", "unaccompanied", "alone")
# words that carry no musical meaning for the reader: they are neither used nor reported
_FILLER_TEXT = """a an the and or with in of for to on at by from into some music song songs track tune piece sound
sounds style feel vibe vibes type kind like that this is it its very really bit little more less lots lot plus featuring
feat background instrumental beat melody melodies harmony chords chord rhythm groove key mode tempo bpm major minor"""
_FILLER = frozenset(_FILLER_TEXT.split())


@dataclass(frozen=True)
class Part:
    """One instrument of the arrangement: its role and General MIDI voice."""

    role: str
    voice: Voice


@dataclass(frozen=True)
class Style:
    """Everything the composer needs, read from the prompt (see :func:`read_style`)."""

    genre: str
    bpm: int
    root: int  # 0 = C ... 11 = B
    minor: bool
    parts: tuple[Part, ...]
    mood: str
    energy: float  # 0..1: how busy and loud the parts play
    swing: float  # 0..0.33: delay of off-beat eighths, as a fraction of an eighth
    reverb: float
    distortion: float
    low: float = 1.0
    tone: float = 0.0  # -1 dark (low-passed master) .. 0 .. 1 bright (high frequencies lifted)

    @property
    def key_name(self) -> str:
        return f"{NOTE_NAMES[self.root]} {'minor' if self.minor else 'major'}"

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(p.role for p in self.parts)

    def part(self, role: str) -> Part | None:
        return next((p for p in self.parts if p.role == role), None)


@dataclass(frozen=True)
class Interpretation:
    """What the synthesizer made of a prompt: recorded with every generation and shown by ``songy synth
    --explain``. ``notes`` say what was adjusted (a tempo clamped, an instrument substituted)."""

    genre: str
    bpm: int
    key: str
    mode: str
    instruments: tuple[dict[str, object], ...]
    mood: str
    not_understood: tuple[str, ...]
    not_available: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)  # aspect -> "prompt" or "seed" or "genre"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for the status metadata."""
        return {
            "genre": self.genre,
            "bpm": self.bpm,
            "key": self.key,
            "mode": self.mode,
            "instruments": [dict(i) for i in self.instruments],
            "mood": self.mood,
            "notUnderstood": list(self.not_understood),
            "notAvailable": list(self.not_available),
            "notes": list(self.notes),
            "sources": dict(self.sources),
        }

    def explain(self) -> str:
        """A few lines for people."""
        src = self.sources
        lines = [
            f"genre:       {self.genre} ({src.get('genre', 'prompt')})",
            f"tempo:       {self.bpm} bpm ({src.get('bpm', 'prompt')})",
            f"key:         {self.key} {self.mode} ({src.get('key', 'prompt')})",
            f"mood:        {self.mood}",
            "instruments: " + ", ".join(f"{i['role']}={i['name']} (GM {i['program']})" for i in self.instruments),
            "not understood: " + (", ".join(repr(w) for w in self.not_understood) or "-"),
        ]
        if self.not_available:
            lines.append("not available: " + ", ".join(self.not_available))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def read_style(prompt: str, seed: int) -> Style:
    """The style the composer follows for ``prompt``; what it does not say comes from its genre, then ``seed``."""
    return interpret(prompt, seed)[0]


def interpret(prompt: str, seed: int) -> tuple[Style, Interpretation]:
    """Read ``prompt``: the :class:`Style` and the :class:`Interpretation` that records it."""
    text = " ".join(prompt.lower().split())
    used: list[str] = []  # phrases understood, to find the words that were not
    notes: list[str] = []
    sources: dict[str, str] = {}

    def has(phrase: str) -> bool:
        found = _has_word(text, phrase)
        if found:
            used.append(phrase)
        return found

    genre = next((g for g in GENRES if any(_has_word(text, w) for w in g.words)), None)
    sources["genre"] = "prompt" if genre else "default"
    genre = genre or DEFAULT_GENRE
    for word in genre.words:
        has(word)

    moods = [m for m, words in _MOODS.items() if any(has(w) for w in words)]
    mood = moods[0] if moods else "neutral"

    bpm, bpm_source = _tempo(text, genre, used, notes)
    sources["bpm"] = bpm_source

    minor = genre.minor
    if any(m in moods for m in _MAJOR_MOODS):
        minor = False
    if any(m in moods for m in _MINOR_MOODS):
        minor = True
    root, key_minor = _key(prompt, used)
    if root is not None:
        sources["key"] = "prompt"
        minor = key_minor if key_minor is not None else minor
    else:
        root = seed % 12
        sources["key"] = "seed"
        if has("major"):
            minor = False
        elif has("minor"):
            minor = True

    parts, not_available = _parts(text, genre, mood, has, notes)
    energy = genre.energy
    if "calm" in moods:
        energy = min(energy, 0.2)
    if "energetic" in moods:
        energy = max(energy, 0.9)
    if "calm" in moods and bpm_source != "prompt":
        bpm = min(bpm, 76)

    style = Style(
        genre=genre.name,
        bpm=bpm,
        root=root,
        minor=minor,
        parts=parts,
        mood=mood,
        energy=energy,
        swing=genre.swing,
        reverb=min(0.9, genre.reverb + (0.25 if mood == "calm" else 0.0)),
        distortion=genre.distortion,
        low=genre.low,
        tone=float(any(has(w) for w in _BRIGHT)) - float(any(has(w) for w in _DARK)),
    )
    interpretation = Interpretation(
        genre=style.genre,
        bpm=style.bpm,
        key=NOTE_NAMES[root],
        mode="minor" if minor else "major",
        instruments=tuple({"role": p.role, "name": p.voice.name, "program": p.voice.program} for p in parts),
        mood=mood,
        not_understood=_leftovers(text, used),
        not_available=not_available,
        notes=tuple(notes),
        sources=sources,
    )
    return style, interpretation


def _tempo(text: str, genre: Genre, used: list[str], notes: list[str]) -> tuple[int, str]:
    if match := re.search(r"(\d+(?:[.,]\d+)?)\s*(?:bpm|beats per minute|beats a minute)\b", text) or re.search(
        r"\b(?:bpm|tempo)\s*(?:of|=|:)?\s*(\d+(?:[.,]\d+)?)", text
    ):
        used.append(match[0])
        asked = float(match[1].replace(",", "."))
        bpm = round(min(MAX_BPM, max(MIN_BPM, asked)))
        if bpm != asked:
            notes.append(f"{match[1]} bpm is outside {MIN_BPM}-{MAX_BPM}: played at {bpm} bpm")
        return bpm, "prompt"
    for word, value in sorted(_TEMPO_WORDS.items(), key=lambda kv: -len(kv[0])):
        if _has_word(text, word):
            used.append(word)
            return round((genre.bpm + 2 * value) / 3), "tempo word"
    return genre.bpm, "genre"


_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?P<letter>[A-Ga-g])(?P<accidental>#|♯|b|♭|-sharp|-flat| sharp| flat)?\s*"
    r"(?P<mode>major|minor|maj|min|m)?(?![A-Za-z0-9#])"
)


def _key(prompt: str, used: list[str]) -> tuple[int | None, bool | None]:
    """(root, minor) where a key is written as one: "D minor", "Bb major", "F#m", "key of E", "in G"; else
    (None, None). A lowercase "a" before major/minor and a noun is the article ("in a major key"), not A."""
    for match in _KEY.finditer(prompt):
        letter, accidental, mode = match["letter"], match["accidental"] or "", match["mode"]
        before = " ".join(prompt[: match.start()].lower().split())
        after = prompt[match.end() :].lstrip().lower()
        keyed = before.endswith(("key of", "key:", "key"))
        if mode == "m" and (letter.islower() or " " in match[0].strip()):
            continue  # "am", "a m": words, not A minor
        if not mode and not (keyed or (letter.isupper() and (before.endswith(" in") or before == "in"))):
            continue  # a lone letter not said to be a key
        if letter == "a" and not keyed and re.match(r"[a-z]", after):
            continue  # the article: "a minor key", "a major chord progression"
        root = _NATURALS[letter.upper()]
        if accidental in ("#", "♯", "-sharp", " sharp"):
            root += 1
        elif accidental in ("b", "♭", "-flat", " flat"):
            root -= 1
        used.extend(w.lower() for w in match[0].split())
        return root % 12, (None if not mode else mode.lower().startswith("min") or mode == "m")
    return None, None


def _parts(text: str, genre: Genre, mood: str, has, notes: list[str]) -> tuple[tuple[Part, ...], tuple[str, ...]]:  # type: ignore[no-untyped-def]
    named: list[Voice] = []
    taken = text
    for phrase in sorted(INSTRUMENTS, key=len, reverse=True):
        if _has_word(taken, phrase):
            has(phrase)
            named.append(INSTRUMENTS[phrase])
            taken = re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", " ", taken)
    named = list(dict.fromkeys(named))
    not_available = tuple(dict.fromkeys(label for word, label in NOT_AVAILABLE.items() if has(word)))
    for label in not_available:
        notes.append(f"{label}: not available in a General MIDI SoundFont, left out")
    drums_named = any(has(w) for w in DRUM_WORDS)
    solo = any(has(w) for w in _SOLO)
    no_drums = any(has(w) for w in _NO_DRUMS)

    roles: dict[str, Voice | None] = {
        role: (None if program is None else Voice("drum kit" if role == "drums" else _program_name(program), program))
        for role, program in genre.parts.items()
    }
    generic = {INSTRUMENTS[w] for w in ("bass", "bassline", "synth")}  # the genre's own kind, if it has one
    if named:
        basses = [v for v in named if v.program in _BASS_PROGRAMS]
        melodic = [v for v in named if v.program not in _BASS_PROGRAMS]
        if basses and not (basses[0] in generic and roles.get("bass")):
            roles["bass"] = basses[0]
        if melodic:
            roles["lead"] = melodic[0]
            roles["chords"] = melodic[1] if len(melodic) > 1 else melodic[0]
            if len(melodic) > 2:
                roles["pad"] = melodic[2]
        if solo:
            keep = {"lead"} if melodic else {"bass"}
            if len(melodic) > 1:
                keep.add("chords")
            roles = {r: (v if r in keep else None) for r, v in roles.items()}
            if len(melodic) == 1 and melodic[0].program in _POLYPHONIC:
                roles["chords"] = melodic[0]  # a solo piano, guitar or harp accompanies itself
    if drums_named and roles.get("drums") is None:
        roles["drums"] = Voice("drum kit", 0)
    if mood == "calm" and not drums_named:
        roles["drums"] = None
        if named and not any(v.program in _BASS_PROGRAMS for v in named):
            roles["bass"] = None  # "calm piano": the piano alone
    if no_drums:
        roles["drums"] = None
    if roles.get("drums") is not None and genre.parts.get("drums") is None and not drums_named:
        roles["drums"] = None
    if not any(roles.get(r) for r in _MELODIC) and roles.get("bass") is None:
        roles["chords"] = Voice("piano", 0)
    if roles.get("lead") is None:
        notes.append("no lead instrument: the melody is carried by the chords")
    parts = tuple(Part(role, voice) for role in ROLES if (voice := roles.get(role)) is not None)
    return parts, not_available


def _program_name(program: int) -> str:
    for voice in INSTRUMENTS.values():
        if voice.program == program:
            return voice.name
    return {0: "drum kit", 34: "picked bass", 45: "pizzicato strings", 80: "square lead", 88: "new age pad",
            90: "polysynth pad",
            49: "slow strings", 27: "clean guitar"}.get(program, f"GM {program}")  # fmt: skip


def _leftovers(text: str, used: list[str]) -> tuple[str, ...]:
    rest = text
    for phrase in sorted(set(used), key=lambda p: (-len(p), p)):  # longest first; ties in a fixed order
        rest = re.sub(rf"(?<![\w]){re.escape(phrase)}(?![\w])", " ", rest)
    words = re.findall(r"[^\s,.;:!?()\"'/\[\]{}]+", rest)
    return tuple(dict.fromkeys(w for w in words if w not in _FILLER and not re.fullmatch(r"[\d.,%-]+", w)))


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None
