"""Note names, pitch classes, keys and enharmonic spelling.

A :class:`NoteName` keeps the letter and the alteration apart so that spelling
survives transposition (``Bb`` stays ``Bb``, never ``A#``, in flat keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from backline.errors import ChartSyntaxError

__all__ = [
    "NoteName",
    "Key",
    "LETTERS",
    "parse_note_name",
    "parse_key",
    "pc_name",
    "key_name",
]

LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {
    "": 0,
    "#": 1,
    "♯": 1,
    "b": -1,
    "♭": -1,
    "&": -1,
    "##": 2,
    "x": 2,
    "bb": -2,
    "♭♭": -2,
    "&&": -2,
}
_ALTER_TEXT = {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}

# Latin / solfege root names (French/Italian/Spanish fixed-do).
SOLFEGE = {
    "do": "C",
    "re": "D",
    "ré": "D",
    "mi": "E",
    "fa": "F",
    "sol": "G",
    "so": "G",
    "la": "A",
    "si": "B",
    "ti": "B",
}


@dataclass(frozen=True, slots=True)
class NoteName:
    """A spelled note without octave: a letter (C..B) and an alteration in semitones."""

    letter: str
    alter: int = 0

    @property
    def pc(self) -> int:
        """Pitch class 0-11 (C = 0)."""
        return (_LETTER_PC[self.letter] + self.alter) % 12

    def __str__(self) -> str:
        return self.letter + _ALTER_TEXT[self.alter]

    def transpose(self, semitones: int, letter_steps: int) -> NoteName:
        """Move by a number of letter steps and semitones, keeping a correct spelling."""
        idx = (LETTERS.index(self.letter) + letter_steps) % 7
        letter = LETTERS[idx]
        target = (self.pc + semitones) % 12
        alter = (target - _LETTER_PC[letter] + 6) % 12 - 6
        return NoteName(letter, alter)

    def simplified(self) -> NoteName:
        """Respell double accidentals and Cb/Fb/E#/B# to the nearest common name."""
        if -1 <= self.alter <= 1 and str(self) not in ("Cb", "Fb", "E#", "B#"):
            return self
        return pc_name(self.pc, prefer_flats=self.alter < 0)


_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def pc_name(pc: int, prefer_flats: bool = True) -> NoteName:
    """The usual name of a pitch class (flats or sharps for the black keys)."""
    return parse_note_name((_FLAT_NAMES if prefer_flats else _SHARP_NAMES)[pc % 12])


_NOTE_RE = re.compile(r"^([A-Ga-g])(##|bb|&&|♭♭|[#♯b♭&x]?)$")


@lru_cache(maxsize=256)
def parse_note_name(text: str) -> NoteName:
    """Parse ``C``, ``Bb``, ``F#``, ``E♭``, ``B&`` (``&`` is a flat), lower case accepted.

    :class:`~backline.errors.ChartSyntaxError` (a ``ValueError``) for anything else."""
    m = _NOTE_RE.match(text.strip())
    if not m:
        raise ChartSyntaxError(f"not a note name: {text!r}")
    return NoteName(m.group(1).upper(), _ACCIDENTALS[m.group(2)])


# Circle-of-fifths position of each major key tonic; used to choose spellings.
_MAJOR_FIFTHS = {
    "Cb": -7, "Gb": -6, "Db": -5, "Ab": -4, "Eb": -3, "Bb": -2, "F": -1, "C": 0,
    "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7,
}  # fmt: skip
_FIFTHS_MAJOR = {v: k for k, v in _MAJOR_FIFTHS.items()}


@dataclass(frozen=True, slots=True)
class Key:
    """A key: tonic and mode (``major`` or ``minor``)."""

    tonic: NoteName
    mode: str = "major"

    def __str__(self) -> str:
        return f"{self.tonic}{'m' if self.mode == 'minor' else ''}"

    @property
    def mir_eval(self) -> str:
        """The key as mir_eval writes it: ``Bb major``."""
        return f"{self.tonic} {self.mode}"

    @property
    def fifths(self) -> int:
        """Number of sharps (positive) or flats (negative) in the key signature."""
        name = str(self.tonic)
        if self.mode == "minor":
            rel = self.tonic.transpose(3, 2)
            name = str(rel)
        if name in _MAJOR_FIFTHS:
            return _MAJOR_FIFTHS[name]
        # Theoretical keys (e.g. D# major): use the enharmonic key.
        return _MAJOR_FIFTHS[str(pc_name(parse_note_name(name).pc))]

    @property
    def prefers_flats(self) -> bool:
        """True when accidentals outside the key are best written as flats."""
        return self.fifths < 0

    def spell(self, pc: int) -> NoteName:
        """Spell a pitch class the way this key would (diatonic notes first)."""
        scale = self.scale_names()
        for n in scale:
            if n.pc == pc % 12:
                return n
        return pc_name(pc, prefer_flats=self.fifths < 0)

    def scale_names(self) -> tuple[NoteName, ...]:
        steps = (2, 2, 1, 2, 2, 2, 1) if self.mode == "major" else (2, 1, 2, 2, 1, 2, 2)
        out = [self.tonic]
        for s in steps[:-1]:
            out.append(out[-1].transpose(s, 1))
        return tuple(out)

    def transpose(self, semitones: int) -> Key:
        """The key a number of semitones away, spelled with the fewest accidentals."""
        semitones %= 12
        if semitones == 0:
            return self
        major_pc = (self.tonic.pc + (3 if self.mode == "minor" else 0) + semitones) % 12
        # choose the major key spelling with |fifths| <= 6 (prefer flats at 6: Gb not F#)
        best = None
        for name, f in _MAJOR_FIFTHS.items():
            if parse_note_name(name).pc == major_pc and abs(f) <= 6:
                if best is None or abs(f) < abs(best[1]) or (abs(f) == abs(best[1]) and f < 0):
                    best = (name, f)
        assert best is not None
        major = parse_note_name(best[0])
        if self.mode == "minor":
            return Key(major.transpose(-3, -2), "minor")
        return Key(major, "major")


_KEY_RE = re.compile(r"^\s*([A-Ga-g](?:##|bb|[#♯b♭&]?))\s*(-|m|min|minor|maj|major|M)?\s*$")


@lru_cache(maxsize=128)
def parse_key(text: str) -> Key:
    """Parse ``Bb``, ``Bb major``, ``G minor``, ``Gm``, ``C-`` (iReal), ``f#m``.

    :class:`~backline.errors.ChartSyntaxError` (a ``ValueError``) for anything else."""
    m = _KEY_RE.match(text)
    if not m:
        raise ChartSyntaxError(f"not a key: {text!r} (write e.g. Bb, F#m, G minor)")
    tonic = parse_note_name(m.group(1))
    q = m.group(2) or ""
    mode = "minor" if q in ("-", "m", "min", "minor") else "major"
    return Key(tonic, mode)


_SHARP_MAJOR = frozenset({7, 2, 9, 4, 11, 6})  # G D A E B F# majors are spelled with sharps
_SHARP_MINOR = frozenset({4, 11, 6, 1, 8})  # E B F# C# G# minors


def key_name(tonic: int, mode: str) -> Key:
    """A :class:`Key` from a tonic pitch class and mode, with the usual spelling of its
    tonic (F# major, Eb minor...)."""
    sharp = tonic % 12 in (_SHARP_MAJOR if mode == "major" else _SHARP_MINOR)
    return Key(pc_name(tonic, prefer_flats=not sharp), mode)
