"""The ChordPro reference parser's chord tables, read by backline.

Each row of ``chord-tables/*.tsv`` is ``symbol<TAB>{ root_canon => ..., bass => ...,
qual_canon => ..., root_ord => ..., system => ... }``. Letter and fixed-do Latin symbols go
through :func:`parse_chord`; movable-do solfège, Nashville and Roman symbols through
:mod:`backline.model.numerals` against C major. We check the root and bass pitch classes,
and minor / augmented quality where the table says ``-`` / ``+``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

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

# Table entries that are not chord symbols a musician writes (kept few, with the reason).
SKIPS = {
    "C3": "a bare '3' is no chord suffix (the reference reads it as an extension '3')",
    "Do3": "same as C3",
}
# Generated cross-product entries that combine contradictory qualities.
SKIP_PATTERNS = (
    (re.compile(r"\+h"), "augmented (+) and half-diminished (h) at once is no chord"),
    (re.compile(r"^[#b]?(?:i|ii|iii|iv|v|vi|vii)\+"), "a minor (lower-case) augmented triad is no chord"),
)


def _skip_reason(symbol: str) -> str | None:
    if symbol in SKIPS:
        return SKIPS[symbol]
    for pat, reason in SKIP_PATTERNS:
        if pat.search(symbol):
            return reason
    return None


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
    params = []
    for s, f in rows:
        reason = _skip_reason(s)
        params.append(pytest.param(s, f, id=s, marks=[pytest.mark.skip(reason=reason)] if reason else []))
    return params


@pytest.mark.parametrize(
    ("symbol", "fields"),
    _letter_params("105_chords.tsv") + _letter_params("107_chords_latin.tsv"),
)
def test_letter_and_latin_symbols(symbol: str, fields: dict[str, str]) -> None:
    system = fields["system"]
    chord = parse_chord(symbol, solfege=system == "latin")
    bass = fields.get("bass") or None
    _check(symbol, fields, chord, int(fields["root_ord"]), None if bass is None else _pc(bass, system))
    assert chord.root.pc == _pc(fields["root_canon"], system)


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("108_chords_solfege.tsv"))
def test_movable_do_solfege(symbol: str, fields: dict[str, str]) -> None:
    chord = parse_solfege(symbol, C_MAJOR)
    bass = fields.get("bass") or None
    _check(symbol, fields, chord, int(fields["root_ord"]), None if bass is None else _pc(bass, "solfege"))


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("109_chords_nashville.tsv"))
def test_nashville(symbol: str, fields: dict[str, str]) -> None:
    chord = parse_numeral(symbol, C_MAJOR)
    _check(symbol, fields, chord, int(fields["root_ord"]), None)


@pytest.mark.parametrize(("symbol", "fields"), _letter_params("110_chords_roman.tsv"))
def test_roman(symbol: str, fields: dict[str, str]) -> None:
    # The table's root_ord is wrong for altered numerals (bII gives 11): use root_canon.
    chord = parse_numeral(symbol, C_MAJOR)
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
