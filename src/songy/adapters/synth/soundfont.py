"""A General MIDI SoundFont (SF2) read with numpy, and one note of one of its presets rendered as a mono waveform.

The default font is TimGM6mb.sf2, which the ``pretty_midi`` package ships (Tim Brechbill, GPL-2: see
docs/synthesizer.md); ``SONGY_SOUNDFONT`` points at a better one, e.g. Debian's fluid-soundfont-gm
(``/usr/share/sounds/sf2/FluidR3_GM.sf2``). A note plays the preset's zones for its key and velocity: the
sample, pitched by linear interpolation (looped where the zone loops), shaped by the zone's volume envelope
(delay, attack, hold, decay to sustain, release), attenuation and low-pass cut-off, as the SoundFont 2.04
specification describes them. The modulation envelope is reduced to its peak's effect on the filter; modulators
other than the velocity curve are not applied.
"""

from __future__ import annotations

import importlib.util
import math
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import signal as dsp

DRUM_BANK = 128
_TIMECENT_DEFAULT = -12000  # 1 ms
_MAX_RELEASE_S = 0.5  # longer tails come from the reverb
_MAX_ONE_SHOT_S = 4.0
_SEGMENT = 1 << 15


class SoundFontError(ValueError):
    """The SoundFont file is missing or is not an SF2 file Songy can read."""


# generator operators (SoundFont 2.04, section 8.1.2)
_START, _END, _LOOP_START, _LOOP_END, _START_COARSE = 0, 1, 2, 3, 4
_FILTER_FC, _FILTER_Q, _MOD_ENV_TO_FILTER, _END_COARSE, _PAN = 8, 9, 11, 12, 17
_DELAY, _ATTACK, _HOLD, _DECAY, _SUSTAIN, _RELEASE = 33, 34, 35, 36, 37, 38
_INSTRUMENT, _KEY_RANGE, _VEL_RANGE, _LOOP_START_COARSE = 41, 43, 44, 45
_ATTENUATION, _LOOP_END_COARSE, _COARSE_TUNE, _FINE_TUNE = 48, 50, 51, 52
_SAMPLE_ID, _SAMPLE_MODES, _SCALE_TUNING, _ROOT_KEY = 53, 54, 56, 58
_RANGES = (_KEY_RANGE, _VEL_RANGE)
_DEFAULTS = {
    _FILTER_FC: 13500,
    _DELAY: _TIMECENT_DEFAULT,
    _ATTACK: _TIMECENT_DEFAULT,
    _HOLD: _TIMECENT_DEFAULT,
    _DECAY: _TIMECENT_DEFAULT,
    _RELEASE: _TIMECENT_DEFAULT,
    _SCALE_TUNING: 100,
    _ROOT_KEY: -1,
}


@dataclass(frozen=True, slots=True)
class Zone:
    """One sample of a preset, with every generator resolved (instrument values plus the preset's offsets)."""

    key_range: tuple[int, int]
    vel_range: tuple[int, int]
    start: int
    end: int
    loop_start: int
    loop_end: int
    loops: bool
    root_key: int
    tune_cents: float
    scale_tuning: float
    sample_rate: int
    attenuation_db: float
    delay_s: float
    attack_s: float
    hold_s: float
    decay_s: float
    sustain_db: float
    release_s: float
    filter_hz: float


