"""The tests' own yardstick for "chord tones on strong beats", independent of the
arranger's ``_TENSIONS`` / ``ChordFacts.strong_ok`` table.

A note on a strong beat is fine when it is a chord tone (the root plus the chord symbol's
intervals, and the slash bass) or one of the idiomatic tensions of the chord's family,
written out below. The family is read here from the intervals, not from the product's
``Quality.family``. A tension counts only where it lies in the chord's chord-scale
(``Chord.scale``, pinned by the model tests and by the chord-scale checks), so that a
b9 on a plain C7 (mixolydian) is not "idiomatic".
"""

from __future__ import annotations

from functools import lru_cache

from backline.model.chord import Chord

__all__ = ["TENSIONS", "family_of", "chord_tone_pcs", "strong_pcs", "strong_pcs_any_scale"]

# semitones above the root of the tensions a player may put on a strong beat, per family
TENSIONS: dict[str, frozenset[int]] = {
    "major": frozenset({2, 6, 9}),  # 9 #11 13
    "minor": frozenset({2, 5, 9}),  # 9 11 13
    "dominant": frozenset({1, 2, 3, 6, 8, 9}),  # b9 9 #9 #11 b13 13
    "half-diminished": frozenset({2, 5, 8}),  # 9 11 b13
    "diminished": frozenset({2, 5, 8, 11}),  # 9 11 b13 and the whole-step above bb7
    "augmented": frozenset({2, 6}),  # 9 #11
    "sus": frozenset({2, 5, 9}),  # 9 11 13
    "power": frozenset({2}),  # 9
    "bass": frozenset(),  # a bass note alone: nothing but itself
}


def family_of(intervals: tuple[int, ...] | frozenset[int], *, bass_only: bool = False) -> str:
    """The chord family from the semitone intervals above the root."""
    iv = {i % 12 for i in intervals}
    if bass_only:
        return "bass"
    if iv == {0, 7}:
        return "power"
    major3, minor3 = 4 in iv, 3 in iv and 4 not in iv
    if major3:
        if 10 in iv:
            return "dominant"
        if 8 in iv and 7 not in iv and 11 not in iv:
            return "augmented"
        return "major"
    if minor3:
        if 6 in iv and 7 not in iv:
            return "half-diminished" if 10 in iv else "diminished"
        return "minor"
    return "sus"


def chord_tone_pcs(chord: Chord) -> frozenset[int]:
    """Root + intervals, and the slash bass."""
    root = chord.root_pc
    tones = {(root + i) % 12 for i in chord.quality.intervals}
    tones.add(chord.bass_pc)
    return frozenset(tones)


@lru_cache(maxsize=8192)
def strong_pcs_any_scale(chord: Chord) -> frozenset[int]:
    """Chord tones plus every tension of the family, whatever the chord-scale: the most a
    strong beat may ever allow."""
    fam = family_of(chord.quality.intervals, bass_only=chord.quality.bass_only)
    root = chord.root_pc
    return chord_tone_pcs(chord) | {(root + t) % 12 for t in TENSIONS[fam]}


@lru_cache(maxsize=8192)
def strong_pcs(chord: Chord) -> frozenset[int]:
    """Chord tones plus the family's tensions that lie in the chord-scale."""
    tones = chord_tone_pcs(chord)
    scale = frozenset(chord.scale) | tones
    return tones | (strong_pcs_any_scale(chord) & scale)
