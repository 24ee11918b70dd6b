"""A click for existing audio: locked to the detected beats, accents, count-in, split track."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from _analysis_signals import SR, progression

from backline.audio.analyze import Analysis, analyze_file
from backline.audio.click import click_for_audio, plan_clicks
from backline.errors import AudioInputError


@pytest.fixture(scope="module")
def song_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    y, _ = progression([(0, "maj"), (9, "min"), (5, "maj"), (7, "7")] * 2, bpm=120)
    p = tmp_path_factory.mktemp("click") / "song.wav"
    sf.write(p, np.stack([y, 0.5 * y], axis=1), SR, subtype="PCM_24")
    return p, analyze_file(p)


def _onsets(x: np.ndarray, sr: int) -> np.ndarray:
    """Sample index of every click start (the signal rises from silence)."""
    loud = np.abs(x) > 1e-4
    starts = np.flatnonzero(loud[1:] & ~loud[:-1]) + 1
    if loud[0]:
        starts = np.insert(starts, 0, 0)
    # Merge rises within 100 ms (the zero crossings and decay of one click).
    keep = [starts[0]] if len(starts) else []
    for s in starts[1:]:
        if s - keep[-1] > 0.1 * sr:
            keep.append(s)
    return np.array(keep) / sr


def test_click_is_on_the_detected_beats(song_file: tuple[Path, Analysis], tmp_path: Path) -> None:
    src, a = song_file
    before = src.read_bytes()
    res = click_for_audio(src, tmp_path / "out", analysis=a)
    assert src.read_bytes() == before
    click, sr = sf.read(tmp_path / "out" / "click.wav", dtype="float32")
    assert sr == SR and click.ndim == 1
    assert len(click) == sf.info(src).frames
    on = _onsets(click, sr)
    assert len(on) == len(a.beats)
    assert np.max(np.abs(on - np.array(a.beats))) < 0.005
    # Downbeats are accented: louder than the other beats.
    peaks = np.array([np.abs(click[int(t * sr) : int(t * sr) + 400]).max() for t in on])
    is_down = np.isin(np.round(np.array(a.beats), 4), np.round(np.array(a.downbeats), 4))
    assert peaks[is_down].min() > 1.5 * peaks[~is_down].max()
    report = json.loads((tmp_path / "out" / "click.json").read_text())
    assert report["offset_seconds"] == 0.0 and res.offset_seconds == 0.0


def test_count_in_delays_the_original_and_split_channels(
    song_file: tuple[Path, Analysis], tmp_path: Path
) -> None:
    src, a = song_file
    res = click_for_audio(src, tmp_path / "o", analysis=a, count_in_bars=1, split=True)
    period = 0.5
    first_db = a.downbeats[0]
    expected = max(0.0, 4 * period - first_db)
    assert res.offset_seconds == pytest.approx(expected, abs=0.02)
    orig, _ = sf.read(src, dtype="float32")
    split, sr = sf.read(tmp_path / "o" / "split.wav", dtype="float32")
    click, _ = sf.read(tmp_path / "o" / "click.wav", dtype="float32")
    delay = round(res.offset_seconds * sr)
    assert split.shape == (len(orig) + delay, 2)
    assert len(click) == len(orig) + delay
    # Left is the click, right the original folded to mono and delayed.
    np.testing.assert_allclose(split[:, 0], click, atol=1e-4)
    mono = orig.mean(axis=1)
    np.testing.assert_allclose(split[delay:, 1], mono, atol=1e-4)
    assert np.abs(split[:delay, 1]).max() < 1e-6
    # Four count-in clicks before the first downbeat, one beat apart.
    on = _onsets(click, sr)
    ci = on[on < first_db + res.offset_seconds - 0.1]
    assert len(ci) == 4
    assert np.diff(ci) == pytest.approx([period] * 3, abs=0.01)
    assert json.loads((tmp_path / "o" / "click.json").read_text())["offset_seconds"] > 0


def test_plan_without_beats_is_refused() -> None:
    empty = Analysis(1.0, 0.0, (), (), (4, 4), "X", (), (), 0.0)
    with pytest.raises(AudioInputError, match="no steady beat"):
        plan_clicks(empty)


def test_negative_count_in(song_file: tuple[Path, Analysis]) -> None:
    with pytest.raises(AudioInputError, match="count-in"):
        plan_clicks(song_file[1], count_in_bars=-1)
