"""The model's entry points raise backline errors (that are also the built-ins callers catch)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backline.errors import ChartError, ChartSyntaxError
from backline.formats.chart import loads
from backline.model.numerals import degree_note
from backline.model.pitch import parse_key, parse_note_name
from backline.model.song import Jump, TimeSignature
from backline.model.transpose import transpose_song

SONG = loads("title: T\nkey: C\n| C | F | G7 | C |\n", "t.chart")[0]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: parse_key("H"), ChartSyntaxError, "not a key: 'H' (write e.g. Bb, F#m, G minor)"),
        (lambda: parse_note_name("H"), ChartSyntaxError, "not a note name: 'H'"),
        (lambda: TimeSignature(4, 3), ChartError, "time signature denominator must be a power of two: 3"),
        (lambda: TimeSignature(0, 4), ChartError, "time signature numerator out of range (1-64): 0"),
        (lambda: Jump("DX"), ChartError, "jump kind must be DC or DS, not 'DX'"),
        (lambda: degree_note(8, 0, parse_key("C")), ChartError, "scale degree must be 1-7, not 8"),
        (
            lambda: transpose_song(SONG, to_key="H"),
            ChartError,
            "t.chart: cannot transpose to 'H': not a key (write e.g. Bb, F#m, G minor, or give a number of semitones)",
        ),
        (lambda: transpose_song(SONG), ChartError, "give either semitones or to_key"),
    ],
)
def test_bad_input_is_a_chart_error_and_still_a_value_error(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:  # these were raw ValueErrors
        call()
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
