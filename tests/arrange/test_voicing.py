"""Voicings per chord quality and style, register rules, and voice-leading measurements."""

from __future__ import annotations

import pytest

from backline.arrange.voicing import (
    MUD_LINE,
    candidates,
    choose_voicing,
    is_muddy,
    mean_voice_movement,
    voice_leading_cost,
    voicing_pcs,
)
from backline.model.chord import parse_chord


def rel(symbol: str, style: str) -> set[int]:
    ch = parse_chord(symbol)
    return {(p - ch.root_pc) % 12 for p in voicing_pcs(ch, style)}


@pytest.mark.parametrize(
    ("symbol", "must", "never"),
    [
        ("C7", {4, 10}, {0, 3, 11}),  # rootless dominant: 3 and b7, no root, no b3/maj7
        ("C-7", {3, 10}, {4, 11, 0}),  # minor: b3 and b7
        ("C^7", {4, 11}, {3, 10, 0}),  # major seventh
        ("Ch7", {3, 6, 10}, {4, 7, 11}),  # half-diminished keeps its b5
        ("Co7", {3, 6, 9}, {4, 7, 10}),  # diminished: bb7, never b7
        ("C7sus", {5, 10}, {3, 4}),  # sus: the 4th, no 3rd
        ("C7alt", {4, 10}, {7, 2, 9}),  # altered: no natural 5, 9 or 13
        ("C7b9", {4, 10, 1}, {2, 3}),  # the written b9, no natural 9
        ("C-6", {3, 9}, {4, 10}),  # minor sixth: b3 and 6
        ("C-^7", {3, 11}, {4, 10}),  # minor-major
        ("C7#5", {4, 8, 10}, {7}),
    ],
)
def test_rootless_voicings_follow_the_quality(symbol: str, must: set[int], never: set[int]) -> None:
    got = rel(symbol, "rootless")
    assert must <= got, (symbol, sorted(got))
    assert not (never & got), (symbol, sorted(got))
    assert 3 <= len(got) <= 4


@pytest.mark.parametrize("style", ["rootless", "drop2", "shell", "triad", "open"])
@pytest.mark.parametrize(
    "symbol", ["C-7", "F7", "Bb^7", "Eh7", "A7b9", "Do7", "G7sus", "E-6", "Ab7alt", "C/E"]
)
def test_every_voice_is_in_the_chord_or_its_idiomatic_tensions(style: str, symbol: str) -> None:
    from strong_yardstick import strong_pcs

    ch = parse_chord(symbol)
    allowed = strong_pcs(ch)
    for v in candidates(ch, style, 48, 84):
        assert {p % 12 for p in v} <= allowed, (style, symbol, v)


@pytest.mark.parametrize("style", ["rootless", "drop2", "shell", "triad", "open"])
def test_candidates_stay_in_range_and_are_not_muddy(style: str) -> None:
    for sym in ["C", "Db7", "D-7", "Eb^7", "Eh7", "F7b9", "F#o7", "G7sus", "Ab-6", "A7alt", "Bb6", "B-^7"]:
        cands = candidates(parse_chord(sym), style, 48, 84)
        assert cands, (style, sym)
        for v in cands:
            assert v[0] >= 48 and v[-1] <= 84
            assert list(v) == sorted(v)
            assert not is_muddy(v), (sym, v)


def test_muddy_detects_close_low_intervals() -> None:
    assert is_muddy((48, 50, 55))
    assert not is_muddy((48, 52, 55))
    assert not is_muddy((MUD_LINE, MUD_LINE + 1, MUD_LINE + 4))


def test_rootless_a_and_b_forms_start_on_the_third_or_seventh() -> None:
    ch = parse_chord("D-7")
    bottoms = {v[0] % 12 for v in candidates(ch, "rootless", 48, 84)}
    assert bottoms <= {5, 0}  # F (b3) or C (b7)


def test_voice_leading_cost() -> None:
    assert voice_leading_cost((60, 64, 67), (60, 64, 67)) == 0
    assert voice_leading_cost((60, 64, 67), (59, 65, 67)) == 2
    assert voice_leading_cost((60, 64, 67), (62, 66, 69)) == 6
    # different sizes: a shared note costs nothing, the extra voice its distance to the nearest
    assert voice_leading_cost((60, 64), (60, 64, 65)) == pytest.approx(0.5)
    assert mean_voice_movement([(60, 64, 67), (59, 65, 67), (59, 65, 67)]) == pytest.approx(2 / 6)
    assert mean_voice_movement([]) == 0


II_V_I = ["D-7", "G7", "C^7", "C^7", "E-7", "A7", "D-7", "G7", "Eh7", "A7b9", "D-7", "G7alt", "C6"]
TUNE = ["C^7", "A-7", "D-7", "G7", "E-7", "A7", "D-7", "G7", "F^7", "Bb7", "E-7", "A7", "Ab7", "G7", "C6"]
POP = ["C", "G", "A-", "F", "C", "G/B", "A-", "E-", "F", "C/E", "D-", "G", "C", "F", "G7sus", "G"]


def _path(symbols: list[str], style: str) -> list[tuple[int, ...]]:
    prev = None
    out = []
    for s in symbols * 3:
        v = choose_voicing(parse_chord(s), style, prev, 48, 84)
        out.append(v)
        prev = v
    return out


@pytest.mark.parametrize(
    ("style", "prog"),
    [("rootless", II_V_I), ("rootless", TUNE), ("drop2", II_V_I), ("triad", POP), ("open", POP)],
)
def test_voice_leading_moves_two_semitones_or_less_per_voice(style: str, prog: list[str]) -> None:
    path = _path(prog, style)
    assert mean_voice_movement(path) <= 2.0
    # and the register does not drift: the mean pitch stays within a sixth of the start
    means = [sum(v) / len(v) for v in path]
    assert max(means) - min(means) <= 12


def test_ii_v_i_rootless_is_the_textbook_motion() -> None:
    dm = choose_voicing(parse_chord("D-7"), "rootless", None, 48, 84)
    g7 = choose_voicing(parse_chord("G7"), "rootless", dm, 48, 84)
    c = choose_voicing(parse_chord("C^7"), "rootless", g7, 48, 84)
    assert voice_leading_cost(dm, g7) <= 2  # only the 7th of D-7 falls to the 3rd of G7
    assert voice_leading_cost(g7, c) <= 5
