"""The song model: immutable, typed, musical time in quarter-note beats (``Fraction``).

A :class:`Song` holds :class:`Section` objects, each holding :class:`Bar` objects in
written order. Form (repeats, endings, jumps) is carried by flags on the bars; the
playback order comes from :func:`backline.model.form.expand`.

Every bar carries its resolved time signature, tempo and key, so consumers never
have to track changes themselves; writers emit a change where it differs from the
previous bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

from backline.errors import ChartError
from backline.model.checks import MAX_TEMPO, MIN_TEMPO, check_tempo
from backline.model.chord import Chord
from backline.model.pitch import Key, parse_key

__all__ = [
    "TimeSignature",
    "ChordEvent",
    "Bar",
    "Section",
    "Note",
    "Song",
    "Jump",
    "song_key",
]


@dataclass(frozen=True, slots=True)
class TimeSignature:
    """A meter such as 4/4, 6/8 or 7/8 (numerator 1-64, denominator 1, 2, 4, 8, 16 or 32;
    :class:`~backline.errors.ChartError` otherwise)."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if self.numerator < 1 or self.numerator > 64:
            raise ChartError(f"time signature numerator out of range (1-64): {self.numerator}")
        if self.denominator not in (1, 2, 4, 8, 16, 32):
            raise ChartError(f"time signature denominator must be a power of two: {self.denominator}")

    @property
    def bar_beats(self) -> Fraction:
        """Length of a bar in quarter-note beats (6/8 -> 3, 7/8 -> 7/2)."""
        return Fraction(self.numerator * 4, self.denominator)

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8: beats grouped in dotted quarters."""
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def pulse(self) -> Fraction:
        """Length in quarter notes of the counted beat (dotted quarter in compound meters)."""
        if self.compound:
            return Fraction(3, 2)
        return Fraction(4, self.denominator)

    @property
    def pulses(self) -> int:
        """How many counted beats in a bar ("one, two" in 6/8; 7 in 7/8)."""
        return int(self.bar_beats / self.pulse)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


@dataclass(frozen=True, slots=True)
class ChordEvent:
    """A chord (or N.C. when ``chord`` is None) at ``beat`` quarter notes into the bar.

    ``push``: the chord is anticipated by an eighth (every part plays it early).
    ``hit``: the band plays a short accent on this chord and rests until the next event.
    ``fermata``: held.
    """

    beat: Fraction
    chord: Chord | None
    push: bool = False
    hit: bool = False
    fermata: bool = False

    @property
    def is_nc(self) -> bool:
        return self.chord is None


@dataclass(frozen=True, slots=True)
class Jump:
    """A jump written at the end of a bar: ``D.C.`` or ``D.S.``, with where it goes next.

    ``until`` is ``"coda"`` (al Coda: jump to the coda at the To Coda mark),
    ``"fine"`` (al Fine: stop at Fine) or ``"end"`` (play to the end), or an ending
    number as text ("1", "2", "3": al 1st/2nd/3rd ending).
    """

    kind: str  # "DC" or "DS"
    until: str = "end"

    def __post_init__(self) -> None:
        if self.kind not in ("DC", "DS"):
            raise ChartError(f"jump kind must be DC or DS, not {self.kind!r}")

    def __str__(self) -> str:
        name = "D.C." if self.kind == "DC" else "D.S."
        if self.until == "coda":
            return f"{name} al Coda"
        if self.until == "fine":
            return f"{name} al Fine"
        if self.until.isdigit():
            n = int(self.until)
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(n, "th")
            return f"{name} al {n}{suffix} End."
        return name


@dataclass(frozen=True, slots=True)
class Bar:
    """One written bar.

    Form flags:
    ``repeat_start`` (``|:``), ``repeat_end`` (``:|``, total times the passage is
    played; 0 = no repeat sign), ``endings`` (the passes on which this bar is played,
    empty = always), ``segno``, ``to_coda`` (the "To Coda" jump point), ``coda`` (the
    coda begins here), ``fine``, ``jump`` (D.C./D.S. after this bar), ``vamp`` (this
    bar belongs to a vamp: repeat until cued), ``end`` (the song stops after this bar).
    """

    chords: tuple[ChordEvent, ...]
    time: TimeSignature = TimeSignature()
    tempo: float = 120.0
    key: Key | None = None
    repeat_start: bool = False
    repeat_end: int = 0
    endings: frozenset[int] = frozenset()
    segno: bool = False
    to_coda: bool = False
    coda: bool = False
    fine: bool = False
    jump: Jump | None = None
    vamp: bool = False
    end: bool = False
    comment: str = ""

    @property
    def beats(self) -> Fraction:
        return self.time.bar_beats

    def chord_at(self, beat: Fraction) -> ChordEvent | None:
        """The chord event sounding at ``beat`` within the bar (None before the first)."""
        current = None
        for ev in self.chords:
            if ev.beat <= beat:
                current = ev
            else:
                break
        return current


@dataclass(frozen=True, slots=True)
class Section:
    """A labelled run of bars: Intro, A, B, Verse, Chorus, Bridge, Solo, Outro...

    ``intensity`` (0-100, None = the style decides) drives density and variation.
    """

    label: str
    bars: tuple[Bar, ...]
    intensity: int | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A melody note: ``start`` and ``duration`` in quarter-note beats from the start of
    the written bar ``bar`` (written order index); ``pitch`` a MIDI number, None for a rest."""

    bar: int
    start: Fraction
    duration: Fraction
    pitch: int | None
    lyric: str = ""


