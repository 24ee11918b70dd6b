"""Which beat of a 4/4 bar is one: a check of the decoded bar lines, piece by piece.

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
songs, keys and seeds): ``scripts/fit_bar_phase.py``. Without the two longer chord
changes the weights did as well on these sets but put a one-drop chart that holds each
chord two bars on beat four.

Being linear, the score is a sum over beats, so :func:`check_bar_phase` applies it beat
by beat: a Viterbi pass over each beat's position in the bar, where the decoded
positions earn :data:`MARGIN` a bar (the decoding is right for about 9 songs in 10, so
the check must be sure), the position follows the decoding's own jumps, and a bar line
the decoding did not make may only end a bar early (:data:`SHORT_BARS`: a bar of two
or three) at :data:`SWITCH_COST`. A song that holds one phase is judged as a whole; one
whose bar lines shift partway (a bar of two the decoding kept as four, a re-sync at a
lift) can be put right piece by piece, with bars a chart can write (an offset pass
before it made bars of one, five, six or seven beats there). The first and last :data:`EDGE` beats take no part (an
ending's held chord outvoted a swing tune's whole song). Right phases: 108 -> 116 of
the 119 songs, 127 -> 133 of the 136; downbeat F-measure 0.893 -> 0.951 and 0.876 ->
0.915 (the songs in 3/4 unchanged).

The weights carry what the rendered grooves share with the field (a one-drop's kick on
three, chords changing on one and held through two); a groove unlike all of them keeps
its decoded bar lines unless the evidence is clear.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EDGE",
    "MARGIN",
    "SHORT_BARS",
    "SWITCH_COST",
    "WEIGHTS",
    "bar_phase_features",
    "beat_cues",
    "check_bar_phase",
    "window_change",
]

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
#: How much better (per bar, on average) other bar lines must score than the decoded
#: ones to replace them. 0.5 puts one more song right on the fitting sets (downbeat F
#: 0.946 -> 0.953) and costs the check sets 0.914 -> 0.907 (two songs moved wrong, one
#: right).
MARGIN = 1.0
#: What a bar line the decoding did not make costs part of the way through a song (a
#: bar ended early: its phase changes), in the score's units (summed over the beats: the
#: margin alone is MARGIN a bar). It needs about this much evidence, so a steady song is
#: in practice judged as a whole. On cues of pure noise (no groove) a fixed cost lets
#: long files be cut into pieces more often than short ones; on music it does not: the
#: 258 songs in 4/4 of the nine sets strung end to end, 16 at a time (about an hour),
#: have 0.01% of their beats moved off a right decoding, against 0.05% checked one song
#: at a time. 16 and 24 split steady songs of the check sets (docs/audio.md).
SWITCH_COST = 40.0
#: The bars shorter than four beats a 4/4 song may have (a chart's 2/4 and 3/4 bars).
SHORT_BARS = (2, 3)
#: Fewer beats than this (four bars) tell nothing about the bar.
MIN_BEATS = 16
#: Beats at each end of the song that take no part: the four-beat chord change needs four
#: beats either side, and the first beats and the last chord's ring are not the groove.
EDGE = 4


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


def beat_cues(
    low: np.ndarray, onset: np.ndarray, loudness: np.ndarray, treble: np.ndarray
) -> np.ndarray | None:
    """(6, beats): the per-beat cues, each standardised within the song: the low band's
    and the full band's onset strength (linear, taken as logs), the loudness evidence,
    and the chord change of the treble chroma ``(12, beats)`` over one, two and four
    beats. ``None`` below :data:`MIN_BEATS` beats."""
    n = len(low)
    if n < MIN_BEATS or not (len(onset) == len(loudness) == treble.shape[1] == n):
        return None
    return np.stack(
        [
            _z(np.log(np.asarray(low, dtype=float) + 1e-3)),
            _z(np.log(np.asarray(onset, dtype=float) + 1e-3)),
            _z(np.asarray(loudness, dtype=float)),
            *(_z(window_change(treble, w)) for w in (1, 2, 4)),
        ]
    )


def bar_phase_features(cues: np.ndarray) -> np.ndarray:
    """(4, 24): for each phase (bar lines on beats ``phase``, ``phase + 4``, ...), the
    mean over whole bars of each cue (:func:`beat_cues`) at each position of the bar,
    position-major: what :data:`WEIGHTS` are fitted on (its product with them is the
    phase's score per bar)."""
    bars = cues.shape[1] // 4 - 1  # whole bars from every phase
    return np.array(
        [
            np.concatenate([cues[:, ph + k : ph + k + 4 * bars : 4].mean(axis=1) for k in range(4)])
            for ph in range(4)
        ]
    )


def check_bar_phase(bar_pos: np.ndarray, cues: np.ndarray | None) -> np.ndarray:
    """``bar_pos`` (position of each beat in a 4/4 bar, 0 = downbeat) checked, piece by
    piece, against :data:`WEIGHTS`.

    The hidden state is each beat's position in the bar (a Viterbi pass): a beat at
    position ``k`` scores ``WEIGHTS[k]`` times its cues, a beat where the decoding put it
    earns :data:`MARGIN` a bar, and the first and last :data:`EDGE` beats score nothing.
    The position moves on by one each beat, or as the decoding moved it where the
    decoding jumps; besides, a bar may end early, after :data:`SHORT_BARS` beats (a bar
    of two or three, as charts write them in 4/4 songs), at :data:`SWITCH_COST`. Where
    no piece outweighs the cost, this is the whole song's bars scored per phase, moved
    when another phase beats the decoded one by :data:`MARGIN` a bar; a song with a bar
    of two that the decoding kept as four is put right from that bar on when the
    evidence outweighs the cost."""
    pos = np.asarray(bar_pos)
    if cues is None or not np.any(pos == 0) or cues.shape[1] != len(pos):
        return pos
    n, at = len(pos), pos.astype(int)
    emit = WEIGHTS @ cues  # (4, n): each beat's score at each position
    emit[at, np.arange(n)] += MARGIN / 4
    emit[:, :EDGE] = 0.0
    emit[:, n - EDGE :] = 0.0
    states = np.arange(4)
    # log-odds of a move from position i to position j: on by one, or an early bar line
    steady = np.full((4, 4), -np.inf)
    steady[states, (states + 1) % 4] = 0.0
    for length in SHORT_BARS:
        steady[length - 1, 0] = -SWITCH_COST
    jump = (at[1:] - at[:-1] - 1) % 4  # where the decoding jumps, and by how much
    score = emit[:, 0].copy()
    back = np.zeros((n, 4), dtype=np.int64)
    for t in range(1, n):
        move = steady
        if jump[t - 1]:
            move = steady.copy()
            move[states, (states + 1 + jump[t - 1]) % 4] = 0.0
        cand = score[:, None] + move
        back[t] = np.argmax(cand, axis=0)
        score = cand[back[t], states] + emit[:, t]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path.astype(pos.dtype)
