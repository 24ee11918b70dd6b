"""Chord voicings per style and a voice-leading chooser.

:func:`voicing_pcs` picks the pitch classes a keyboard player would use for a chord in a
style (rootless A/B forms with the 3rd and 7th and the chord's own tensions, drop-2,
shells, triads in inversions, open spreads); :func:`candidates` places them in a
register (no close intervals low down, the top voice in a singing range);
:func:`choose_voicing` picks the candidate that moves least from the previous voicing.
:func:`voice_leading_cost` and :func:`mean_voice_movement` measure the result.

Everything is cached per chord (and per previous voicing), so a song costs little.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache

from backline.arrange.roles._common import ChordFacts, chord_facts
from backline.model.chord import Chord

__all__ = [
    "STYLES",
    "MUD_LINE",
    "voicing_pcs",
    "candidates",
    "choose_voicing",
    "voice_leading_cost",
    "mean_voice_movement",
    "is_muddy",
    "resolves_to_minor",
]

#: Voicing styles understood by :func:`candidates`.
STYLES = ("rootless", "drop2", "shell", "triad", "open", "close", "guide")

#: Below this pitch (E3) two voices closer than a minor third sound muddy.
MUD_LINE = 52

# Preferred mean pitch of a voicing per style.
_CENTER = {
    "rootless": 63.0,
    "drop2": 63.0,
    "shell": 56.0,
    "triad": 65.0,
    "open": 62.0,
    "close": 65.0,
    "guide": 62.0,
}


def _iv(f: ChordFacts, pc: int | None) -> int | None:
    return None if pc is None else (pc - f.root) % 12


def resolves_to_minor(f: ChordFacts, nxt: ChordFacts | None) -> bool:
    """True when ``f`` is a dominant that resolves down a fifth to a minor or
    half-diminished chord (V7 of a minor chord: its tensions are b9 and b13)."""
    return (
        nxt is not None
        and f.family == "dominant"
        and not nxt.bass_only
        and nxt.family in ("minor", "half-diminished")
        and (nxt.root - f.root) % 12 == 5
    )


def voicing_pcs(chord: Chord, style: str, *, to_minor: bool = False) -> tuple[int, ...]:
    """Pitch classes, in stacking order from the first voice, for ``chord`` in ``style``.

    Quality is checked everywhere: minor chords get the b3/b7, diminished the bb7,
    sus chords no 3rd, altered dominants their own tensions. ``to_minor``: the chord is
    a dominant resolving to a minor chord (:func:`resolves_to_minor`), so the tensions
    it adds by itself are b9 and b13 instead of 9 and 13 (written tensions are kept).
    """
    return _voicing_pcs(chord_facts(chord), style, to_minor)


@lru_cache(maxsize=8192)
def _voicing_pcs(f: ChordFacts, style: str, to_minor: bool = False) -> tuple[int, ...]:
    r = f.root
    fam = f.family
    if f.bass_only:
        return (f.bass,)
    if fam == "power":
        return (r, (r + 7) % 12)
    third, fifth, seventh = f.third, f.fifth, f.seventh
    out: list[int] = []

    def add(pc: int | None) -> None:
        if pc is not None and pc not in out:
            out.append(pc)

    def scale_has(iv: int) -> bool:
        return (r + iv) % 12 in f.scale

    if style in ("rootless", "guide"):
        add(third)
        add(seventh)
        if seventh is None:
            # triads in a jazz chart: 6/9 sounds for major, 9 for minor
            if fam == "major" and scale_has(9):
                add((r + 9) % 12)
            elif fam == "minor":
                add((r + 2) % 12 if scale_has(2) else r)
        if style == "guide":
            return tuple(out)
        fifth_iv = _iv(f, fifth)
        if fifth_iv is not None and fifth_iv != 7:
            add(fifth)  # an altered fifth is part of the sound
        for t in f.tensions:
            if len(out) >= 4:
                break
            add(t)
        defaults: list[int] = []
        if fam == "dominant" and to_minor:
            # V7 of a minor chord: mixolydian b9 b13 (unless the chart wrote a 9th or 13th)
            written = [(t - r) % 12 for t in f.tensions]
            if not any(iv in (1, 2, 3) for iv in written):
                defaults.append(1)
            if fifth_iv not in (6, 8) and not any(iv in (8, 9) for iv in written):
                defaults.append(8)
        elif fam == "dominant":
            if not any((t - r) % 12 in (1, 3) for t in f.tensions) and scale_has(2):
                defaults.append(2)
            if scale_has(9) and fifth_iv != 8 and not any((t - r) % 12 == 8 for t in f.tensions):
                defaults.append(9)
        elif fam in ("major", "minor", "sus"):
            if scale_has(2):
                defaults.append(2)
        elif fam == "half-diminished":
            defaults.append(5)
        elif fam == "diminished":
            defaults.append(0)
        elif fam == "augmented":
            defaults.append(2 if scale_has(2) else 0)
        for d in defaults:
            if len(out) >= 4:
                break
            add((r + d) % 12)
        if len(out) < 4:
            add(fifth)
        if len(out) < 4:
            add(r)
        return tuple(out[:4])
    if style == "shell":
        add(r)
        add(third)
        add(seventh if seventh is not None else fifth)
        return tuple(out)
    if style == "drop2":
        # four chord tones, the root among them: the root names the chord for the ear
        add(r)
        add(third)
        add(fifth if fifth is not None else (f.tensions[0] if f.tensions else r))
        if seventh is not None:
            add(seventh)
        elif fam == "major" and scale_has(9):
            add((r + 9) % 12)
        else:
            add(r)
        return tuple(out)
    # triad / open / close: chord tones with the root, the 7th (or 6th) when written
    add(r)
    add(third)
    add(fifth if fifth is not None else (f.tensions[0] if f.tensions else None))
    add(seventh)
    if style == "close" and len(out) < 4 and f.tensions:
        add(f.tensions[0])
    return tuple(out)


def _stack(pcs: Sequence[int], bottom: int) -> tuple[int, ...]:
    """Close position upward from ``bottom`` (a pitch of pcs[0])."""
    notes = [bottom]
    cur = bottom
    for pc in pcs[1:]:
        step = (pc - cur) % 12
        if step == 0:
            step = 12
        cur += step
        notes.append(cur)
    return tuple(notes)


def is_muddy(v: Sequence[int], line: int = MUD_LINE) -> bool:
    """True when two adjacent voices closer than a minor third lie below ``line``."""
    return any(a < line and b - a < 3 for a, b in itertools.pairwise(v))


@lru_cache(maxsize=8192)
def _candidates(pcs: tuple[int, ...], style: str, low: int, high: int) -> tuple[tuple[int, ...], ...]:
    n = len(pcs)
    if n == 0:
        return ()
    shapes: list[tuple[int, ...]] = []
    if style == "rootless" and n >= 3:
        starts = [0, 1] if n >= 2 else [0]  # A form from the 3rd, B form from the 7th
    elif style == "shell":
        starts = [0]
    else:
        starts = list(range(n))
    # the cyclic order of pcs by pitch
    for si in starts:
        first = pcs[si]
        if style in ("rootless", "guide"):
            order = sorted(pcs, key=lambda p: (p - first) % 12)
        else:
            order = sorted(pcs, key=lambda p: (p - first) % 12)
        for octave in range(2, 8):
            bottom = first + 12 * octave
            if style == "shell":
                r, rest = pcs[0], list(pcs[1:])
                bottom = r + 12 * octave
                forms = [_stack([r, *rest], bottom)]
                if len(rest) == 2:
                    forms.append(_stack([r, rest[1], rest[0]], bottom))
                shapes.extend(forms)
                continue
            close = _stack(order, bottom)
            if style in ("triad", "rootless", "guide", "close"):
                shapes.append(close)
            if style in ("drop2", "open") and n >= 4:
                d = list(close)
                dropped = d.pop(-2) - 12
                shapes.append(tuple(sorted([dropped, *d])))
            if style == "open":
                if n >= 4:
                    d = list(close)
                    dropped = d.pop(-3) - 12
                    shapes.append(tuple(sorted([dropped, *d])))
                else:
                    # spread triad: 1-5-3 style (middle voice up an octave)
                    d = list(close)
                    d[1] += 12
                    shapes.append(tuple(sorted(d)))
            if style == "drop2" and n < 4:
                shapes.append(close)
    ok = [s for s in shapes if s[0] >= low and s[-1] <= high and not is_muddy(s)]
    if not ok:
        ok = [s for s in shapes if s[0] >= low and s[-1] <= high]
    if not ok:
        # range too narrow for the shape: fold every note into the range
        for s in shapes[:n]:
            folded = []
            for p in s:
                while p > high:
                    p -= 12
                while p < low:
                    p += 12
                folded.append(p)
            if all(low <= p <= high for p in folded):
                ok.append(tuple(sorted(set(folded))))
    return tuple(sorted(set(ok)))


def candidates(
    chord: Chord, style: str, low: int = 48, high: int = 84, *, to_minor: bool = False
) -> tuple[tuple[int, ...], ...]:
    """Every placement of ``chord``'s voicing in ``style`` inside ``low..high``."""
    if style not in STYLES:
        style = "rootless"
    return _candidates(voicing_pcs(chord, style, to_minor=to_minor), style, low, high)


