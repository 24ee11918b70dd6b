"""Keys comping: chord tones, cuts at every change, register, voice leading, rhythms."""

from __future__ import annotations

import random
from functools import lru_cache

import pytest
from ctxutil import (
    bars_from_text,
    change_voicings,
    flat_spans,
    in_scale_stats,
    progression_suite,
    strong_beat_stats,
)

from backline.arrange.events import NoteEvent
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.roles.comping import PATTERNS, Comping
from backline.arrange.voicing import is_muddy, mean_voice_movement


@lru_cache(maxsize=1)
def suite() -> list[tuple[str, list[BarContext]]]:
    return progression_suite(per_meter=4, n_bars=24, seed=11)


def run(
    bars: list[BarContext], pattern: str, seed: int = 1, low: int = 36, high: int = 96, **params: object
) -> list[NoteEvent]:
    spec = PartSpec("keys", "comping", low=low, high=high, params={"pattern": pattern, **params})
    return Comping().generate(bars, spec, random.Random(seed))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_comping_targets_over_random_progressions(pattern: str) -> None:
    ok = tot = sc = sct = 0
    for _, bars in suite():
        notes = run(bars, pattern)
        a, b = strong_beat_stats(notes, bars)
        c, d = in_scale_stats(notes, bars)
        ok, tot, sc, sct = ok + a, tot + b, sc + c, sct + d
        assert all(48 <= n.pitch <= 88 for n in notes)
    assert ok / tot >= 0.95
    assert sc / sct >= 0.97


@pytest.mark.parametrize("pattern", PATTERNS)
def test_nothing_is_held_across_a_change(pattern: str) -> None:
    for _, bars in suite()[:12]:
        spans = flat_spans(bars)
        changes = [s.start for s in spans if s.change or s.chord is None]
        notes = run(bars, pattern)
        for n in notes:
            end = n.start + n.duration
            crossed = [c for c in changes if n.start + 1e-6 < c < end - 1e-6]
            assert not crossed, (pattern, n, crossed)


@pytest.mark.parametrize("pattern", ["jazz", "pop", "bossa", "organ", "gospel"])
def test_every_chord_is_attacked(pattern: str) -> None:
    for _, bars in suite()[:12]:
        notes = run(bars, pattern)
        starts = sorted({n.start for n in notes})
        for sp in flat_spans(bars):
            if sp.change and sp.chord is not None:
                assert any(sp.start - 1e-6 <= t < sp.end - 1e-6 for t in starts), (pattern, sp)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_no_muddy_low_voicings(pattern: str) -> None:
    for _, bars in suite()[:8]:
        notes = run(bars, pattern)
        groups: dict[float, list[int]] = {}
        for n in notes:
            groups.setdefault(round(n.start, 4), []).append(n.pitch)
        for ps in groups.values():
            v = tuple(sorted(set(ps)))
            assert v[0] >= 48
            assert not is_muddy(v), v
            assert v[-1] <= 84


II_V_I = ["D-7", "G7", "C^7", "C^7", "E-7 A7", "D-7 G7", "Eh7", "A7b9", "D-7", "G7alt", "C6", "C6"]
POP = ["C", "G/B", "A-", "F", "C", "G", "F", "G7sus G", "A-", "E-", "F", "C/E", "D-", "G", "C", "C"]


@pytest.mark.parametrize(
    ("pattern", "prog"),
    [
        ("jazz", II_V_I),
        ("jazz-ballad", II_V_I),
        ("bossa", II_V_I),
        ("pop", POP),
        ("pop-ballad", POP),
        ("rock", POP),
    ],
)
def test_voice_leading_per_voice_is_two_semitones_or_less(pattern: str, prog: list[str]) -> None:
    bars = bars_from_text(prog * 4)
    seq = change_voicings(run(bars, pattern), bars)
    assert len(seq) >= len(prog) * 3
    assert mean_voice_movement(seq) <= 2.0


def test_jazz_comping_is_sparse_and_varied() -> None:
    bars = bars_from_text(["C^7"] * 32)
    notes = run(bars, "jazz", density=0.5)
    attacks = sorted({round(n.start, 3) for n in notes})
    per_bar = [len([a for a in attacks if i * 4 <= a < i * 4 + 4]) for i in range(31)]
    assert 1 <= sum(per_bar) / len(per_bar) <= 3
    rhythms = {tuple(round(a - i * 4, 3) for a in attacks if i * 4 <= a < i * 4 + 4) for i in range(31)}
    assert len(rhythms) >= 4  # not one cell over and over
    offbeats = [a for a in attacks if a % 1 == 0.5]
    assert offbeats  # anticipations on the "and"


def test_rootless_jazz_voicings_have_third_and_seventh_without_root() -> None:
    bars = bars_from_text(["D-7", "G7", "C^7", "F7"])
    notes = run(bars, "jazz")
    for i, (root, third, seventh) in enumerate([(2, 5, 0), (7, 11, 5), (0, 4, 11), (5, 9, 3)]):
        pcs = {n.pitch % 12 for n in notes if i * 4 <= n.start < i * 4 + 4}
        assert {third, seventh} <= pcs
        assert root not in pcs


def test_pop_triads_and_ranges_from_spec() -> None:
    bars = bars_from_text(POP)
    notes = run(bars, "pop", low=55, high=79)
    assert notes and all(55 <= n.pitch <= 79 for n in notes)
    g = [n for n in notes if 4 <= n.start < 5]
    assert {n.pitch % 12 for n in g} == {7, 11, 2}  # G/B: a G triad


def test_nc_hits_and_push() -> None:
    bars = bars_from_text(["C7", "N.C.", "F7!", "Bb7", "Eb^7>"])
    notes = run(bars, "pop")
    assert not [n for n in notes if 4 <= n.start < 8]
    hit = [n for n in notes if 8 <= n.start < 12]
    assert hit and {n.start for n in hit} == {8.0} and all(n.duration <= 0.5 for n in hit)
    assert any(abs(n.start - 15.5) < 1e-9 and n.pitch % 12 in (3, 7, 10, 2) for n in notes)  # the push


def test_final_bar_holds_the_final_chord_and_determinism() -> None:
    bars = bars_from_text(II_V_I)
    a = run(bars, "jazz", seed=9)
    b = run(bars, "jazz", seed=9)
    assert a == b
    last = [n for n in a if n.start >= 44]
    assert last and all(n.start == 44 and n.duration == 4 for n in last)


def test_intensity_changes_density_and_velocity() -> None:
    quiet = bars_from_text(["C^7", "A-7", "D-7", "G7"] * 4, intensities=[20] * 16)
    loud = bars_from_text(["C^7", "A-7", "D-7", "G7"] * 4, intensities=[90] * 16)
    q, lo_ = run(quiet, "pop"), run(loud, "pop")
    assert len(lo_) > len(q)
    assert sum(n.velocity for n in lo_) / len(lo_) > sum(n.velocity for n in q) / len(q) + 10
