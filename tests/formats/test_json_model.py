"""JSON of the song model: full-fidelity round trips and located errors."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from backline.errors import ChartError
from backline.formats import ireal, json_model, musicxml
from backline.model.chord import Chord, Quality, parse_chord
from backline.model.pitch import Key, parse_note_name
from backline.model.song import Bar, ChordEvent, Jump, Note, Section, Song, TimeSignature
from corpora import corpora_path

F = Fraction


def _rich_song() -> Song:
    c = parse_chord
    odd = Chord(parse_note_name("E"), Quality(third="b3", seventh="7", adds=frozenset({"13"})), None, "")
    bars = (
        Bar(
            (
                ChordEvent(F(0), c("C7(b9,#11)")),
                ChordEvent(F(3, 2), None, push=True),
                ChordEvent(F(3), odd, hit=True),
            ),
            tempo=96.5,
            key=Key(parse_note_name("Eb"), "minor"),
            repeat_start=True,
            segno=True,
            comment="softly",
        ),
        Bar(
            (ChordEvent(F(0), c("F#m7b5/C"), fermata=True),),
            time=TimeSignature(7, 8),
            repeat_end=3,
            endings=frozenset({1, 2}),
            to_coda=True,
            vamp=True,
        ),
        Bar((ChordEvent(F(0), c("/Bb")),), coda=True, fine=True, jump=Jump("DS", "2"), end=True),
    )
    return Song(
        "Rich «Song»",
        (Section("Intro", bars[:1], intensity=30), Section("A", bars[1:])),
        composer="Anon",
        key=Key(parse_note_name("Eb"), "minor"),
        style="Bossa Nova",
        melody=(Note(0, F(1, 3), F(2, 3), 63, "ah-"), Note(1, F(0), F(7, 2), None)),
        source="rich.json",
    )


def test_round_trip_of_every_field() -> None:
    song = _rich_song()
    data = json_model.dump_bytes(song)
    back = json_model.load_bytes(data, "x.json")[0]
    assert back == song
    assert back.source == "rich.json"
    assert [str(e.chord) for e in back.bars[0].chords if e.chord] == ["C7(b9,#11)", "Emmaj7add13"]
    obj = json.loads(data)
    assert obj["sections"][0]["bars"][0]["chords"][1] == {
        "beat": "3/2", "chord": None, "push": True, "hit": False, "fermata": False,
    }  # fmt: skip
    assert obj["melody"][0]["start"] == "1/3" and obj["sections"][1]["bars"][0]["time"] == "7/8"


def test_round_trip_of_corpus_songs_from_several_formats() -> None:
    songs: list[Song] = []
    for f in sorted(corpora_path("musicxml", "openewld").rglob("*.mxl"))[::20]:
        songs += musicxml.load_bytes(f.read_bytes(), str(f))
    path = corpora_path("ireal", "jazz1350.txt")
    songs += ireal.load_bytes(path.read_bytes(), str(path))[:150]
    assert len(songs) > 100
    for song in songs:
        back = json_model.load_bytes(json_model.dump_bytes(song), "rt.json")[0]
        assert back == song, song.title
        assert [str(c) for c in back.chord_symbols()] == [str(c) for c in song.chord_symbols()]


def test_list_of_songs() -> None:
    song = _rich_song()
    data = (
        "[" + json_model.dump_bytes(song).decode() + "," + json_model.dump_bytes(song).decode() + "]"
    ).encode()
    assert json_model.load_bytes(data, "two.json") == [song, song]


def test_bad_json_gives_line_and_column() -> None:
    with pytest.raises(ChartError) as err:
        json_model.load_bytes(b'{\n  "title": "x",\n  "sections": [}\n', "bad.json")
    assert str(err.value).startswith("bad.json:3:")
    assert "invalid JSON" in str(err.value)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (
            lambda o: o["sections"][0]["bars"][0]["chords"][0].update(beat="x"),
            "song.sections[0].bars[0].chords[0].beat",
        ),
        (lambda o: o["sections"][0]["bars"][0]["chords"][0]["chord"].update(symbol="Cqq"), "'qq'"),
        (lambda o: o["sections"][1]["bars"][0].update(time="7/7"), "sections[1].bars[0].time"),
        (lambda o: o["sections"][0]["bars"][0].update(tempi=3), "unknown field 'tempi'"),
        (lambda o: o.update(version=99), "version 99"),
        (lambda o: o["melody"][0].update(pitch=200), "melody[0].pitch"),
        # chord placement, as the chart reader checks it (these were accepted silently)
        (
            lambda o: o["sections"][0]["bars"][0]["chords"][2].update(beat="99"),
            "song.sections[0].bars[0].chords[2].beat: beat 99 is outside this 4/4 bar",
        ),
        (
            lambda o: o["sections"][0]["bars"][0]["chords"][2].update(beat="1e400"),
            "chords[2].beat: beat 1000000000000000... is outside",
        ),
        (
            lambda o: o["sections"][0]["bars"][0]["chords"][2].update(beat="1"),
            "chords[2].beat: beat 1 is not after the chord before it",
        ),
        (
            lambda o: o["sections"][0]["bars"][0]["chords"][1].update(beat="0"),
            "chords[1].beat: beat 0 is not after the chord before it",
        ),
        (
            lambda o: o["sections"][1]["bars"][0].update(endings=[0, -1, 1000]),
            "sections[1].bars[0].endings[0]: ending numbers run from 1 to 99, not 0",
        ),
        (lambda o: o["sections"][1]["bars"][0].update(endings=[1, 100]), "endings[1]"),
        (lambda o: o["sections"][1]["bars"][0].update(repeat_end=-1), "sections[1].bars[0].repeat_end"),
    ],
)
def test_content_errors_name_the_field(edit, needle: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    obj = json.loads(json_model.dump_bytes(_rich_song()))
    edit(obj)
    with pytest.raises(ChartError) as err:
        json_model.load_bytes(json.dumps(obj).encode(), "e.json")
    assert needle in str(err.value) and "e.json" in str(err.value)
