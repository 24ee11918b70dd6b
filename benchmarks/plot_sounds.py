"""Docs figure: the default sounds (AVL drums + MuseScore General) against FluidR3_GM.

Renders the same four bars of drums and bass with both sound sets and plots, for each,
a spectrogram of the drums+bass stems and the short-term level (RMS, 10 ms) of the kick
and snare hits. Writes ``docs/img/sounds.png`` (or the ``--out`` file).

Run: ``.venv/bin/python benchmarks/plot_sounds.py [--out FILE.png]`` (needs matplotlib:
``pip install matplotlib``; only this docs script uses it). ``--help`` prints this and
writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "render"))

FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 44100


def render(font: str | None) -> np.ndarray:
    from dataclasses import replace

    from render_helpers import make_arrangement  # type: ignore[import-not-found]

    from backline.render.mixer import mix_parts, strip_for
    from backline.render.soundfonts import choose_sounds
    from backline.render.synth import render_parts

    arr = make_arrangement(4, tempo=100.0)
    arr = replace(arr, parts=tuple(p for p in arr.parts if p.name in ("drums", "bass")))
    sounds = choose_sounds(arr.parts, song_font=font)
    raw = render_parts(arr, sounds, SR, tail_seconds=1.0).audio
    res = mix_parts(raw, {p.name: strip_for(p) for p in arr.parts}, SR)
    return res.mix.mean(axis=1)


def main(argv: list[str] | None = None) -> None:
    out_default = ROOT / "docs" / "img" / "sounds.png"
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", type=Path, default=out_default, help=f"the PNG to write (default {out_default})")
    out: Path = ap.parse_args(argv).out  # --help, and unknown arguments refused, before any work
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = [("Default: AVL Black Pearl kit + MuseScore bass", None), ("FluidR3_GM only", FLUIDR3)]
    fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), constrained_layout=True)
    for col, (title, font) in enumerate(sets):
        x = render(font)
        ax = axes[0, col]
        ax.specgram(x, NFFT=2048, Fs=SR, noverlap=1536, cmap="magma", vmin=-120, vmax=-20)
        ax.set_ylim(20, 16000)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_ylabel("Hz")
        hop = SR // 100
        n = x.size // hop
        rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
        t = np.arange(n) * hop / SR
        axes[1, col].plot(t, 20 * np.log10(rms + 1e-9), lw=0.8)
        axes[1, col].set_ylim(-70, 0)
        axes[1, col].set_xlabel("seconds")
        axes[1, col].set_ylabel("RMS dBFS (10 ms)")
        axes[1, col].grid(alpha=0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(out)


if __name__ == "__main__":
    main()