@dataclass(frozen=True)
class Song:
    """A song as written: metadata, sections of bars, and an optional melody."""

    title: str
    sections: tuple[Section, ...]
    composer: str = ""
    key: Key | None = None
    style: str = ""
    melody: tuple[Note, ...] = ()
    source: str = field(default="", compare=False)
    #: What a reader accepted but could not play (e.g. a ChordPro annotation that is no
    #: chord), each as ``file:line:col: message``; the CLI shows them.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def bars(self) -> tuple[Bar, ...]:
        """Every written bar, in written order."""
        return tuple(b for s in self.sections for b in s.bars)

    def iter_bars(self) -> Iterator[tuple[int, Section, Bar]]:
        """(written index, section, bar) for every bar in written order."""
        i = 0
        for s in self.sections:
            for b in s.bars:
                yield i, s, b
                i += 1

    @property
    def tempo(self) -> float:
        """The tempo of the first bar."""
        for s in self.sections:
            for b in s.bars:
                return b.tempo
        return 120.0

    @property
    def time_signature(self) -> TimeSignature:
        for s in self.sections:
            for b in s.bars:
                return b.time
        return TimeSignature()

    def with_tempo(self, bpm: float) -> Song:
        """Scale every tempo so that the first bar plays at ``bpm``.

        ``bpm`` and every scaled bar tempo must lie within 10-400 (see
        :func:`~backline.model.checks.check_tempo`): :class:`~backline.errors.TempoError`
        otherwise, naming the first bar that would leave the range.
        """
        where = self.source or self.title or None
        target = check_tempo(bpm, where)
        ratio = target / check_tempo(self.tempo, f"{where or 'song'}: bar 1")
        sections = []
        n = 0
        for s in self.sections:
            bars = []
            for b in s.bars:
                n += 1
                t = b.tempo * ratio
                if abs(t - MIN_TEMPO) < 1e-9 or abs(t - MAX_TEMPO) < 1e-9:
                    t = float(round(t))  # a bound missed by rounding
                check_tempo(t, f"{where or 'song'}: bar {n} (at {target:g} for the first bar)")
                bars.append(replace(b, tempo=t))
            sections.append(replace(s, bars=tuple(bars)))
        return replace(self, sections=tuple(sections))

    def chord_symbols(self) -> Iterator[Chord]:
        for s in self.sections:
            for b in s.bars:
                for ev in b.chords:
                    if ev.chord is not None:
                        yield ev.chord


def song_key(song: Song) -> Key:
    """The song's key as a band hears it: the chart's, else the first bar's, else the
    first chord's root and mode, else C (what the arranger plays in, and what a format
    that must name a key writes)."""
    if song.key is not None:
        return song.key
    for b in song.bars:
        if b.key is not None:
            return b.key
    for c in song.chord_symbols():
        return Key(c.root, "minor" if c.quality.is_minor else "major")
    return parse_key("C")
