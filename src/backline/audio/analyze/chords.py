"""Chords on the beat: beat-synchronous chroma, note transcription, templates, Viterbi.

Each beat's constant-Q semitone magnitudes (MIDI 24-107) give two views:

- a *spectral* chroma (MIDI 31-95 folded, broadband floor removed, log-compressed),
  matched against templates that include each chord tone's harmonics;
- an *approximate note transcription* (Mauch & Dixon 2010, "Chordino"): a non-negative
  least-squares fit of note templates with harmonics 1-6 and 8 (amplitude
  :data:`HARMONIC_DECAY` ``**(h-1)``) for MIDI 24-95, which removes the harmonics
  (a bass note's octave, fifth and major third no longer count as chord tones). Its
  activations give a treble chroma (from C3, fading in over an octave to full weight
  at C4, matched against plain chord templates) and a bass chroma (MIDI 28-54 under a
  sine window). Keeping the bass register out of the treble chroma lets a chord over a
  pedal or an inversion (Bm/A, F/C) be read as the chord above the bass.

A chord (root, quality) scores :data:`SPECTRAL_SHARE` of the spectral cosine plus the
rest of the note cosine, plus a bass term (the share of bass-note energy on the root).
"No chord" scores below the best chord unless the beat's :func:`tonality` is low (a
stop-time bar with drums and reverb tails only). Scores become log-likelihoods.
Sevenths must beat their triad by a margin (an added tone that is only a passing note
should not turn C into Cmaj7).

The sequence is decoded by Viterbi, either with the bar known
(:func:`decode_chords`: self-transition likely, changes likelier on downbeats and half
bars) or jointly with the position in the bar (:func:`decode_chords_and_bars`), so that
chord changes place the bar lines. On the rendered evaluation set the joint decoding
lifted the downbeat F-measure from 0.63 to 0.82. Once the key is known, a second joint
pass adds the harmony model's key-aware chord prior (:data:`HARMONY_PRIOR_WEIGHT`) and
chord-change bigram (:data:`HARMONY_TRANSITION_WEIGHT`;
:mod:`backline.model.harmony`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from backline.audio.analyze.features import PITCH_LOW
from backline.audio.analyze.harte import POWER_QUALITY, QUALITY_INTERVALS

__all__ = [
    "CHORD_STATES",
    "ChordChromas",
    "beat_chromas",
    "chord_chromas",
    "chord_fit",
    "chromas_scores",
    "decode_chords",
    "decode_chords_and_bars",
    "is_noise",
    "tonal_share",
    "chord_scores",
    "chord_change_curve",
    "note_activations",
    "power_chords",
]

_QUALS = tuple(QUALITY_INTERVALS)
#: (root pc, quality) for every state; the last state is "N" (no chord).
CHORD_STATES: tuple[tuple[int, str], ...] = tuple((r, q) for q in _QUALS for r in range(12)) + ((-1, "N"),)
COMPRESSION = 5.0
#: MIDI range folded into the spectral chord chroma (G1..B6: rootless piano voicings
#: need the bass to be heard as a chord) and into the spectral bass chroma (E1..E3).
CHROMA_RANGE = (31, 96)
BASS_RANGE = (28, 52)
#: Notes transcribed by the NNLS fit, and the note ranges of its treble and bass chromas.
NOTE_RANGE = (24, 96)
NOTE_TREBLE_RANGE = (48, 96)
NOTE_BASS_RANGE = (28, 55)
HARMONIC_DECAY = 0.7
#: Semitones over which the treble chroma fades in above its lowest note.
NOTE_TREBLE_RAMP = 12
_NOTE_HARMONICS = (1, 2, 3, 4, 5, 6, 8)
#: Weight of the spectral chroma's score against the note chroma's (the rest).
SPECTRAL_SHARE = 0.5
#: Probability of a chord change on a downbeat, on the half bar, on any other beat.
CHANGE_P = (0.45, 0.2, 0.04)
BASS_WEIGHT = 0.15
#: "No chord" wins over the best chord when a beat's tonality (:func:`tonality`) falls
#: this far below :data:`NC_TONALITY` (the score gap of 0.3 divided by the slope).
NC_TONALITY = 0.8
NC_SLOPE = 1.5
#: Weight of a beat's attack as downbeat evidence when chords and bars are decoded
#: together, and the probability of a jump in the bar position (a dropped or added beat).
DOWNBEAT_WEIGHT = 1.0
#: Weights of the harmony model (:mod:`backline.model.harmony`) in the second
#: decoding pass: its chord prior (added to the chord scores) and its chord-change
#: log-weights (added to the log-probability of a change).
HARMONY_PRIOR_WEIGHT = 0.02
HARMONY_TRANSITION_WEIGHT = 0.5
BAR_SWITCH = 1e-3
SHARPNESS = 30.0
#: A beat's chord has no third when its stronger third (minor or major) in the note
#: chroma is below this share of its root or fifth, whichever is stronger; a song is
#: played in power chords when at least :data:`POWER_SONG_SHARE` of its chord beats have
#: none (:func:`power_chords`).
POWER_THIRD = 0.25
POWER_SONG_SHARE = 0.5
_SEVENTH_PENALTY = {
    "maj": 0.0,
    "min": 0.0,
    "7": 0.03,
    "min7": 0.03,
    "maj7": 0.0375,
    "dim": 0.045,
    "hdim7": 0.045,
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


def _plain_templates() -> np.ndarray:
    """Unit-norm chroma templates of the chord tones alone (for the note chroma)."""
    t = np.zeros((len(CHORD_STATES) - 1, 12))
    for i, (r, q) in enumerate(CHORD_STATES[:-1]):
        for j, iv in enumerate(QUALITY_INTERVALS[q]):
            t[i, (r + iv) % 12] += (1.0, 1.0, 0.8, 0.75)[j]
    return t / np.linalg.norm(t, axis=1, keepdims=True)


_T_NOTES = _plain_templates()


@cache
def _note_dictionary() -> np.ndarray:
    """(84 semitone bins, notes): each note's spectrum, harmonics decaying geometrically."""
    lo, hi = NOTE_RANGE
    e = np.zeros((84, hi - lo))
    for j, m in enumerate(range(lo, hi)):
        for h in _NOTE_HARMONICS:
            b = m + round(12 * np.log2(h)) - PITCH_LOW
            if 0 <= b < 84:
                e[b, j] += HARMONIC_DECAY ** (h - 1)
    return e


