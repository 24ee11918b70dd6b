"""A harmony model learned from chord charts: which chords a key uses, and which follow which.

Chords are counted by their *function*: the interval of the root above the key's tonic
and the chord's family (:data:`FAMILIES`: major, dominant seventh, minor, diminished),
so one model serves all twelve keys. For each mode (major, minor) it holds

- how many beats each function holds (a unigram), and
- how often each function moves to each other one (a bigram over chord changes).

It lives with the song model because it is about charts, not sound: the audio analyser
uses it, and so does the MIDI reader to name the key of a file without a key signature
(:func:`song_key`). The analyser uses it twice:

- **Key** (:meth:`HarmonyModel.key_scores`): a log-linear classifier over the 24 keys,
  trained on the charts, reads the recognised chord sequence: the share of beats each
  function holds, the first and the last chord, the chords of the closing beats, and how
  well the bigram explains the changes. It replaced a hand-set table of chord functions
  that had been tuned on the evaluation sets and fell to 62% on a third one.
- **Chords**, once the key is known: the unigram as a prior on each beat's chord
  (:meth:`HarmonyModel.chord_prior`), the bigram as the chord-change probabilities of
  the Viterbi decoding (:meth:`HarmonyModel.transitions`). A dominant on the fifth
  degree is then likelier than one on the flat sixth, and V7 is likelier to go to I
  than to ii.

The shipped counts (``backline/data/harmony.json``) come from the iReal Pro playlists of
the shared corpora (about 2,000 charts with keys), leaving out every song the analysis
evaluation sets render; ``scripts/train_harmony.py`` rebuilds them. The counts are
stored raw (smoothing is applied when the model is loaded), with the key classifier's
weights.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from backline.errors import BacklineError
from backline.model.chord import Quality
from backline.model.form import expand
from backline.model.pitch import Key, key_name
from backline.model.song import Song

__all__ = [
    "FAMILIES",
    "FAMILY_OF_QUALITY",
    "HarmonyCounts",
    "HarmonyModel",
    "chord_family",
    "chord_runs",
    "count_songs",
    "default_model",
    "fit_key_weights",
    "key_index",
    "song_examples",
    "song_key",
    "title_key",
    "train",
]

#: The analyser's label of a power chord (Harte shorthand ``5``, root and fifth:
#: :data:`backline.audio.analyze.harte.POWER_QUALITY` is this one).
POWER_QUALITY = "5"
#: Chord families: major (triad, 6, maj7), dominant seventh, minor, diminished (and half-).
FAMILIES = ("M", "D", "m", "o")
#: The family of a power chord (root and fifth, no third) in the analyser's runs: each
#: key reads it as the major or minor chord on its root (:meth:`HarmonyModel.key_features`).
POWER = "5"
#: The family of each quality the analyser reports (Harte shorthand).
FAMILY_OF_QUALITY = {
    "maj": "M",
    "maj7": "M",
    "7": "D",
    "min": "m",
    "min7": "m",
    "dim": "o",
    "hdim7": "o",
    POWER_QUALITY: POWER,
}
N_FUNCTIONS = 12 * len(FAMILIES)
#: Added to every count when the model is loaded (functions a chart never used).
SMOOTHING = 0.5
#: Floors of the log-probabilities the analyser uses: a chord outside every chart's
#: vocabulary is unlikely, not impossible.
PRIOR_FLOOR = -6.0
TRANSITION_FLOOR = -8.0
#: How many of the last chord beats the key classifier reads as the close.
CLOSING_BEATS = 12
#: Key features per mode: beat share, first chord, last chord, closing share (one per
#: function each) and a bias; then the bigram fit in major and in minor.
_MODE_FEATURES = 4 * N_FUNCTIONS + 1
KEY_FEATURES = 2 * _MODE_FEATURES + 2
#: A run of one chord: (root pitch class, family, beats).
Run = tuple[int, str, float]


def chord_family(q: Quality) -> str | None:
    """The family of a chart chord's quality, or None (sus, aug, power chord, bass only)."""
    if q.bass_only:
        return None
    iv = set(q.intervals)
    if 3 in iv and 6 in iv and 7 not in iv:
        return "o"
    if 4 in iv and 8 in iv and 7 not in iv:
        return None
    if 4 in iv:
        return "D" if 10 in iv else "M"
    if 3 in iv:
        return "m"
    return None


def function_index(interval: int, family: str) -> int:
    """Index of a chord function (root ``interval`` semitones above the tonic, family)."""
    return (interval % 12) * len(FAMILIES) + FAMILIES.index(family)


