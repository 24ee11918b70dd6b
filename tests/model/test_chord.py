"""The chord-symbol parser: the spellings musicians write, pitch classes, scales, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.errors import ChordSymbolError
from backline.model.chord import DEGREE_SEMITONES, Quality, parse_chord, parse_chord_or_nc

# symbol -> (root pc, bass pc, pitch classes relative to C root)
CASES: dict[str, tuple[int, int, set[int]]] = {
    "C": (0, 0, {0, 4, 7}),
    "Cm": (0, 0, {0, 3, 7}),
    "C-": (0, 0, {0, 3, 7}),
    "Cmin": (0, 0, {0, 3, 7}),
    "C7": (0, 0, {0, 4, 7, 10}),
    "CM7": (0, 0, {0, 4, 7, 11}),
    "Cmaj7": (0, 0, {0, 4, 7, 11}),
    "C^7": (0, 0, {0, 4, 7, 11}),
    "CΔ7": (0, 0, {0, 4, 7, 11}),
    "Cm7b5": (0, 0, {0, 3, 6, 10}),
    "Cø": (0, 0, {0, 3, 6, 10}),
    "Ch7": (0, 0, {0, 3, 6, 10}),
    "Cdim": (0, 0, {0, 3, 6}),
    "C°7": (0, 0, {0, 3, 6, 9}),
    "Co7": (0, 0, {0, 3, 6, 9}),
    "Caug": (0, 0, {0, 4, 8}),
    "C+": (0, 0, {0, 4, 8}),
    "C7#5": (0, 0, {0, 4, 8, 10}),
    "C7alt": (0, 0, {0, 1, 3, 4, 6, 8, 10}),
    "C7b9#11": (0, 0, {0, 1, 4, 6, 7, 10}),
    "C7(b9,#11)": (0, 0, {0, 1, 4, 6, 7, 10}),
    "C13sus": (0, 0, {0, 2, 5, 7, 9, 10}),
    "C7susadd3": (0, 0, {0, 4, 5, 7, 10}),
    "C6/9": (0, 0, {0, 2, 4, 7, 9}),
    "C69": (0, 0, {0, 2, 4, 7, 9}),
    "Cadd9": (0, 0, {0, 2, 4, 7}),
    "Cmadd9": (0, 0, {0, 2, 3, 7}),
    "CmMaj7": (0, 0, {0, 3, 7, 11}),
    "C-^7": (0, 0, {0, 3, 7, 11}),
    "Csus2": (0, 0, {0, 2, 7}),
    "C5": (0, 0, {0, 7}),
    "C11": (0, 0, {0, 2, 4, 5, 7, 10}),
    "C/E": (0, 4, {0, 4, 7}),
    "C7/Bb": (0, 10, {0, 4, 7, 10}),
    "B&7": (10, 10, {10, 2, 5, 8}),
    "E♭m7": (3, 3, {3, 6, 10, 1}),
    "F♯7": (6, 6, {6, 10, 1, 4}),
    "c": (0, 0, {0, 4, 7}),
    "Cm6": (0, 0, {0, 3, 7, 9}),
    "C9": (0, 0, {0, 2, 4, 7, 10}),
    "C13": (0, 0, {0, 2, 4, 7, 9, 10}),
    "Cmaj9": (0, 0, {0, 2, 4, 7, 11}),
    "Cm9": (0, 0, {0, 2, 3, 7, 10}),
    "C7sus4": (0, 0, {0, 5, 7, 10}),
    "Csus": (0, 0, {0, 5, 7}),
    "C7b9": (0, 0, {0, 1, 4, 7, 10}),
    "C7#9": (0, 0, {0, 3, 4, 7, 10}),
    "Cdim7": (0, 0, {0, 3, 6, 9}),
    "C6": (0, 0, {0, 4, 7, 9}),
    "Gsus4/A": (7, 9, {7, 0, 2, 9}),
}

SOLFEGE_CASES = {
    "Do7": (0, {0, 4, 7, 10}),
    "Sib": (10, {10, 2, 5}),
    "Rém": (2, {2, 5, 9}),
    "Fa#m7": (6, {6, 9, 1, 4}),
}


@pytest.mark.parametrize("symbol", list(SOLFEGE_CASES))
def test_solfege_roots(symbol: str) -> None:
    root, pcs = SOLFEGE_CASES[symbol]
    c = parse_chord(symbol, solfege=True)
    assert c.root_pc == root and set(c.pitch_classes) == pcs


def test_letter_notation_is_the_default() -> None:
    assert parse_chord("Do7").name == "Ddim7"
    assert parse_chord("Faug").name == "Faug"


@pytest.mark.parametrize("symbol", list(CASES))
def test_spellings_musicians_write(symbol: str) -> None:
    root, bass, rel = CASES[symbol]
    c = parse_chord(symbol)
    assert c.root_pc == root
    assert c.bass_pc == bass
    assert set(c.pitch_classes) == rel


def test_bass_only_and_no_chord() -> None:
    c = parse_chord("/E")
    assert c.quality.bass_only and c.root_pc == 4 and c.pitch_classes == (4,)
    for nc in ("N.C.", "NC", "N.C", "n.c."):
        assert parse_chord_or_nc(nc) is None


@pytest.mark.parametrize(
    "symbol,bad",
    [("Cxyz", "xyz"), ("H7", "H"), ("C7zz", "zz"), ("Cmaj7q", "q"), ("", "")],
)
def test_unknown_symbols_name_the_bad_part(symbol: str, bad: str) -> None:
    with pytest.raises(ChordSymbolError) as ei:
        parse_chord(symbol)
    assert ei.value.symbol == symbol
    assert bad in ei.value.bad_part
    assert repr(symbol) in str(ei.value)


IREAL_QUALITIES = [
    "5",
    "2",
    "add9",
    "+",
    "o",
    "h",
    "sus",
    "^",
    "-",
    "^7",
    "-7",
    "7",
    "7sus",
    "h7",
    "o7",
    "^9",
    "^13",
    "6",
    "69",
    "^7#11",
    "^9#11",
    "^7#5",
    "-6",
    "-69",
    "-^7",
    "-^9",
    "-9",
    "-11",
    "-7b5",
    "h9",
    "-b6",
    "-#5",
    "9",
    "7b9",
    "7#9",
    "7#11",
    "7b5",
    "7#5",
    "9#11",
    "9b5",
    "9#5",
    "7b13",
    "7#9#5",
    "7#9b5",
    "7#9#11",
    "7b9#11",
    "7b9b5",
    "7b9#5",
    "7b9#9",
    "7b9b13",
    "7alt",
    "13",
    "13#11",
    "13b9",
    "13#9",
    "7b9sus",
    "7susadd3",
    "9sus",
    "13sus",
    "7b13sus",
    "11",
    "o^7",
]


@pytest.mark.parametrize("q", IREAL_QUALITIES)
def test_every_ireal_quality(q: str) -> None:
    c = parse_chord("C" + q)
    assert 0 in c.pitch_classes
    # every chord has a scale containing all of its tones
    assert set(c.tones) <= set(c.scale)


def test_minor_chords_never_get_major_thirds() -> None:
    for q in ("m", "m7", "m9", "m11", "m13", "m6", "m69", "-7", "m7b5", "mMaj7", "dim7"):
        c = parse_chord("A" + q)
        assert (9 + 4) % 12 not in c.pitch_classes, q  # C# is not in any A minor chord
        assert (9 + 3) % 12 in c.pitch_classes, q


def test_scales_match_chord_families() -> None:
    assert parse_chord("G7").scale_name == "mixolydian"
    assert parse_chord("G7alt").scale_name == "altered"
    assert parse_chord("Dm7").scale_name == "dorian"
    assert parse_chord("Bm7b5").scale_name == "locrian"
    assert parse_chord("Cmaj7#11").scale_name == "lydian"
    assert parse_chord("Bdim7").scale_name == "whole-half diminished"


def test_minor_seventh_flat_nine_gets_a_scale_with_the_flat_nine() -> None:
    """Dorian has a natural 9: Cm7b9 plays phrygian, whose b2 is the chord's Db."""
    c = parse_chord("Cm7b9")
    assert c.scale_name == "phrygian"
    assert 1 in c.scale and 2 not in c.scale  # Db, not D
    assert set(c.pitch_classes) <= set(c.scale)
    assert parse_chord("Dm7").scale_name == "dorian"  # no b9: unchanged


