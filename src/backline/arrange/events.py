"""The arrangement as pure data: note events per part, the plan of played bars, the tempo map.

This is the contract between the arranger (which produces an :class:`Arrangement`),
the renderer, the live player and the tests. Time is in quarter-note beats from the
start of the arrangement (the first intro bar, or the chart's first bar when there
is no intro); seconds come only from :attr:`Arrangement.tempo_map`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from backline.errors import PartNotFoundError
from backline.model.form import TempoMap
from backline.model.song import Song

__all__ = ["NoteEvent", "NoteSeq", "make_note", "ControlEvent", "Part", "PlanBar", "Marker", "Arrangement"]


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """One note: start and duration in beats, MIDI pitch and velocity (1-127)."""

    start: float
    duration: float
    pitch: int
    velocity: int


_new = NoteEvent.__new__
_set_start = NoteEvent.start.__set__  # type: ignore[attr-defined,misc]
_set_dur = NoteEvent.duration.__set__  # type: ignore[attr-defined,misc]
_set_pitch = NoteEvent.pitch.__set__  # type: ignore[attr-defined,misc]
_set_vel = NoteEvent.velocity.__set__  # type: ignore[attr-defined,misc]


def make_note(start: float, duration: float, pitch: int, velocity: int) -> NoteEvent:
    """``NoteEvent(start, duration, pitch, velocity)``, twice as fast: the slots are filled
    directly instead of through the frozen dataclass's ``object.__setattr__`` calls (hot path)."""
    n = _new(NoteEvent)
    _set_start(n, start)
    _set_dur(n, duration)
    _set_pitch(n, pitch)
    _set_vel(n, velocity)
    return n


class NoteSeq(Sequence[NoteEvent]):
    """The notes of a part as an immutable sequence backed by an (n, 4) float array
    (start, duration, pitch, velocity), as the engine's post-processing leaves them.

    The :class:`NoteEvent` objects are made on first use (MIDI output and the renderer
    can read :attr:`array` directly); it compares equal to a tuple or list of the same notes.
    """

    __slots__ = ("_array", "_notes")

    def __init__(self, array: np.ndarray) -> None:
        a = np.asarray(array, dtype=float).reshape(-1, 4)
        a.flags.writeable = False
        self._array = a
        self._notes: tuple[NoteEvent, ...] | None = None

    @property
    def array(self) -> np.ndarray:
        """The notes as a read-only (n, 4) float array: start, duration, pitch, velocity."""
        return self._array

    def _all(self) -> tuple[NoteEvent, ...]:
        notes = self._notes
        if notes is None:
            a = self._array
            notes = self._notes = tuple(
                map(make_note, a[:, 0].tolist(), a[:, 1].tolist(), a[:, 2].astype(int).tolist(),
                    a[:, 3].astype(int).tolist())
            )  # fmt: skip
        return notes

    def __len__(self) -> int:
        return len(self._array)

    @overload
    def __getitem__(self, i: int) -> NoteEvent: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[NoteEvent, ...]: ...
    def __getitem__(self, i: int | slice) -> NoteEvent | tuple[NoteEvent, ...]:
        return self._all()[i]

    def __iter__(self) -> Iterator[NoteEvent]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NoteSeq):
            return self._array.shape == other._array.shape and bool((self._array == other._array).all())
        if isinstance(other, (tuple, list)):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"NoteSeq({len(self)} notes)"


@dataclass(frozen=True, slots=True)
class ControlEvent:
    """A MIDI control change at ``beat``: ``controller`` and ``value`` 0-127 (the pad's
    swell is a CC11 expression ramp)."""

    beat: float
    controller: int
    value: int


@dataclass(frozen=True)
class Part:
    """One instrument of the band: a GM program (or drum kit) and its notes.

    ``name`` is what users type (``--mute bass``); ``role`` the strategy that played
    it (``drums``, ``bass``, ``walking``, ``comping``, ``guitar``, ``pad``, ...).
    ``gain_db`` and ``pan`` (-1 left .. +1 right) are the style's mix defaults;
    ``reverb`` (send 0..1) is the style's, or None when the style does not set it (the
    renderer then uses the role's default).
    ``notes`` is a tuple or, from the engine, a :class:`NoteSeq` (same behaviour, array-backed).
    ``controls`` are control changes in time order (CC11 swells of a pad).
    """

    name: str
    role: str
    program: int
    channel: int
    notes: Sequence[NoteEvent]
    is_drum: bool = False
    bank: int = 0
    gain_db: float = 0.0
    pan: float = 0.0
    reverb: float | None = None
    low_note: int = 0
    high_note: int = 127
    controls: tuple[ControlEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanBar:
    """A played bar of the arrangement (intro and ending bars have ``written_bar`` None)."""

    index: int
    written_bar: int | None
    section: str
    start_beat: float
    start_seconds: float
    beats: float
    numerator: int
    denominator: int
    tempo: float
    pass_number: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "written_bar": self.written_bar,
            "section": self.section,
            "start_beat": self.start_beat,
            "start_seconds": round(self.start_seconds, 6),
            "time_signature": [self.numerator, self.denominator],
            "tempo": self.tempo,
        }


@dataclass(frozen=True, slots=True)
class Marker:
    beat: float
    text: str


@dataclass(frozen=True)
class Arrangement:
    """Everything the renderer needs: parts, played bars, tempo map, markers."""

    song: Song
    style: str
    seed: int
    parts: tuple[Part, ...]
    bars: tuple[PlanBar, ...]
    tempo_map: TempoMap
    markers: tuple[Marker, ...] = ()
    chart_start_beat: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def total_beats(self) -> float:
        if not self.bars:
            return 0.0
        last = self.bars[-1]
        return last.start_beat + last.beats

    @property
    def duration_seconds(self) -> float:
        return self.tempo_map.seconds_at(self.total_beats)

    @property
    def chart_start_seconds(self) -> float:
        return self.tempo_map.seconds_at(self.chart_start_beat)

    def part(self, name: str) -> Part:
        """The part called ``name``; :class:`~backline.errors.PartNotFoundError` (also a
        ``KeyError``) naming the parts there are otherwise."""
        for p in self.parts:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.parts) or "none"
        raise PartNotFoundError(f"the arrangement has no part {name!r}; its parts: {names}")

    def plan_json(self) -> dict[str, Any]:
        """The plan: style, seed, parts and every played bar (the alignment contract)."""
        return {
            "title": self.song.title,
            "style": self.style,
            "seed": self.seed,
            "parts": [
                {
                    "name": p.name,
                    "role": p.role,
                    "program": p.program,
                    "channel": p.channel,
                    "drums": p.is_drum,
                }
                for p in self.parts
            ],
            "chart_start_seconds": round(self.chart_start_seconds, 6),
            "chart_start_beat": self.chart_start_beat,
            "duration_seconds": round(self.duration_seconds, 6),
            "bars": [b.as_json() for b in self.bars],
        }
