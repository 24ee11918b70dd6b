"""Key: from the recognised chords, read by a classifier learned from chord charts.

The chord of every beat is turned into runs (root, family, beats) and scored in each of
the 24 keys by the harmony model's key classifier (:meth:`HarmonyModel.key_scores`,
trained on about 2,000 iReal Pro charts, see :mod:`backline.model.harmony`):
which functions hold the beats, the first and last chords, the chords of the close and
how well the key's chord-change statistics explain the changes. Two audio terms are
added: the correlation of the key's profile (Temperley's) with the chord-tone
histogram, weighted :data:`W_PROFILE` (it decides alone when no chord was found), and
the bass's share of time on each pitch class, weighted :data:`W_BASS_TONIC`, added to
the keys with that tonic (a tonic pedal under F/C and C names C major).

A song that lifts a semitone or a whole tone to the end (:func:`find_modulation`) is read
with the lift read back (:func:`without_modulation`): the key is the home key, the one its
chart names. Power chords (quality ``"5"``, :func:`backline.audio.analyze.chords.power_chords`)
are read by each key as the triad it uses more.

It replaced a hand-set table of chord functions with closing-chord and bass weights:
that table was tuned on the first two evaluation sets (88% and 85%) and fell to 62% on
a third. The classifier, trained with the songs of all four sets held out, reaches 85%,
85%, 88% and 79% (115 of the 136 songs, with the drum tones taken off the pitch
features: :mod:`backline.audio.analyze.drum_tones`); from the charts' own chords, 117.
"""

from __future__ import annotations

import numpy as np

from backline.model.harmony import HarmonyModel, chord_runs, default_model
from backline.model.pitch import Key, key_name, pc_name

__all__ = [
    "estimate_key",
    "find_modulation",
    "key_name",
    "key_of_scores",
    "key_posterior",
    "key_scores",
    "likeliest_keys",
    "without_modulation",
]

_MAJOR = np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0])
_MINOR = np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0])
W_PROFILE = 0.25
#: Weight of the bass's share of time on the tonic (a pedal or a bass that keeps
#: returning home names the key when the chords above it wander).
W_BASS_TONIC = 1.0


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
    return key_of_scores(*key_scores(chroma_sum, chords, bass=bass, model=model))


def key_of_scores(scores: np.ndarray, with_chords: bool) -> tuple[Key, float]:
    """:func:`estimate_key` from :func:`key_scores`' result."""
    if not np.any(scores):
        return Key(pc_name(0), "major"), 0.0
    best = int(np.argmax(scores))
    if with_chords:
        conf = float(key_posterior(scores)[best])
    else:
        second = float(np.sort(scores)[-2])
        conf = float(np.clip((scores[best] - second) / W_PROFILE * 0.5 + 0.3, 0, 1))
    return _key_at(best), conf


def _key_at(index: int) -> Key:
    """The key of a score index (0-11 major, 12-23 minor, by tonic)."""
    return key_name(index % 12, "major" if index < 12 else "minor")


#: :func:`likeliest_keys` gives at most this many keys, each at least this likely.
CANDIDATES = 3
CANDIDATE_FLOOR = 0.05


def likeliest_keys(scores: np.ndarray, with_chords: bool) -> tuple[tuple[Key, float], ...]:
    """The likeliest keys with their probabilities under the classifier, likeliest first,
    from :func:`key_scores`' result (the first is :func:`key_of_scores`'): at most
    :data:`CANDIDATES`, each at least :data:`CANDIDATE_FLOOR`. Empty when no chord was
    found (the chroma profile alone gives no probabilities)."""
    if not with_chords:
        return ()
    p = key_posterior(scores)
    order = np.argsort(-p, kind="stable")[:CANDIDATES]
    return tuple(
        (_key_at(int(k)), float(p[k])) for i, k in enumerate(order) if i == 0 or p[k] >= CANDIDATE_FLOOR
    )


#: A modulation up a semitone or a whole tone (the "truck driver's gear change" of a
#: last chorus) is taken when reading the chords after it a step lower makes them
#: likelier under the harmony model by at least this much (nats per chord beat after
#: it) and both parts hold :data:`MODULATION_MIN_BEATS` chord beats.
MODULATION_GAIN = 1.0
MODULATION_MIN_BEATS = 16
MODULATION_STEPS = (1, 2)


def find_modulation(
    chords: list[tuple[int, str]], *, model: HarmonyModel | None = None
) -> tuple[int, int] | None:
    """(index of the first beat in the new key, semitones up) of a lift that lasts to the
    end, or None. Each chord beat is scored by the harmony model's unigram (how likely
    its function is in a key); the song in one key is compared with the song whose
    beats from the lift on are read :data:`MODULATION_STEPS` lower."""
    from backline.model.harmony import FAMILY_OF_QUALITY, POWER, function_index

    hm = model or default_model()
    idx = [i for i, (r, q) in enumerate(chords) if r >= 0 and FAMILY_OF_QUALITY.get(q) not in (None, POWER)]
    n = len(idx)
    if n < 2 * MODULATION_MIN_BEATS:
        return None
    keys = np.arange(24)
    # (keys, beats): each beat's function in each key, and its log-probability there
    fn = np.array(
        [[function_index(chords[i][0] - k, FAMILY_OF_QUALITY[chords[i][1]]) for i in idx] for k in range(12)]
    )
    lp = hm.log_unigram[(keys // 12)[:, None], fn[keys % 12]]
    cum = np.concatenate([np.zeros((24, 1)), np.cumsum(lp, axis=1)], axis=1)
    total = cum[:, -1]
    one_key = float(total.max())
    splits = np.arange(MODULATION_MIN_BEATS, n - MODULATION_MIN_BEATS + 1)
    best: tuple[float, int, int] = (0.0, -1, 0)
    for step in MODULATION_STEPS:
        lifted = (keys // 12) * 12 + (keys % 12 + step) % 12
        # (keys, splits): the head in key k, the tail in key k + step
        gain = (cum[:, splits] + total[lifted][:, None] - cum[lifted][:, splits]).max(axis=0) - one_key
        j = int(np.argmax(gain))  # the whole lift gains most: its first beat
        if gain[j] >= MODULATION_GAIN * (n - splits[j]) and gain[j] > best[0]:
            best = (float(gain[j]), int(splits[j]), step)
    if best[1] < 0:
        return None
    return idx[best[1]], best[2]


def without_modulation(
    chords: list[tuple[int, str]], modulation: tuple[int, int] | None
) -> list[tuple[int, str]]:
    """``chords`` with the beats from a modulation on read back in the first key."""
    if modulation is None:
        return chords
    at, step = modulation
    return chords[:at] + [(r if r < 0 else (r - step) % 12, q) for r, q in chords[at:]]
