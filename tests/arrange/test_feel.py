"""Feel: swing ratio by tempo, the swing warp, humanisation, clean-up."""

from __future__ import annotations

import itertools

import pytest

from backline.arrange.events import NoteEvent
from backline.arrange.feel import (
    BarGrid,
    Windows,
    apply_swing,
    clean_up,
    fix_overlaps,
    humanise,
    swing_fraction,
    swing_ratio,
)

GRID44 = BarGrid((0.0, 4.0), (4.0, 4.0), (120.0, 120.0), (True, True))


def test_swing_ratio_falls_with_tempo() -> None:
    tempos = list(range(30, 400, 5))
    ratios = [swing_ratio(t) for t in tempos]
    assert all(a >= b for a, b in itertools.pairwise(ratios))
    assert swing_ratio(50) == pytest.approx(2.5)
    assert swing_ratio(120) == pytest.approx(2.0)
    assert swing_ratio(320) == pytest.approx(1.5)
    assert 1.6 < swing_ratio(200) < 1.7


def test_swing_moves_offbeats_only() -> None:
    notes = [NoteEvent(b / 2, 0.5, 60, 90) for b in range(8)]
    out = apply_swing(notes, GRID44, 2.0)
    starts = [n.start for n in out]
    assert starts[0::2] == pytest.approx([0, 1, 2, 3])  # downbeats stay
    assert starts[1::2] == pytest.approx([0 + 2 / 3, 1 + 2 / 3, 2 + 2 / 3, 3 + 2 / 3])
    # the long eighth is twice the short one
    long_, short = starts[1] - starts[0], starts[2] - starts[1]
    assert long_ / short == pytest.approx(2.0)
    # a swung eighth note's end lands on the next beat
    assert out[1].start + out[1].duration == pytest.approx(1.0)


def test_sixteenth_swing_and_straight_bars() -> None:
    notes = [NoteEvent(0.25, 0.25, 60, 90), NoteEvent(0.5, 0.25, 60, 90)]
    out = apply_swing(notes, GRID44, 3.0, sixteenths=True)
    assert out[0].start == pytest.approx(0.5 * 0.75)
    assert out[1].start == pytest.approx(0.5)
    compound = BarGrid((0.0,), (6.0,), (60.0,), (False,))
    assert apply_swing([NoteEvent(0.5, 0.5, 60, 90)], compound, 2.0)[0].start == pytest.approx(0.5)
    # 7/8: the last, incomplete beat stays straight
    seven = BarGrid((0.0,), (3.5,), (120.0,), (True,))
    out7 = apply_swing([NoteEvent(1.5, 0.5, 60, 90), NoteEvent(3.0, 0.5, 60, 90)], seven, 2.0)
    assert out7[0].start == pytest.approx(1 + 2 / 3)
    assert out7[1].start == pytest.approx(3.0)


def test_humanise_is_seeded_bounded_and_keeps_chords_together() -> None:
    chord = [NoteEvent(b, 1.0, p, 80) for b in range(8) for p in (60, 64, 67)]
    a = humanise(chord, GRID44, 7, timing_ms=8, push_ms=-5, velocity_sd=6)
    b = humanise(chord, GRID44, 7, timing_ms=8, push_ms=-5, velocity_sd=6)
    c = humanise(chord, GRID44, 8, timing_ms=8, push_ms=-5, velocity_sd=6)
    assert a == b and a != c
    ms_per_beat = 500.0
    offsets = []
    for i in range(0, len(a), 3):
        group = a[i : i + 3]
        assert len({round(n.start, 9) for n in group}) == 1  # struck together
        off_ms = (group[0].start - round(group[0].start)) * ms_per_beat
        offsets.append(off_ms)
    # first onset cannot go before 0; the rest sit within push +- 2.5 SD
    assert all(-5 - 20 - 1e-6 <= o <= -5 + 20 + 1e-6 for o in offsets[1:])
    assert sum(offsets[1:]) / len(offsets[1:]) < 0  # pushed ahead on average
    assert all(1 <= n.velocity <= 127 and abs(n.velocity - 80) <= 15 for n in a)


def test_clean_up_windows() -> None:
    notes = [NoteEvent(b / 2, 0.5, 60, 90) for b in range(16)]
    w = Windows(nc=((2.0, 3.0),), hits=((4.0, 6.0),), stops=((6.0, 7.0),))
    pitched = clean_up(notes, w, is_drum=False)
    drums = clean_up(notes, w, is_drum=True)
    ps = [n.start for n in pitched]
    assert not [s for s in ps if 2.0 <= s < 3.0]  # N.C.: harmonic parts rest
    assert [s for s in ps if 4.0 <= s < 6.0] == [4.0]  # hit: one accent
    assert not [s for s in ps if 6.0 <= s < 7.0]
    ds = [n.start for n in drums]
    assert 2.5 in ds  # drums keep playing through N.C.
    assert not [s for s in ds if 6.0 <= s < 7.0]  # N.C. hit: the whole band stops


def test_push_tie_and_hold() -> None:
    notes = [NoteEvent(3.5, 0.5, 48, 90), NoteEvent(4.0, 1.0, 48, 90), NoteEvent(5.0, 1.0, 50, 90)]
    out = clean_up(notes, Windows(pushes=((3.5, 4.5),)), is_drum=False)
    assert [(n.start, n.duration) for n in out] == [(3.5, 1.0), (5.0, 1.0)]
    held = clean_up(
        [NoteEvent(8.0, 1.0, 60, 90), NoteEvent(9.0, 1.0, 62, 90)], Windows(hold=(8.0, 12.0)), is_drum=False
    )
    assert [(n.start, n.duration) for n in held] == [(8.0, 4.0)]


def test_fix_overlaps_same_key() -> None:
    out = fix_overlaps([NoteEvent(0, 2, 60, 80), NoteEvent(1, 1, 60, 90), NoteEvent(1, 1, 60, 100)], 10)
    assert [(n.start, n.duration, n.velocity) for n in out] == [(0, 1, 80), (1, 1, 100)]
    assert swing_fraction(2.0) == pytest.approx(2 / 3)
