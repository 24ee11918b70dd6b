"""The arrangement as pure data: note events per part, the plan of played bars, the tempo map.

This is the contract between the arranger (which produces an :class:`Arrangement`),
the renderer, the live player and the tests. Time is in quarter-note beats from the
start of the arrangement (the first intro bar, or the chart's first bar when there
is no intro); seconds come only from :attr:`Arrangement.tempo_map`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backline.model.form import TempoMap
from backline.model.song import Song

__all__ = ["NoteEvent", "Part", "PlanBar", "Marker", "Arrangement"]


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """One note: start and duration in beats, MIDI pitch and velocity (1-127)."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Part:
    """One instrument of the band: a GM program (or drum kit) and its notes.

    ``name`` is what users type (``--mute bass``); ``role`` the strategy that played
    it (``drums``, ``bass``, ``walking``, ``comping``, ``guitar``, ``pad``, ...).
    ``gain_db`` and ``pan`` (-1 left .. +1 right) are the style's mix defaults.
    """

    name: str
    role: str
    program: int
    channel: int
    notes: tuple[NoteEvent, ...]
    is_drum: bool = False
    bank: int = 0
    gain_db: float = 0.0
    pan: float = 0.0
    reverb: float = 0.2
    low_note: int = 0
    high_note: int = 127


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
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

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
