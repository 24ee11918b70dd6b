"""Audio files: every format reads back with the right rate and duration; writes are atomic."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backline.errors import OutputError, RenderError, RenderOptionError
from backline.render import export
from backline.render.export import MAX_CHANNELS, check_format, write_audio_blocks, write_interleaved

SR = 22050


def _tone(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1).astype(
        np.float32
    )


@pytest.mark.parametrize(("bits", "tol"), [(16, 2e-4), (24, 1e-6), (32, 0.0)])
def test_wav_bit_depths_round_trip(tmp_path: Path, bits: int, tol: float) -> None:
    x = _tone(1.0)
    p = write_interleaved(tmp_path / "a.wav", x, SR, bit_depth=bits)
    y, sr = sf.read(p, dtype="float32")
    assert sr == SR and y.shape == x.shape
    assert np.abs(y - x).max() <= tol
    assert sf.info(str(p)).subtype == {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[bits]


def test_flac_and_48k(tmp_path: Path) -> None:
    x = _tone(1.0, 48000)
    p = write_interleaved(tmp_path / "a.flac", x, 48000, bit_depth=24)
    y, sr = sf.read(p, dtype="float32")
    assert sr == 48000 and np.abs(y - x).max() < 1e-6


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_lossy_formats_read_back(tmp_path: Path, fmt: str) -> None:
    from pedalboard.io import AudioFile

    sr = 44100
    x = _tone(2.0, sr)
    p = write_interleaved(tmp_path / f"a.{fmt}", x, sr)
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
    p = write_interleaved(tmp_path / "long.ogg", x, sr)
    with AudioFile(str(p)) as f:
        assert abs(f.frames / sr - 65.0) < 0.1


def test_failures_leave_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "keep.wav"
    target.write_bytes(b"old")
    bad = _tone(0.5)
    bad[10, 0] = np.nan
    with pytest.raises(RenderError, match="NaN"):
        write_interleaved(target, bad, SR)
    assert target.read_bytes() == b"old"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        write_interleaved(blocker / "sub" / "a.wav", _tone(0.1), SR)
    with pytest.raises(RenderError, match="unknown audio format"):
        write_interleaved(tmp_path / "a.aiff", _tone(0.1), SR)
    with pytest.raises(RenderError, match="FLAC"):
        write_interleaved(tmp_path / "a.flac", _tone(0.1), SR, bit_depth=32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "keep.wav"]


def test_a_replaced_file_keeps_its_mode_and_the_umask_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # set_default_mode reset a replaced mix.wav to 0644, through an os.umask(0) round
    # trip that let other threads create world-writable files meanwhile
    target = tmp_path / "mix.wav"
    target.write_bytes(b"old")
    target.chmod(0o600)

    def no_umask(mask: int) -> int:
        raise AssertionError("the process umask must not be changed while writing")

    monkeypatch.setattr(os, "umask", no_umask)
    write_interleaved(target, _tone(0.1), SR)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sf.info(str(target)).frames == int(0.1 * SR)


def test_a_header_that_cannot_be_packed_is_a_render_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # struct.error escaped write_audio_blocks raw; the checks now refuse what caused it,
    # and the guard stays for any header field out of range
    def bad_pack(fmt: str, *values: object) -> bytes:
        raise struct.error("'I' format requires 0 <= number <= 4294967295")

    monkeypatch.setattr(export.struct, "pack", bad_pack)
    with pytest.raises(RenderError, match="4294967295"):
        write_interleaved(tmp_path / "a.wav", _tone(0.1), SR)
    assert list(tmp_path.iterdir()) == []


def test_check_format_refuses_channel_counts(tmp_path: Path) -> None:
    for channels, frames in ((0, 10), (MAX_CHANNELS + 1, 10**6), (2, 2)):
        with pytest.raises(RenderOptionError, match="channels"):
            check_format("wav", 24, SR, channels, frames)
    check_format("wav", 24, SR, MAX_CHANNELS, 10**6)
    with pytest.raises(RenderOptionError, match=r"a\.wav: 0 channels"):
        write_audio_blocks(tmp_path / "a.wav", lambda a, b: np.zeros((b - a, 0)), 10, 0, SR)
