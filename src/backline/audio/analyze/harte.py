"""Chord labels in Harte syntax (``C:maj``, ``A:min7``, ``G:7``, ``N``), as mir_eval reads them."""

from __future__ import annotations

from backline.model.chord import Chord
from backline.model.harmony import POWER_QUALITY
from backline.model.pitch import Key, pc_name

__all__ = [
    "POWER_INTERVALS",
    "POWER_QUALITY",
    "QUALITY_INTERVALS",
    "chord_to_harte",
    "harte_label",
    "spell_root",
]

#: The analyser's chord vocabulary: Harte shorthand -> intervals above the root.
QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "min7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "dim": (0, 3, 6),
    "hdim7": (0, 3, 6, 10),
}
#: A power chord (root and fifth, no third; ``E:5``, :data:`POWER_QUALITY`): a label the
#: analyser gives after decoding (:func:`backline.audio.analyze.chords.power_chords`), not
#: a chord it decodes.
POWER_INTERVALS = (0, 7)

# Shorthands mir_eval knows, by interval set (for converting chart chords).
_SHORTHAND: dict[frozenset[int], str] = {frozenset(v): k for k, v in QUALITY_INTERVALS.items()} | {
    frozenset((0, 4, 8)): "aug",
    frozenset((0, 3, 6, 9)): "dim7",
    frozenset((0, 3, 7, 11)): "minmaj7",
    frozenset((0, 4, 7, 9)): "maj6",
    frozenset((0, 3, 7, 9)): "min6",
    frozenset((0, 2, 4, 7, 10)): "9",
    frozenset((0, 2, 4, 7, 11)): "maj9",
    frozenset((0, 2, 3, 7, 10)): "min9",
    frozenset((0, 5, 7)): "sus4",
    frozenset((0, 2, 7)): "sus2",
}
_BASS_DEGREE = ("1", "b2", "2", "b3", "3", "4", "b5", "5", "b6", "6", "b7", "7")


def spell_root(pc: int, key: Key | None = None) -> str:
    """A root name for pitch class ``pc``: the key's spelling when known, else flats."""
    if key is not None:
        return str(key.spell(pc).simplified())
    return str(pc_name(pc))


def harte_label(root_pc: int, quality: str, key: Key | None = None) -> str:
    """``harte_label(10, "min7") == "Bb:min7"``."""
    return f"{spell_root(root_pc, key)}:{quality}"


def chord_to_harte(chord: Chord | None) -> str:
    """A backline chord as a Harte label (``N`` for N.C.), keeping the slash bass as a degree."""
    if chord is None:
        return "N"
    q = chord.quality
    root = str(chord.root.simplified())
    if q.bass_only:
        return f"{root}:(1)"
    ivs = frozenset(q.intervals)
    short = _SHORTHAND.get(ivs)
    if short is not None:
        body = short
    else:
        degrees = [d for d in q.degrees if d != "1"]
        body = "(" + ",".join(degrees) + ")" if degrees else "(1)"
    label = f"{root}:{body}"
    if chord.bass is not None and chord.bass.pc != chord.root.pc:
        label += "/" + _BASS_DEGREE[(chord.bass.pc - chord.root.pc) % 12]
    return label
