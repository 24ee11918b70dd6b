"""Shared helpers for the pitched roles: chord facts, harmonic regions, meter grids.

Roles work on :class:`Region` objects: the bar contexts' clipped chord spans merged
back into whole chords (a chord that continues over a bar line is one region), with
times as floats in absolute quarter-note beats. A region start is a chord change.
Bass-only chords (iReal ``W/Bb``, ``/E``) become the previous chord over that bass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from backline.arrange.meter import pulse_groups
from backline.arrange.roles.base import BarContext, PartSpec
from backline.errors import StyleError
from backline.model.chord import DEGREE_SEMITONES, Chord
from backline.model.song import TimeSignature

__all__ = [
    "EPS",
    "ChordFacts",
    "Grid",
    "Region",
    "bar_grid",
    "build_regions",
    "chord_facts",
    "effective_chord",
    "idiomatic_pcs",
    "nearest_pitch",
    "params_for_bar",
    "base_velocity",
    "clamp_vel",
    "strong_beats",
]

EPS = 1e-6

# Tensions (semitones above the root) that count as idiomatic on a strong beat, per family;
# only those also in the chord-scale are kept.
_TENSIONS: dict[str, frozenset[int]] = {
    "major": frozenset({2, 6, 9}),
    "minor": frozenset({2, 5, 9}),
    "dominant": frozenset({1, 2, 3, 6, 8, 9}),
    "half-diminished": frozenset({2, 5, 8}),
    "diminished": frozenset({2, 5, 8, 11}),
    "augmented": frozenset({2, 6}),
    "sus": frozenset({2, 5, 9}),
    "power": frozenset({2}),
    "bass": frozenset(),
}


@dataclass(frozen=True, slots=True)
class ChordFacts:
    """What the roles need to know about a chord, as pitch classes (0-11).

    ``third``/``fifth``/``seventh`` are pitch classes or None: the third is the 3rd or b3
    (else the sus 4th or 2nd), the seventh is b7/7/bb7 (else the 6th).
    ``strong_ok``: chord tones plus the idiomatic tensions in the chord-scale.
    """

    root: int
    bass: int
    tones: frozenset[int]
    scale: frozenset[int]
    strong_ok: frozenset[int]
    third: int | None
    fifth: int | None
    seventh: int | None
    tensions: tuple[int, ...]
    family: str
    bass_only: bool
    intervals: tuple[int, ...]
    scale_list: tuple[int, ...] = field(default=())


def idiomatic_pcs(chord: Chord) -> frozenset[int]:
    """Chord tones (with the slash bass) plus the idiomatic tensions that lie in its chord-scale."""
    return chord_facts(chord).strong_ok


@lru_cache(maxsize=8192)
def chord_facts(chord: Chord) -> ChordFacts:
    """The cached :class:`ChordFacts` of ``chord``."""
    q = chord.quality
    root = chord.root_pc
    degs = set(q.degrees)
    ivs = q.intervals
    tones = frozenset(chord.pitch_classes)
    scale = frozenset(chord.scale) | tones
    fam = q.family

    def first(*names: str) -> int | None:
        for n in names:
            if n in degs:
                return (root + DEGREE_SEMITONES[n]) % 12
        return None

    third = first("3", "b3", "4", "2") if not q.bass_only else None
    fifth = first("5", "b5", "#5")
    seventh = first("b7", "7", "bb7", "6")
    tensions = tuple(
        (root + DEGREE_SEMITONES[d]) % 12 for d in ("b9", "#9", "b13", "#11", "13", "9", "11") if d in degs
    )
    strong = set(tones)
    for t in _TENSIONS.get(fam, frozenset()):
        pc = (root + t) % 12
        if pc in scale:
            strong.add(pc)
    return ChordFacts(
        root=root,
        bass=chord.bass_pc,
        tones=tones,
        scale=scale,
        strong_ok=frozenset(strong),
        third=third,
        fifth=fifth,
        seventh=seventh,
        tensions=tensions,
        family=fam,
        bass_only=q.bass_only,
        intervals=ivs,
        scale_list=tuple(sorted(scale)),
    )


def effective_chord(chord: Chord | None, last_real: Chord | None) -> Chord | None:
    """Resolve a bass-only chord (``W/Bb``) to the last real chord over that bass."""
    if chord is None or not chord.quality.bass_only:
        return chord
    if last_real is None:
        return chord
    return _over(last_real, chord)


@lru_cache(maxsize=2048)
def _over(last_real: Chord, bass_only: Chord) -> Chord:
    return last_real.with_bass(bass_only.root)


@dataclass(slots=True)
class Region:
    """One sounding chord (or N.C.) from ``start`` to ``end`` (absolute beats, floats).

    ``first_bar``/``last_bar`` index the bar contexts it covers; ``next`` is the following
    region (None at the end). ``fermata``: a held chord (play it once at ``start``, let it
    ring to ``end``; see :func:`held_length`).
    """

    start: float
    end: float
    chord: Chord | None
    facts: ChordFacts | None
    hit: bool
    push: bool
    first_bar: int
    last_bar: int
    next: Region | None = None
    fermata: bool = False

    @property
    def next_chord_facts(self) -> ChordFacts | None:
        """Facts of the next sounding chord (skipping nothing: N.C. gives None)."""
        return None if self.next is None else self.next.facts


def held_length(reg: Region, at: float, hit_length: float = 0.5) -> float:
    """How long the single attack of a hit (``hit_length``) or a fermata (to the end of
    the held chord) at ``at`` lasts."""
    if reg.fermata:
        return reg.end - at
    return min(hit_length, reg.end - at)


_LAST: list[tuple[Sequence[BarContext], int, list[Region]]] = []


def build_regions(bars: Sequence[BarContext]) -> list[Region]:
    """Merge the bars' clipped spans into whole-chord regions (a region start is a change).

    The result for the last song is kept, so the parts of one arrangement share it
    (roles only read regions).
    """
    if _LAST:
        b, n, regs = _LAST[0]
        if b is bars and n == len(bars):
            return regs
    regs = _build_regions(bars)
    _LAST[:] = [(bars, len(bars), regs)]
    return regs


def _build_regions(bars: Sequence[BarContext]) -> list[Region]:
    out: list[Region] = []
    last_real: Chord | None = None
    prev: Region | None = None
    for bi, bar in enumerate(bars):
        bar_start = float(bar.start)
        for sp in bar.chords:
            start = float(sp.start)
            end = start + float(sp.duration)
            if end - start <= EPS:
                continue
            raw = sp.chord
            if raw is not None and raw.quality.bass_only:
                ch = effective_chord(raw, last_real)
            else:
                ch = raw
                if raw is not None:
                    last_real = raw
            if (
                prev is not None
                and abs(prev.end - start) < EPS
                and not sp.hit
                and not prev.hit
                and prev.fermata == sp.fermata
                and abs(start - bar_start) < EPS
                and (prev.chord is ch or prev.chord == ch)
            ):
                prev.end = end
                prev.last_bar = bi
                continue
            facts = None if ch is None else chord_facts(ch)
            reg = Region(start, end, ch, facts, sp.hit, sp.push, bi, bi, fermata=sp.fermata)
            if prev is not None:
                prev.next = reg
            out.append(reg)
            prev = reg
    return out


@dataclass(frozen=True, slots=True)
class Grid:
    """A bar's beat grid in quarter notes: groups (pattern units), pulses, strong beats."""

    length: float
    groups: tuple[tuple[float, float], ...]
    pulses: tuple[tuple[float, float], ...]
    strong: tuple[float, ...]
    compound: bool


