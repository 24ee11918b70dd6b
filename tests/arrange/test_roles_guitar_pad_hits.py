"""Guitar shapes and strums, pads with swells, horn hits."""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

import pytest
from ctxutil import bars_from_text, flat_spans, in_scale_stats, progression_suite, strong_beat_stats

from backline.arrange.events import NoteEvent
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.roles.guitar import PATTERNS as GUITAR_PATTERNS
from backline.arrange.roles.guitar import STRINGS, Guitar, guitar_shapes
from backline.arrange.roles.hits import HornHits
from backline.arrange.roles.pad import PATTERNS as PAD_PATTERNS
from backline.arrange.roles.pad import Pad
from backline.arrange.voicing import mean_voice_movement
from backline.model.chord import parse_chord


@lru_cache(maxsize=1)
def suite() -> list[tuple[str, list[BarContext]]]:
    return progression_suite(per_meter=3, n_bars=24, seed=5)


def gen(
    role: object, bars: list[BarContext], pattern: str, low: int = 0, high: int = 127, seed: int = 1
) -> list[NoteEvent]:
    spec = PartSpec("p", "x", low=low, high=high, params={"pattern": pattern})
    return role.generate(bars, spec, random.Random(seed))  # type: ignore[attr-defined,no-any-return]


def fret_of(pitch: int, string: int) -> int:
    return pitch - STRINGS[string]


@pytest.mark.parametrize(
    "symbol",
    [
        "C",
        "A-",
        "G7",
        "E",
        "F^7",
        "Bh7",
        "Bbo7",
        "C7#9",
        "D-7/G",
        "Ab13",
        "F#-7b5",
        "C7alt",
        "Eb6",
        "G7sus",
        "D/F#",
    ],
)
def test_guitar_shapes_are_playable(symbol: str) -> None:
    ch = parse_chord(symbol)
    shapes = guitar_shapes(ch)
    assert shapes, symbol
    for sh in shapes:
        assert 4 <= len(sh) <= 6
        assert list(sh) == sorted(set(sh))
        assert sh[0] % 12 == ch.bass_pc  # the bass note lowest
        assert {p % 12 for p in sh} <= set(ch.pitch_classes)
        f = ch.quality
        if f.third:
            assert (ch.root_pc + (4 if f.third == "3" else 3)) % 12 in {p % 12 for p in sh}
        assert _fingering(sh) is not None, (symbol, sh)


def _fingering(
    shape: tuple[int, ...], string: int = 0, frets: tuple[int, ...] = ()
) -> tuple[int, ...] | None:
    """Frets for the notes on strictly rising strings, fretted notes within four frets."""
    if len(frets) == len(shape):
        fretted = [x for x in frets if x > 0]
        return frets if not fretted or max(fretted) - min(fretted) <= 3 else None
    p = shape[len(frets)]
    for s in range(string, 6):
        fr = p - STRINGS[s]
        if 0 <= fr <= 15:
            got = _fingering(shape, s + 1, (*frets, fr))
            if got is not None:
                return got
    return None


@pytest.mark.parametrize("pattern", GUITAR_PATTERNS)
def test_guitar_targets(pattern: str) -> None:
    ok = tot = sc = sct = 0
    for _, bars in suite():
        notes = gen(Guitar(), bars, pattern, 40, 88)
        assert notes
        assert all(40 <= n.pitch <= 88 for n in notes)
        a, b = strong_beat_stats(notes, bars)
        c, d = in_scale_stats(notes, bars)
        ok, tot, sc, sct = ok + a, tot + b, sc + c, sct + d
        changes = [s.start for s in flat_spans(bars) if s.change or s.chord is None]
        for n in notes:
            assert not [c for c in changes if n.start + 1e-6 < c < n.start + n.duration - 1e-6]
    assert ok / tot >= 0.95
    assert sc / sct >= 0.97


def test_strums_are_staggered_down_low_to_high_and_up_high_to_low() -> None:
    bars = bars_from_text(["C", "G", "A-", "F"], tempo=100.0)
    notes = gen(Guitar(), bars, "strum")
    # group by stroke: onsets within 60 ms
    ms = 100.0 / 60000.0
    strokes: list[list[NoteEvent]] = []
    for n in sorted(notes, key=lambda n: n.start):
        if strokes and n.start - strokes[-1][0].start < 60 * ms:
            strokes[-1].append(n)
        else:
            strokes.append([n])
    downs = ups = 0
    for st in strokes:
        if len(st) < 3:
            continue
        gaps = [(b.start - a.start) / ms for a, b in itertools.pairwise(st)]
        assert all(5 <= g <= 15 for g in gaps), gaps
        pitches = [n.pitch for n in st]
        if pitches == sorted(pitches):
            downs += 1
            assert len(st) >= 4
        elif pitches == sorted(pitches, reverse=True):
            ups += 1
            assert len(st) <= 4
        else:
            raise AssertionError(pitches)
    assert downs >= 4 and ups >= 4