@dataclass
class SoundFont:
    """The sample data (int16) and every preset's zones, by (bank, program)."""

    name: str
    data: np.ndarray
    presets: dict[tuple[int, int], list[Zone]] = field(default_factory=dict)

    def has(self, bank: int, program: int) -> bool:
        return (bank, program) in self.presets

    def zones(self, bank: int, program: int, key: int, velocity: int) -> list[Zone]:
        zones = self.presets.get((bank, program)) or self.presets.get((0, program)) or []
        return [
            z for z in zones if z.key_range[0] <= key <= z.key_range[1] and z.vel_range[0] <= velocity <= z.vel_range[1]
        ]

    def render(self, bank: int, program: int, key: int, velocity: int, held: int, rate: int, stride: int = 1):
        """The mono float32 waveform of ``key`` held for ``held`` samples at ``rate`` (then released), every
        ``stride``-th sample of it, at full velocity: ``velocity`` picks the zones, and the caller scales the
        wave by :func:`velocity_gain`. Drums (bank 128) play their sample to its end. Empty if no zone sounds."""
        one_shot = bank == DRUM_BANK
        parts = [self._zone(z, key, held, rate, stride, one_shot) for z in self.zones(bank, program, key, velocity)]
        parts = [p for p in parts if len(p)]
        if len(parts) == 1:
            return parts[0]
        out = np.zeros(max((len(p) for p in parts), default=0), np.float32)
        for p in parts:
            out[: len(p)] += p
        return out

    def _zone(self, z: Zone, key: int, held: int, rate: int, stride: int, one_shot: bool) -> np.ndarray:
        cents = (key - z.root_key) * z.scale_tuning + z.tune_cents
        step = 2.0 ** (cents / 1200.0) * z.sample_rate / rate
        release = min(z.release_s, _MAX_RELEASE_S)
        looping = z.loops and not one_shot and z.loop_end - z.loop_start > 1
        if not looping:
            natural = int((z.end - 1 - z.start) / step)
            if one_shot:
                held = min(natural, int(_MAX_ONE_SHOT_S * rate))
            total = min(natural, held + int(release * rate))
        else:
            total = held + int(release * rate)
        if total <= 0:
            return np.zeros(0, np.float32)
        wave = np.empty(-(-total // stride), np.float32)
        for first in range(0, len(wave), _SEGMENT):  # in segments: the float64 positions of a long note stay small
            wave[first : first + _SEGMENT] = self._read(
                z, step, stride, first, min(len(wave), first + _SEGMENT), looping
            )
        wave *= _envelope(z, total, held, rate, stride)
        nyquist = rate / (2 * stride)
        if z.filter_hz < min(6000.0, 0.8 * nyquist):  # above 6 kHz the cut is hardly heard: skip its cost
            wave = dsp.sosfilt(_lowpass(round(z.filter_hz), round(2 * nyquist)), wave)
        return wave

    def _read(self, z: Zone, step: float, stride: int, first: int, last: int, looping: bool) -> np.ndarray:
        """Samples ``first..last`` (at the stride) of the zone's sample played ``step`` times as fast, linearly
        interpolated, the loop repeated past its end."""
        pos = np.arange(first, last, dtype=np.float64)
        pos *= step * stride
        pos += z.start
        if looping:
            over = int(np.searchsorted(pos, z.loop_end))
            tail = pos[over:]
            tail -= z.loop_start
            np.fmod(tail, z.loop_end - z.loop_start, out=tail)
            tail += z.loop_start
        index = pos.astype(np.int64)
        frac = (pos - index).astype(np.float32)
        wave = self.data[index].astype(np.float32)
        np.minimum(index + 1, z.end - 1, out=index)
        wave += (self.data[index] - wave) * frac
        return wave


def velocity_gain(velocity: int) -> float:
    """The SoundFont velocity curve, 40 log10(v / 127) dB: amplitude (v / 127) squared."""
    return (max(1, velocity) / 127) ** 2


def _envelope(z: Zone, total: int, held: int, rate: int, stride: int) -> np.ndarray:
    """Every ``stride``-th sample of the volume envelope (SF2: linear attack, decay and release linear in dB, so
    exponential in amplitude), times the zone's attenuation."""
    peak = 10.0 ** (-z.attenuation_db / 20.0) / 32768.0
    n = -(-total // stride)
    env = np.empty(n, np.float32)
    marks = [round(x * rate) for x in (z.delay_s, z.attack_s, z.hold_s)]
    delay_end = marks[0]
    attack_end = delay_end + max(1, marks[1])
    hold_end = attack_end + marks[2]
    sustain = 10.0 ** (-z.sustain_db / 20.0)
    per_sample = math.log(10.0) * -100.0 / 20.0 / max(z.decay_s * rate, 1.0)  # ln(gain) per sample of decay
    decay_end = hold_end + (round(math.log(max(sustain, 1e-5)) / per_sample) if sustain < 1 else 0)

    def span(a: int, b: int) -> tuple[int, int, np.ndarray]:
        i, j = -(-min(a, total) // stride), -(-min(b, total) // stride)
        return i, j, np.arange(i, j, dtype=np.float32) * stride

    i, j, _ = span(0, delay_end)
    env[i:j] = 0.0
    i, j, t = span(delay_end, attack_end)
    env[i:j] = (t - delay_end) / (attack_end - delay_end)
    i, j, _ = span(attack_end, hold_end)
    env[i:j] = 1.0
    i, j, t = span(hold_end, decay_end)
    env[i:j] = np.exp((t - hold_end) * per_sample)
    i, j, _ = span(decay_end, total)
    env[i:j] = sustain
    if held < total:
        k = -(-held // stride)
        level = float(env[k - 1]) if k > 0 else 0.0
        t = np.arange(k, n, dtype=np.float32) * stride - held
        env[k:] = level * np.exp(t * (math.log(10.0) * -100.0 / 20.0 / max(z.release_s * rate, 1.0)))
    env *= np.float32(peak)
    return env


@lru_cache(maxsize=256)
def _lowpass(cutoff: int, rate: int) -> np.ndarray:
    return dsp.butter(2, cutoff, btype="low", fs=rate, output="sos").astype(np.float32)


def default_path() -> Path:
    """TimGM6mb.sf2 from the installed ``pretty_midi`` package (found, not imported: its import pulls in mido)."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        raise SoundFontError("the default SoundFont comes with the pretty_midi package, which is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "TimGM6mb.sf2"


@lru_cache(maxsize=2)
def load(path: str | None = None) -> SoundFont:
    """The SoundFont at ``path`` (default: :func:`default_path`), read once per process."""
    target = Path(path) if path else default_path()
    if not target.is_file():
        raise SoundFontError(f"SONGY_SOUNDFONT: no SoundFont file at {target}")
    try:
        return _parse(target.read_bytes(), target.name)
    except (struct.error, KeyError, IndexError, ValueError) as exc:
        raise SoundFontError(f"SONGY_SOUNDFONT: {target} is not a SoundFont 2 (.sf2) file: {exc}") from None


def _chunks(data: bytes, offset: int, end: int) -> dict[str, tuple[int, int]]:
    """Sub-chunks of a RIFF list: name -> (start, end) of its body."""
    found: dict[str, tuple[int, int]] = {}
    while offset + 8 <= end:
        name = data[offset : offset + 4].decode("latin-1")
        size = struct.unpack_from("<I", data, offset + 4)[0]
        body = offset + 8
        if name == "LIST":
            found[data[body : body + 4].decode("latin-1")] = (body + 4, body + size)
        else:
            found[name] = (body, body + size)
        offset = body + size + (size & 1)
    return found


_PHDR = np.dtype([("name", "S20"), ("preset", "<u2"), ("bank", "<u2"), ("bag", "<u2"), ("rest", "S12")])
_BAG = np.dtype([("gen", "<u2"), ("mod", "<u2")])
_GEN = np.dtype([("oper", "<u2"), ("amount", "<i2")])
_INST = np.dtype([("name", "S20"), ("bag", "<u2")])
_SHDR = np.dtype(
    [
        ("name", "S20"),
        ("start", "<u4"),
        ("end", "<u4"),
        ("loop_start", "<u4"),
        ("loop_end", "<u4"),
        ("rate", "<u4"),
        ("pitch", "u1"),
        ("correction", "i1"),
        ("link", "<u2"),
        ("type", "<u2"),
    ]
)


def _parse(data: bytes, name: str) -> SoundFont:
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError("no RIFF sfbk header")
    top = _chunks(data, 12, len(data))
    sdta, pdta = _chunks(data, *top["sdta"]), _chunks(data, *top["pdta"])

    def table(chunk: str, dtype: np.dtype) -> np.ndarray:
        start, end = pdta[chunk]
        return np.frombuffer(data, dtype, (end - start) // dtype.itemsize, start)

    start, end = sdta["smpl"]
    samples = np.frombuffer(data, "<i2", (end - start) // 2, start)  # a view: the file stays as read, int16
    phdr, pbag, pgen = table("phdr", _PHDR), table("pbag", _BAG), table("pgen", _GEN)
    inst, ibag, igen, shdr = table("inst", _INST), table("ibag", _BAG), table("igen", _GEN), table("shdr", _SHDR)

    def zones_of(bags: np.ndarray, gens: np.ndarray, first: int, last: int) -> list[dict[int, int]]:
        out = []
        for b in range(first, last):
            zone: dict[int, int] = {}
            for oper, amount in gens[bags[b]["gen"] : bags[b + 1]["gen"]].tolist():
                zone[oper] = amount & 0xFFFF if oper in _RANGES else amount
            out.append(zone)
        return out

    def split(zones: list[dict[int, int]], terminal: int) -> tuple[dict[int, int], list[dict[int, int]]]:
        """(global zone, local zones): a first zone without the terminal generator is the global one."""
        if zones and terminal not in zones[0]:
            return zones[0], [z for z in zones[1:] if terminal in z]
        return {}, [z for z in zones if terminal in z]

    instruments = []
    for i in range(len(inst) - 1):
        instruments.append(split(zones_of(ibag, igen, int(inst[i]["bag"]), int(inst[i + 1]["bag"])), _SAMPLE_ID))

    font = SoundFont(name, samples)
    for p in range(len(phdr) - 1):
        global_p, locals_p = split(zones_of(pbag, pgen, int(phdr[p]["bag"]), int(phdr[p + 1]["bag"])), _INSTRUMENT)
        resolved: list[Zone] = []
        for pz in locals_p:
            preset_gens = {**global_p, **pz}
            global_i, locals_i = instruments[preset_gens[_INSTRUMENT]]
            for iz in locals_i:
                zone = _resolve({**global_i, **iz}, preset_gens, shdr)
                if zone is not None:
                    resolved.append(zone)
        font.presets[(int(phdr[p]["bank"]), int(phdr[p]["preset"]))] = resolved
    return font


def _range(value: int | None) -> tuple[int, int]:
    return (0, 127) if value is None else (value & 0xFF, value >> 8)


def _intersect(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return max(a[0], b[0]), min(a[1], b[1])


def _resolve(inst: dict[int, int], preset: dict[int, int], shdr: np.ndarray) -> Zone | None:
    def gen(oper: int) -> int:
        value = inst.get(oper, _DEFAULTS.get(oper, 0))
        if oper not in (_SAMPLE_ID, _SAMPLE_MODES, _ROOT_KEY, _INSTRUMENT, *_RANGES):
            value += preset.get(oper, 0)  # preset generators are offsets to the instrument's
        return value

    keys = _intersect(_range(inst.get(_KEY_RANGE)), _range(preset.get(_KEY_RANGE)))
    vels = _intersect(_range(inst.get(_VEL_RANGE)), _range(preset.get(_VEL_RANGE)))
    if keys[0] > keys[1] or vels[0] > vels[1]:
        return None
    s = shdr[gen(_SAMPLE_ID)]
    if int(s["type"]) & 0x8000 or int(s["rate"]) == 0:  # ROM sample or broken header
        return None
    start = int(s["start"]) + gen(_START) + 32768 * gen(_START_COARSE)
    end = int(s["end"]) + gen(_END) + 32768 * gen(_END_COARSE)
    loop_start = int(s["loop_start"]) + gen(_LOOP_START) + 32768 * gen(_LOOP_START_COARSE)
    loop_end = int(s["loop_end"]) + gen(_LOOP_END) + 32768 * gen(_LOOP_END_COARSE)
    if end - start < 8:
        return None
    root = gen(_ROOT_KEY)

    def seconds(oper: int) -> float:
        return 2.0 ** (max(-12000, min(8000, gen(oper))) / 1200.0)

    return Zone(
        key_range=keys,
        vel_range=vels,
        start=start,
        end=end,
        loop_start=loop_start,
        loop_end=loop_end,
        loops=gen(_SAMPLE_MODES) & 1 == 1,
        root_key=root if root >= 0 else int(s["pitch"]),
        tune_cents=100 * gen(_COARSE_TUNE) + gen(_FINE_TUNE) + int(s["correction"]),
        scale_tuning=float(gen(_SCALE_TUNING)),
        sample_rate=int(s["rate"]),
        attenuation_db=max(0, gen(_ATTENUATION)) / 10.0 * 0.4,  # EMU's 0.4 factor, as FluidSynth applies it
        delay_s=seconds(_DELAY),
        attack_s=seconds(_ATTACK),
        hold_s=seconds(_HOLD),
        decay_s=seconds(_DECAY),
        sustain_db=max(0, min(1440, gen(_SUSTAIN))) / 10.0,
        release_s=seconds(_RELEASE),
        # the modulation envelope's peak opens the filter (held there: the envelope itself is not followed)
        filter_hz=8.176 * 2.0 ** (max(1500, min(13500, gen(_FILTER_FC) + max(0, gen(_MOD_ENV_TO_FILTER)))) / 1200.0),
    )
