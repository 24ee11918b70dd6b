"""Key: a chroma profile match (Temperley's profiles), checked against the chords.

Each of the 24 keys scores the correlation of its profile with the whole song's
chroma (treble and bass together), plus the share of beats whose chord is the key's
tonic triad and a bonus when the last chord is the tonic: charts usually end
on the tonic and return to it often, which separates relative keys
(C major / A minor) that share every note.
"""

from __future__ import annotations

import numpy as np

from backline.model.pitch import Key, pc_name

__all__ = ["estimate_key", "key_name"]

_MAJOR = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
_MINOR = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
_SHARP_MAJOR = {7, 2, 9, 4, 11, 6}  # G D A E B F# majors are spelled with sharps
_SHARP_MINOR = {4, 11, 6, 1, 8}  # E B F# C# G# minors


def key_name(tonic: int, mode: str) -> Key:
    """A :class:`Key` with the usual spelling of its tonic (F# major, Eb minor...)."""
    sharp = tonic in (_SHARP_MAJOR if mode == "major" else _SHARP_MINOR)
    return Key(pc_name(tonic, prefer_flats=not sharp), mode)


def estimate_key(chroma_sum: np.ndarray, chords: list[tuple[int, str]] | None = None) -> tuple[Key, float]:
    """(key, confidence 0..1) from a 12-bin chroma sum and the chord per beat."""
    c = np.asarray(chroma_sum, dtype=float)
    if c.sum() <= 0:
        return Key(pc_name(0), "major"), 0.0
    scores = np.zeros(24)
    for t in range(12):
        scores[t] = np.corrcoef(np.roll(_MAJOR, t), c)[0, 1]
        scores[12 + t] = np.corrcoef(np.roll(_MINOR, t), c)[0, 1]
    if chords:
        sounding = [(r, q) for r, q in chords if r >= 0]
        if sounding:
            n = len(sounding)
            for t in range(12):
                maj = sum(1 for r, q in sounding if r == t and q in ("maj", "maj7"))
                mnr = sum(1 for r, q in sounding if r == t and q in ("min", "min7"))
                scores[t] += 0.6 * maj / n
                scores[12 + t] += 0.6 * mnr / n
            lr, lq = sounding[-1]
            if lq in ("maj", "maj7", "7"):
                scores[lr] += 0.15
            elif lq in ("min", "min7"):
                scores[12 + lr] += 0.15
    order = np.argsort(scores)[::-1]
    best = int(order[0])
    conf = float(np.clip((scores[best] - scores[order[1]]) * 3 + 0.3, 0, 1))
    return key_name(best % 12, "major" if best < 12 else "minor"), conf