def test_freddie_green_is_four_short_three_note_shells() -> None:
    bars = bars_from_text(["D-7", "G7", "C^7", "A7"])
    notes = gen(Guitar(), bars, "freddie")
    onsets = sorted({round(n.start, 1) for n in notes})
    assert onsets[:12] == [float(i) for i in range(12)]
    for t in range(12):
        chord = [n for n in notes if abs(n.start - t) < 0.05]
        assert len(chord) == 3 and all(n.duration <= 0.5 for n in chord)
        assert all(40 <= n.pitch <= 67 for n in chord)


def test_skank_and_boom_chick_play_the_off_beats() -> None:
    bars = bars_from_text(["C", "F", "G", "C", "C"])
    for pat in ("skank", "boom-chick"):
        notes = [n for n in gen(Guitar(), bars, pat) if n.start < 16]
        beats = {round(n.start) % 4 for n in notes}
        assert beats <= {1, 3}


def test_guitar_voice_leading_is_smooth() -> None:
    bars = bars_from_text(["C", "A-", "F", "G", "E-", "A-", "D-", "G7"] * 2)
    notes = gen(Guitar(), bars, "strum")
    firsts: list[tuple[int, ...]] = []
    for i in range(16):
        first = [n for n in notes if i * 4 <= n.start < i * 4 + 0.1]
        firsts.append(tuple(sorted(n.pitch for n in first)))
    assert mean_voice_movement(firsts) <= 4.0


@pytest.mark.parametrize("pattern", PAD_PATTERNS)
def test_pad_sustains_voice_led_chords(pattern: str) -> None:
    for _, bars in suite():
        notes = gen(Pad(), bars, pattern, 48, 84)
        assert all(50 <= n.pitch <= 84 for n in notes)
        a, b = strong_beat_stats(notes, bars)
        assert b == 0 or a / b >= 0.95
        c, d = in_scale_stats(notes, bars)
        assert c / d >= 0.97
        groups: dict[float, set[int]] = {}
        for n in notes:
            groups.setdefault(round(n.start, 4), set()).add(n.pitch)
        assert all(3 <= len(g) <= 5 for g in groups.values())


def test_pad_holds_until_the_change_and_swells_into_sections() -> None:
    bars = bars_from_text(
        ["C^7", "C^7", "A-7", "D7", "G^7", "E-7", "A-7", "D7"],
        sections=["A"] * 4 + ["B"] * 4,
        intensities=[40] * 4 + [80] * 4,
    )
    notes = gen(Pad(), bars, "swell", 48, 84)
    first = [n for n in notes if n.start == 0]
    assert first and all(n.duration == 8 for n in first)  # held over two bars of C^7
    # the swell bar holds one chord (no re-strikes), started soft; the louder B comes in above it
    swell = [n for n in notes if 12 <= n.start < 16]
    assert {n.start for n in swell} == {12.0} and all(n.duration == 4 for n in swell)
    b_in = max(n.velocity for n in notes if n.start == 16)
    assert b_in - max(n.velocity for n in swell) >= 15
    seq = []
    for t in sorted({n.start for n in notes if n.start % 4 == 0}):
        seq.append(tuple(sorted(n.pitch for n in notes if n.start == t)))
    assert mean_voice_movement(seq) <= 2.0


def test_choir_layers_an_octave_doubling() -> None:
    bars = bars_from_text(["C", "F", "G", "C"])
    notes = gen(Pad(), bars, "choir", 48, 84)
    at0 = sorted(n.pitch for n in notes if n.start == 0)
    assert at0[-1] - 12 in at0


def test_horn_hits_only_on_hits_pushes_loud_downbeats_and_the_end() -> None:
    bars = bars_from_text(
        ["C7", "F7", "C7!", "N.C.", "F7", "Bb7>", "C7", "G7", "C7"],
        sections=["A"] * 6 + ["B"] * 3,
        intensities=[50] * 6 + [85] * 3,
    )
    notes = gen(HornHits(), bars, "stabs", 55, 84)
    onsets = sorted({n.start for n in notes})
    assert onsets == [8.0, 19.5, 24.0, 32.0]
    for t in onsets:
        chord = [n for n in notes if n.start == t]
        assert 3 <= len(chord) <= 4 and all(55 <= n.pitch <= 84 for n in chord)
        assert max(n.pitch for n in chord) - min(n.pitch for n in chord) <= 12  # close voicing
    assert all(n.duration <= 0.5 for n in notes if n.start < 32)
