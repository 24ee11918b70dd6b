"""Styles as data: the typed objects a style file (TOML) is loaded into.

A :class:`Style` names its parts (each a :class:`~backline.arrange.roles.base.PartSpec`
played by a role), its feel (straight, swing, shuffle, 16th swing), default
intensities, intro and ending, humanisation, and the drum grids
(:class:`DrumGrid`) per variation. ``docs/styles.md`` documents the file format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from backline.arrange.roles.base import PartSpec
from backline.errors import StylePartNotFoundError
from backline.model.song import TimeSignature

__all__ = [
    "DRUM_VOICES",
    "KITS",
    "FEELS",
    "INTRO_KINDS",
    "ENDING_KINDS",
    "DrumHit",
    "DrumGrid",
    "IntroSpec",
    "EndingSpec",
    "Humanise",
    "Style",
    "step_velocity",
    "normalise_style_name",
]

#: Drum voice names used in grids -> General MIDI percussion key (channel 10).
DRUM_VOICES: dict[str, int] = {
    "kick": 36, "kick2": 35, "rim": 37, "snare": 38, "clap": 39, "snare2": 40,
    "hat": 42, "hat_pedal": 44, "hat_open": 46, "ride": 51, "bell": 53, "crash": 49,
    "crash2": 57, "splash": 55, "china": 52, "tom_hi": 50, "tom_himid": 48, "tom_mid": 47,
    "tom_low": 45, "floor": 43, "floor_low": 41, "cowbell": 56, "tamb": 54, "shaker": 70,
    "maracas": 70, "clave": 75, "cabasa": 69, "conga_mute": 62, "conga_hi": 63,
    "conga_low": 64, "bongo_hi": 60, "bongo_low": 61, "timbale_hi": 65, "timbale_low": 66,
    "agogo_hi": 67, "agogo_low": 68, "guiro": 73, "woodblock": 76, "woodblock_low": 77,
    "triangle": 81, "sticks": 31,
    # GS brush kit (program 40): tap / slap / swirl sit on the snare keys
    "brush": 38, "brush_slap": 39, "swirl": 40,
}  # fmt: skip

#: Kit names -> GM/GS drum-kit program (bank 128 / channel 10).
KITS: dict[str, int] = {"standard": 0, "room": 8, "power": 16, "jazz": 32, "brushes": 40}

FEELS = ("straight", "swing", "shuffle", "swing16")
INTRO_KINDS = ("none", "drums", "last", "turnaround", "vamp")
ENDING_KINDS = ("none", "hold", "tag", "button")

#: Velocity of the step characters: X accent, x normal, o ghost, 1-9 explicit levels.
_STEP_VELOCITY = {"X": 115, "x": 92, "o": 48, **{str(d): min(127, d * 14) for d in range(1, 10)}}
REST_CHARS = frozenset(".-_")
IGNORED_CHARS = frozenset(" |\t")


def normalise_style_name(name: str) -> str:
    """The key a style is stored and found by: lower case, with spaces, underscores and
    dashes (any run of them) as one dash. The loader names styles with it, the registry
    keys them and compares aliases and the names users type with it.

    >>> normalise_style_name("  My Groove ")
    'my-groove'
    >>> normalise_style_name("Up_Tempo -- Swing")
    'up-tempo-swing'
    """
    return re.sub(r"[\s_-]+", "-", name.strip().lower()).strip("-")


def step_velocity(ch: str) -> int | None:
    """Velocity for a grid character (``None`` for a rest); raises KeyError when unknown."""
    if ch in REST_CHARS:
        return None
    return _STEP_VELOCITY[ch]


@dataclass(frozen=True, slots=True)
class DrumHit:
    """One drum stroke of a grid: ``offset`` quarter notes into the grid, GM key, velocity."""

    offset: float
    pitch: int
    velocity: int
    voice: str


@dataclass(frozen=True)
class DrumGrid:
    """A drum pattern: one string of steps per voice over ``bars`` bars of ``meter``.

    ``steps`` is the resolution in steps per quarter note (2 = eighths, 3 = eighth
    triplets, 4 = sixteenths). ``voices`` maps a voice name (see :data:`DRUM_VOICES`)
    to its cleaned step string (one character per step).
    """

    meter: TimeSignature
    steps: int
    voices: tuple[tuple[str, str], ...]
    bars: int = 1

    @property
    def bar_beats(self) -> Fraction:
        return self.meter.bar_beats

    @property
    def bar_steps(self) -> int:
        return int(self.meter.bar_beats * self.steps)

    @cached_property
    def hits(self) -> tuple[DrumHit, ...]:
        """Every stroke of the grid, sorted by offset (offsets span ``bars`` bars)."""
        out: list[DrumHit] = []
        for voice, pattern in self.voices:
            pitch = DRUM_VOICES[voice]
            for i, ch in enumerate(pattern):
                v = step_velocity(ch)
                if v is not None:
                    out.append(DrumHit(i / self.steps, pitch, v, voice))
        out.sort(key=lambda h: (h.offset, h.pitch))
        return tuple(out)

    def to_toml(self, table: str) -> str:
        """The grid as a TOML table (``table`` e.g. ``drums.A``)."""
        lines = [f"[{table}]", f'meter = "{self.meter}"', f"steps = {self.steps}"]
        per_beat = self.steps * (3 if self.meter.compound else 1)
        for voice, pattern in self.voices:
            chunks = [pattern[i : i + per_beat] for i in range(0, len(pattern), per_beat)]
            lines.append(f'{voice} = "{" ".join(chunks)}"')
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class IntroSpec:
    """How the arranger starts: ``kind`` in :data:`INTRO_KINDS`, ``bars`` long."""

    kind: str = "drums"
    bars: int = 1


@dataclass(frozen=True, slots=True)
class EndingSpec:
    """How the arranger ends: ``hold`` (final chord held for a bar), ``tag`` (the last
    ``bars`` bars again, then the held chord), ``button`` (one short hit), ``none``."""

    kind: str = "hold"
    bars: int = 4


@dataclass(frozen=True)
class Humanise:
    """Timing spread (ms, standard deviation), velocity spread, and per-part offsets in ms
    (negative = ahead of the beat, like a drummer's ride pushing; positive = laid back)."""

    timing_ms: float = 6.0
    velocity: float = 5.0
    push_ms: Mapping[str, float] = field(default_factory=dict)

    def offset_ms(self, part: str, role: str) -> float:
        if part in self.push_ms:
            return float(self.push_ms[part])
        return float(self.push_ms.get(role, 0.0))


@dataclass(frozen=True)
class Style:
    """A style: parts, feel, intensity, intro/ending, drum grids. Loaded from TOML."""

    name: str
    title: str
    family: str
    parts: tuple[PartSpec, ...]
    meters: tuple[TimeSignature, ...] = (TimeSignature(4, 4),)
    tempo_range: tuple[float, float] = (60.0, 220.0)
    default_tempo: float = 120.0
    feel: str = "straight"
    swing: float | None = None
    intensity: Mapping[str, int] = field(default_factory=lambda: {"A": 45, "B": 70})
    intro: IntroSpec = IntroSpec()
    ending: EndingSpec = EndingSpec()
    humanise: Humanise = Humanise()
    drums: Mapping[str, DrumGrid] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    description: str = ""
    meter_strict: bool = False
    source: str = ""
    #: dB added to the default mastering loudness target (``loudness_db``, -12..0):
    #: quiet styles (ballads, bossa) sit lower in a set and are not limited harder
    loudness_db: float = 0.0

    def part(self, name: str) -> PartSpec:
        """The part called ``name``; :class:`~backline.errors.StylePartNotFoundError` (also a
        ``KeyError``) naming the style's parts otherwise."""
        for p in self.parts:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.parts) or "none"
        raise StylePartNotFoundError(f"style {self.name} has no part {name!r}; its parts: {names}")

    def supports(self, time: TimeSignature) -> bool:
        """True when the style was written for this meter (others are adapted)."""
        return any(m.numerator == time.numerator and m.denominator == time.denominator for m in self.meters)

    def summary(self) -> dict[str, object]:
        """Name, family, meters, tempo range and parts (for ``backline styles --json``)."""
        return {
            "name": self.name,
            "title": self.title,
            "family": self.family,
            "meters": [str(m) for m in self.meters],
            "tempo": [self.tempo_range[0], self.tempo_range[1]],
            "default_tempo": self.default_tempo,
            "feel": self.feel,
            "parts": [
                {"name": p.name, "role": p.role, "program": p.program, "channel": p.channel}
                for p in self.parts
            ],
            "source": self.source,
        }
