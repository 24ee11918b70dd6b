"""One tempo rule in every reader: a finite number within 10-400 BPM (``model.checks``).

Before, ``.chart`` took 1-1000, ChordPro 10-400, JSON anything above 0 (NaN, Infinity and
1e9 included: NaN then failed in the MIDI writer with a raw ValueError), MusicXML any
positive number, iReal anything (a negative tempo became the style's default).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

import pytest

from backline.errors import ChartError, TempoError
from backline.formats import dumps_song, ireal, loads_songs
from backline.formats.chart import loads
from backline.model.checks import MAX_TEMPO, MIN_TEMPO

BASE = loads("title: T\ntempo: 100\nstyle: Medium Swing\n[A]\n| C | F | G7 | C |\n", "t.chart")[0]


def chart(bpm: str) -> tuple[bytes, str]:
    return f"title: T\n[A]\n| C | F |\ntempo: {bpm}\n| G7 | C |\n".encode(), "t.chart"


def chordpro(bpm: str) -> tuple[bytes, str]:
    return f"{{title: T}}\n{{meta: tempo {bpm}}}\n[C]la [F]la\n".encode(), "t.cho"


def musicxml(bpm: str) -> tuple[bytes, str]:
    text = dumps_song(BASE, ".musicxml").decode()
    text, n = re.subn(r'<sound tempo="100"', f'<sound tempo="{bpm}"', text)
    assert n == 1
    return text.encode(), "t.musicxml"


def json_model(bpm: str) -> tuple[bytes, str]:
    doc = json.loads(dumps_song(BASE, ".json"))
    doc["sections"][0]["bars"][2]["tempo"] = float(bpm)  # json.dumps writes NaN and Infinity
    return json.dumps(doc).encode(), "t.json"


def ireal_url(bpm: str) -> tuple[bytes, str]:
    url = ireal.dump_url(BASE)
    fields = unquote(url[len("irealb://") :]).split("=")
    fields[8] = bpm
    return ("irealb://" + quote("=".join(fields), safe="")).encode(), "t.txt"


READERS = {".chart": chart, ".cho": chordpro, ".musicxml": musicxml, ".json": json_model, ".txt": ireal_url}
#: Where each reader says the tempo is: line and column in text formats.
WHERE = {
    ".chart": "t.chart:4:8: ",
    ".cho": "t.cho:2:14: ",
    ".musicxml": "t.musicxml: measure 1: ",
    ".json": "t.json: song.sections[0].bars[2].tempo: ",
    ".txt": "t.txt: 'T': ",
}


def first_bad_bar(ext: str) -> int:
    return 2 if ext in (".chart", ".json") else 0


@pytest.mark.parametrize("ext", sorted(READERS))
@pytest.mark.parametrize("bpm", ["9.5", "400.5", "1000", "1e9", "0.5"])
def test_a_tempo_outside_the_range_is_refused_where_it_is_written(ext: str, bpm: str) -> None:
    if ext == ".chart" and bpm == "1e9":
        bpm = "1000000000"  # the chart syntax has no exponent
    data, source = READERS[ext](bpm)
    with pytest.raises(TempoError) as info:
        loads_songs(data, source)
    assert str(info.value).startswith(WHERE[ext]), str(info.value)
    assert f"is outside {MIN_TEMPO:g}-{MAX_TEMPO:g} bpm" in str(info.value)


@pytest.mark.parametrize("ext", [".cho", ".musicxml", ".json", ".txt"])
@pytest.mark.parametrize("bpm", ["nan", "inf", "-inf"])
def test_a_tempo_that_is_no_number_is_refused(ext: str, bpm: str) -> None:
    data, source = READERS[ext](bpm)
    with pytest.raises(TempoError, match=r"is not a number of beats per minute \(10-400\)"):
        loads_songs(data, source)


@pytest.mark.parametrize("bpm", ["-60", "nan", "fast"])
def test_the_chart_reader_refuses_what_is_no_tempo(bpm: str) -> None:
    with pytest.raises(ChartError, match=r"^t\.chart:4:8: tempo must be beats per minute"):
        loads_songs(*chart(bpm))


@pytest.mark.parametrize("ext", sorted(READERS))
@pytest.mark.parametrize("bpm", ["10", "400", "96.5"])
def test_the_range_is_the_same_for_every_reader(ext: str, bpm: str) -> None:
    (song,) = loads_songs(*READERS[ext](bpm))
    assert song.bars[first_bad_bar(ext)].tempo == float(bpm)


def test_ireal_zero_still_means_the_styles_tempo() -> None:
    (song,) = loads_songs(*ireal_url("0"))
    assert song.tempo == ireal.default_tempo("Medium Swing") == 120.0
    with pytest.raises(TempoError, match="tempo -60 is outside"):
        loads_songs(*ireal_url("-60"))  # was read as 'no tempo' and given the style's


def test_the_docs_give_the_error_the_reader_gives() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "chart-format.md").read_text(encoding="utf-8")
    assert "song.chart:2:8: tempo 1000 is outside 10-400 bpm" in doc
    with pytest.raises(TempoError) as info:
        loads_songs(b"title: T\ntempo: 1000\n| C |\n", "song.chart")
    assert str(info.value) == "song.chart:2:8: tempo 1000 is outside 10-400 bpm"
    assert "song.cho:2:9: tempo 900 is outside 10-400 bpm" in doc
    with pytest.raises(TempoError) as info:
        loads_songs(b"{title: T}\n{tempo: 900}\n[C]la\n", "song.cho")
    assert str(info.value) == "song.cho:2:9: tempo 900 is outside 10-400 bpm"
