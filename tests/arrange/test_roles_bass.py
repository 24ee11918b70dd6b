"""Pattern bass and walking bass: bass notes at changes, chord tones, approaches, ranges."""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

import pytest
from ctxutil import (
    bars_from_text,
    bass_change_stats,
    flat_spans,
    in_scale_stats,
    progression_suite,
    span_at,
    strong_beat_stats,
)

from backline.arrange.events import NoteEvent
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.roles.bass import PATTERNS, Bass
from backline.arrange.roles.walking import WalkingBass


@lru_cache(maxsize=1)
def suite() -> list[tuple[str, list[BarContext]]]:
    return progression_suite(per_meter=5, n_bars=24)


def run(
    role: object, bars: list[BarContext], pattern: str, seed: int = 1, **params: object
) -> list[NoteEvent]:
    spec = PartSpec("bass", "bass", low=28, high=55, params={"pattern": pattern, **params})
    return role.generate(bars, spec, random.Random(seed))  # type: ignore[attr-defined,no-any-return]


def totals(role: object, pattern: str) -> tuple[float, float, float, float, list[NoteEvent]]:
    b = t = n = ok = tot = sc = sct = 0
    all_notes: list[NoteEvent] = []
    for _, bars in suite():
        notes = run(role, bars, pattern)
        all_notes += notes
        # the tumbao anticipates the next chord's bass note on beat 4, tied over the change
        x, y, z = bass_change_stats(notes, bars, anticipation=1.0 if pattern == "tumbao" else 0.0)
        b, t, n = b + x, t + y, n + z
        o, tt = strong_beat_stats(notes, bars)
        ok, tot = ok + o, tot + tt
        s1, s2 = in_scale_stats(notes, bars)
        sc, sct = sc + s1, sct + s2
    return b / n, (b + t) / n, ok / tot, sc / sct, all_notes


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_bass_targets(pattern: str) -> None:
    on_bass, on_tone, strong, in_scale, notes = totals(Bass(), pattern)
    assert on_bass >= 0.97
    assert on_tone >= 0.99
    assert strong >= 0.95
    assert in_scale >= 0.97
    assert notes and all(28 <= n.pitch <= 55 for n in notes)
    assert all(n.duration > 0 for n in notes)


@pytest.mark.parametrize("pattern", ["walk", "two-then-walk"])
def test_walking_bass_targets(pattern: str) -> None:
    on_bass, on_tone, strong, in_scale, notes = totals(WalkingBass(), pattern)
    assert on_bass >= 0.92
    assert on_tone >= 0.99
    assert strong >= 0.95
    assert in_scale >= 0.97
    assert all(28 <= n.pitch <= 55 for n in notes)


def test_slash_bass_and_changes_on_beat_three_and_pushes() -> None:
    bars = bars_from_text(["C/E A-7@2", "D-7 G7@3.5", "C^7", "F/G>", "Bb7/D"])
    for role, pat in [(Bass(), "root5"), (Bass(), "funk"), (Bass(), "bossa"), (WalkingBass(), "walk")]:
        notes = run(role, bars, pat)
        onsets = {round(n.start, 3): n.pitch % 12 for n in notes}
        assert onsets[0.0] == 4  # E under C/E
        assert onsets[2.0] == 9  # A-7 on beat 3
        assert onsets[4.0] == 2
        assert onsets[7.5] == 7  # G7 on the and of 4
        assert onsets[11.5] == 7  # F/G pushed into bar 4: G an eighth early
        assert onsets[16.0] == 2  # Bb7/D


def test_nc_rests_and_hits_are_one_short_note() -> None:
    bars = bars_from_text(["C7", "N.C.", "F7!", "Bb7"])
    for role, pat in [(Bass(), "eighths"), (WalkingBass(), "walk")]:
        notes = run(role, bars, pat)
        assert not [n for n in notes if 4 <= n.start < 8]
        in_hit = [n for n in notes if 8 <= n.start < 12]
        assert len(in_hit) == 1 and in_hit[0].start == 8 and in_hit[0].duration <= 0.5
        assert in_hit[0].pitch % 12 == 5


