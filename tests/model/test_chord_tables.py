"""The ChordPro reference parser's chord tables, read by backline.

Each row of ``chord-tables/*.tsv`` is ``symbol<TAB>{ root_canon => ..., bass => ...,
qual_canon => ..., root_ord => ..., system => ... }``. Letter and fixed-do Latin symbols go
through :func:`parse_chord`; movable-do solfège, Nashville and Roman symbols through
:mod:`backline.model.numerals` against C major. We check the root and bass pitch classes,
and minor / augmented quality where the table says ``-`` / ``+``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backline.errors import ChordSymbolError
from backline.model.chord import Chord, parse_chord
from backline.model.numerals import parse_numeral, parse_solfege
from backline.model.pitch import parse_key
from corpora import corpora_path

C_MAJOR = parse_key("C")
_FIELD_RE = re.compile(r"(\w+) => (?:'([^']*)'|(-?\d+))")
_LATIN = {"Do": 0, "Re": 2, "Mi": 4, "Fa": 5, "Sol": 7, "La": 9, "Si": 11}
_SOLFEGE = {
    "Do": 0, "Di": 1, "Ra": 1, "Re": 2, "Ri": 3, "Me": 3, "Mi": 4, "Fa": 5, "Fi": 6, "Se": 6,
    "So": 7, "Si": 8, "Le": 8, "La": 9, "Li": 10, "Te": 10, "Ti": 11,
}  # fmt: skip
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ROMAN = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}

# Table entries that are no chord a musician writes: backline refuses them with a
# ChordSymbolError naming the part it cannot read (tested as refusals, never skipped).
REFUSED = {
    "C3": "3",  # a bare '3' is no chord suffix (the reference reads it as an extension '3')
    "Do3": "3",  # same as C3
}
# Generated cross-product entries: augmented (+) and half-diminished (h) at once is no
# chord, in letter, Nashville and Roman symbols alike ('3+h7', 'vi+h7' are refused at 'h').
REFUSED_PATTERNS = ((re.compile(r"\+h"), "h"),)
# A lower-case Roman numeral with '+' ('vi+', 'vi+7'): the reference calls it minor, but in
# backline a suffix that sets the chord itself wins over the numeral's case (see
# backline.model.numerals): it reads as augmented on that root.
AUGMENTED_ROMAN = re.compile(r"^[#b]?(?:i|ii|iii|iv|v|vi|vii)\+(?!h)")


def _refused(symbol: str) -> str | None:
    """The part backline refuses in ``symbol``, or None when it reads the symbol."""
    if symbol in REFUSED:
        return REFUSED[symbol]
    for pat, bad in REFUSED_PATTERNS:
        if pat.search(symbol):
            return bad
    return None


def _check_refused(symbol: str, parse: Callable[[], Chord]) -> bool:
    """True (after checking the error) when ``symbol`` is one backline must refuse."""
    bad = _refused(symbol)
    if bad is None:
        return False
    with pytest.raises(ChordSymbolError) as err:
        parse()
    assert err.value.symbol == symbol
    assert err.value.bad_part == bad
    assert f"unknown chord symbol {symbol!r}: cannot read {bad!r}" in str(err.value)
    return True


def _rows(name: str) -> list[tuple[str, dict[str, str]]]:
    path: Path = corpora_path("chordpro", "chord-tables", name)
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        symbol, _, rest = line.partition("\t")
        fields = {
            m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _FIELD_RE.finditer(rest)
        }
        rows.append((symbol, fields))
    return rows


def _pc(name: str, system: str) -> int:
    acc = 0
    base = name
    while base and base[-1] in "#b" and base not in _LATIN and base not in _SOLFEGE:
        acc += 1 if base[-1] == "#" else -1
        base = base[:-1]
    table = {"common": _LETTER, "latin": _LATIN, "solfege": _SOLFEGE}[system]
    return (table[base] + acc) % 12


def _roman_pc(canon: str) -> int:
    acc = {"#": 1, "b": -1}.get(canon[0], 0)
    num = canon.lstrip("#b").upper()
    return (_ROMAN[num] + acc) % 12


def _check(symbol: str, f: dict[str, str], chord: Chord, root_pc: int, bass_pc: int | None) -> None:
    assert chord.root.pc == root_pc, f"{symbol}: root {chord.root} is not pitch class {root_pc}"
    got_bass = None if chord.bass is None else chord.bass.pc
    assert got_bass == bass_pc, f"{symbol}: bass {chord.bass} is not pitch class {bass_pc}"
    qual = f.get("qual_canon", "")
    if "sus" in symbol:
        # 'Emsus4': the suspension replaces the third; the 'm' only tells where it resolves.
        assert chord.quality.third is None, f"{symbol}: a sus chord has no third, got {chord.name}"
    elif qual == "-":
        assert chord.quality.is_minor, f"{symbol}: should be minor, got {chord.name}"
    elif qual == "+":
        assert chord.quality.fifth == "#5", f"{symbol}: should be augmented, got {chord.name}"


def _letter_params(name: str) -> list[Any]:
    try:
        rows = _rows(name)
    except pytest.skip.Exception:  # corpora absent: one skipped case
        return [pytest.param("", {}, marks=pytest.mark.skip(reason="shared corpora absent"))]
    return [pytest.param(s, f, id=s) for s, f in rows]


@pytest.mark.parametrize(
    ("symbol", "fields"),
    _letter_params("105_chords.tsv") + _letter_params("107_chords_latin.tsv"),
)
def test_letter_and_latin_symbols(symbol: str, fields: dict[str, str]) -> None:
    system = fields["system"]
    if _check_refused(symbol, lambda: parse_chord(symbol, solfege=system == "latin")):
        return
    chord = parse_chord(symbol, solfege=system == "latin")
    bass = fields.get("bass") or None
    _check(symbol, fields, chord, int(fields["root_ord"]), None if bass is None else _pc(bass, system))
    assert chord.root.pc == _pc(fields["root_canon"], system)


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("108_chords_solfege.tsv"))
def test_movable_do_solfege(symbol: str, fields: dict[str, str]) -> None:
    if _check_refused(symbol, lambda: parse_solfege(symbol, C_MAJOR)):
        return
    chord = parse_solfege(symbol, C_MAJOR)
    bass = fields.get("bass") or None
    _check(symbol, fields, chord, int(fields["root_ord"]), None if bass is None else _pc(bass, "solfege"))


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("109_chords_nashville.tsv"))
def test_nashville(symbol: str, fields: dict[str, str]) -> None:
    if _check_refused(symbol, lambda: parse_numeral(symbol, C_MAJOR)):
        return
    chord = parse_numeral(symbol, C_MAJOR)
    _check(symbol, fields, chord, int(fields["root_ord"]), None)


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("110_chords_roman.tsv"))
def test_roman(symbol: str, fields: dict[str, str]) -> None:
    # The table's root_ord is wrong for altered numerals (bII gives 11): use root_canon.
    if _check_refused(symbol, lambda: parse_numeral(symbol, C_MAJOR)):
        return
    chord = parse_numeral(symbol, C_MAJOR)
    if AUGMENTED_ROMAN.match(symbol):
        assert chord.root.pc == _roman_pc(fields["root_canon"])
        assert chord.quality.third == "3" and chord.quality.fifth == "#5", f"{symbol}: got {chord.name}"
        assert chord.quality.seventh == {"": None, "7": "b7", "^": "7", "^7": "7"}[symbol.partition("+")[2]]
        return
    _check(symbol, fields, chord, _roman_pc(fields["root_canon"]), None)


def test_tables_are_complete() -> None:
    counts = {
        n: len(_rows(n))
        for n in (
            "105_chords.tsv",
            "107_chords_latin.tsv",
            "108_chords_solfege.tsv",
            "109_chords_nashville.tsv",
            "110_chords_roman.tsv",
        )
    }
    assert counts == {
        "105_chords.tsv": 325, "107_chords_latin.tsv": 325, "108_chords_solfege.tsv": 325,
        "109_chords_nashville.tsv": 408, "110_chords_roman.tsv": 612,
    }  # fmt: skip


def test_refusals_and_readings_are_counted() -> None:
    """How many rows each table refuses, and how many lower-case Roman '+' rows read as
    augmented: a change in either is a change in behaviour, not noise."""
    names = (
        "105_chords.tsv", "107_chords_latin.tsv", "108_chords_solfege.tsv",
        "109_chords_nashville.tsv", "110_chords_roman.tsv",
    )  # fmt: skip
    refused = {n: sum(_refused(s) is not None for s, _ in _rows(n)) for n in names}
    assert refused == {
        "105_chords.tsv": 1, "107_chords_latin.tsv": 1, "108_chords_solfege.tsv": 1,
        "109_chords_nashville.tsv": 34, "110_chords_roman.tsv": 68,
    }  # fmt: skip
    assert sum(bool(AUGMENTED_ROMAN.match(s)) for s, _ in _rows("110_chords_roman.tsv")) == 68


@pytest.mark.parametrize(
    ("symbol", "bad"),
    [("3+h7", "h"), ("b3+h", "h"), ("VI+h7", "h"), ("vi+h", "h"), ("C+h7", "h"), ("Ch+", "+"), ("Co+", "+")],
)
def test_augmented_with_a_diminished_fifth_is_refused_everywhere(symbol: str, bad: str) -> None:
    with pytest.raises(ChordSymbolError) as err:
        parse_numeral(symbol, C_MAJOR) if symbol[0] != "C" else parse_chord(symbol)
    assert err.value.bad_part == bad


def test_plain_augmented_and_half_diminished_still_read() -> None:
    assert parse_numeral("3+", C_MAJOR).name == "Eaug"
    assert parse_numeral("3h7", C_MAJOR).name == "Em7b5"
    assert parse_numeral("III+7", C_MAJOR).name == "E7#5"
    assert parse_numeral("vi+", C_MAJOR).name == "Aaug"
    assert parse_chord("C+7").name == "C7#5"
