"""Transposing songs: pitch classes move exactly, spelling follows the target key."""

from __future__ import annotations

from fractions import Fraction

import pytest

from backline.errors import ChartError
from backline.model.chord import parse_chord
from backline.model.pitch import parse_key
from backline.model.song import Bar, ChordEvent, Note, Section, Song
from backline.model.transpose import spell_in_key, transpose_song

CHROMATIC = "C Dm Em F G Am Bdim Bb Eb Ab Db D7 E7 A7 F#m7b5 C#dim G#dim D/F# G/B C/E E/G# Bb/D C/Bb G/F"


def song_of(symbols: str, key: str | None = "C", bar_keys: bool = True) -> Song:
    k = parse_key(key) if key else None
    bars = tuple(
        Bar((ChordEvent(Fraction(0), parse_chord(s)),), key=k if bar_keys else None) for s in symbols.split()
    )
    melody = (Note(0, Fraction(0), Fraction(1), 60), Note(1, Fraction(0), Fraction(1), None))
    return Song("t", (Section("A", bars),), key=k, melody=melody)


def names(song: Song) -> list[str]:
    return [c.name for c in song.chord_symbols()]


@pytest.mark.parametrize("semitones", range(-11, 12))
def test_pitch_classes_move_exactly(semitones: int) -> None:
    song = song_of(CHROMATIC)
    moved = transpose_song(song, semitones)
    for a, b in zip(song.chord_symbols(), moved.chord_symbols(), strict=True):
        assert b.pitch_classes == tuple(sorted((p + semitones) % 12 for p in a.pitch_classes))
        assert b.quality == a.quality
    assert moved.key is not None and moved.key.tonic.pc == semitones % 12
    assert all(bar.key == moved.key for bar in moved.bars)
    assert moved.melody[0].pitch == 60 + semitones and moved.melody[1].pitch is None


@pytest.mark.parametrize("key", ["C", "G", "D", "A", "E", "F", "Bb", "Eb", "Ab", "Am", "Em", "Dm", "Cm"])
@pytest.mark.parametrize("semitones", range(1, 12))
def test_round_trip_restores_spelling(key: str, semitones: int) -> None:
    # the chart is first spelled in its key (as a musician would write it), from C or C minor
    home = "Cm" if key.endswith("m") else "C"
    base = (
        transpose_song(song_of(CHROMATIC, home), to_key=parse_key(key)) if key != "C" else song_of(CHROMATIC)
    )
    up = transpose_song(base, semitones)
    back = transpose_song(up, -semitones)
    assert names(back) == names(base)
    assert back.key == base.key


def test_all_twelve_keys_are_spelled_in_key() -> None:
    expected = {
        0: "C", 1: "Db", 2: "D", 3: "Eb", 4: "E", 5: "F", 6: "Gb", 7: "G", 8: "Ab", 9: "A", 10: "Bb", 11: "B",
    }  # fmt: skip
    for n, tonic in expected.items():
        moved = transpose_song(song_of("C F G Am Dm Em"), n)
        assert str(moved.key) == tonic
        scale = {str(x) for x in moved.key.scale_names()}  # type: ignore[union-attr]
        assert {c.root.__str__() for c in moved.chord_symbols()} <= scale, (tonic, names(moved))


def test_f_to_bb() -> None:
    moved = transpose_song(song_of("F C7 Db Bb Gm7", "F"), to_key="Bb")
    assert names(moved) == ["Bb", "F7", "Gb", "Eb", "Cm7"]
    assert str(moved.key) == "Bb"


def test_c_to_e() -> None:
    moved = transpose_song(song_of("C Bb7 Eb Ab F#m7b5 G/B E/G#", "C"), 4)
    assert names(moved) == ["E", "D7", "G", "C", "A#m7b5", "B/D#", "G#/B#"]


def test_flat_keys_never_use_sharps_for_key_notes() -> None:
    moved = transpose_song(song_of("C F G7 Am Dm/F", "C"), to_key="Bb")
    assert names(moved) == ["Bb", "Eb", "F7", "Gm", "Cm/Eb"]


def test_minor_keys() -> None:
    moved = transpose_song(song_of("Am Dm E7 F G C Bbmaj7 G#dim", "Am"), to_key="Em")
    assert str(moved.key) == "Em"
    assert names(moved) == ["Em", "Am", "B7", "C", "D", "G", "Fmaj7", "D#dim"]
    # a bare tonic keeps the song's mode
    assert str(transpose_song(song_of("Am", "Am"), to_key="C").key) == "Cm"


@pytest.mark.parametrize(
    ("home", "target"), [("C", "Am"), ("C", "Cm"), ("Am", "C major"), ("Am", "Eb major")]
)
def test_a_change_of_mode_is_refused(home: str, target: str) -> None:
    # "Am" for a C major song would keep the chords (A minor is C's relative) while the
    # key said A minor: the arranger's intro and turnaround would be in the wrong key
    with pytest.raises(ChartError, match=r"give a (major|minor) key, e\.g\.") as err:
        transpose_song(song_of("C F G", home), to_key=target)
    assert f"the song is in {home}" in str(err.value)
    with pytest.raises(ChartError, match="a change of mode"):
        transpose_song(song_of("C F G", home), to_key=parse_key(target))
    # the same mode, named in full, is fine
    same = "A" if home == "C" else "Em"
    assert transpose_song(song_of("C F G", home), to_key=same).key == parse_key(same)


def test_to_key_spelling_is_kept() -> None:
    moved = transpose_song(song_of("C G7", "C"), to_key="F#")
    assert str(moved.key) == "F#" and names(moved) == ["F#", "C#7"]
    moved = transpose_song(song_of("C G7", "C"), to_key="Gb")
    assert str(moved.key) == "Gb" and names(moved) == ["Gb", "Db7"]


def test_key_changes_move_with_the_song() -> None:
    c, d = parse_key("C"), parse_key("D")
    bars = (
        Bar((ChordEvent(Fraction(0), parse_chord("C")),), key=c),
        Bar((ChordEvent(Fraction(0), parse_chord("D")),), key=d),
        Bar((ChordEvent(Fraction(0), parse_chord("F#m")),), key=d),
    )
    moved = transpose_song(Song("t", (Section("A", bars),), key=c), 3)
    assert [str(b.key) for b in moved.bars] == ["Eb", "F", "F"]
    assert names(moved) == ["Eb", "F", "Am"]


def test_song_without_key() -> None:
    song = song_of("Bb F Gm Eb", None)
    up = transpose_song(song, 2)
    assert up.key is None
    assert names(up) == ["C", "G", "Am", "F"]
    assert names(transpose_song(up, -2)) == names(song)
    assert names(transpose_song(song_of("A E F#m D", None), 1)) == ["Bb", "F", "Gm", "Eb"]


def test_errors_and_identity() -> None:
    song = song_of("C")
    assert transpose_song(song, 12) is song
    with pytest.raises(ValueError):
        transpose_song(song)
    with pytest.raises(ChartError):
        transpose_song(song_of("C", None), to_key="D")
    with pytest.raises(ChartError):
        transpose_song(Song("t", (), melody=(Note(0, Fraction(0), Fraction(1), 126),)), 5)


def test_spell_in_key() -> None:
    bb = parse_key("Bb")
    assert [str(spell_in_key(pc, bb)) for pc in (10, 3, 5, 1, 6)] == ["Bb", "Eb", "F", "Db", "Gb"]
    assert str(spell_in_key(6, bb, raised=True)) == "F#"  # #5 rather than b6
    assert str(spell_in_key(5, parse_key("F#"))) == "E#"
