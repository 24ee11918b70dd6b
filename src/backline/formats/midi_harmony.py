"""Chords and key from MIDI notes: what a musician reads off a piano roll.

Used by :mod:`backline.formats.midi_in` for MIDI files that carry no chord symbols (a
band arrangement, a DAW export, a keyboard take). Everything works on the pitch-class
weight of the notes sounding in each counted beat (overlap in beats, times velocity):

- **chords** (:func:`bar_chords`): each bar is cut at its counted beats into at most
  :data:`MAX_CHORDS_PER_BAR` spans, each span named by the chord template that explains
  its notes best (:func:`best_chord`): weight on the chord's tones, minus
  :data:`OUTSIDE_PENALTY` times the weight outside them, minus :data:`EXTRA_TONE_COST`
  of the span's weight for each tone beyond a triad (a seventh must be heard to be
  named) and :data:`MISSING_THIRD_COST` when its third is not heard, plus
  :data:`BASS_WEIGHT` times the bass's weight on the root (the lowest note at the start
  of each beat: a rootless piano voicing over a bass on the root names the root, C6 and
  Am7 are told apart by the bass). A new chord costs :data:`CHANGE_COST` of the bar's
  weight, so a passing tone does not make one. A span with no pitched notes is N.C.
- **slash chords** (:func:`_slash_bass`): a span whose bass is held on another note than
  the chord's root (its third, fifth, seventh, or a note outside it) is named over it,
  C/E, Dm7/C, C/F; a walking or root-fifth bass is not.
- **key** (:func:`estimate_key`): Krumhansl and Kessler's profiles correlated with the
  duration-weighted pitch classes of every pitched note.

Measured (``tests/formats/test_midi_in.py``): backline's own band arrangements of corpus
charts, read back without their chord symbols, give the chart's root and major/minor
family on the large majority of beats (the test holds the figure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backline.model.chord import Chord, parse_chord
from backline.model.pitch import Key, NoteName, key_name, pc_name

__all__ = [
    "BeatWeights",
    "TEMPLATES",
    "bar_chords",
    "best_chord",
    "estimate_key",
    "spell_root",
]

#: (suffix, intervals, prior cost as a share of the span's weight)
TEMPLATES: tuple[tuple[str, tuple[int, ...], float], ...] = (
    ("", (0, 4, 7), 0.0),
    ("m", (0, 3, 7), 0.0),
    ("7", (0, 4, 7, 10), 0.0),
    ("maj7", (0, 4, 7, 11), 0.0),
    ("m7", (0, 3, 7, 10), 0.0),
    ("6", (0, 4, 7, 9), 0.03),
    ("m6", (0, 3, 7, 9), 0.03),
    ("m7b5", (0, 3, 6, 10), 0.02),
    ("dim", (0, 3, 6), 0.04),
    ("dim7", (0, 3, 6, 9), 0.03),
    ("aug", (0, 4, 8), 0.05),
    ("sus4", (0, 5, 7), 0.04),
    ("7sus4", (0, 5, 7, 10), 0.03),
)
OUTSIDE_PENALTY = 0.6
EXTRA_TONE_COST = 0.06
BASS_WEIGHT = 0.5
CHANGE_COST = 0.12
MAX_CHORDS_PER_BAR = 4
#: how many times the root's bass weight another pitch class must have in a span (and be
#: its heaviest bass note, and the lowest at its first beat) for the chord to be named
#: over it: C/E, Ab/Bb
SLASH_OVER_ROOT = 2.0

#: a template's third (none for sus chords) carrying under this share of a span's weight
#: is missing, which costs :data:`MISSING_THIRD_COST` of it: C E G over F is C/F, not an
#: Fmaj7 without its A
MISSING_THIRD_SHARE = 0.05
MISSING_THIRD_COST = 0.25
_MINOR_THIRD = frozenset({"m", "m7", "m6", "m7b5", "dim", "dim7"})

_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True)
class BeatWeights:
    """Per counted beat of a bar: pitch-class weights of the chord notes and of the bass."""

    tones: np.ndarray  # (beats, 12)
    bass: np.ndarray  # (beats, 12)


def _masks() -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """(templates x 12 membership, templates costs, (root, suffix) per template)."""
    rows, costs, names = [], [], []
    for root in range(12):
        for suffix, intervals, prior in TEMPLATES:
            m = np.zeros(12)
            m[[(root + i) % 12 for i in intervals]] = 1.0
            rows.append(m)
            costs.append(prior + EXTRA_TONE_COST * (len(intervals) - 3))
            names.append((root, suffix))
    return np.array(rows), np.array(costs), names


_MASK, _COST, _NAMES = _masks()
_ROOT = np.array([r for r, _ in _NAMES])
_THIRD = np.array([-1 if "sus" in x else (r + (3 if x in _MINOR_THIRD else 4)) % 12 for r, x in _NAMES])


def _scores(tones: np.ndarray, bass: np.ndarray) -> np.ndarray:
    """Score of every template for a span with these summed weights."""
    total = float(tones.sum())
    inside = _MASK @ tones
    outside = total - inside
    no_third = (_THIRD >= 0) & (tones[_THIRD] < MISSING_THIRD_SHARE * total)
    return (
        inside
        - OUTSIDE_PENALTY * outside
        - (_COST + MISSING_THIRD_COST * no_third) * total
        + BASS_WEIGHT * bass[_ROOT]
    )


def best_chord(tones: np.ndarray, bass: np.ndarray, key: Key | None) -> tuple[Chord | None, float]:
    """The chord that explains a span's summed pitch-class weights best, and its score;
    ``(None, 0)`` (N.C.) for a span without pitched notes."""
    i, score = _best(tones, bass)
    return _chord(i, key), score


def _best(tones: np.ndarray, bass: np.ndarray) -> tuple[int, float]:
    """(template index, score) of the best chord for a span; ``(-1, 0)`` without notes."""
    if float(tones.sum()) <= 1e-9:
        return -1, 0.0
    s = _scores(tones, bass)
    i = int(np.argmax(s))
    return i, float(s[i])


def _chord(index: int, key: Key | None) -> Chord | None:
    """The chord of a template index (-1: N.C.), its root spelled in ``key``."""
    if index < 0:
        return None
    root, suffix = _NAMES[index]
    return parse_chord(f"{spell_root(root, key)}{suffix}")


#: Letter steps above the tonic for each interval, as chord roots are named: bII, bIII,
#: bVI, bVII flat, #IV sharp, the major third and sixth in minor natural.
_ROOT_STEPS = (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6)


def spell_root(pc: int, key: Key | None) -> NoteName:
    """A chord root spelled by its function in ``key`` (Db, not C#, for bII in C; F# for
    #IV; E for the major III in C minor); without a key, the flat name."""
    if key is None:
        return pc_name(pc)
    iv = (pc - key.tonic.pc) % 12
    return key.tonic.transpose(iv, _ROOT_STEPS[iv]).simplified()


def bar_chords(weights: BeatWeights, key: Key | None) -> list[tuple[int, Chord | None]]:
    """The chords of one bar as (first counted beat, chord) pairs: the cut of the bar's
    beats into at most :data:`MAX_CHORDS_PER_BAR` spans with the best total score, each
    new span costing :data:`CHANGE_COST` of the bar's weight (dynamic programming over
    the cut points)."""
    n = len(weights.tones)
    if n == 0:
        return []
    cost = CHANGE_COST * float(weights.tones.sum())
    ct = np.vstack([np.zeros(12), np.cumsum(weights.tones, axis=0)])
    cb = np.vstack([np.zeros(12), np.cumsum(weights.bass, axis=0)])

    # every span [a, b) scored once: (template index, score)
    span = {(a, b): _best(ct[b] - ct[a], cb[b] - cb[a]) for b in range(1, n + 1) for a in range(b)}

    # best[k][j]: best score of beats [0, j) cut into k spans
    inf = float("-inf")
    kmax = min(MAX_CHORDS_PER_BAR, n)
    best = [[inf] * (n + 1) for _ in range(kmax + 1)]
    back = [[0] * (n + 1) for _ in range(kmax + 1)]
    best[0][0] = 0.0
    for k in range(1, kmax + 1):
        for j in range(1, n + 1):
            for a in range(k - 1, j):
                if best[k - 1][a] == inf:
                    continue
                v = best[k - 1][a] + span[a, j][1]
                if v > best[k][j]:
                    best[k][j], back[k][j] = v, a
    k = max(range(1, kmax + 1), key=lambda kk: (best[kk][n] - cost * (kk - 1), -kk))
    cuts = []
    j = n
    while k > 0:
        a = back[k][j]
        cuts.append((a, j))
        j, k = a, k - 1
    out: list[tuple[int, Chord | None]] = []
    last = (-2, -1)  # no template index, no slash bass
    for a, b in reversed(cuts):
        i = span[a, b][0]
        low = _slash_bass(i, cb[b] - cb[a], weights.bass[a])
        if (i, low) != last:  # the same chord again is one span
            chord = _chord(i, key)
            if chord is not None and low >= 0:
                chord = chord.with_bass(_spell_bass(chord, low))
            out.append((a, chord))
            last = (i, low)
    return out


def _slash_bass(index: int, bass: np.ndarray, first: np.ndarray) -> int:
    """The pitch class a span's chord is heard over when it is not the root (an inversion,
    C/E; or a bass note outside the chord, Ab/Bb), else -1: the lowest note at the span's
    first beat, the heaviest in its bass, with :data:`SLASH_OVER_ROOT` times the root's
    weight there. A walking or root-fifth bass names no slash: at a change it is on the
    root, and across the span no other note outweighs the root twice."""
    if index < 0 or float(first.max()) <= 0:
        return -1
    pc = int(np.argmax(first))
    root = int(_ROOT[index])
    if pc == root or int(np.argmax(bass)) != pc or bass[pc] < SLASH_OVER_ROOT * bass[root]:
        return -1
    return pc


#: Letter steps above a chord's root for each interval of its slash bass: a tone of the
#: chord by its degree (the third of Ab is C, not B#; the fifth of Cdim is Gb, of Caug
#: G#), a bass outside the chord as the step it is (C/F#, C/Ab, C/Bb).
_TONE_STEPS = (0, 1, 1, 2, 2, 3, 4, 4, 4, 5, 6, 6)
_OTHER_STEPS = (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6)


def _spell_bass(chord: Chord, pc: int) -> NoteName:
    """A slash bass spelled by its interval above the chord's root."""
    iv = (pc - chord.root.pc) % 12
    steps = _TONE_STEPS if pc in chord.tones else _OTHER_STEPS
    return chord.root.transpose(iv, steps[iv]).simplified()


def estimate_key(pitch_classes: np.ndarray) -> Key | None:
    """The key whose Krumhansl-Kessler profile correlates best with the duration-weighted
    pitch classes; None without pitched notes."""
    w = np.asarray(pitch_classes, dtype=float)
    if w.sum() <= 0 or np.ptp(w) <= 0:
        return None
    best = (-2.0, 0, "major")
    for t in range(12):
        for mode, prof in (("major", _MAJOR), ("minor", _MINOR)):
            r = float(np.corrcoef(np.roll(prof, t), w)[0, 1])
            if r > best[0]:
                best = (r, t, mode)
    _, tonic, mode = best
    return key_name(tonic, mode)