#: Widest span of a voicing over its bass note (two octaves).
_SPREAD = 24


@lru_cache(maxsize=8192)
def _over_bass(pcs: tuple[int, ...], bass: int, low: int, high: int) -> tuple[tuple[int, ...], ...]:
    """Every placement of ``pcs`` with ``bass`` as the lowest note and the other pitch
    classes free above it (within :data:`_SPREAD`), inside ``low..high``: the upper voices
    can then move by step while the bass note follows the root."""
    others = sorted({p % 12 for p in pcs} - {bass})
    out: set[tuple[int, ...]] = set()
    for b in range(low, high + 1):
        if b % 12 != bass:
            continue
        choices = []
        for pc in others:
            first = b + ((pc - b) % 12 or 12)
            choices.append([q for q in (first, first + 12) if q <= min(high, b + _SPREAD)])
        for combo in itertools.product(*choices):
            v = (b, *sorted(combo))
            if len(set(v)) == len(v) and not is_muddy(v) and (len(v) < 2 or v[1] - b >= 3):
                out.add(v)
    return tuple(sorted(out))


@lru_cache(maxsize=8192)
def _with_top(cands: tuple[tuple[int, ...], ...], pcs: frozenset[int]) -> tuple[tuple[int, ...], ...]:
    """The candidates whose top note is in ``pcs`` (all of them when none is)."""
    kept = tuple(c for c in cands if c[-1] % 12 in pcs)
    return kept or cands


