"""Key: from the recognised chords, read by a classifier learned from chord charts.

The chord of every beat is turned into runs (root, family, beats) and scored in each of
the 24 keys by the harmony model's key classifier (:meth:`HarmonyModel.key_scores`,
trained on about 2,000 iReal Pro charts, see :mod:`backline.audio.analyze.harmony`):
which functions hold the beats, the first and last chords, the chords of the close and
how well the key's chord-change statistics explain the changes. Two audio terms are
added: the correlation of the key's profile (Temperley's) with the chord-tone
histogram, weighted :data:`W_PROFILE` (it decides alone when no chord was found), and
the bass's share of time on each pitch class, weighted :data:`W_BASS_TONIC`, added to
the keys with that tonic (a tonic pedal under F/C and C names C major).

It replaced a hand-set table of chord functions with closing-chord and bass weights:
that table was tuned on the first two evaluation sets (88% and 85%) and fell to 62% on
a third. The classifier, trained with the songs of all four sets held out, reaches 85%,
85%, 88% and 79% (115 of the 136 songs, with the drum tones taken off the pitch
features: :mod:`backline.audio.analyze.drum_tones`); from the charts' own chords, 117.
"""

from __future__ import annotations

import numpy as np

from backline.audio.analyze.harmony import HarmonyModel, chord_runs, default_model
from backline.model.pitch import Key, pc_name

__all__ = ["estimate_key", "key_name", "key_posterior", "key_scores"]

_MAJOR = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
_MINOR = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
_SHARP_MAJOR = {7, 2, 9, 4, 11, 6}  # G D A E B F# majors are spelled with sharps
_SHARP_MINOR = {4, 11, 6, 1, 8}  # E B F# C# G# minors
W_PROFILE = 0.25
#: Weight of the bass's share of time on the tonic (a pedal or a bass that keeps
#: returning home names the key when the chords above it wander).
W_BASS_TONIC = 1.0


def key_name(tonic: int, mode: str) -> Key:
    """A :class:`Key` with the usual spelling of its tonic (F# major, Eb minor...)."""
    sharp = tonic in (_SHARP_MAJOR if mode == "major" else _SHARP_MINOR)
    return Key(pc_name(tonic, prefer_flats=not sharp), mode)


def key_scores(
    chroma_sum: np.ndarray,
    chords: list[tuple[int, str]] | None = None,
    *,
    bass: np.ndarray | None = None,
    model: HarmonyModel | None = None,
) -> tuple[np.ndarray, bool]:
    """(24,) scores of the keys (0-11 major, 12-23 minor, by tonic) and whether chords
    took part (the scores are then the classifier's log-odds)."""
    c = np.asarray(chroma_sum, dtype=float)
    runs = chord_runs(chords or [])
    scores = np.zeros(24)
    if c.sum() > 0 and np.ptp(c) > 0:
        for t in range(12):
            scores[t] = np.corrcoef(np.roll(_MAJOR, t), c)[0, 1]
            scores[12 + t] = np.corrcoef(np.roll(_MINOR, t), c)[0, 1]
        scores *= W_PROFILE
    if runs:
        scores = scores + (model or default_model()).key_scores(runs)
    if bass is not None and np.sum(bass) > 0:
        share = np.asarray(bass, dtype=float) / float(np.sum(bass))
        scores = scores + W_BASS_TONIC * np.tile(share, 2)
    return scores, bool(runs)


def key_posterior(scores: np.ndarray) -> np.ndarray:
    """Probabilities of the 24 keys from classifier scores (softmax)."""
    p = np.exp(scores - scores.max())
    return p / p.sum()


def estimate_key(
    chroma_sum: np.ndarray,
    chords: list[tuple[int, str]] | None = None,
    *,
    bass: np.ndarray | None = None,
    model: HarmonyModel | None = None,
) -> tuple[Key, float]:
    """(key, confidence 0..1) from a 12-bin chroma (or chord-tone) histogram and the chord
    per beat (root pitch class and quality; ``(-1, "N")`` for no chord). With chords the
    confidence is the key's posterior probability under the classifier."""
    scores, with_chords = key_scores(chroma_sum, chords, bass=bass, model=model)
    if not np.any(scores):
        return Key(pc_name(0), "major"), 0.0
    best = int(np.argmax(scores))
    if with_chords:
        conf = float(key_posterior(scores)[best])
    else:
        second = float(np.sort(scores)[-2])
        conf = float(np.clip((scores[best] - second) / W_PROFILE * 0.5 + 0.3, 0, 1))
    return key_name(best % 12, "major" if best < 12 else "minor"), conf
