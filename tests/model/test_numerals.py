"""Nashville numbers, Roman numerals and movable-do solfège resolved against keys."""

from __future__ import annotations

import pytest

from backline.errors import ChordSymbolError
from backline.model.numerals import is_numeral, parse_numeral, parse_solfege, resolve_numerals
from backline.model.pitch import parse_key


@pytest.mark.parametrize(
    ("text", "key", "name"),
    [
        ("1", "C", "C"), ("4", "C", "F"), ("5", "C", "G"), ("6m", "C", "Am"), ("6-", "C", "Am"),
        ("b7", "C", "Bb"), ("#4o", "C", "F#dim"), ("2m7", "C", "Dm7"), ("5/7", "C", "G/B"),
        ("1^", "C", "Cmaj7"), ("1maj7", "C", "Cmaj7"), ("4/1", "C", "F/C"), ("57", "C", "G7"),
        ("10", "C", "Cdim"), ("107", "C", "Cdim7"), ("7h7", "C", "Bm7b5"),
        ("4", "Bb", "Eb"), ("b7", "Bb", "Ab"), ("#4", "Bb", "E"), ("5/7", "G", "D/F#"),
        ("4", "F#", "B"), ("7", "F#", "E#"), ("1", "Gb", "Gb"), ("4", "Gb", "Cb"),
        ("1m", "Am", "Am"), ("b7", "Am", "G"), ("b6", "Am", "F"), ("5", "Am", "E"), ("b3", "Am", "C"),
    ],
)  # fmt: skip
def test_nashville(text: str, key: str, name: str) -> None:
    assert parse_numeral(text, parse_key(key)).name == name


@pytest.mark.parametrize(
    ("text", "key", "name"),
    [
        ("I", "C", "C"), ("ii", "C", "Dm"), ("iii7", "C", "Em7"), ("V7", "C", "G7"),
        ("bVII", "C", "Bb"), ("vi", "C", "Am"), ("IV/V", "C", "C"), ("viio", "C", "Bdim"),
        ("iiø7", "C", "Dm7b5"), ("i7", "C", "Cm7"), ("I^7", "C", "Cmaj7"), ("vii°7", "C", "Bdim7"),
        ("IV", "Bb", "Eb"), ("bVI", "Bb", "Gb"), ("V7/vii", "Eb", "A7"), ("bIII", "A", "C"),
        ("ii7", "Db", "Ebm7"), ("V", "F#", "C#"), ("III+", "C", "Eaug"),
        # secondary functions: the numeral after '/' is the key the chord belongs to
        ("V7/V", "Bb", "C7"), ("V/vi", "D", "F#"), ("ii7/IV", "C", "Gm7"), ("viio7/V", "C", "F#dim7"),
        ("V7/ii", "F", "D7"), ("V7/bVII", "C", "F7"),
        # a note name after '/' is a bass note
        ("I/E", "C", "C/E"), ("V7/Bb", "F", "C7/Bb"), ("IV/F#", "D", "G/F#"),
    ],
)  # fmt: skip
def test_roman(text: str, key: str, name: str) -> None:
    assert parse_numeral(text, key).name == name


def test_pitch_classes_follow_the_key() -> None:
    # ii-V-I in every key: the roots are 2, 7 and 0 semitones above the tonic.
    for tonic in ("C", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B"):
        key = parse_key(tonic)
        ii, v, i = resolve_numerals(["2m7", "57", "1maj7"], key)
        assert (ii.root.pc - key.tonic.pc) % 12 == 2
        assert (v.root.pc - key.tonic.pc) % 12 == 7
        assert i.root == key.tonic
        assert ii.quality.is_minor and v.quality.family == "dominant"
        # the letter moves with the degree: never D# for the 4 of Bb, never Gb for the 7 of G
        assert (ord(v.root.letter) - ord(key.tonic.letter)) % 7 == 4


def test_is_numeral() -> None:
    for t in ("1", "6m", "b7", "5/7", "IV", "vi", "bVII7", "iiø7"):
        assert is_numeral(t), t
    for t in ("C", "Am", "Dm7", "G/B", "Bb", "", "8", "IIII", "x"):
        assert not is_numeral(t), t


def test_bad_suffix_names_the_symbol() -> None:
    with pytest.raises(ChordSymbolError) as exc:
        parse_numeral("5zz", "C")
    assert exc.value.symbol == "5zz"


def test_movable_do_solfege() -> None:
    names = [
        parse_solfege(s, "C").name
        for s in ("Do", "Di", "Ra", "Rem7", "Me", "Fi/Re", "So7", "Si", "Le", "Te", "Ti")
    ]
    assert names == ["C", "C#", "Db", "Dm7", "Eb", "F#/D", "G7", "G#", "Ab", "Bb", "B"]
    assert parse_solfege("Fa", "Bb").name == "Eb"  # movable: Do is the tonic


def test_secondary_dominants_in_a_roman_chart() -> None:
    from backline.formats.chart import loads

    song = loads("key: Bb\nnumerals: roman\n| I | V7/V | V7 | I |\n", "s.chart")[0]
    assert [str(b.chords[0].chord) for b in song.bars] == ["Bb", "C7", "F7", "Bb"]
    # Nashville keeps the slash as a bass degree
    song = loads("key: G\nnumerals: nashville\n| 1 | 5/7 |\n", "n.chart")[0]
    assert str(song.bars[1].chords[0].chord) == "D/F#"
