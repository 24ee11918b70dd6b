"""One chart through the full path: arrange, render (stems, click, cues), cache, play."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from live_songs import render

from backline.live.setlist import load_setlist
from backline.live.show import prepare_show

pytestmark = [pytest.mark.slow, pytest.mark.audio]

CHART = """title: Tiny
key: D
tempo: 120
time: 4/4
style: pop ballad

[A]
| D | G | A | D |
[B]
| Bm | G | A | D |
"""

SETLIST = """
[setlist]
sample_rate = 48000
count_in_bars = 0
[outputs]
count = 4
[[songs]]
title = "Tiny"
chart = "tiny.chart"
intro = false
ending = false
program = 5
"""


def test_chart_song_renders_once_and_plays(tmp_path):
    if shutil.which("fluidsynth") is None:
        pytest.skip("FluidSynth is not installed: charts cannot be rendered")
    (tmp_path / "tiny.chart").write_text(CHART)
    (tmp_path / "set.toml").write_text(SETLIST)
    sl = load_setlist(tmp_path / "set.toml")
    show = prepare_show(sl)
    assert not show.problems, show.problems
    song = show.songs[0]
    assert song is not None
    kinds = {s.kind for s in song.sources}
    assert kinds >= {"stem", "click"}
    assert [s.label for s in song.sections] == ["A", "B"]
    assert song.n_bars == 8 and song.bar_starts[4] == 8 * 48000  # 2 s bars at 120 BPM
    assert str(song.key) == "D"
    t0 = time.perf_counter()
    again = prepare_show(sl)
    assert time.perf_counter() - t0 < 1.0  # cached: no arranging or rendering
    assert again.songs[0] is not None and again.songs[0].render_dir == song.render_dir
    out, _ = render(show, "0.5: jump B next bar\nbar 7: end\n")
    # the click is only in the in-ear pair; the band only at front of house
    click_path = next(s.path for s in song.sources if s.kind == "click")
    import soundfile as sf

    click = sf.read(click_path, dtype="float32")[0]
    # before the jump (bar 1), the in-ear outputs carry the click (+ cues) and FOH no click
    seg = slice(0, 2 * 48000)
    assert np.abs(out[2, seg]).max() > 0.1
    assert np.corrcoef(out[2, seg], click[seg])[0, 1] > 0.5
    assert abs(np.corrcoef(out[0, seg], click[seg])[0, 1]) < 0.2
    assert np.abs(out[0, seg]).max() > 0.01
    assert out.shape[1] == 2 * 48000 + 2 * 2 * 48000  # bar 1, then bars 5-6, end at bar 7
    # the jump's target is said in the bar before it ("B section", cut from the cue stem
    # where the render said it before bar 5), ending as far before the downbeat
    clip = next(c for c in song.cue_clips if c.label == "B")
    assert clip.text == "B section" and clip.target == 8 * 48000
    stem = sf.read(next(s.path for s in song.sources if s.kind == "cues"), dtype="float32")[0]
    n = clip.end - clip.start
    at = 2 * 48000 - (clip.target - clip.end) - n
    said = out[2, at : at + n] - click[at : at + n]
    assert np.sqrt(np.mean(said**2)) > 0.01
    assert np.corrcoef(said, stem[clip.start : clip.end])[0, 1] > 0.999
    assert np.abs(stem[at : at + n]).max() < 1e-6  # nothing was baked there (no count-in)