def key_index(tonic_pc: int, mode: str) -> int:
    """0-11 for the major keys (by tonic), 12-23 for the minor keys."""
    return tonic_pc % 12 + (12 if mode == "minor" else 0)


@dataclass(frozen=True)
class HarmonyCounts:
    """Raw counts per mode (0 major, 1 minor): beats per function, changes per pair."""

    unigram: np.ndarray  # (2, N_FUNCTIONS)
    bigram: np.ndarray  # (2, N_FUNCTIONS, N_FUNCTIONS)
    songs: int
    excluded: tuple[str, ...] = ()
    key_weights: np.ndarray | None = None  # (KEY_FEATURES,)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": "backline-harmony-1",
                "families": list(FAMILIES),
                "songs": self.songs,
                "excluded": list(self.excluded),
                "unigram": np.round(self.unigram, 3).tolist(),
                "bigram": self.bigram.astype(int).tolist(),
                "key_weights": None if self.key_weights is None else np.round(self.key_weights, 5).tolist(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> HarmonyCounts:
        """Counts from :meth:`to_json`'s text; :class:`BacklineError` for anything else."""
        try:
            d = json.loads(text)
            if d.get("format") != "backline-harmony-1" or tuple(d.get("families", ())) != FAMILIES:
                raise BacklineError("not a backline harmony model (format backline-harmony-1)")
            uni = np.asarray(d["unigram"], dtype=float)
            big = np.asarray(d["bigram"], dtype=float)
            kw = None if d.get("key_weights") is None else np.asarray(d["key_weights"], dtype=float)
            songs, excluded = int(d["songs"]), tuple(str(t) for t in d.get("excluded", ()))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BacklineError(f"harmony model is damaged: {exc}") from exc
        if uni.shape != (2, N_FUNCTIONS) or big.shape != (2, N_FUNCTIONS, N_FUNCTIONS):
            raise BacklineError("harmony model has the wrong shape")
        if kw is not None and kw.shape != (KEY_FEATURES,):
            raise BacklineError("harmony model's key weights have the wrong shape")
        return cls(uni, big, songs, excluded, kw)


def _merge_runs(chords: Iterable[Run]) -> list[Run]:
    """(root, family, beats) spans with neighbours of the same chord joined."""
    runs: list[Run] = []
    for root, fam, beats in chords:
        if runs and runs[-1][0] == root and runs[-1][1] == fam:
            runs[-1] = (root, fam, runs[-1][2] + beats)
        else:
            runs.append((root, fam, beats))
    return runs


def chord_runs(chords: Iterable[tuple[int, str]]) -> list[Run]:
    """Runs of one chord from a chord per beat (root pc, analyser quality; root < 0 for
    no chord, which is skipped)."""
    return _merge_runs((root, FAMILY_OF_QUALITY[q], 1.0) for root, q in chords if root >= 0)


def _song_runs(song: Song) -> list[Run] | None:
    """The runs of a song's expanded chart (chords with no family skipped); None if it
    cannot expand."""
    try:
        tl = expand(song)
    except BacklineError:
        return None
    spans = ((ev.chord, float(dur)) for _start, dur, ev, _pb in tl.chord_spans() if ev.chord is not None)
    return _merge_runs(
        (chord.root.pc, fam, dur) for chord, dur in spans if (fam := chord_family(chord.quality)) is not None
    )


def title_key(title: str) -> str:
    """A title reduced for matching: lower case, no parenthesised part, letters and
    digits only ("Desafinado (Original)" and "desafinado" match)."""
    import re

    return re.sub(r"[^0-9a-z]", "", re.sub(r"\(.*?\)", "", title.casefold()))


def song_examples(
    songs: Iterable[Song], exclude_titles: Iterable[str] = ()
) -> tuple[list[tuple[list[Run], int]], tuple[str, ...]]:
    """(runs, key index) for every song with a key and chords, and the titles left out
    (those matching ``exclude_titles`` by :func:`title_key`)."""
    skip = {title_key(t) for t in exclude_titles}
    out: list[tuple[list[Run], int]] = []
    excluded: set[str] = set()
    for song in songs:
        if title_key(song.title) in skip:
            excluded.add(song.title)
            continue
        if song.key is None:
            continue
        runs = _song_runs(song)
        if runs:
            out.append((runs, key_index(song.key.tonic.pc, song.key.mode)))
    return out, tuple(sorted(excluded))


def count_songs(examples: Sequence[tuple[list[Run], int]]) -> HarmonyCounts:
    """Count chord functions (by beats) and changes over ``examples`` (runs, key index)."""
    uni = np.zeros((2, N_FUNCTIONS))
    big = np.zeros((2, N_FUNCTIONS, N_FUNCTIONS))
    for runs, key in examples:
        m, t = key // 12, key % 12
        ids = [function_index(r - t, f) for r, f, _ in runs]
        for i, (_, _, beats) in zip(ids, runs, strict=True):
            uni[m, i] += beats
        for a, b in pairwise(ids):
            big[m, a, b] += 1
    return HarmonyCounts(uni, big, len(examples))


@dataclass(frozen=True)
class HarmonyModel:
    """Log-probabilities per mode: of each function (by beats) and of each change."""

    log_unigram: np.ndarray  # (2, N_FUNCTIONS)
    log_bigram: np.ndarray  # (2, N_FUNCTIONS, N_FUNCTIONS), rows sum to 1 in probability
    key_weights: np.ndarray | None = None  # (KEY_FEATURES,)

    @classmethod
    def from_counts(cls, counts: HarmonyCounts, smoothing: float = SMOOTHING) -> HarmonyModel:
        uni = counts.unigram + smoothing
        big = counts.bigram + smoothing
        return cls(
            np.log(uni / uni.sum(axis=-1, keepdims=True)),
            np.log(big / big.sum(axis=-1, keepdims=True)),
            counts.key_weights,
        )

    def key_features(self, runs: Sequence[Run]) -> np.ndarray:
        """(24, :data:`KEY_FEATURES`): the features of ``runs`` read in each key."""
        out = np.zeros((24, KEY_FEATURES))
        if not runs:
            return out
        total = sum(b for _, _, b in runs)
        close: list[Run] = []
        need = float(CLOSING_BEATS)
        for r, f, b in reversed(runs):
            take = min(b, need)
            close.append((r, f, take))
            need -= take
            if need <= 0:
                break
        for k in range(24):
            m, t = k // 12, k % 12
            base = m * _MODE_FEATURES
            ids = [self._function_in(m, r - t, f) for r, f, _ in runs]
            for i, (_, _, b) in zip(ids, runs, strict=True):
                out[k, base + i] += b / total
            out[k, base + N_FUNCTIONS + ids[0]] = 1.0
            out[k, base + 2 * N_FUNCTIONS + ids[-1]] = 1.0
            for r, f, b in close:
                out[k, base + 3 * N_FUNCTIONS + self._function_in(m, r - t, f)] += b / CLOSING_BEATS
            out[k, base + 4 * N_FUNCTIONS] = 1.0
            if len(ids) > 1:
                out[k, 2 * _MODE_FEATURES + m] = float(np.mean(self.log_bigram[m, ids[:-1], ids[1:]]))
        return out

    def _function_in(self, mode: int, interval: int, family: str) -> int:
        """:func:`function_index`, a power chord (family :data:`POWER`, no third) read as
        the major or minor chord on its root, whichever the mode uses more."""
        if family != POWER:
            return function_index(interval, family)
        major, minor = function_index(interval, "M"), function_index(interval, "m")
        return major if self.log_unigram[mode, major] >= self.log_unigram[mode, minor] else minor

    def key_scores(self, runs: Sequence[Run]) -> np.ndarray:
        """(24,) log-odds of each key (:func:`key_index`) for a chord sequence."""
        if self.key_weights is None:
            raise BacklineError("this harmony model has no key weights")
        return self.key_features(runs) @ self.key_weights

    def _functions(self, key: int, states: tuple[tuple[int, str], ...]) -> np.ndarray:
        t = key % 12
        return np.array([function_index(r - t, FAMILY_OF_QUALITY[q]) for r, q in states])

    def chord_prior(self, keys: int | np.ndarray, states: tuple[tuple[int, str], ...]) -> np.ndarray:
        """Log-prior of each chord state: log P(function | key) floored at
        :data:`PRIOR_FLOOR`, then shifted so that the likeliest chord is at 0; no-chord
        states (root < 0) get 0. ``keys`` is a key index (0-23, :func:`key_index`) or a
        probability per key, for a mixture over keys (so an uncertain key, C major or
        C minor, does not force either's chords)."""
        out = np.zeros(len(states))
        chords = np.array([i for i, (r, _) in enumerate(states) if r >= 0], dtype=np.intp)
        if len(chords) == 0:
            return out
        sub = tuple(states[i] for i in chords)
        p = np.zeros(len(sub))
        for k, w in _key_weights(keys):
            p += w * np.exp(self.log_unigram[k // 12, self._functions(k, sub)])
        lp = np.maximum(np.log(p), PRIOR_FLOOR)
        out[chords] = lp - lp.max()
        return out

    def transitions(self, keys: int | np.ndarray, states: tuple[tuple[int, str], ...]) -> np.ndarray:
        """(from, to) log-weights of chord changes, relative to each row's mean (so a
        change is as likely as before on average, and the bigram only says *which* chord
        it goes to); ``keys`` as for :meth:`chord_prior`. A change within a family (C to
        Cmaj7) and to or from no chord gets 0; staying on a state is not a change and is
        left to the decoder."""
        s = len(states)
        out = np.zeros((s, s))
        chords = np.array([i for i, (r, _) in enumerate(states) if r >= 0], dtype=np.intp)
        if len(chords) == 0:
            return out
        sub = tuple(states[i] for i in chords)
        p = np.zeros((len(sub), len(sub)))
        for k, w in _key_weights(keys):
            fi = self._functions(k, sub)
            p += w * np.exp(self.log_bigram[k // 12][np.ix_(fi, fi)])
        lp = np.maximum(np.log(p), TRANSITION_FLOOR)
        fams = np.array([function_index(r, FAMILY_OF_QUALITY[q]) for r, q in sub])
        other = fams[:, None] != fams[None, :]
        count = other.sum(axis=1, keepdims=True)
        mean = np.where(other, lp, 0.0).sum(axis=1, keepdims=True) / np.maximum(count, 1)
        out[np.ix_(chords, chords)] = np.where(other, lp - mean, 0.0)
        return out


def _key_weights(keys: int | np.ndarray, floor: float = 1e-3) -> list[tuple[int, float]]:
    """(key index, weight) pairs: one key, or the keys of a distribution above ``floor``
    times its largest (all keys equally when the distribution is empty)."""
    q = np.asarray(keys)
    if q.ndim == 0:
        return [(int(q) % 24, 1.0)]
    q = q.astype(float).ravel()
    if q.shape != (24,):
        raise BacklineError(f"a key distribution has 24 values, not {q.size}")
    if not np.all(np.isfinite(q)) or q.max() <= 0:
        return [(k, 1.0 / 24) for k in range(24)]
    idx = np.flatnonzero(q >= floor * q.max())
    total = float(q[idx].sum())
    return [(int(k), float(q[k]) / total) for k in idx]


def fit_key_weights(
    model: HarmonyModel,
    examples: Sequence[tuple[Sequence[Run], int]],
    *,
    l2: float = 1e-3,
    iterations: int = 500,
    rate: float = 1.0,
) -> np.ndarray:
    """Weights of the key classifier: softmax over the 24 keys of ``features @ w``,
    fitted by gradient descent on the cross-entropy with an L2 penalty (deterministic)."""
    x = np.stack([model.key_features(runs) for runs, _ in examples])  # (n, 24, D)
    y = np.array([k for _, k in examples])
    w = np.zeros(KEY_FEATURES)
    target = x[np.arange(len(y)), y].mean(axis=0)
    for _ in range(iterations):
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = np.einsum("nk,nkd->d", p, x) / len(y) - target + l2 * w
        w -= rate * grad
    return w


def train(songs: Iterable[Song], exclude_titles: Iterable[str] = ()) -> HarmonyCounts:
    """Counts and key weights from charts (the songs named in ``exclude_titles`` left out)."""
    examples, excluded = song_examples(songs, exclude_titles)
    counts = count_songs(examples)
    weights = fit_key_weights(HarmonyModel.from_counts(counts), examples)
    return HarmonyCounts(counts.unigram, counts.bigram, counts.songs, excluded, weights)


def _model_path() -> Path:
    from importlib.resources import files

    return Path(str(files("backline.data").joinpath("harmony.json")))


@cache
def default_model() -> HarmonyModel:
    """The shipped model (``backline/data/harmony.json``)."""
    return HarmonyModel.from_counts(HarmonyCounts.from_json(_model_path().read_text(encoding="utf-8")))


def song_key(song: Song, model: HarmonyModel | None = None) -> Key | None:
    """The key the key classifier gives a song's chords (expanded form), or None when the
    song has no chord with a family or cannot be expanded."""
    runs = _song_runs(song)
    if not runs:
        return None
    k = int(np.argmax((model or default_model()).key_scores(runs)))
    return key_name(k % 12, "minor" if k >= 12 else "major")
