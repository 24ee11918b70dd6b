"""Writers that cannot hold part of a song say so (FormLostWarning) and never write a file
that cannot be read back."""

from __future__ import annotations

import warnings

import pytest

from backline.errors import ChartError
from backline.formats import dumps_song, loads_songs
from backline.formats.chart import loads
from backline.formats.lost import FormLostWarning
from backline.model.song import Song

FORM = "| Segno C! | <F~ | [1,2] G :| x3 [3] C To Coda | D.S. al Coda D |\n| Coda C End |"


def test_chordpro_names_every_mark_it_leaves_out() -> None:
    song = loads(FORM, "form.chart")[0]
    with pytest.warns(FormLostWarning) as rec:
        data = dumps_song(song, ".cho")
    msg = str(rec[0].message)
    for name in ("segno", "coda", "To Coda", "D.C./D.S.", "End", "hits", "fermatas", "pushes", "[1,2]"):
        assert name in msg, name
    assert "form.chart" in msg
    assert loads_songs(data, "x.cho")[0].bars  # and the file reads back


def test_musicxml_names_hits_fermatas_and_an_early_end() -> None:
    song = loads("| C! | F~ End | G |", "m.chart")[0]
    with pytest.warns(FormLostWarning, match=r"End \(bar 2\).*hits \(!\) \(bar 1\).*fermatas"):
        dumps_song(song, ".musicxml")


@pytest.mark.parametrize("ext", [".cho", ".musicxml", ".chart", ".txt"])
def test_a_plain_song_writes_without_warning(ext: str) -> None:
    song = loads("|: C | F :| G | C |", "p.chart")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", FormLostWarning)
        data = dumps_song(song, ext)
    assert loads_songs(data, "x" + ext)[0].bars


@pytest.mark.parametrize("ext", [".cho", ".musicxml", ".mxl", ".chart", ".txt"])
def test_a_song_with_no_bars_is_refused_not_written_unreadable(ext: str) -> None:
    with pytest.raises(ChartError, match="no bars"):
        dumps_song(Song("Empty", ()), ext)