def note_activations(pitch_beats: np.ndarray) -> np.ndarray:
    """(notes of :data:`NOTE_RANGE`, beats): the NNLS note amplitudes that explain each
    beat's (84, beats) semitone magnitudes, harmonics included."""
    from scipy.optimize import nnls

    e = _note_dictionary()
    out = np.zeros((e.shape[1], pitch_beats.shape[1]))
    for t in range(pitch_beats.shape[1]):
        col = pitch_beats[:, t]
        if np.any(col > 0):
            out[:, t] = nnls(e, col.astype(np.float64), maxiter=50 * e.shape[1])[0]
    return out


def _fold_notes(a: np.ndarray, lo: int, hi: int, weights: np.ndarray | None = None) -> np.ndarray:
    notes = np.arange(*NOTE_RANGE)
    w = ((notes >= lo) & (notes < hi)).astype(float)
    if weights is not None:
        w = w * weights
    c = np.zeros((12, a.shape[1]))
    np.add.at(c, notes % 12, a * w[:, None])
    return c


@dataclass(frozen=True)
class ChordChromas:
    """Per-beat chromas (12, beats): ``treble`` (spectral, unit norm), ``notes`` (from the
    note transcription, unit norm), ``bass`` (sum 1), the beat ``energy`` and its
    ``tonality`` (:func:`tonality`)."""

    treble: np.ndarray
    notes: np.ndarray
    bass: np.ndarray
    energy: np.ndarray
    tonality: np.ndarray


def _log_unit(c: np.ndarray) -> np.ndarray:
    ref = float(np.percentile(c.max(axis=0), 95)) if c.size else 1.0
    cl = np.log1p(COMPRESSION * c / (ref + 1e-12))
    return cl / (np.linalg.norm(cl, axis=0, keepdims=True) + 1e-9)


def chord_chromas(pitch_beats: np.ndarray) -> ChordChromas:
    """All the chromas the chord decoder uses, from (84, beats) semitone magnitudes."""
    peaks = _tonal_peaks(pitch_beats)
    treble, _, energy = _spectral_chromas(pitch_beats, peaks)
    act = note_activations(pitch_beats)
    tonal = tonality(pitch_beats, peaks, energy)
    notes = np.arange(*NOTE_RANGE)
    lo, hi = NOTE_BASS_RANGE
    window = np.sin(np.pi * (np.clip(notes, lo, hi) - lo + 0.5) / (hi - lo)).clip(0)
    bass = _fold_notes(act, lo, hi, window) ** 2
    bass = bass / (bass.sum(axis=0, keepdims=True) + 1e-12)
    lo, hi = NOTE_TREBLE_RANGE
    ramp = np.clip((notes - lo + 1) / (NOTE_TREBLE_RAMP + 1), 0.0, 1.0)
    return ChordChromas(treble, _log_unit(_fold_notes(act, lo, hi, ramp)), bass, energy, tonal)


