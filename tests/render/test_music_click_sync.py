"""The music sits where the click says, measured on the audio with an oracle that does not
read ``render.json``.

A short chart (a tempo change in bar 3) is arranged and rendered with a one-bar count-in,
stems and the click. The same arrangement is then played straight through the synth layer
(:func:`render_parts`) with no offset at all. Cross-correlating each stem (and the mix)
with that direct render gives the lag of the music; it must be the count-in length
computed from the chart text (one bar of 4/4 at 120 bpm = 2 s), and the click's bar-0
downbeat (found as an onset in click.wav) must be at that same time.

At 32 kHz a 2 s count-in is 64000 samples = 1000 FluidSynth blocks of 64, so the synth's
block rounding of event times is the same with and without the count-in: the lag of the
music is exact to the sample, not only to a block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import soundfile as sf
from render_helpers import needs_fonts
from scipy.signal import correlate

from backline import formats
from backline.arrange import engine
from backline.render.mixer import process_strip, strip_for
from backline.render.pipeline import RenderOptions, render_arrangement
from backline.render.soundfonts import choose_sounds
from backline.render.synth import FLUID_BLOCK, render_parts

pytestmark = needs_fonts

SR = 32000
CHART = "title: Sync\nkey: C\ntempo: 120\ntime: 4/4\nstyle: pop\n\n[A]\n| C | Am | tempo:100 F | G |\n"
# From the chart text, not from the render: one bar of 4/4 at 120 bpm of count-in, then
# two bars at 120 (2 s each) and two at 100 (2.4 s each).
COUNT_IN_S = 4 * 60 / 120
BAR_STARTS_S = [0.0, 2.0, 4.0, 6.4]
BEATS_S = [b + i * 60 / t for b, t in zip(BAR_STARTS_S, (120, 120, 100, 100), strict=True) for i in range(4)]
LAG = round(COUNT_IN_S * SR)
MS = SR // 1000  # samples in 1 ms


def _mono(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, np.float64).mean(axis=1)


def _band(parts: dict[str, np.ndarray]) -> np.ndarray:
    """The mono sum of every part."""
    return np.sum([_mono(x) for x in parts.values()], axis=0)


def _lag(got: np.ndarray, ref: np.ndarray) -> int:
    """Samples by which ``got`` is late against ``ref`` (peak of the cross-correlation)."""
    c = correlate(got, ref, mode="full", method="fft")
    return int(np.argmax(c)) - (len(ref) - 1)


def _local_lag(got: np.ndarray, ref: np.ndarray, at: int, expected: int, width: int, search: int) -> int:
    """Lag near ``expected`` of the window ``ref[at : at + width]`` found in ``got``."""
    w = ref[at : at + width]
    seg = got[at + expected - search : at + expected + search + width]
    c = correlate(seg, w, mode="valid", method="fft")
    return int(np.argmax(c)) - search


def _onsets(x: np.ndarray, threshold: float = 0.01, gap_s: float = 0.004) -> np.ndarray:
    """Sample index of each onset: first sample above ``threshold`` after ``gap_s`` below it."""
    idx = np.flatnonzero(np.abs(x) > threshold)
    keep = np.concatenate([[True], np.diff(idx) > gap_s * SR])
    return idx[keep]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    song = formats.loads_songs(CHART.encode(), "sync.chart", ".chart")[0]
    arr = engine.arrange(song, None, seed=3, intro=False, ending=False)
    out = tmp_path_factory.mktemp("sync")
    opts = RenderOptions(
        sample_rate=SR, stems=True, count_in_bars=1, cues=False, midi=False, tail_seconds=0.5
    )
    render_arrangement(arr, out, opts)
    sounds = choose_sounds(arr.parts)
    direct = render_parts(arr, sounds, SR, offset_seconds=0.0, tail_seconds=0.5, backend="fluidsynth")
    stems = {
        p.name: sf.read(out / "stems" / f"{p.name}.wav", dtype="float64", always_2d=True)[0]
        for p in arr.parts
    }
    return {
        "arr": arr,
        "stems": stems,
        "mix": sf.read(out / "mix.wav", dtype="float64", always_2d=True)[0],
        "click": sf.read(out / "stems" / "click.wav", dtype="float64", always_2d=True)[0],
        "direct": direct.audio,
    }


def test_the_count_in_is_whole_synth_blocks() -> None:
    # the premise of the exact-lag checks below
    assert LAG % FLUID_BLOCK == 0


def test_click_is_on_the_chart_grid_and_bar_0_at_the_count_in(rendered: dict[str, Any]) -> None:
    click = _mono(rendered["click"])
    found = _onsets(click)
    expected = [i * 0.5 for i in range(4)] + [COUNT_IN_S + t for t in BEATS_S]
    assert len(found) == len(expected)
    assert np.max(np.abs(found / SR - np.array(expected))) < 0.001
    # bar 0's downbeat is the fifth click: exactly where the music starts
    downbeat = int(found[4])
    assert abs(downbeat - LAG) <= 2, f"click bar 0 at sample {downbeat}, music at {LAG}"


def test_each_stem_is_the_direct_render_delayed_by_the_count_in(rendered: dict[str, Any]) -> None:
    arr = rendered["arr"]
    for part in arr.parts:
        stem = rendered["stems"][part.name]
        raw = rendered["direct"][part.name]
        # against the raw synth: only the mixer's filters may move the correlation peak
        # (their phase shift, measured at most 0.25 ms)
        lag_raw = _lag(_mono(stem), _mono(raw))
        assert abs(lag_raw - LAG) < MS, (
            f"{part.name}: music {(lag_raw - LAG) / SR * 1000:+.2f} ms off the count-in"
        )
        # through the same strip, the stem is the direct render to the sample
        ref, _ = process_strip(np.array(raw, copy=True), SR, strip_for(part))
        ref = _mono(ref)
        got = _mono(stem)
        assert _lag(got, ref) == LAG, part.name
        seg = got[LAG : LAG + len(ref)]
        ref = ref[: len(seg)]
        g = float(np.dot(seg, ref) / np.dot(ref, ref))
        resid = 10 * np.log10(np.sum((seg - g * ref) ** 2) / np.sum(seg**2))
        assert resid < -40, f"{part.name}: stem differs from the shifted direct render ({resid:.1f} dB)"
        assert np.abs(got[: LAG - 2 * MS]).max() < 1e-4, f"{part.name}: sound in the count-in"


def test_music_stays_on_the_click_after_the_tempo_change(rendered: dict[str, Any]) -> None:
    got = _band(rendered["stems"])
    ref = _band(rendered["direct"])
    for bar_s in BAR_STARTS_S:
        at = round(bar_s * SR)
        lag = _local_lag(got, ref, at, LAG, width=SR // 2, search=20 * MS)
        assert abs(lag) < MS, f"bar at {bar_s} s: music {lag / SR * 1000:+.2f} ms off the click"


def test_the_mastered_mix_sits_on_the_click(rendered: dict[str, Any]) -> None:
    ref = _band(rendered["direct"])
    mix = _mono(rendered["mix"])
    lag = _lag(mix, ref)
    assert abs(lag - LAG) < MS, f"mix {(lag - LAG) / SR * 1000:+.2f} ms off the count-in"
    downbeat = int(_onsets(_mono(rendered["click"]))[4])
    assert abs(lag - downbeat) < MS
