"""The model's field checks: one tempo rule (finite, 10-400 BPM) for readers and Song.with_tempo."""

from __future__ import annotations

import doctest
import math
from fractions import Fraction

import pytest

import backline.model.checks
from backline.errors import ChartError, Location, TempoError
from backline.formats.chart import loads
from backline.model.checks import MAX_TEMPO, MIN_TEMPO, check_tempo


def test_doctests() -> None:
    assert doctest.testmod(backline.model.checks).failed == 0


@pytest.mark.parametrize("value", [10, 10.0, 96.5, Fraction(241, 2), 400])
def test_a_tempo_in_range_is_returned_as_a_float(value: object) -> None:
    out = check_tempo(value)
    assert isinstance(out, float) and out == float(value)  # type: ignore[arg-type]
    assert (MIN_TEMPO, MAX_TEMPO) == (10.0, 400.0)  # docs/chart-format.md says so


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "tempo nan is not a number of beats per minute (10-400)"),
        (math.inf, "tempo inf is not a number of beats per minute (10-400)"),
        (-math.inf, "tempo -inf is not a number"),
        (0, "tempo 0 is outside 10-400 bpm"),
        (9.99, "tempo 9.99 is outside 10-400 bpm"),
        (400.01, "tempo 400.01 is outside 10-400 bpm"),
        (1e9, "tempo 1e+09 is outside 10-400 bpm"),
        ("120", "tempo must be a number of beats per minute, not '120'"),
        (True, "tempo must be a number of beats per minute, not True"),
        (None, "tempo must be a number"),
    ],
)
def test_anything_else_is_a_tempo_error_naming_where(value: object, message: str) -> None:
    with pytest.raises(TempoError) as info:
        check_tempo(value, Location("song.chart", 3, 8))
    assert str(info.value).startswith(f"song.chart:3:8: {message}")
    assert isinstance(info.value, ChartError) and isinstance(info.value, ValueError)


SONG = loads("title: T\ntempo: 100\n| C | F |\ntempo: 200\n| G | C |\n", "t.chart")[0]


def test_with_tempo_scales_every_bar() -> None:
    assert [b.tempo for b in SONG.with_tempo(150).bars] == [150.0, 150.0, 300.0, 300.0]
    assert [b.tempo for b in SONG.with_tempo(200).bars] == [200.0, 200.0, 400.0, 400.0]  # the bound


@pytest.mark.parametrize("bpm", [0, -120, math.nan, math.inf, 5, 1e9])
def test_with_tempo_refuses_what_no_reader_accepts(bpm: float) -> None:
    with pytest.raises(TempoError, match=r"^t\.chart: tempo"):
        SONG.with_tempo(bpm)  # was a raw ValueError for 0, and NaN/inf went through


def test_with_tempo_names_the_bar_pushed_out_of_range() -> None:
    with pytest.raises(
        TempoError, match=r"^t\.chart: bar 3 \(at 250 for the first bar\): tempo 500 is outside"
    ):
        SONG.with_tempo(250)
