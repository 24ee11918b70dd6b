"""Build :class:`BarContext` sequences for role tests without the engine.

``bars_from_text(["Dm7 G7", "C^7", ...], time="4/4")``: one string per bar, tokens
``SYM`` (spread over the bar's pulses), ``SYM@2.5`` (explicit beat in quarter notes),
a trailing ``>`` pushes the chord an eighth early, a trailing ``!`` makes it a hit,
``N.C.`` is no chord and ``%`` repeats nothing (the chord continues).

``bars_from_song(song)`` lays out the expanded form of a real song the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from backline.arrange.roles.base import BarContext, ChordSpan
from backline.model.chord import Chord, parse_chord_or_nc
from backline.model.form import expand
from backline.model.pitch import Key, parse_note_name
from backline.model.song import Song, TimeSignature

__all__ = [
    "Ev",
    "FlatSpan",
    "bars_from_text",
    "bars_from_song",
    "bass_change_stats",
    "change_voicings",
    "contexts",
    "flat_spans",
    "in_scale_stats",
    "parse_time",
    "progression_suite",
    "METERS",
    "random_chord",
    "random_progression",
    "span_at",
    "strong_beat_stats",
]

EIGHTH = Fraction(1, 2)


@dataclass(frozen=True)
class Ev:
    beat: Fraction  # within the bar, as written
    chord: Chord | None
    push: bool = False
    hit: bool = False


def parse_time(text: str) -> TimeSignature:
    n, d = text.split("/")
    return TimeSignature(int(n), int(d))


def _pulse_positions(time: TimeSignature, n: int) -> list[Fraction]:
    pulses = time.pulses
    pulse = time.pulse
    if n <= pulses:
        return [pulse * ((i * pulses) // n) for i in range(n)]
    step = time.bar_beats / n
    return [step * i for i in range(n)]


def _parse_bar(text: str, time: TimeSignature) -> list[Ev]:
    toks = [t for t in text.split() if t != "%"]
    plain = [t for t in toks if "@" not in t]
    pos = iter(_pulse_positions(time, len(plain))) if plain else iter(())
    out: list[Ev] = []
    for t in toks:
        push = hit = False
        while t and t[-1] in ">!":
            if t[-1] == ">":
                push = True
            else:
                hit = True
            t = t[:-1]
        if "@" in t:
            sym, b = t.split("@")
            beat = Fraction(b)
        else:
            sym, beat = t, next(pos)
        out.append(Ev(beat, parse_chord_or_nc(sym), push, hit))
    out.sort(key=lambda e: e.beat)
    return out


def contexts(
    bars: Sequence[tuple[TimeSignature, list[Ev]]],
    *,
    tempo: float = 120.0,
    key: Key | None = None,
    sections: Sequence[str] | None = None,
    intensities: Sequence[int] | None = None,
    variations: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
) -> list[BarContext]:
    """Lay out chord events (per bar) as clipped spans, the way the engine does."""
    key = key or Key(parse_note_name("C"))
    starts: list[Fraction] = []
    t = Fraction(0)
    for time, _ in bars:
        starts.append(t)
        t += time.bar_beats
    total = t
    # absolute events
    flat: list[tuple[Fraction, Ev]] = []
    for (_time, evs), s in zip(bars, starts, strict=True):
        for e in evs:
            at = s + e.beat - (EIGHTH if e.push else 0)
            flat.append((max(Fraction(0), at), e))
    flat.sort(key=lambda x: x[0])
    spans: list[ChordSpan] = []
    for i, (at, e) in enumerate(flat):
        end = flat[i + 1][0] if i + 1 < len(flat) else total
        if end <= at:
            continue
        spans.append(ChordSpan(at, end - at, e.chord, e.push, e.hit))
    nexts: list[Chord | None] = [None] * len(spans)
    nxt: Chord | None = None
    for i in range(len(spans) - 1, -1, -1):
        nexts[i] = nxt
        if spans[i].chord is not None:
            nxt = spans[i].chord
    full: list[ChordSpan] = []
    prv: Chord | None = None
    for i, sp in enumerate(spans):
        full.append(ChordSpan(sp.start, sp.duration, sp.chord, sp.push, sp.hit, nexts[i], prv))
        if sp.chord is not None:
            prv = sp.chord
    out: list[BarContext] = []
    n = len(bars)
    k = 0
    for i, ((time, _), s) in enumerate(zip(bars, starts, strict=True)):
        bar_end = s + time.bar_beats
        clipped = []
        while k < len(full) and full[k].end <= s:
            k += 1
        for sp in full[k:]:
            if sp.start >= bar_end:
                break
            a, b = max(sp.start, s), min(sp.end, bar_end)
            if b > a:
                clipped.append(ChordSpan(a, b - a, sp.chord, sp.push, sp.hit, sp.next_chord, sp.prev_chord))
        sec = sections[i] if sections else "A"
        prev_sec = sections[i - 1] if sections and i else None
        next_sec = sections[i + 1] if sections and i + 1 < n else None
        out.append(
            BarContext(
                index=i,
                start=s,
                beats=time.bar_beats,
                time=time,
                tempo=tempo,
                key=key,
                section=sec,
                chords=tuple(clipped),
                kind=kinds[i] if kinds else "body",
                variation=variations[i] if variations else "A",
                intensity=intensities[i] if intensities else 50,
                section_start=i == 0 or sec != prev_sec,
                section_end=i == n - 1 or sec != next_sec,
                last_bar=i == n - 1,
                written_bar=i,
            )
        )
    return out


def bars_from_text(bars: Sequence[str], time: str | TimeSignature = "4/4", **kw: object) -> list[BarContext]:
    """Bar contexts from one chord string per bar (see the module docstring)."""
    ts = parse_time(time) if isinstance(time, str) else time
    return contexts([(ts, _parse_bar(b, ts)) for b in bars], **kw)  # type: ignore[arg-type]


def bars_from_song(song: Song, *, intensity_by_section: bool = True) -> list[BarContext]:
    """Bar contexts for the expanded form of ``song`` (sections alternate variations A/B)."""
    tl = expand(song)
    rows: list[tuple[TimeSignature, list[Ev]]] = []
    sections: list[str] = []
    inten: list[int] = []
    var: list[str] = []
    sec_no = -1
    last_label = None
    for pb in tl.bars:
        rows.append((pb.bar.time, [Ev(ev.beat, ev.chord, ev.push, ev.hit) for ev in pb.bar.chords]))
        if pb.section_start or pb.section != last_label:
            sec_no += 1
            last_label = pb.section
        sections.append(f"{pb.section}#{sec_no}")
        inten.append(40 + 25 * (sec_no % 3) if intensity_by_section else 50)
        var.append("B" if sec_no % 2 else "A")
    tempo = song.tempo
    return contexts(rows, tempo=tempo, key=song.key, sections=sections, intensities=inten, variations=var)


# ----------------------------------------------------------------------------- checks
# Independent measurements of the musical targets, used by the role tests.

STRONG: dict[tuple[int, int], tuple[float, ...]] = {
    (4, 4): (0.0, 2.0),
    (2, 2): (0.0, 2.0),
    (3, 4): (0.0,),
    (2, 4): (0.0,),
    (6, 8): (0.0, 1.5),
    (12, 8): (0.0, 3.0),
    (9, 8): (0.0,),
    (5, 4): (0.0, 3.0),
    (6, 4): (0.0, 3.0),
    (7, 8): (0.0,),
    (5, 8): (0.0,),
}


@dataclass(frozen=True)
class FlatSpan:
    start: float
    end: float
    chord: Chord | None  # bass-only chords resolved over the previous chord
    hit: bool
    change: bool  # a new chord starts here (not a continuation over the bar line)


_FLAT: dict[int, tuple[Sequence[BarContext], list[FlatSpan]]] = {}


def flat_spans(bars: Sequence[BarContext]) -> list[FlatSpan]:
    """Every clipped span as floats, bass-only chords resolved, changes marked."""
    got = _FLAT.get(id(bars))
    if got is not None and got[0] is bars:
        return got[1]
    out = _flat_spans(bars)
    if len(_FLAT) > 512:
        _FLAT.clear()
    _FLAT[id(bars)] = (bars, out)
    return out


def _flat_spans(bars: Sequence[BarContext]) -> list[FlatSpan]:
    out: list[FlatSpan] = []
    last_real: Chord | None = None
    prev: Chord | None = None
    prev_end = -1.0
    first = True
    for bar in bars:
        for sp in bar.chords:
            ch = sp.chord
            if ch is not None and ch.quality.bass_only:
                ch = last_real.with_bass(ch.root) if last_real is not None else ch
            elif ch is not None:
                last_real = ch
            s, e = float(sp.start), float(sp.end)
            cont = (
                (not first)
                and abs(prev_end - s) < 1e-9
                and ch == prev
                and s == float(bar.start)
                and not sp.hit
            )
            out.append(FlatSpan(s, e, ch, sp.hit, not cont and ch is not None))
            prev, prev_end, first = ch, e, False
    return out


def span_at(spans: Sequence[FlatSpan], t: float, starts: Sequence[float] | None = None) -> FlatSpan | None:
    """The span sounding at ``t`` (``starts``: the spans' starts, precomputed for speed)."""
    import bisect

    if starts is None:
        starts = [s.start for s in spans]
    i = bisect.bisect_right(starts, t + 1e-6) - 1
    if i < 0:
        return None
    sp = spans[i]
    return sp if sp.start - 1e-6 <= t < sp.end - 1e-6 else None


_PCS: dict[Chord, frozenset[int]] = {}


def _scale_pcs(ch: Chord) -> frozenset[int]:
    got = _PCS.get(ch)
    if got is None:
        got = _PCS[ch] = frozenset(ch.pitch_classes) | frozenset(ch.scale)
    return got


def bass_change_stats(
    notes: Sequence[object], bars: Sequence[BarContext], tol: float = 0.02, anticipation: float = 0.0
) -> tuple[int, int, int]:
    """(changes with the bass note, changes with another chord tone, all changes).

    ``anticipation`` (beats): a note struck up to that much before the change and still
    sounding over it counts too (a tumbao anticipates the next chord on beat 4)."""
    spans = flat_spans(bars)
    by_start: dict[int, list[int]] = {}
    for n in notes:
        by_start.setdefault(round(n.start / tol), []).append(n.pitch)  # type: ignore[attr-defined]
    early = [n for n in notes if anticipation > 0]
    on_bass = on_tone = total = 0
    for sp in spans:
        if not sp.change or sp.chord is None:
            continue
        total += 1
        ps = by_start.get(round(sp.start / tol), [])
        if not ps and anticipation > 0:
            ps = [
                n.pitch  # type: ignore[attr-defined]
                for n in early
                if sp.start - anticipation - tol <= n.start < sp.start  # type: ignore[attr-defined]
                and n.start + n.duration > sp.start + tol  # type: ignore[attr-defined]
            ]
        if any(p % 12 == sp.chord.bass_pc for p in ps):
            on_bass += 1
        elif any(p % 12 in sp.chord.pitch_classes for p in ps):
            on_tone += 1
    return on_bass, on_tone, total


def strong_beat_stats(notes: Sequence[object], bars: Sequence[BarContext]) -> tuple[int, int]:
    """(notes sounding on strong beats that are chord tones or idiomatic tensions, all of them),
    by the tests' own yardstick (:mod:`strong_yardstick`), not the arranger's table."""
    from strong_yardstick import strong_pcs

    spans = flat_spans(bars)
    beats: list[float] = []
    for bar in bars:
        key = (bar.time.numerator, bar.time.denominator)
        for s in STRONG.get(key, (0.0,)):
            if s < float(bar.beats):
                beats.append(float(bar.start) + s)
    import bisect

    beats.sort()
    span_starts = [s.start for s in spans]
    allowed_at = []
    for b in beats:
        sp = span_at(spans, b, span_starts)
        allowed_at.append(None if sp is None or sp.chord is None else strong_pcs(sp.chord))
    ok = total = 0
    for n in notes:
        s0, e0 = n.start, n.start + n.duration  # type: ignore[attr-defined]
        i = bisect.bisect_left(beats, s0 - 1e-6)
        while i < len(beats) and beats[i] < e0 - 1e-6:
            allowed = allowed_at[i]
            i += 1
            if allowed is None:
                continue
            total += 1
            ok += n.pitch % 12 in allowed  # type: ignore[attr-defined]
    return ok, total


def in_scale_stats(notes: Sequence[object], bars: Sequence[BarContext]) -> tuple[int, int]:
    """(onsets in the sounding chord or its chord-scale, all onsets); onsets in N.C. fail."""
    spans = flat_spans(bars)
    ok = total = 0
    span_starts = [s.start for s in spans]
    for n in notes:
        total += 1
        sp = span_at(spans, n.start, span_starts)  # type: ignore[attr-defined]
        if sp is None or sp.chord is None:
            continue
        ok += n.pitch % 12 in _scale_pcs(sp.chord)  # type: ignore[attr-defined]
    return ok, total


def change_voicings(notes: Sequence[object], bars: Sequence[BarContext]) -> list[tuple[int, ...]]:
    """The chord played at each change's first attack (the voicing sequence of a keys part)."""
    spans = [s for s in flat_spans(bars) if s.change]
    groups: dict[float, list[int]] = {}
    for n in notes:
        groups.setdefault(round(n.start, 4), []).append(n.pitch)  # type: ignore[attr-defined]
    times = sorted(groups)
    import bisect

    out: list[tuple[int, ...]] = []
    for sp in spans:
        i = bisect.bisect_left(times, sp.start - 1e-4)
        if i < len(times) and times[i] < sp.end - 1e-6:
            out.append(tuple(sorted(groups[times[i]])))
    return out


VOCAB = [
    "C", "Cm", "C7", "C^7", "C-7", "Ch7", "Co7", "Cdim", "C+", "C7#5", "C7alt", "C7b9", "C7#9",
    "C13", "C9", "C7sus", "Csus4", "Csus2", "C6", "C-6", "C69", "C-^7", "C7b9#11", "C^7#11",
    "C-11", "C9sus", "Cadd9", "C7b13", "C5", "C/E", "C/G", "C-7/Bb", "C7/Bb", "C/D",
]  # fmt: skip
ROOTS = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def random_chord(rng: object) -> str:
    import random as _r

    assert isinstance(rng, _r.Random)
    sym = rng.choice(VOCAB)
    root = rng.choice(ROOTS)
    shift = ROOTS.index(root)
    out = root + sym[1:]
    if "/" in out:
        head, b = out.split("/")
        bpc = (ROOTS.index(b) + shift) % 12
        out = head + "/" + ROOTS[bpc]
    return out


def random_progression(rng: object, n_bars: int, time: str) -> list[str]:
    """Bars of random chords with two-chord bars, changes on the 3rd beat, pushes, N.C. and hits."""
    import random as _r

    assert isinstance(rng, _r.Random)
    ts = parse_time(time)
    bar_len = ts.bar_beats
    out: list[str] = []
    for i in range(n_bars):
        r = rng.random()
        c = random_chord(rng)
        if r < 0.04 and i:
            out.append("N.C.")
        elif r < 0.08:
            out.append(c + "!")
        elif r < 0.16 and i:
            out.append(c + ">")  # pushed: starts on the "and" of the previous bar's last beat
        elif r < 0.40 and bar_len >= 2:
            half = Fraction(int(bar_len) // 2) if bar_len >= 3 else Fraction(1)
            if ts.compound:
                half = ts.pulse * (ts.pulses // 2)
            out.append(f"{c} {random_chord(rng)}@{half}")
        elif r < 0.45 and bar_len >= 4:
            out.append(f"{c} {random_chord(rng)}@3.5")  # change on the "and of 4"
        elif r < 0.5:
            out.append("%")
        else:
            out.append(c)
    if out[0] in ("%", "N.C.") or out[0].endswith(">"):
        out[0] = random_chord(rng)
    return out


METERS = ("4/4", "3/4", "6/8", "12/8", "5/4", "7/8")


def progression_suite(
    per_meter: int = 5, n_bars: int = 24, seed: int = 7
) -> list[tuple[str, list[BarContext]]]:
    """Random progressions in every test meter, with sections of rising intensity and A/B variations."""
    import random as _r

    rng = _r.Random(seed)
    out: list[tuple[str, list[BarContext]]] = []
    for time in METERS:
        for _ in range(per_meter):
            bars = bars_from_text(
                random_progression(rng, n_bars, time),
                time,
                intensities=[25 + 25 * (i * 3 // n_bars) for i in range(n_bars)],
                variations=["A" if i < n_bars // 2 else "B" for i in range(n_bars)],
                sections=[("A", "B", "C")[i * 3 // n_bars] for i in range(n_bars)],
            )
            out.append((time, bars))
    return out