def voice_leading_cost(a: Sequence[int], b: Sequence[int]) -> float:
    """Total semitone movement from voicing ``a`` to ``b``.

    Equal sizes: voices paired in order (sorted). Different sizes: every voice moves to
    the nearest voice of the other chord (averaged both ways, scaled to the larger size).
    """
    if not a or not b:
        return 0.0
    if len(a) == len(b):
        sa, sb = sorted(a), sorted(b)
        return float(sum(abs(x - y) for x, y in zip(sa, sb, strict=True)))
    ab = sum(min(abs(x - y) for y in b) for x in a) / len(a)
    ba = sum(min(abs(x - y) for y in a) for x in b) / len(b)
    return (ab + ba) / 2 * max(len(a), len(b))


def mean_voice_movement(seq: Sequence[Sequence[int]]) -> float:
    """Mean semitone movement per voice between consecutive voicings (0 for fewer than two)."""
    total = 0.0
    voices = 0
    for a, b in itertools.pairwise(seq):
        if not a or not b:
            continue
        total += voice_leading_cost(a, b)
        voices += max(len(a), len(b))
    return total / voices if voices else 0.0


@lru_cache(maxsize=32768)
def _choose(
    cands: tuple[tuple[int, ...], ...], prev: tuple[int, ...] | None, center: float, over_bass: bool = False
) -> tuple[int, ...]:
    best = cands[0]
    best_cost = 1e9
    for c in cands:
        if over_bass and len(c) > 2:
            # the upper voices keep the register; the bass note may sit up to a sixth either
            # side of its own place (an octave under the upper voices) to move by the nearest way
            upper = c[1:]
            mean = sum(upper) / len(upper)
            drift = abs(mean - center)
            low_drift = abs(c[0] - (center - 10.0))
            cost = (low_drift - 8.0) ** 2 * 0.6 if low_drift > 8.0 else 0.0
            tol = 5.0
        else:
            mean = sum(c) / len(c)
            drift = abs(mean - center)
            cost = 0.0
            tol = 3.0
        cost += (drift - tol) ** 2 * 0.6 if drift > tol else 0.0
        if prev:
            cost += voice_leading_cost(prev, c)
        else:
            cost += drift
        if c[-1] > 81:
            cost += (c[-1] - 81) * 1.0
        if cost < best_cost - 1e-9:
            best, best_cost = c, cost
    return best


def choose_voicing(
    chord: Chord,
    style: str,
    prev: Sequence[int] | None = None,
    low: int = 48,
    high: int = 84,
    center: float | None = None,
    lowest: int | None = None,
    top: frozenset[int] | None = None,
    to_minor: bool = False,
) -> tuple[int, ...]:
    """The voicing of ``chord`` in ``style`` that moves least from ``prev``.

    Stays near the style's register (``center``, the mean pitch) so the line never drifts
    to the edges; the top voice is kept at or below A5 when possible. ``lowest`` (a pitch
    class, e.g. the root) puts that note at the bottom with the other voices free above it
    (added when the style leaves it out), and ``top`` (pitch classes) keeps the
    placements whose top voice is one of them, when any has it. ``to_minor``: the chord
    resolves to a minor chord (b9/b13 on a plain dominant, see :func:`voicing_pcs`).
    Returns ``()`` when no voicing fits the range.
    """
    if style not in STYLES:
        style = "rootless"
    if lowest is not None:
        cands = _over_bass(voicing_pcs(chord, style, to_minor=to_minor), lowest % 12, low, high)
    else:
        cands = candidates(chord, style, low, high, to_minor=to_minor)
    if top is not None:
        cands = _with_top(cands, top)
    if not cands:
        return ()
    c = _CENTER.get(style, 63.0) if center is None else center
    c = min(max(c, low + 6), high - 6)
    return _choose(cands, None if prev is None else tuple(prev), c, lowest is not None)
