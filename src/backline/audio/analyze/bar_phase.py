"""Which beat of a 4/4 bar is one: a check of the bar lines over the whole song.

The bar lines are decoded together with the chords
(:func:`backline.audio.analyze.chords.decode_chords_and_bars`): chords change most
readily on the downbeat, and the loudest beats lean towards it. That reads most songs
right, but it cannot tell beat one from beat three where the harmony changes every bar
(or not at all, a one-chord blues) and the loud beat is not one: a reggae one-drop
puts its kick and snare on three, a slow blues and a folk strum accent both halves of
the bar alike.

A musician hears more than the loudest beat: *where in the bar* the kick, the attacks,
the loudness and the chord changes fall, taken together. So each of the four ways to
lay bar lines on the beats is scored from the bar's pattern: for each position in the
bar (one to four), the mean over the song's bars of six per-beat cues, each
standardised within the song:

- the low band's onset strength (kick and bass), as a log;
- the full band's onset strength, as a log;
- the loudness (:func:`backline.audio.analyze.beats.downbeat_evidence`);
- the chord change from the beat before (1 - cosine of the treble chroma);
- the chord change from the half bar before to the half bar from this beat, and from
  the bar before to the bar from this beat (the same cosine over two and four beats'
  chroma: a reggae skank or a strum makes every beat's chroma differ from the last,
  but a chord held for a bar or two changes only at its bar line).

The score is linear in these 24 means (:data:`WEIGHTS`), fitted as a conditional logit
(the likeliest of the four phases) on the analyser's beats of 119 rendered songs in
4/4 (the four analysis evaluation sets) and checked on 136 more (five more sets, other
songs, keys and seeds): ``scripts/fit_bar_phase.py``. The decoded bar lines move only
when another phase beats theirs by :data:`MARGIN` (the decoding is right for about 9
songs in 10, so the check must be sure). Right phases: 108 -> 116 of the 119 songs, 127
-> 132 of the 136; downbeat F-measure 0.893 -> 0.943 and 0.876 -> 0.907 (the songs in
3/4 unchanged). Without the two longer chord changes the weights did as well on these
sets but put a one-drop chart that holds each chord two bars on beat four.

The weights carry what the rendered grooves share with the field (a one-drop's kick on
three, chords changing on one and held through two); a groove unlike all of them keeps
its decoded bar lines unless the evidence is clear.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MARGIN", "WEIGHTS", "bar_phase_features", "check_bar_phase", "window_change"]

#: Weight of each cue (columns: low band, full band, loudness, chord change from the
#: beat, the half bar and the bar before) at each position of the bar (rows: beats one
#: to four).
WEIGHTS = np.array(
    [
        [-0.020, -0.066, 0.549, 0.724, 1.189, 0.887],
        [-1.116, 0.234, 0.099, -1.251, -0.653, -0.292],
        [0.363, -0.709, -0.658, 0.239, -0.781, -0.649],
        [0.744, 0.243, 0.249, 0.102, -0.192, -0.453],
    ]
)
#: How much better another phase must score than the decoded one to move the bar lines.
#: 0.5 moves one more song right on the fitting sets and two fewer on the check sets.
MARGIN = 1.0
#: Fewer beats than this (four bars) tell nothing about the bar.
MIN_BEATS = 16


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (float(x.std()) + 1e-9)


def window_change(treble: np.ndarray, beats: int) -> np.ndarray:
    """(n,): 1 - cosine between the summed chroma of the ``beats`` beats before each
    beat and of the ``beats`` beats from it (0 where either window leaves the song; over
    one beat, :func:`backline.audio.analyze.chords.chord_change_curve` for unit chroma)."""
    n = treble.shape[1]
    out = np.zeros(n)
    if n < 2 * beats:
        return out
    cs = np.concatenate([np.zeros((treble.shape[0], 1)), np.cumsum(treble, axis=1)], axis=1)
    k = np.arange(beats, n - beats + 1)
    before, after = cs[:, k] - cs[:, k - beats], cs[:, k + beats] - cs[:, k]
    norms = np.linalg.norm(before, axis=0) * np.linalg.norm(after, axis=0) + 1e-9
    out[k] = 1 - (before * after).sum(axis=0) / norms
    return out


def bar_phase_features(
    low: np.ndarray, onset: np.ndarray, loudness: np.ndarray, treble: np.ndarray
) -> np.ndarray | None:
    """(4, 24): for each phase (bar lines on beats ``phase``, ``phase + 4``, ...), the
    mean over whole bars of each cue (standardised within the song) at each position of
    the bar, position-major. ``None`` below :data:`MIN_BEATS` beats. The per-beat cues
    are the low band's and the full band's onset strength (linear, taken as logs), the
    loudness evidence, and the chord change of the treble chroma ``(12, beats)`` over
    one, two and four beats."""
    n = len(low)
    if n < MIN_BEATS or not (len(onset) == len(loudness) == treble.shape[1] == n):
        return None
    cues = np.stack(
        [
            _z(np.log(np.asarray(low, dtype=float) + 1e-3)),
            _z(np.log(np.asarray(onset, dtype=float) + 1e-3)),
            _z(np.asarray(loudness, dtype=float)),
            *(_z(window_change(treble, w)) for w in (1, 2, 4)),
        ]
    )
    bars = n // 4 - 1  # whole bars from every phase
    return np.array(
        [
            np.concatenate([cues[:, ph + k : ph + k + 4 * bars : 4].mean(axis=1) for k in range(4)])
            for ph in range(4)
        ]
    )


def check_bar_phase(bar_pos: np.ndarray, features: np.ndarray | None) -> np.ndarray:
    """``bar_pos`` (position of each beat in a 4/4 bar, 0 = downbeat) moved to the
    phase :data:`WEIGHTS` scores best, when it beats the decoded phase (the one most
    downbeats fall on) by :data:`MARGIN`; else unchanged."""
    pos = np.asarray(bar_pos)
    downs = np.flatnonzero(pos == 0)
    if features is None or len(downs) == 0:
        return pos
    scores = features @ WEIGHTS.ravel()
    decoded = int(np.bincount(downs % 4, minlength=4).argmax())
    best = int(np.argmax(scores))
    if best != decoded and scores[best] - scores[decoded] > MARGIN:
        return (pos - (best - decoded)) % 4
    return pos
