"""Audio files: every format reads back with the right rate and duration; writes are atomic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backline.errors import OutputError, RenderError
from backline.render.export import write_audio

SR = 22050


def _tone(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1).astype(
        np.float32
    )


@pytest.mark.parametrize(("bits", "tol"), [(16, 2e-4), (24, 1e-6), (32, 0.0)])
def test_wav_bit_depths_round_trip(tmp_path: Path, bits: int, tol: float) -> None:
    x = _tone(1.0)
    p = write_audio(tmp_path / "a.wav", x, SR, bit_depth=bits)
    y, sr = sf.read(p, dtype="float32")
    assert sr == SR and y.shape == x.shape
    assert np.abs(y - x).max() <= tol
    assert sf.info(str(p)).subtype == {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[bits]


def test_flac_and_48k(tmp_path: Path) -> None:
    x = _tone(1.0, 48000)
    p = write_audio(tmp_path / "a.flac", x, 48000, bit_depth=24)
    y, sr = sf.read(p, dtype="float32")
    assert sr == 48000 and np.abs(y - x).max() < 1e-6


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_lossy_formats_read_back(tmp_path: Path, fmt: str) -> None:
    from pedalboard.io import AudioFile

    sr = 44100
    x = _tone(2.0, sr)
    p = write_audio(tmp_path / f"a.{fmt}", x, sr)
    with AudioFile(str(p)) as f:
        assert f.samplerate == sr and f.num_channels == 2
        y = f.read(f.frames)
    assert abs(y.shape[1] / sr - 2.0) < 0.06
    mid = y[0, sr // 2 : sr]
    assert np.corrcoef(mid, x[sr // 2 : sr, 0])[0, 1] > 0.95 or np.abs(mid).max() > 0.4


def test_long_ogg_is_written_in_chunks(tmp_path: Path) -> None:
    from pedalboard.io import AudioFile

    sr = 8000
    x = _tone(65.0, sr)  # libsndfile crashes on >= 60 s OGG in one write
    p = write_audio(tmp_path / "long.ogg", x, sr)
    with AudioFile(str(p)) as f:
        assert abs(f.frames / sr - 65.0) < 0.1


def test_failures_leave_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "keep.wav"
    target.write_bytes(b"old")
    bad = _tone(0.5)
    bad[10, 0] = np.nan
    with pytest.raises(RenderError, match="NaN"):
        write_audio(target, bad, SR)
    assert target.read_bytes() == b"old"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        write_audio(blocker / "sub" / "a.wav", _tone(0.1), SR)
    with pytest.raises(RenderError, match="unknown audio format"):
        write_audio(tmp_path / "a.aiff", _tone(0.1), SR)
    with pytest.raises(RenderError, match="FLAC"):
        write_audio(tmp_path / "a.flac", _tone(0.1), SR, bit_depth=32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "keep.wav"]