#: A recording is noise, not music, when its spectrum holds no notes: the in-tune
#: semitone salience averaged over the sounding frames stands above its running median
#: over an octave (:data:`NOISE_PEAK_SPAN` semitones) by less than this share of its sum.
#: Noise's average is smooth, the notes of music stand out of it. Measured: white, pink
#: and brown noise of 20 s 0.013-0.021 (60 s: 0.007-0.012); the 296 rendered evaluation
#: songs at least 0.096 over the whole song and 0.13 in any 10 s of it, the madmom piano
#: recordings 0.22 and 0.55, a drum stem 0.29, a triad of harmonic tones under white
#: noise as loud as it 0.14. A noise's average is rougher the shorter it is (about 0.08
#: over the square root of its seconds), so a short file needs :data:`NOISE_SHARE_1S`
#: over the square root of its seconds; any second of the rendered songs holds 0.18.
NOISE_SHARE = 0.045
NOISE_SHARE_1S = 0.14
NOISE_PEAK_SPAN = 13


def tonal_share(pitch: np.ndarray) -> float:
    """The share of the (84, frames) semitone salience, averaged over the frames, that
    stands above its running median over :data:`NOISE_PEAK_SPAN` semitones: near 0 for
    noise, at least 0.1 for music (see :data:`NOISE_SHARE`)."""
    from scipy.ndimage import median_filter

    avg = np.asarray(pitch, dtype=float).mean(axis=1)
    total = float(avg.sum())
    if total <= 0:
        return 0.0
    return float(
        np.clip(avg - median_filter(avg, size=NOISE_PEAK_SPAN, mode="nearest"), 0, None).sum() / total
    )


def is_noise(pitch: np.ndarray, frames_per_second: float) -> bool:
    """Whether (84, frames) semitone magnitudes hold no pitched sound (see
    :data:`NOISE_SHARE`): then no key or chord is read from them. Frames far quieter
    than the median (under 5%) are left out."""
    p = np.asarray(pitch, dtype=float)
    e = p.sum(axis=0) if p.size else np.zeros(0)
    if not np.any(e > 0):
        return False
    p = p[:, e > 0.05 * np.median(e[e > 0])]
    seconds = p.shape[1] / frames_per_second
    return tonal_share(p) < max(NOISE_SHARE, NOISE_SHARE_1S / np.sqrt(seconds))


def _tonal_peaks(pitch_beats: np.ndarray) -> np.ndarray:
    """Each beat's salience minus its running median over an octave of pitch: the tonal
    peaks, with the broadband energy of drums and noise removed."""
    from scipy.ndimage import median_filter

    floor = median_filter(pitch_beats, size=(13, 1), mode="nearest")
    return np.maximum(pitch_beats - floor, 0.0)