BROKEN = [
    # symbol, the part named, why
    ("C7(b9", "(b9", "unclosed parenthesis"),
    ("C(", "(", "unclosed parenthesis"),
    ("C7(b9/E", "(b9", "unclosed parenthesis before a slash bass"),
    ("Cm7(b9,#11", "(b9,#11", "unclosed parenthesis"),
    ("C7)", ")", "stray closing parenthesis"),
    ("C/B)", ")", "stray closing parenthesis after a slash bass"),
    ("C7(b9))", ")", "one ')' too many"),
    ("Cmaj7maj7", "maj7", "major seventh twice"),
    ("C^7maj7", "maj7", "major seventh twice"),
    ("C7#9b9#9", "#9", "same alteration twice"),
    ("C7b9b9", "b9", "same alteration twice"),
    ("C7(#11,+11)", "+11", "same alteration twice, spelled two ways"),
    ("Cadd9add9", "add9", "same added tone twice"),
    ("C7no3no3", "no3", "same omission twice"),
    ("Csus4sus4", "sus4sus4", "sus written twice"),
    ("Caugaug", "aug", "augmented twice"),
    ("Chm7b5", "m7b5", "half-diminished twice"),
    ("C/", "/", "slash without a bass"),
    ("C7/", "/", "slash without a bass"),
    ("C7 / ", "/", "slash without a bass"),
]