def test_pattern_bass_never_plays_major_over_minor() -> None:
    bars = bars_from_text(["C-7", "C-7", "Ch7", "Co7", "C7sus"] * 2)
    for pat in PATTERNS:
        notes = run(Bass(), bars, pat)
        for n in notes:
            bar = int(n.start // 4) % 5
            pc = n.pitch % 12
            if bar < 4:
                assert pc != 4, (pat, n)  # no major third over minor/dim chords
            if bar in (2, 3):
                assert pc != 7, (pat, n)  # b5, not the perfect fifth
            if bar == 4:
                assert pc != 4 and pc != 3, (pat, n)  # sus: no third at all


def test_determinism() -> None:
    _, bars = suite()[0]
    for role, pat in [(Bass(), "funk"), (WalkingBass(), "walk")]:
        assert run(role, bars, pat, seed=5) == run(role, bars, pat, seed=5)
    a = run(WalkingBass(), bars, "walk", seed=5)
    b = run(WalkingBass(), bars, "walk", seed=6)
    assert a != b


def _walk_sequence(bars: list[BarContext]) -> list[NoteEvent]:
    return sorted(run(WalkingBass(), bars, "walk", seed=3), key=lambda n: n.start)


def test_walking_approach_notes_step_into_the_next_bass_note() -> None:
    steps = near = total = 0
    for time, bars in suite():
        if time not in ("4/4", "3/4"):
            continue
        notes = _walk_sequence(bars)
        spans = flat_spans(bars)
        starts = {round(n.start, 3): n for n in notes}
        ends = {round(n.start + n.duration, 3): n for n in notes}
        for sp in spans:
            if not sp.change or sp.chord is None or sp.hit:
                continue
            cur = starts.get(round(sp.start, 3))
            before = ends.get(round(sp.start, 3))
            if cur is None or before is None:
                continue
            prev_span = span_at(spans, before.start)
            if (
                prev_span is None
                or prev_span.chord is None
                or prev_span.hit
                or prev_span.start > sp.start - 2
            ):
                continue
            total += 1
            d = abs(cur.pitch - before.pitch)
            steps += d in (1, 2)
            near += d in (1, 2, 5, 7)
    assert total > 120
    assert steps / total >= 0.8
    assert near / total >= 0.95


def test_walking_walks_four_to_the_bar_in_four_and_three_in_a_waltz() -> None:
    four = bars_from_text(["C^7", "A-7", "D-7", "G7"] * 2)
    notes = run(WalkingBass(), four, "walk")
    assert len([n for n in notes if n.start < 28]) == 28
    waltz = bars_from_text(["C^7", "A-7", "D-7", "G7"] * 2, "3/4")
    notes = run(WalkingBass(), waltz, "walk")
    assert len([n for n in notes if n.start < 21]) == 21
    assert all(abs(n.start - round(n.start)) < 1e-9 for n in notes)


def test_walking_has_no_stagnation_and_moves_smoothly() -> None:
    repeats = leaps = total = 0
    for _, bars in suite():
        notes = _walk_sequence(bars)
        for a, b in itertools.pairwise(notes):
            if b.start - (a.start + a.duration) > 1e-6:
                continue  # a rest in between
            total += 1
            repeats += a.pitch == b.pitch
            leaps += abs(a.pitch - b.pitch) > 9
    assert repeats / total <= 0.03
    assert leaps / total <= 0.08


def test_two_then_walk_plays_half_notes_in_quiet_a_sections() -> None:
    bars = bars_from_text(
        ["C^7", "A-7", "D-7", "G7"] * 2, intensities=[30] * 4 + [80] * 4, variations=["A"] * 4 + ["B"] * 4
    )
    notes = run(WalkingBass(), bars, "two-then-walk")
    first = [n for n in notes if n.start < 16]
    second = [n for n in notes if 16 <= n.start < 28]
    assert len(first) == 8 and all(n.duration == 2 for n in first)
    assert len(second) == 12


def test_two_chords_per_bar_each_get_their_root() -> None:
    bars = bars_from_text(["D-7 G7", "E-7 A7", "D-7 G7", "C^7"])
    notes = run(WalkingBass(), bars, "walk")
    on = {round(n.start, 3): n.pitch % 12 for n in notes}
    assert [on[0.0], on[2.0], on[4.0], on[6.0], on[8.0], on[10.0]] == [2, 7, 4, 9, 2, 7]


def test_final_bar_holds_the_last_chord() -> None:
    bars = bars_from_text(["D-7", "G7", "C^7"])
    for role, pat in [(Bass(), "eighths"), (WalkingBass(), "walk")]:
        last = [n for n in run(role, bars, pat) if n.start >= 8]
        assert len(last) == 1 and last[0].duration == 4 and last[0].pitch % 12 == 0


def test_spec_range_is_respected() -> None:
    _, bars = suite()[1]
    spec = PartSpec("bass", "bass", low=33, high=50, params={"pattern": "walk"})
    notes = WalkingBass().generate(bars, spec, random.Random(2))
    assert all(33 <= n.pitch <= 50 for n in notes)
    spec = PartSpec("bass", "bass", low=40, high=60, params={"pattern": "arpeggio"})
    notes = Bass().generate(bars, spec, random.Random(2))
    assert all(40 <= n.pitch <= 60 for n in notes)