def tonality(pitch_beats: np.ndarray, peaks: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """How tonal each beat is, relative to the recording's typical beat (about 1).

    The share of a beat's semitone energy in its tonal peaks (:func:`_tonal_peaks`),
    divided by the median share over the beats that are not near-silent. A stop-time
    bar where only drums and reverb tails sound falls to about half."""
    if pitch_beats.shape[1] == 0:
        return np.zeros(0)
    share = peaks.sum(axis=0) / (pitch_beats.sum(axis=0) + 1e-12)
    live = energy > 0.05
    ref = float(np.median(share[live])) if live.any() else float(np.median(share))
    return share / (ref + 1e-12)


def _fold(p: np.ndarray, lo: int, hi: int) -> np.ndarray:
    c = np.zeros((12, p.shape[1]))
    for m in range(lo, hi):
        c[m % 12] += p[m - PITCH_LOW]
    return c


def beat_chromas(
    pitch_beats: np.ndarray, *, bass_from_notes: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spectral treble chroma unit-norm, bass chroma sum-1, energy) per beat from
    (84, beats) salience; the bass chroma from the note transcription when asked.

    Broadband energy (drums, noise) is removed first: each beat's salience minus its
    running median over an octave of pitch, so that only tonal peaks remain."""
    if bass_from_notes:
        cc = chord_chromas(pitch_beats)
        return cc.treble, cc.bass, cc.energy
    return _spectral_chromas(pitch_beats, _tonal_peaks(pitch_beats))


def _spectral_chromas(pitch_beats: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`beat_chromas` from the salience and its tonal peaks ``p``."""
    total = pitch_beats.sum(axis=0)
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


def chord_scores(
    treble: np.ndarray,
    bass: np.ndarray,
    energy: np.ndarray,
    *,
    notes: np.ndarray | None = None,
    tonality: np.ndarray | None = None,
    bass_weight: float | None = None,
) -> np.ndarray:
    """(states, beats): how well each chord state (:data:`CHORD_STATES`, "N" last) fits
    each beat. ``treble`` is the spectral chroma; with ``notes`` (the note-transcription
    chroma, :func:`chord_chromas`) the two templates' cosines are mixed by
    :data:`SPECTRAL_SHARE`; with ``tonality`` a beat that is mostly noise scores "N"."""
    bass_weight = BASS_WEIGHT if bass_weight is None else bass_weight
    sim = _T @ treble  # (states-1, n)
    if notes is not None:
        sim = SPECTRAL_SHARE * sim + (1 - SPECTRAL_SHARE) * (_T_NOTES @ notes)
    roots = np.array([r for r, _ in CHORD_STATES[:-1]])
    sim = sim + bass_weight * bass[roots]
    pen = np.array([_SEVENTH_PENALTY[q] for _, q in CHORD_STATES[:-1]])
    sim = sim - pen[:, None]
    silent = energy < 1e-3
    n_score = sim.max(axis=0) - 0.3
    if tonality is not None:
        n_score = n_score + NC_SLOPE * np.clip(NC_TONALITY - tonality, 0.0, None)
    n_score = np.where(silent, sim.max(axis=0) + 1.0, n_score)
    return np.vstack([sim, n_score[None, :]])


def chromas_scores(cc: ChordChromas) -> np.ndarray:
    """:func:`chord_scores` of all the views in ``cc``."""
    return chord_scores(cc.treble, cc.bass, cc.energy, notes=cc.notes, tonality=cc.tonality)


def chord_fit(full: np.ndarray) -> float:
    """How well the beats each hold one chord, from their :func:`chord_scores`: the
    median over beats of the best chord's score ("no chord" left out). A grid on the
    off-beats splits chords across beats and fits worse."""
    if full.shape[1] < 2:
        return 0.0
    return float(np.median(full[:-1, 1:].max(axis=0)))


def _change_p(pos: np.ndarray) -> np.ndarray:
    """P(chord change) on a beat at position ``pos`` in its bar (0 = downbeat)."""
    return np.where(pos == 0, CHANGE_P[0], np.where(pos == 2, CHANGE_P[1], CHANGE_P[2]))


def decode_chords(
    treble: np.ndarray,
    bass: np.ndarray,
    energy: np.ndarray,
    beat_in_bar: np.ndarray | None = None,
    *,
    notes: np.ndarray | None = None,
    tonality: np.ndarray | None = None,
    bass_weight: float | None = None,
    sharpness: float | None = None,
) -> tuple[list[tuple[int, str]], np.ndarray]:
    """The chord state per beat (root pc, quality; (-1, "N") for none) and its score,
    for beats whose position in the bar is known (or not: ``beat_in_bar=None``)."""
    n = treble.shape[1]
    if n == 0:
        return [], np.zeros(0)
    sharpness = SHARPNESS if sharpness is None else sharpness
    full = chord_scores(treble, bass, energy, notes=notes, tonality=tonality, bass_weight=bass_weight)
    loglik = sharpness * full
    # Change probability by position: downbeat, half bar, other beats.
    if beat_in_bar is None:
        p_change = np.full(n, 0.15)
    else:
        p_change = _change_p(np.asarray(beat_in_bar))
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


def decode_chords_and_bars(
    full: np.ndarray,
    meter: int,
    downbeat: np.ndarray,
    *,
    sharpness: float | None = None,
    switch: float = BAR_SWITCH,
    transitions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Chords and bar positions decoded together: (chord state index per beat, position
    in the bar per beat, 0 = downbeat).

    ``full`` is :func:`chord_scores`; ``downbeat`` how much each beat sounds like a
    downbeat from its attack (:func:`backline.audio.analyze.beats.downbeat_evidence`),
    weighted by :data:`DOWNBEAT_WEIGHT`. The hidden state is (position, chord): the
    position advances by one each beat (or jumps, with probability ``switch``: a dropped
    or added beat), and chords change most readily on downbeats (:data:`CHANGE_P`). So
    chord changes place the bar lines and the bar lines place the chord changes.

    ``transitions`` (states x states, from :meth:`HarmonyModel.transitions`) adds to
    the log-probability of each change which chord it goes to; without it every change
    is equally likely."""
    s, n = full.shape
    sharpness = SHARPNESS if sharpness is None else sharpness
    loglik = sharpness * full  # (s, n)
    m = max(1, meter)
    pos_emit = np.zeros((m, n))
    pos_emit[0] = DOWNBEAT_WEIGHT * downbeat
    if m > 1:
        pos_emit[1:] = -DOWNBEAT_WEIGHT * downbeat / (m - 1) * 0.5
    trans = np.full((m, m), np.log(switch / max(1, m - 1)) if m > 1 else 0.0)
    for p in range(m):
        trans[p, (p + 1) % m] = np.log(1 - switch) if m > 1 else 0.0
    change = _change_p(np.arange(m))  # by the new position
    stay_lp = np.log1p(-change)
    move_lp = np.log(change / (s - 1))
    score = loglik[:, 0][None, :] + pos_emit[:, :1]  # (m, s)
    back_pos = np.zeros((n, m, s), dtype=np.int8)
    back_chord = np.zeros((n, m, s), dtype=np.int16)
    idx = np.arange(s)
    change_to = np.zeros((s, s)) if transitions is None else np.asarray(transitions, dtype=float).copy()
    np.fill_diagonal(change_to, -np.inf)  # staying is not a change
    for t in range(1, n):
        cand = score[:, None, :] + trans[:, :, None]  # (from p, to q, chord)
        bp = np.argmax(cand, axis=0)  # (q, s): best previous position per chord
        best_same = np.take_along_axis(cand, bp[None], axis=0)[0]  # (q, s)
        stay = best_same + stay_lp[:, None]
        moves = best_same[:, :, None] + change_to[None]  # (q, from chord, to chord)
        bc = np.argmax(moves, axis=1)  # (q, s): best previous chord per new position and chord
        move = np.take_along_axis(moves, bc[:, None, :], axis=1)[:, 0, :] + move_lp[:, None]
        take_move = move > stay
        back_chord[t] = np.where(take_move, bc, idx[None, :])
        back_pos[t] = np.where(take_move, np.take_along_axis(bp, bc, axis=1), bp)
        score = np.maximum(stay, move) + loglik[:, t][None, :] + pos_emit[:, t : t + 1]
    chords = np.zeros(n, dtype=np.int32)
    pos = np.zeros(n, dtype=np.int32)
    q, c = np.unravel_index(int(np.argmax(score)), score.shape)
    pos[-1], chords[-1] = q, c
    for t in range(n - 1, 0, -1):
        q, c = back_pos[t, q, c], back_chord[t, q, c]
        pos[t - 1], chords[t - 1] = q, c
    return chords, pos


def power_chords(states: list[tuple[int, str]], notes: np.ndarray) -> list[tuple[int, str]]:
    """``states`` with the chords of the beats that have no third made power chords
    (:data:`~backline.audio.analyze.harte.POWER_QUALITY`, Harte ``E:5``) in a song played in power chords; any other song
    unchanged. ``notes`` is the note-transcription chroma (:class:`ChordChromas`), where a
    root's own harmonics (its fifth harmonic is a major third) are already taken off, so
    the decoder's major triad on a bare fifth shows no third there."""
    roots = np.array([r for r, _ in states], dtype=int)
    cols = np.flatnonzero(roots >= 0)
    if len(cols) == 0 or notes.shape[1] < len(states):
        return states
    r = roots[cols]
    third = np.maximum(notes[(r + 3) % 12, cols], notes[(r + 4) % 12, cols])
    frame = np.maximum(notes[r, cols], notes[(r + 7) % 12, cols])
    bare = third < POWER_THIRD * frame
    if float(bare.mean()) < POWER_SONG_SHARE:
        return states
    thirdless = set(cols[bare].tolist())
    return [(r, POWER_QUALITY) if i in thirdless else (r, q) for i, (r, q) in enumerate(states)]
