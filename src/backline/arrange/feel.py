"""Feel: swing, humanisation and the hit/stop clean-up, applied after the roles.

Roles write notes on the straight grid; the engine then runs, for every part alike:

1. :func:`clean_up` - N.C. bars silence the harmonic parts, hits leave one short accent,
   N.C. hits stop the whole band (drums too), pushed chords are tied over the bar line,
   the final held chord is held, and a fermata (held chord) keeps only the attacks at
   its start: nothing else starts until it ends, and nothing before it rings into it;
2. :func:`apply_swing` - offbeat eighths (or sixteenths) move late by the swing ratio,
   which falls as the tempo rises (:func:`swing_ratio`); triplets stay where they are;
3. :func:`humanise` - a few ms of timing spread per onset plus the part's push or
   lay-back, and a little velocity spread, all from a seeded generator.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from operator import attrgetter

import numpy as np

from backline.arrange.events import NoteEvent, make_note

__all__ = [
    "SWING_BREAKPOINTS",
    "swing_ratio",
    "swing_fraction",
    "BarGrid",
    "Windows",
    "apply_swing",
    "swing_array",
    "humanise",
    "humanise_array",
    "clean_up",
    "fix_overlaps",
    "fix_overlaps_array",
    "notes_to_array",
    "make_note",
    "array_to_notes",
]

#: (tempo BPM, swing ratio long:short): 2.5:1 at ballad tempos down to 1.5:1 when fast.
#: Linear between the points, flat outside. Measured ratios of jazz drummers' ride
#: patterns fall like this (Friberg & Sundström 2002); JJazzLab uses a similar curve.
SWING_BREAKPOINTS: tuple[tuple[float, float], ...] = (
    (60.0, 2.5),
    (90.0, 2.3),
    (120.0, 2.0),
    (160.0, 1.8),
    (200.0, 1.65),
    (240.0, 1.55),
    (280.0, 1.5),
)

EPS = 1e-6


def swing_ratio(tempo: float) -> float:
    """Swing ratio (long eighth : short eighth) for a tempo in BPM; monotone non-increasing."""
    pts = SWING_BREAKPOINTS
    if tempo <= pts[0][0]:
        return pts[0][1]
    for (t0, r0), (t1, r1) in itertools.pairwise(pts):
        if tempo <= t1:
            return r0 + (r1 - r0) * (tempo - t0) / (t1 - t0)
    return pts[-1][1]


def swing_fraction(ratio: float) -> float:
    """Where the swung offbeat falls in its beat: ratio 2 -> 2/3, ratio 1 -> 1/2."""
    return ratio / (ratio + 1.0)


@dataclass(frozen=True)
class BarGrid:
    """Float view of the played bars for the post-processing passes."""

    starts: tuple[float, ...]
    lengths: tuple[float, ...]
    tempos: tuple[float, ...]
    swing_ok: tuple[bool, ...]

    def index(self, t: float) -> int:
        i = bisect.bisect_right(self.starts, t + EPS) - 1
        return 0 if i < 0 else i

    @property
    def end(self) -> float:
        return self.starts[-1] + self.lengths[-1] if self.starts else 0.0

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """starts, lengths, tempos, swing_ok as numpy arrays (computed once)."""
        return (
            np.asarray(self.starts, dtype=float),
            np.asarray(self.lengths, dtype=float),
            np.asarray(self.tempos, dtype=float),
            np.asarray(self.swing_ok, dtype=bool),
        )


@dataclass(frozen=True)
class Windows:
    """Where the clean-up acts, in beats: ``nc`` (harmonic parts rest), ``hits`` (one short
    accent then rest), ``stops`` (everyone rests, drums too), ``pushes`` (start, end of the
    tie over the bar line), ``hold`` (the final held bar) or None, ``fermatas`` (held
    chords: the attacks at their start ring to the end, every other note is dropped)."""

    nc: tuple[tuple[float, float], ...] = ()
    hits: tuple[tuple[float, float], ...] = ()
    stops: tuple[tuple[float, float], ...] = ()
    pushes: tuple[tuple[float, float], ...] = ()
    hold: tuple[float, float] | None = None
    fermatas: tuple[tuple[float, float], ...] = ()


_FIELDS = attrgetter("start", "duration", "pitch", "velocity")


def notes_to_array(notes: Sequence[NoteEvent]) -> np.ndarray:
    """Notes as an (n, 4) float array: start, duration, pitch, velocity."""
    if not notes:
        return np.zeros((0, 4))
    n = len(notes)
    return np.fromiter(chain.from_iterable(map(_FIELDS, notes)), dtype=float, count=4 * n).reshape(n, 4)


def array_to_notes(a: np.ndarray) -> list[NoteEvent]:
    """The inverse of :func:`notes_to_array` (pitch and velocity rounded to ints)."""
    if len(a) == 0:
        return []
    return list(
        map(
            make_note,
            a[:, 0].tolist(),
            a[:, 1].tolist(),
            a[:, 2].astype(int).tolist(),
            a[:, 3].astype(int).tolist(),
        )
    )


#: How near (in units of the swung beat) an onset must be to 1/3 or 2/3 to count as a triplet.
_TRIPLET_TOL = 0.02


def _warp(t: np.ndarray, grid: BarGrid, fracs: np.ndarray, unit: float) -> np.ndarray:
    starts, lengths, _, swing_ok = grid.arrays
    i = np.clip(np.searchsorted(starts, t + EPS, side="right") - 1, 0, len(starts) - 1)
    b0 = starts[i]
    s = fracs[i]
    x = t - b0
    k = np.floor(x / unit + EPS)
    kstart = k * unit
    f = (x - kstart) / unit
    ok = swing_ok[i] & (s > 0.5 + EPS) & (kstart + unit <= lengths[i] + EPS)
    ok &= f > EPS
    # a triplet position (1/3, 2/3 of the unit: a 12/8 or triplet grid) is swung already
    ok &= (np.abs(f - 1.0 / 3.0) > _TRIPLET_TOL) & (np.abs(f - 2.0 / 3.0) > _TRIPLET_TOL)
    g = np.where(f < 0.5, f * 2.0 * s, s + (f - 0.5) * 2.0 * (1.0 - s))
    return np.where(ok, b0 + kstart + g * unit, t)


_BP_T = np.array([t for t, _ in SWING_BREAKPOINTS])
_BP_R = np.array([r for _, r in SWING_BREAKPOINTS])


def swing_array(
    a: np.ndarray, grid: BarGrid, ratio: float | None = None, *, sixteenths: bool = False
) -> np.ndarray:
    """:func:`apply_swing` on an (n, 4) note array (returns a new array)."""
    if len(a) == 0 or not grid.starts:
        return a.copy()
    if ratio is None:
        r = np.interp(grid.arrays[2], _BP_T, _BP_R)  # == swing_ratio per bar
        fracs = r / (r + 1.0)
    else:
        fracs = np.full(len(grid.starts), swing_fraction(ratio))
    unit = 0.5 if sixteenths else 1.0
    out = a.copy()
    st = _warp(a[:, 0], grid, fracs, unit)
    en = _warp(a[:, 0] + a[:, 1], grid, fracs, unit)
    out[:, 0] = st
    out[:, 1] = np.maximum(en - st, 0.01)
    return out


def apply_swing(
    notes: Sequence[NoteEvent], grid: BarGrid, ratio: float | None = None, *, sixteenths: bool = False
) -> list[NoteEvent]:
    """Move offbeats late: within each beat (each half beat for ``sixteenths``) the straight
    midpoint goes to ``ratio/(ratio+1)`` of the way through; onsets on the beat stay put,
    and positions between move proportionally (a piecewise-linear time warp).

    ``ratio`` None takes :func:`swing_ratio` of each bar's tempo. Bars marked not
    swingable (compound meters) and incomplete beats (7/8's last eighth) stay straight,
    and so do triplet positions (1/3 and 2/3 of the beat, e.g. a 12/8 grid played over a
    4/4 bar): they are swung already, and swinging them again makes them limp.
    """
    return array_to_notes(swing_array(notes_to_array(notes), grid, ratio, sixteenths=sixteenths))


def humanise_array(
    a: np.ndarray,
    grid: BarGrid,
    seed: int,
    *,
    timing_ms: float,
    push_ms: float = 0.0,
    velocity_sd: float = 5.0,
) -> np.ndarray:
    """:func:`humanise` on an (n, 4) note array sorted by start; ``seed`` drives numpy's PCG64."""
    if len(a) == 0:
        return a.copy()
    gen = np.random.Generator(np.random.PCG64(seed))
    out = a.copy()
    starts = a[:, 0]
    new_onset = np.empty(len(a), dtype=bool)
    new_onset[0] = True
    new_onset[1:] = np.abs(np.diff(starts)) > 1e-9
    group = np.cumsum(new_onset) - 1
    n_groups = int(group[-1]) + 1
    jit = gen.normal(0.0, timing_ms, n_groups) if timing_ms > 0 else np.zeros(n_groups)
    jit = np.clip(jit, -2.5 * timing_ms, 2.5 * timing_ms) + push_ms
    gstarts, _, gtempos, _ = grid.arrays
    idx = np.clip(np.searchsorted(gstarts, starts + EPS, side="right") - 1, 0, len(gstarts) - 1)
    tempo = gtempos[idx]
    out[:, 0] = np.maximum(starts + jit[group] * tempo / 60000.0, 0.0)
    if velocity_sd > 0:
        dv = np.clip(gen.normal(0.0, velocity_sd, len(a)), -2.5 * velocity_sd, 2.5 * velocity_sd)
        out[:, 3] = np.clip(np.rint(a[:, 3] + dv), 1, 127)
    return out


def humanise(
    notes: Sequence[NoteEvent],
    grid: BarGrid,
    seed: int,
    *,
    timing_ms: float,
    push_ms: float = 0.0,
    velocity_sd: float = 5.0,
) -> list[NoteEvent]:
    """Spread onsets by ``timing_ms`` (SD, clipped at 2.5 SD) plus a constant ``push_ms``
    (negative = ahead of the beat), the same offset for notes struck together; spread
    velocities by ``velocity_sd``. Deterministic for a given ``seed``."""
    a = notes_to_array(sorted(notes, key=lambda n: (n.start, n.pitch)))
    return array_to_notes(
        humanise_array(a, grid, seed, timing_ms=timing_ms, push_ms=push_ms, velocity_sd=velocity_sd)
    )


def _in(t: float, wins: Sequence[tuple[float, float]], starts: Sequence[float]) -> tuple[float, float] | None:
    i = bisect.bisect_right(starts, t + EPS) - 1
    if i >= 0:
        s, e = wins[i]
        if s - EPS <= t < e - EPS:
            return wins[i]
    return None


def _cut_before(n: NoteEvent, starts: Sequence[float]) -> NoteEvent:
    """Shorten a note that would sound into the next window start."""
    end = n.start + n.duration
    j = bisect.bisect_right(starts, n.start + EPS)
    if j < len(starts) and starts[j] < end - EPS:
        return make_note(n.start, starts[j] - n.start, n.pitch, n.velocity)
    return n


def clean_up(
    notes: Sequence[NoteEvent], windows: Windows, *, is_drum: bool, hit_length: float = 0.5
) -> list[NoteEvent]:
    """The safety net after the roles (see the module docstring)."""
    w = windows
    if not (w.nc or w.hits or w.stops or w.pushes or w.hold or w.fermatas):
        return list(notes)
    ferm = sorted(w.fermatas)
    ferm_starts = [s for s, _ in ferm]
    silence = sorted(w.stops) if is_drum else sorted([*w.nc, *w.stops])
    sil_starts = [s for s, _ in silence]
    hits = sorted(w.hits) if not is_drum else []
    hit_starts = [s for s, _ in hits]
    pushes = sorted(w.pushes) if not is_drum else []
    push_starts = [s for s, _ in pushes]
    all_cuts = sorted({*sil_starts, *hit_starts, *push_starts, *(ferm_starts if not is_drum else ())})
    out: list[NoteEvent] = []
    for n in notes:
        if silence and _in(n.start, silence, sil_starts) is not None:
            continue
        if ferm:
            f = _in(n.start, ferm, ferm_starts)
            if f is not None and abs(n.start - f[0]) > 0.02:
                continue  # a held chord: only its first attack sounds
        if hits:
            h = _in(n.start, hits, hit_starts)
            if h is not None:
                if abs(n.start - h[0]) > 0.02:
                    continue
                n = make_note(n.start, min(n.duration, hit_length, h[1] - h[0]), n.pitch, n.velocity)
        if pushes:
            p = _in(n.start, pushes, push_starts)
            if p is not None:
                if abs(n.start - p[0]) > 0.02:
                    continue
                if n.start + n.duration < p[1]:
                    n = make_note(n.start, p[1] - n.start, n.pitch, n.velocity)
        if all_cuts:
            n = _cut_before(n, all_cuts)
        if w.hold is not None and not is_drum and n.start >= w.hold[0] - EPS:
            if abs(n.start - w.hold[0]) > 0.02:
                continue
            n = make_note(n.start, w.hold[1] - n.start, n.pitch, n.velocity)
        out.append(n)
    return out


def fix_overlaps_array(a: np.ndarray, end: float) -> np.ndarray:
    """Sort by (start, pitch), drop notes at or after ``end`` and clip the rest to it, drop
    a second strike of one key at the same instant, and shorten a note that overlaps the
    next note of the same pitch (MIDI cannot sound one key twice on one channel)."""
    if len(a) == 0:
        return a.copy()
    a = a[a[:, 0] < end - EPS]
    if len(a) == 0:
        return a
    a = a.copy()
    a[:, 1] = np.minimum(a[:, 1], end - a[:, 0])
    order = np.lexsort((a[:, 0], a[:, 2]))  # by pitch, then start
    b = a[order]
    same = np.zeros(len(b), dtype=bool)
    same[1:] = b[1:, 2] == b[:-1, 2]
    dup = np.zeros(len(b), dtype=bool)
    dup[1:] = same[1:] & (b[1:, 0] - b[:-1, 0] < 1e-3)
    if dup.any():
        # keep the louder velocity on the note that stays
        for j in np.nonzero(dup)[0]:
            b[j - 1, 3] = max(b[j - 1, 3], b[j, 3])
        b = b[~dup]
        same = np.zeros(len(b), dtype=bool)
        same[1:] = b[1:, 2] == b[:-1, 2]
    nxt = np.full(len(b), np.inf)
    nxt[:-1] = np.where(same[1:], b[1:, 0], np.inf)
    b[:, 1] = np.minimum(b[:, 1], nxt - b[:, 0])
    final = np.lexsort((b[:, 2], b[:, 0]))
    return b[final]


def fix_overlaps(notes: Sequence[NoteEvent], end: float) -> list[NoteEvent]:
    """List version of :func:`fix_overlaps_array`."""
    return array_to_notes(fix_overlaps_array(notes_to_array(notes), end))