@pytest.mark.parametrize("symbol,bad,why", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_symbols_are_errors_not_guesses(symbol: str, bad: str, why: str) -> None:
    with pytest.raises(ChordSymbolError) as ei:
        parse_chord(symbol)
    assert ei.value.symbol == symbol, why
    assert ei.value.bad_part == bad, why
    assert str(ei.value) == f"unknown chord symbol {symbol!r}: cannot read {bad!r}"


def test_broken_suffixes_are_errors_for_numeral_charts_too() -> None:
    from backline.model.chord import parse_quality

    for suffix, bad in (("7(b9", "(b9"), ("7)", ")"), ("maj7maj7", "maj7"), ("7b9b9", "b9")):
        with pytest.raises(ChordSymbolError) as ei:
            parse_quality(suffix, "V" + suffix)
        assert ei.value.bad_part == bad and ei.value.symbol == "V" + suffix


@pytest.mark.parametrize(
    "symbol,name",
    [
        ("C7(b9/E)", "C7b9/E"),  # a group closed after the slash bass
        ("C7(b9)/E", "C7b9/E"),
        ("Cm(maj7)", "Cmmaj7"),  # the head consumes the '('
        ("C6/9", "C69"),
        ("C7b9#9", "C7b9#9"),  # two different ninths are a real chord
        ("Csus2sus4", "Csus2sus4"),
        ("C7(b9)(#11)", "C7b9#11"),
    ],
)
def test_well_formed_neighbours_of_broken_symbols_still_read(symbol: str, name: str) -> None:
    assert parse_chord(symbol).name == name


# ---- property: spell, re-parse, same pitch classes ---------------------------------

ROOTS = ["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B", "Cb"]
HEADS = ["", "m", "maj", "dim", "aug", "sus", "sus2", "5", "h", "o", "+", "-", "^", "M", "min"]
NUMS = ["", "6", "7", "9", "11", "13", "69"]
ALTS = ["b5", "#5", "b9", "#9", "#11", "b13", "alt", "add9", "sus4", "add2", "add11"]


@st.composite
def chord_symbols(draw: st.DrawFn) -> str:
    root = draw(st.sampled_from(ROOTS))
    head = draw(st.sampled_from(HEADS))
    num = draw(st.sampled_from(NUMS)) if head not in ("5",) else ""
    alts = draw(st.lists(st.sampled_from(ALTS), max_size=2, unique=True)) if head != "5" else []
    bass = draw(st.sampled_from(["", "/E", "/Bb", "/G#", "/D"]))
    return root + head + num + "".join(alts) + bass


@settings(max_examples=400, deadline=None, derandomize=True)
@given(chord_symbols())
def test_spell_reparse_same_pitch_classes(symbol: str) -> None:
    try:
        c = parse_chord(symbol)
    except ChordSymbolError:
        return  # some random combinations are not chords; they must fail loudly, not guess
    again = parse_chord(c.name)
    assert again.pitch_classes == c.pitch_classes, (symbol, c.name)
    assert again.root_pc == c.root_pc and again.bass_pc == c.bass_pc
    assert again.quality.name == c.quality.name


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.builds(
        Quality,
        third=st.sampled_from(["3", "b3", None]),
        fifth=st.sampled_from(["5", "b5", "#5"]),
        seventh=st.sampled_from([None, "b7", "7"]),
        ext=st.sampled_from([None, 9, 11, 13]),
        alterations=st.frozensets(st.sampled_from(["b9", "#9", "#11", "b13"]), max_size=2),
    )
)
def test_quality_names_reparse(q: Quality) -> None:
    if q.third is None:
        q = Quality(
            third=None, sus="4", fifth=q.fifth, seventh=q.seventh, ext=q.ext, alterations=q.alterations
        )
    if q.ext is not None and q.seventh is None:
        q = Quality(
            third=q.third, sus=q.sus, fifth=q.fifth, seventh="b7", ext=q.ext, alterations=q.alterations
        )
    c = parse_chord("C" + q.name)
    assert c.quality.intervals == q.intervals, q.name


def test_degree_table_is_consistent() -> None:
    assert DEGREE_SEMITONES["b9"] == 1 and DEGREE_SEMITONES["#11"] == 6 and DEGREE_SEMITONES["13"] == 9
