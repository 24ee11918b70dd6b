"""The contract between the arrangement engine and the accompaniment roles.

The engine turns the expanded form into a sequence of :class:`BarContext` (one per
played bar, intro and ending bars included), with the harmony already laid out as
:class:`ChordSpan` objects (pushes applied: a pushed chord starts an eighth early and
the chord before it is shortened). Each role is a pure function of those contexts,
its :class:`PartSpec` (from the style data) and a seeded random generator; it returns
notes on the straight grid. Swing, humanisation and hit/stop clean-up are applied by
the engine afterwards, the same way for every role.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from backline.arrange.events import NoteEvent
from backline.model.chord import Chord
from backline.model.pitch import Key
from backline.model.song import TimeSignature

__all__ = ["ChordSpan", "BarContext", "PartSpec", "Role", "part_rng"]


@dataclass(frozen=True, slots=True)
class ChordSpan:
    """A chord sounding from ``start`` for ``duration`` beats (absolute quarter-note beats).

    ``chord`` is None for N.C. (harmonic parts rest). ``hit``: the band plays a short
    accent at ``start`` and rests until the span ends. ``push``: this chord was
    anticipated (``start`` is already an eighth early). ``next_chord`` is the next
    sounding chord (for approach notes), ``prev_chord`` the one before. ``fermata``: the
    chord is held (every piece of it, across bar lines): each part plays it once at the
    start of the held chord and lets it ring until the span ends, nothing else.
    """

    start: Fraction
    duration: Fraction
    chord: Chord | None
    push: bool = False
    hit: bool = False
    next_chord: Chord | None = None
    prev_chord: Chord | None = None
    fermata: bool = False

    @property
    def end(self) -> Fraction:
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class BarContext:
    """Everything a role needs to know about one played bar.

    ``kind`` is ``"intro"``, ``"body"`` or ``"ending"``. ``variation`` is ``"A"`` or
    ``"B"`` (the style's main variations; choruses and high intensity get B).
    ``fill``: the drummer plays a fill in this bar (end of a section or before a
    repeat). ``chords`` are the spans that start in or overlap this bar, clipped to it.
    ``intensity`` 0-100. ``written_bar`` is None for intro/ending bars.
    """

    index: int
    start: Fraction
    beats: Fraction
    time: TimeSignature
    tempo: float
    key: Key
    section: str
    chords: tuple[ChordSpan, ...]
    kind: str = "body"
    variation: str = "A"
    intensity: int = 50
    section_start: bool = False
    section_end: bool = False
    fill: bool = False
    last_bar: bool = False
    written_bar: int | None = None

    @property
    def end(self) -> Fraction:
        return self.start + self.beats

    def chord_at(self, beat: Fraction) -> ChordSpan | None:
        """The span sounding at absolute ``beat`` (None when none does)."""
        found = None
        for sp in self.chords:
            if sp.start <= beat < sp.end:
                found = sp
        return found


@dataclass(frozen=True)
class PartSpec:
    """One part of a style: which role plays it, with which sound and parameters.

    ``params`` come straight from the style file; each role documents the keys it
    reads (always ``pattern``; role-specific others) and ignores unknown ones.
    ``variations`` may override params per variation ("A", "B", "intro", "ending").
    ``reverb`` is None when the style file does not set it (the role's default applies).
    """

    name: str
    role: str
    program: int = 0
    channel: int = 0
    is_drum: bool = False
    low: int = 0
    high: int = 127
    params: Mapping[str, Any] = field(default_factory=dict)
    variations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    gain_db: float = 0.0
    pan: float = 0.0
    reverb: float | None = None

    def params_for(self, variation: str) -> dict[str, Any]:
        """The params for a variation: the base params updated by the variation's overrides."""
        out = dict(self.params)
        out.update(self.variations.get(variation, {}))
        return out


class Role(Protocol):
    """An accompaniment strategy (one class per role: drums, bass, walking, comping, ...)."""

    name: str

    def generate(
        self, bars: Sequence[BarContext], spec: PartSpec, rng: random.Random
    ) -> list[NoteEvent]:  # pragma: no cover - protocol
        """Notes for the whole song, on the straight grid, within ``spec.low..spec.high``."""
        ...


def part_rng(seed: int, part_name: str) -> random.Random:
    """A random generator for one part, stable across runs and Python versions."""
    return random.Random((seed * 1_000_003) ^ zlib.crc32(part_name.encode("utf-8")))
