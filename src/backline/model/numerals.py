"""Chords written as scale degrees: Nashville numbers, Roman numerals, movable-do solfège.

All three name a chord by its distance from the tonic, so they only become real chords
against a key. Degrees count along the *major* scale of the key's tonic, with ``b``/``#``
for chromatic roots, in minor keys too (``1m b7 b6 5`` in A minor is ``Am G F E``), the
way Nashville charts and pop/jazz analysis write them.

Nashville (``1``, ``4``, ``5``, ``6m``, ``6-``, ``b7``, ``#4o``, ``2m7``, ``5/7``, ``1^``,
``1maj7``, ``4/1``, ``57``): a digit 1-7 with an optional ``b``/``#`` before it, then any
chord suffix that :func:`~backline.model.chord.parse_chord` understands (``0`` right after
the degree is diminished, as in ChordPro), then an optional ``/`` and a bass degree.

Roman (``I``, ``ii``, ``iii7``, ``V7``, ``bVII``, ``vi``, ``V7/V``, ``viio``, ``iiø7``,
``i7``, ``I^7``): upper case is a major chord and lower case a minor one; a suffix that
sets the third itself (``o``, ``°``, ``ø``, ``h``, ``+``, ``dim``, ``aug``, ``m``, ``-``) wins.
A numeral after the slash is a secondary function, as in harmony analysis: ``V7/V`` is the
V7 of the key of V (in C, D7), ``V/vi`` in D is F#, ``ii7/IV`` in C is Gm7. A note name
after the slash is a bass note: ``I/E`` in C is C/E.

Movable-do solfège (:func:`parse_solfege`): ``Do Di Ra Re Ri Me Mi Fa Fi Se Sol/So Si Le
La Li Te Ti`` with Do on the tonic. This is *not* the fixed-do Latin naming (``Do Re Mi
Fa Sol La Si`` = C D E F G A B) that ``parse_chord`` reads: there ``Si`` is B, here it is
the raised fifth.

Roots are spelled the way the key spells them: in Bb major ``4`` is Eb (never D#), ``b7``
is Ab and ``#4`` is E.
"""

from __future__ import annotations

import re
from dataclasses import replace

from backline.errors import ChartError, ChordSymbolError
from backline.model.chord import Chord, Quality, parse_quality
from backline.model.pitch import Key, NoteName, parse_key, parse_note_name

__all__ = [
    "is_numeral",
    "is_nashville",
    "is_roman",
    "parse_numeral",
    "parse_nashville",
    "parse_roman",
    "parse_solfege",
    "degree_note",
    "resolve_numerals",
]

_ACC = r"(?:bb|##|[b#♭♯])?"
_NASHVILLE_RE = re.compile(rf"^({_ACC})([1-7])(.*?)(?:/\s*({_ACC})([1-7]))?$")
_ROMAN_NUM = r"(?:VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)"
_ROMAN_RE = re.compile(
    rf"^({_ACC})({_ROMAN_NUM})(.*?)(?:/\s*(?:({_ACC})({_ROMAN_NUM})|([A-G](?:bb|##|[b#♭♯])?)))?$"
)
_ROMAN_VALUE = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_ACC_VALUE = {"": 0, "b": -1, "♭": -1, "#": 1, "♯": 1, "bb": -2, "##": 2}

# Suffixes that decide the third themselves (a lower-case Roman numeral does not add "m").
_OWN_THIRD = re.compile(r"^(?:o|°|0|ø|Ø|h|\+|dim|aug|m(?!aj)|mi|min|-)")


def degree_note(degree: int, alter: int, key: Key) -> NoteName:
    """The note ``alter`` semitones from degree ``degree`` (1-7) of the key tonic's major scale.

    >>> str(degree_note(4, 0, parse_key("Bb")))
    'Eb'
    >>> str(degree_note(7, -1, parse_key("Am")))
    'G'
    """
    if not 1 <= degree <= 7:
        raise ChartError(f"scale degree must be 1-7, not {degree}")
    major = Key(key.tonic, "major").scale_names()
    note = major[degree - 1]
    return NoteName(note.letter, note.alter + alter)


def _spell(note: NoteName) -> NoteName:
    # Keep the letter (Eb not D#, E# in F# major); only triple accidentals are respelled.
    if -2 <= note.alter <= 2:
        return note
    return note.simplified()


def _suffix_quality(suffix: str, symbol: str, minor: bool | None) -> Quality:
    s = suffix.strip()
    if s.startswith("0"):
        s = "o" + s[1:]  # ChordPro writes diminished as 0 after a degree: 70, 707
    if minor and not _OWN_THIRD.match(s):
        s = "m" + s
    try:
        return parse_quality(s, symbol)
    except ChordSymbolError:
        raise
    except ValueError as exc:  # pragma: no cover - defensive
        raise ChordSymbolError(symbol, suffix) from exc


def _key(key: Key | str) -> Key:
    return parse_key(key) if isinstance(key, str) else key


def parse_nashville(text: str, key: Key | str) -> Chord:
    """Resolve a Nashville number (``6m7``, ``b7``, ``5/7``, ``1^``) against ``key``."""
    k = _key(key)
    symbol = text.strip()
    m = _NASHVILLE_RE.match(symbol)
    if not m:
        raise ChordSymbolError(symbol, symbol)
    acc, deg, suffix, bacc, bdeg = m.groups()
    root = _spell(degree_note(int(deg), _ACC_VALUE[acc], k))
    quality = _suffix_quality(suffix, symbol, None)
    bass = None if bdeg is None else _spell(degree_note(int(bdeg), _ACC_VALUE[bacc], k))
    return _chord(root, quality, bass)


