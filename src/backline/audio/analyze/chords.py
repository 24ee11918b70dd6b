"""Chords on the beat: beat-synchronous chroma, templates, and Viterbi smoothing.

Each beat gets a chord chroma (MIDI 31-95, log-compressed) and a bass chroma
(MIDI 28-51), both from the constant-Q semitone magnitudes. A chord (root, quality) scores the cosine of the treble chroma with
its template (root 1, third 1, fifth 0.8, seventh 0.75, each with
its harmonics) plus a bass term (the share of
bass energy on the root). Scores become log-likelihoods, and a Viterbi pass over
chord states (self-transition likely, changes likelier on downbeats and half bars)
picks the sequence. Sevenths must beat their triad by a margin (an added tone that
is only a passing note should not turn C into Cmaj7).
"""

from __future__ import annotations

import numpy as np

from backline.audio.analyze.features import PITCH_LOW
from backline.audio.analyze.harte import QUALITY_INTERVALS

__all__ = ["CHORD_STATES", "beat_chromas", "decode_chords", "chord_change_curve"]

_QUALS = tuple(QUALITY_INTERVALS)
#: (root pc, quality) for every state; the last state is "N" (no chord).
CHORD_STATES: tuple[tuple[int, str], ...] = tuple((r, q) for q in _QUALS for r in range(12)) + ((-1, "N"),)
COMPRESSION = 5.0
#: MIDI range folded into the chord chroma (G1..B6: the bass belongs to the chord,
#: rootless piano voicings need it) and into the bass chroma (E1..E3).
CHROMA_RANGE = (31, 96)
BASS_RANGE = (28, 52)
#: Probability of a chord change on a downbeat, on the half bar, on any other beat.
CHANGE_P = (0.45, 0.2, 0.04)
BASS_WEIGHT = 0.1
SHARPNESS = 30.0
_SEVENTH_PENALTY = {
    "maj": 0.0,
    "min": 0.0,
    "7": 0.01,
    "min7": 0.01,
    "maj7": 0.0125,
    "dim": 0.015,
    "hdim7": 0.015,
}


_HARMONIC_PCS = (0, 0, 7, 0, 4, 7)  # pitch class of harmonics 1-6 above a note
_HARMONIC_DECAY = 0.55


def _templates() -> np.ndarray:
    """Unit-norm chroma templates; each chord tone brings its first six harmonics
    (weights 0.55**(h-1)), as real and synthetic tones do."""
    t = np.zeros((len(CHORD_STATES) - 1, 12))
    for i, (r, q) in enumerate(CHORD_STATES[:-1]):
        ivs = QUALITY_INTERVALS[q]
        for j, iv in enumerate(ivs):
            w = (1.0, 1.0, 0.8, 0.75)[j]
            for h, hp in enumerate(_HARMONIC_PCS):
                t[i, (r + iv + hp) % 12] += w * _HARMONIC_DECAY**h
    return t / np.linalg.norm(t, axis=1, keepdims=True)


_T = _templates()


def _fold(p: np.ndarray, lo: int, hi: int) -> np.ndarray:
    c = np.zeros((12, p.shape[1]))
    for m in range(lo, hi):
        c[m % 12] += p[m - PITCH_LOW]
    return c


def beat_chromas(pitch_beats: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(treble chroma unit-norm, bass chroma sum-1, energy) per beat from (84, beats) salience.

    Broadband energy (drums, noise) is removed first: each beat's salience minus its
    running median over an octave of pitch, so that only tonal peaks remain."""
    from scipy.ndimage import median_filter

    total = pitch_beats.sum(axis=0)
    floor = median_filter(pitch_beats, size=(13, 1), mode="nearest")
    p = np.maximum(pitch_beats - floor, 0.0)
    treble = _fold(p, *CHROMA_RANGE)
    bass = _fold(p, *BASS_RANGE)
    ref_t = float(np.percentile(treble.max(axis=0), 95)) if treble.size else 1.0
    tl = np.log1p(COMPRESSION * treble / (ref_t + 1e-12))
    tl = tl / (np.linalg.norm(tl, axis=0, keepdims=True) + 1e-9)
    bl = bass**2
    bl = bl / (bl.sum(axis=0, keepdims=True) + 1e-12)
    ref = float(np.percentile(total, 95)) if total.size else 1.0
    return tl, bl, total / (ref + 1e-12)


def chord_change_curve(treble: np.ndarray) -> np.ndarray:
    """1 - cosine between each beat's chroma and the previous one's (0 for the first)."""
    if treble.shape[1] == 0:
        return np.zeros(0)
    return np.concatenate([[0.0], 1 - (treble[:, 1:] * treble[:, :-1]).sum(axis=0)])


def decode_chords(
    treble: np.ndarray,
    bass: np.ndarray,
    energy: np.ndarray,
    beat_in_bar: np.ndarray | None = None,
    *,
    bass_weight: float | None = None,
    sharpness: float | None = None,
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """The chord state per beat (root pc, quality; (-1, "N") for none) and its score."""
    n = treble.shape[1]
    if n == 0:
        return [], np.zeros(0)
    bass_weight = BASS_WEIGHT if bass_weight is None else bass_weight
    sharpness = SHARPNESS if sharpness is None else sharpness
    sim = _T @ treble  # (states-1, n)
    roots = np.array([r for r, _ in CHORD_STATES[:-1]])
    sim = sim + bass_weight * bass[roots]
    pen = np.array([_SEVENTH_PENALTY[q] for _, q in CHORD_STATES[:-1]])
    sim = sim - pen[:, None]
    silent = energy < 1e-3
    n_score = np.where(silent, sim.max(axis=0) + 1.0, sim.max(axis=0) - 0.3)
    full = np.vstack([sim, n_score[None, :]])
    loglik = sharpness * full
    # Change probability by position: downbeat, half bar, other beats.
    if beat_in_bar is None:
        p_change = np.full(n, 0.15)
    else:
        p_change = np.where(
            beat_in_bar == 0, CHANGE_P[0], np.where(beat_in_bar == 2, CHANGE_P[1], CHANGE_P[2])
        )
    s = loglik.shape[0]
    score = loglik[:, 0].copy()
    back = np.zeros((s, n), dtype=np.int32)
    for t in range(1, n):
        stay = score + np.log(1 - p_change[t])
        best = int(np.argmax(score))
        move = score[best] + np.log(p_change[t] / (s - 1))
        take_move = move > stay
        back[:, t] = np.where(take_move, best, np.arange(s))
        score = np.maximum(stay, move) + loglik[:, t]
    path = np.zeros(n, dtype=np.int32)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[path[t], t]
    conf = full[path, np.arange(n)]
    return [CHORD_STATES[i] for i in path], conf
