"""Fit the bar-phase check's weights (``backline.audio.analyze.bar_phase.WEIGHTS``) on
rendered evaluation sets, and check them on others.

    .venv/bin/python scripts/fit_bar_phase.py --fit SET0 SET1 SET2 SET3 --check SET4 ...

(directories built by ``benchmarks/build_eval_set.py --variant N``: the shipped weights
come from variants 0-3, checked on 4-8). Each song in 4/4 whose analysed beats fall on
its true downbeats (within 0.1 s) gives the cues of its four phases
(:func:`~backline.audio.analyze.bar_phase.bar_phase_features`, each phase's mean cues per
position of the bar) and the true one; the
weights are those of a conditional logit (the likeliest of the four phases) with an L2
penalty. It prints, per group of sets, how often the weights' best phase and the
analyser's own downbeats (as installed, the check included) are right, and the weights to paste.
"""

from __future__ import annotations

import argparse
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from backline.audio.analyze.bar_phase import WEIGHTS, bar_phase_features, beat_cues
from backline.audio.analyze.beats import beat_attacks, beat_chroma, downbeat_evidence
from backline.audio.analyze.chords import chord_chromas
from backline.audio.analyze.core import analyze_features
from backline.audio.analyze.drum_tones import without_drum_tones
from backline.audio.analyze.features import extract_features

#: An analysed beat matches a true one within this many seconds.
MATCH = 0.1


def _phase(beat_times: np.ndarray, downbeats: np.ndarray) -> int:
    """The phase (0-3) by beat index of the ``downbeats`` that fall on ``beat_times``;
    -1 when none does."""
    if len(downbeats) == 0:
        return -1
    gap = np.abs(beat_times[None, :] - downbeats[:, None])
    idx = gap.argmin(axis=1)[gap.min(axis=1) < MATCH]
    return int(np.bincount(idx % 4, minlength=4).argmax()) if len(idx) else -1


def song_cues(song: Path) -> tuple[np.ndarray, int, int] | None:
    """(phase cues (4, 24), true phase, the analyser's phase) of one rendered song in
    4/4; None when it is not in 4/4 or no analysed beat falls on a true downbeat."""
    truth = json.loads((song / "truth.json").read_text())
    feat = extract_features(song / "mix.wav")
    a = analyze_features(feat)
    beats = np.array(a.beats)
    if truth["time_signature"][0] != 4 or a.time_signature[0] != 4 or len(beats) < 16:
        return None
    treble = chord_chromas(without_drum_tones(beat_chroma(feat, beats))).treble
    cues = beat_cues(*beat_attacks(feat, beats), downbeat_evidence(feat, beats), treble)
    true_phase = _phase(beats, np.array(truth["downbeats"]))
    if cues is None or true_phase < 0:
        return None
    return bar_phase_features(cues), true_phase, _phase(beats, np.array(a.downbeats))


def _cues_of(dirs: list[Path]) -> list[tuple[np.ndarray, int, int]]:
    songs = [s for d in dirs for s in sorted(d.iterdir()) if (s / "truth.json").exists()]
    with Pool() as pool:
        return [c for c in pool.map(song_cues, songs) if c is not None]


def fit(cues: list[tuple[np.ndarray, int, int]], l2: float) -> np.ndarray:
    """Weights (24,) of the conditional logit over the four phases."""

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, true, _ in cues:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            total -= float(np.log(p[true] + 1e-12))
            grad = grad - (x[true] - p @ x)
        return total, grad

    return np.asarray(minimize(loss, np.zeros(WEIGHTS.size), jac=True, method="L-BFGS-B").x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", type=Path, nargs="+", required=True)
    ap.add_argument("--check", type=Path, nargs="*", default=[])
    ap.add_argument("--l2", type=float, default=1.0)
    a = ap.parse_args()
    fitting = _cues_of(a.fit)
    w = fit(fitting, a.l2)
    for name, group in (("fit", fitting), ("check", _cues_of(a.check) if a.check else [])):
        if group:
            best = sum(int(np.argmax(x @ w)) == t for x, t, _ in group)
            shipped = sum(e == t for _, t, e in group)
            print(
                f"{name}: {len(group)} songs; weights' best phase right {best}, analyser's downbeats {shipped}"
            )
    rows = ",\n".join("        [" + ", ".join(f"{v:.3f}" for v in r) + "]" for r in w.reshape(WEIGHTS.shape))
    print(f"WEIGHTS = np.array(\n    [\n{rows},\n    ]\n)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
