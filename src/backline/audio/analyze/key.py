"""Key: from the recognised chords first, the chroma profile second.

Each of the 24 keys scores the chord of every beat (so chords count by duration) by
its *function* in the key (:data:`_MAJOR_FIT`, :data:`_MINOR_FIT`): the tonic triad
most, the other diatonic chords less, borrowed chords and secondary dominants a
little, a chord outside the key a penalty. A dominant seventh on the tonic counts as a
tonic (blues, mixolydian rock); minor keys take their V7 (harmonic minor). To this is
added the correlation of the key's profile (Temperley's) with the chord-tone histogram.

Fit by roots separates keys a fifth apart (C major has no D major chord, G major no F
major chord); the tonic's weight separates relative keys. Songs end on their tonic, so
the chord that holds most of the closing beats (:data:`CLOSING_BEATS`) adds
:data:`W_CLOSING` to the key it is the tonic of; the single last chord is too often a
short misreading of the decaying final chord. The bass's share of time on each pitch
class adds :data:`W_BASS_TONIC` times that share to the keys with that tonic (a tonic
pedal under F/C and C names C major). Cadence (V7-I, ii-V-I), first-chord and bass
profile bonuses were tried and dropped: on the evaluation sets they chose by
recognition errors and by the charts' turnarounds (many end on V7).
"""

from __future__ import annotations

import numpy as np

from backline.model.pitch import Key, pc_name

__all__ = ["estimate_key", "key_name"]

_MAJOR = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
_MINOR = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
_SHARP_MAJOR = {7, 2, 9, 4, 11, 6}  # G D A E B F# majors are spelled with sharps
_SHARP_MINOR = {4, 11, 6, 1, 8}  # E B F# C# G# minors

#: Chord family of each quality the analyser reports.
_FAMILY = {"maj": "M", "maj7": "M", "7": "D", "min": "m", "min7": "m", "dim": "o", "hdim7": "o"}

#: Fit of a chord (interval of its root above the tonic, family) in a major key.
_MAJOR_FIT: dict[tuple[int, str], float] = {
    (0, "M"): 3.0,
    (0, "D"): 2.0,
    (2, "m"): 1.2,
    (4, "m"): 1.0,
    (5, "M"): 1.2,
    (5, "D"): 0.8,
    (7, "M"): 1.2,
    (7, "D"): 1.5,
    (9, "m"): 1.0,
    (11, "o"): 0.8,
    (10, "M"): 0.4,
    (10, "D"): 0.4,
    (5, "m"): 0.3,
    (8, "M"): 0.2,
    (3, "M"): 0.1,
    (2, "D"): 0.5,
    (4, "D"): 0.4,
    (9, "D"): 0.5,
    (11, "D"): 0.2,
    (2, "M"): 0.3,
    (4, "M"): 0.1,
    (9, "M"): 0.1,
    (1, "o"): 0.2,
    (6, "o"): 0.4,
    (8, "o"): 0.2,
    (2, "o"): 0.3,
}
#: Fit in a minor key (natural and harmonic minor, V7 included).
_MINOR_FIT: dict[tuple[int, str], float] = {
    (0, "m"): 3.0,
    (2, "o"): 1.0,
    (2, "m"): 0.4,
    (3, "M"): 1.0,
    (5, "m"): 1.2,
    (5, "D"): 0.4,
    (7, "m"): 0.8,
    (7, "M"): 1.0,
    (7, "D"): 1.5,
    (8, "M"): 1.0,
    (10, "M"): 0.8,
    (10, "D"): 0.8,
    (11, "o"): 0.8,
    (0, "D"): 0.5,
    (1, "M"): 0.3,
    (2, "D"): 0.3,
    (5, "M"): 0.2,
}
_OUTSIDE = -0.6
W_PROFILE = 1.0
#: How many of the last chord beats decide the closing chord, and its bonus.
CLOSING_BEATS = 12
W_CLOSING = 0.3
#: Weight of the bass's share of time on the tonic (a pedal or a bass that keeps
#: returning home names the key when the chords above it wander).
W_BASS_TONIC = 0.75


def key_name(tonic: int, mode: str) -> Key:
    """A :class:`Key` with the usual spelling of its tonic (F# major, Eb minor...)."""
    sharp = tonic in (_SHARP_MAJOR if mode == "major" else _SHARP_MINOR)
    return Key(pc_name(tonic, prefer_flats=not sharp), mode)


def _runs(chords: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """Runs of equal chords: (root, family, beats); no-chord beats are skipped."""
    out: list[tuple[int, str, int]] = []
    for r, q in chords:
        if r < 0:
            continue
        fam = _FAMILY[q]
        if out and out[-1][0] == r and out[-1][1] == fam:
            out[-1] = (r, fam, out[-1][2] + 1)
        else:
            out.append((r, fam, 1))
    return out


def _chord_scores(chords: list[tuple[int, str]]) -> np.ndarray:
    """Score of each key (0-11 major, 12-23 minor): the mean fit of the chord of every beat."""
    runs = _runs(chords)
    scores = np.zeros(24)
    n = sum(b for _, _, b in runs)
    if n == 0:
        return scores
    fits = (_MAJOR_FIT, _MINOR_FIT)
    for k in range(24):
        t, fit = k % 12, fits[k // 12]
        scores[k] = sum(b * fit.get(((r - t) % 12, f), _OUTSIDE) for r, f, b in runs) / n
    return scores


def _closing_scores(chords: list[tuple[int, str]]) -> np.ndarray:
    """1 for the key (or keys, on a tie) whose tonic triad is the chord of most of the
    last :data:`CLOSING_BEATS` chord beats, else 0; a dominant seventh counts as a
    major tonic (blues), a diminished chord as none."""
    votes = np.zeros(24)
    for r, q in [(r, q) for r, q in chords if r >= 0][-CLOSING_BEATS:]:
        fam = _FAMILY[q]
        if fam in ("M", "D"):
            votes[r] += 1
        elif fam == "m":
            votes[12 + r] += 1
    if votes.max() <= 0:
        return votes
    return (votes == votes.max()).astype(float)


def estimate_key(
    chroma_sum: np.ndarray, chords: list[tuple[int, str]] | None = None, *, bass: np.ndarray | None = None
) -> tuple[Key, float]:
    """(key, confidence 0..1) from a 12-bin chroma (or chord-tone) histogram and the chord
    per beat (root pitch class and quality; ``(-1, "N")`` for no chord)."""
    c = np.asarray(chroma_sum, dtype=float)
    if c.sum() <= 0:
        return Key(pc_name(0), "major"), 0.0
    prof = np.zeros(24)
    for t in range(12):
        prof[t] = np.corrcoef(np.roll(_MAJOR, t), c)[0, 1]
        prof[12 + t] = np.corrcoef(np.roll(_MINOR, t), c)[0, 1]
    scores = W_PROFILE * prof
    if chords:
        scores = scores + _chord_scores(chords) + W_CLOSING * _closing_scores(chords)
    if bass is not None and np.sum(bass) > 0:
        share = np.asarray(bass, dtype=float) / float(np.sum(bass))
        scores = scores + W_BASS_TONIC * np.tile(share, 2)
    order = np.argsort(scores)[::-1]
    best = int(order[0])
    conf = float(np.clip((scores[best] - scores[order[1]]) * 0.5 + 0.3, 0, 1))
    return key_name(best % 12, "major" if best < 12 else "minor"), conf