def _split_quarters(n: int) -> list[int]:
    if n <= 4:
        return [n]
    if n == 5:
        return [3, 2]
    if n == 6:
        return [3, 3]
    if n == 7:
        return [4, 3]
    out: list[int] = []
    while n > 4:
        out.append(4)
        n -= 4
    if n:
        out.append(n)
    return out


@lru_cache(maxsize=64)
def bar_grid(time: TimeSignature, length: float | None = None) -> Grid:
    """The grid of a bar in ``time`` (``length`` in beats overrides a partial bar)."""
    bar_len = float(time.bar_beats) if length is None else length
    if time.compound:
        n = max(1, round(bar_len / 1.5))
        pulses = tuple((i * 1.5, 1.5) for i in range(n))
        groups = pulses
        strong: tuple[float, ...] = (0.0,) if n < 4 else (0.0, 1.5 * (n // 2))
        if n == 2:
            strong = (0.0, 1.5)
        return Grid(bar_len, groups, pulses, strong, True)
    if time.denominator >= 8:
        # odd eighths: groups of 2 and 3 eighths (7/8 = 2+2+3, 5/8 = 3+2), the click's table
        sizes = list(pulse_groups(max(1, round(bar_len * 2)), 8))
        t = 0.0
        pl: list[tuple[float, float]] = []
        for s in sizes:
            pl.append((t, s / 2))
            t += s / 2
        return Grid(bar_len, tuple(pl), tuple(pl), (0.0,), False)
    q = max(1, round(bar_len))
    sizes = _split_quarters(q)
    groups_l: list[tuple[float, float]] = []
    t = 0.0
    for s in sizes:
        groups_l.append((t, float(s)))
        t += s
    pulses = tuple((float(i), 1.0) for i in range(q))
    strong_l = [g[0] for g in groups_l]
    if len(groups_l) == 1 and q == 4:
        strong_l = [0.0, 2.0]
    return Grid(bar_len, tuple(groups_l), pulses, tuple(strong_l), False)


def strong_beats(time: TimeSignature) -> tuple[float, ...]:
    """Strong beats of a bar (quarter notes from the bar start): 1 and 3 in 4/4, 1 in 3/4..."""
    return bar_grid(time).strong


def nearest_pitch(pc: int, ref: float, lo: int, hi: int) -> int:
    """The pitch of pitch class ``pc`` nearest to ``ref`` inside ``lo..hi`` (if any fits)."""
    base = int(ref) - 6
    p = base + ((pc - base) % 12)
    if p - ref > 6:
        p -= 12
    while p < lo:
        p += 12
    while p > hi:
        p -= 12
    if p < lo:  # range narrower than an octave and pc absent: nearest edge octave
        p += 12
    return p


def params_for_bar(spec: PartSpec, bar: BarContext, cache: dict[str, dict[str, object]]) -> dict[str, object]:
    """The spec's params for this bar (intro/ending overrides first, then the variation)."""
    key = bar.variation
    if bar.kind in ("intro", "ending") and bar.kind in spec.variations:
        key = bar.kind
    got = cache.get(key)
    if got is None:
        got = dict(spec.params_for(key))
        cache[key] = got
    return got


def base_velocity(bar: BarContext, lo: int = 45, hi: int = 105) -> float:
    """A velocity from the bar's intensity (0-100) and variation (B a little louder)."""
    v = lo + (hi - lo) * (bar.intensity / 100.0)
    if bar.variation == "B":
        v += 5
    return v


def clamp_vel(v: float) -> int:
    """Round and clamp a velocity to 1..127."""
    return 1 if v < 1 else 127 if v > 127 else int(v + 0.5)


def bar_density_grid(bar: BarContext, params: dict[str, object]) -> tuple[float, Grid]:
    """The density for this bar (the part's ``density`` param scaled by the bar's
    intensity) and its beat grid (a partial bar gets a grid of its real length)."""
    density = float(params.get("density", 0.5))  # type: ignore[arg-type]
    dens = density * (0.6 + 0.8 * bar.intensity / 100.0)
    blen = float(bar.beats)
    grid = bar_grid(bar.time) if abs(float(bar.time.bar_beats) - blen) < EPS else bar_grid(bar.time, blen)
    return dens, grid


def voicing_range(spec: PartSpec, floor: int, ceiling: int, what: str) -> tuple[int, int]:
    """The part's range clipped to ``floor..ceiling`` (where ``what`` sounds good); a
    :class:`~backline.errors.StyleError` when less than an octave is left."""
    lo = max(spec.low, floor)
    hi = min(spec.high, ceiling)
    if hi - lo < 12:
        raise StyleError(f"part {spec.name!r}: range {lo}..{hi} is too narrow for {what}")
    return lo, hi