def parse_roman(text: str, key: Key | str) -> Chord:
    """Resolve a Roman numeral (``ii7``, ``bVII``, ``viiø7``, ``V7/V``, ``I/E``) against ``key``.

    >>> parse_roman("V7/V", "Bb").name
    'C7'
    >>> parse_roman("V/vi", "D").name
    'F#'
    """
    k = _key(key)
    symbol = text.strip()
    m = _ROMAN_RE.match(symbol)
    if not m:
        raise ChordSymbolError(symbol, symbol)
    acc, num, suffix, bacc, bnum, bnote = m.groups()
    if num.lower() not in _ROMAN_VALUE or not (num.isupper() or num.islower()):
        raise ChordSymbolError(symbol, num)
    if bnum is not None and not (bnum.isupper() or bnum.islower()):
        raise ChordSymbolError(symbol, bnum)
    home = k
    if bnum is not None:  # secondary function: the numeral in the key of the one after '/'
        home = Key(_spell(degree_note(_ROMAN_VALUE[bnum.lower()], _ACC_VALUE[bacc], k)), "major")
    root = _spell(degree_note(_ROMAN_VALUE[num.lower()], _ACC_VALUE[acc], home))
    quality = _suffix_quality(suffix, symbol, num.islower())
    bass = None
    if bnote is not None:
        try:
            bass = parse_note_name(bnote)
        except ValueError as exc:
            raise ChordSymbolError(symbol, bnote) from exc
    return _chord(root, quality, bass)


def _chord(root: NoteName, quality: Quality, bass: NoteName | None) -> Chord:
    if bass is not None and bass == root:
        bass = None
    c = Chord(root, quality, bass)
    return replace(c, symbol=c.name)


def is_nashville(text: str) -> bool:
    """True when ``text`` reads as a Nashville number chord (``1``, ``6m7``, ``b7/1``)."""
    try:
        parse_nashville(text, _C_MAJOR)
    except ChordSymbolError:
        return False
    return True


def is_roman(text: str) -> bool:
    """True when ``text`` reads as a Roman-numeral chord (``IV``, ``ii7``, ``bVII``)."""
    try:
        parse_roman(text, _C_MAJOR)
    except ChordSymbolError:
        return False
    return True


def is_numeral(text: str) -> bool:
    """True for a Nashville number or Roman numeral chord (not for letter chords)."""
    return is_nashville(text) or is_roman(text)


def parse_numeral(text: str, key: Key | str) -> Chord:
    """Resolve a Nashville number or a Roman numeral against ``key``.

    >>> parse_numeral("4", parse_key("Bb")).name
    'Eb'
    >>> parse_numeral("ii7", "C").name
    'Dm7'
    >>> parse_numeral("5/7", "G").name
    'D/F#'

    Raises :class:`~backline.errors.ChordSymbolError` when ``text`` is neither.
    """
    t = text.strip()
    if t[:1].isdigit() or (t[:1] in "b#♭♯" and t[1:2].isdigit()):
        return parse_nashville(t, key)
    return parse_roman(t, key)


# Movable-do syllables: (degree, alteration against the major scale).
_SOLFEGE: dict[str, tuple[int, int]] = {
    "do": (1, 0), "di": (1, 1), "ra": (2, -1), "re": (2, 0), "ri": (2, 1),
    "me": (3, -1), "mi": (3, 0), "fa": (4, 0), "fi": (4, 1), "se": (5, -1),
    "sol": (5, 0), "so": (5, 0), "si": (5, 1), "le": (6, -1), "la": (6, 0),
    "li": (6, 1), "te": (7, -1), "ti": (7, 0),
}  # fmt: skip
_SYL = "|".join(sorted(_SOLFEGE, key=len, reverse=True))
_SOLFEGE_RE = re.compile(rf"^({_SYL})(.*?)(?:/\s*({_SYL}))?$", re.IGNORECASE)


def parse_solfege(text: str, key: Key | str) -> Chord:
    """Resolve a movable-do solfège chord (``Rem7``, ``Te``, ``Fi/Re``) against ``key``.

    >>> parse_solfege("Te7", "C").name
    'Bb7'
    """
    k = _key(key)
    symbol = text.strip()
    m = _SOLFEGE_RE.match(symbol)
    if not m or not m.group(1)[0].isupper():
        raise ChordSymbolError(symbol, symbol)
    syl, suffix, bsyl = m.groups()
    root = _spell(degree_note(*_SOLFEGE[syl.lower()], k))
    quality = _suffix_quality(suffix, symbol, None)
    bass = None if bsyl is None else _spell(degree_note(*_SOLFEGE[bsyl.lower()], k))
    return _chord(root, quality, bass)


_C_MAJOR = Key(NoteName("C"), "major")


def resolve_numerals(symbols: list[str], key: Key | str) -> list[Chord]:
    """Resolve a list of Nashville/Roman chords against one key (e.g. a whole chart line)."""
    k = _key(key)
    return [parse_numeral(s, k) for s in symbols]
