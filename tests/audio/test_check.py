"""The mix check on real files: loudness against pyloudnorm, true peak, clipping, DC, phase."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pedalboard")
pyloudnorm = pytest.importorskip("pyloudnorm")

from backline.audio.check import check_audio  # noqa: E402
from backline.audio.io import write_audio  # noqa: E402
from backline.audio.loudness import LoudnessMeter  # noqa: E402
from backline.errors import AudioInputError  # noqa: E402

SR = 44100


def music_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 0.3 * t)
    left = 0.2 * np.sin(2 * np.pi * 220 * t) * env + 0.05 * rng.standard_normal(t.size)
    right = 0.2 * np.sin(2 * np.pi * 330 * t + 0.3) * env + 0.05 * rng.standard_normal(t.size)
    return np.stack([left, right]).astype(np.float32)


def test_streaming_loudness_matches_pyloudnorm(rng: np.random.Generator) -> None:
    x = music_like(12.0, rng)
    x[:, : 3 * SR] *= 0.1  # a quiet intro exercises the gates
    m = LoudnessMeter(SR, 2)
    for i in range(0, x.shape[1], 7777):  # odd block size: state must carry across blocks
        m.add(x[:, i : i + 7777])
    ours = m.result().integrated_lufs
    ref = pyloudnorm.Meter(SR).integrated_loudness(x.T.astype(np.float64))
    assert ours == pytest.approx(ref, abs=0.1)


def test_true_peak_finds_inter_sample_peaks() -> None:
    sr = 48000
    n = np.arange(sr)
    x = (0.5 * np.sin(2 * np.pi * (sr / 4) * n / sr + np.pi / 4)).astype(np.float32)[None]
    m = LoudnessMeter(sr, 1)
    m.add(x)
    r = m.result()
    assert r.sample_peak_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=0.05)
    assert r.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.3)


def test_clipping_is_found_and_explained(tmp_path: Path, rng: np.random.Generator) -> None:
    x = music_like(70.0, rng)
    for t in (62.2, 63.5, 64.8):
        i = int(t * SR)
        x[:, i : i + 40] = 1.0
    f = tmp_path / "hot.wav"
    write_audio(f, x, SR, bit_depth="float")
    r = check_audio(f)
    assert r.clipped_samples == 3 * 40
    assert len(r.clip_events) == 3
    assert [round(e.start, 2) for e in r.clip_events] == [62.2, 63.5, 64.8]
    assert any("clips 3 times between 1:02 and 1:05" in w for w in r.warnings)
    assert r.would_distort


def test_dc_phase_and_silence(tmp_path: Path, rng: np.random.Generator) -> None:
    x = music_like(5.0, rng)
    x[1] = -x[0]  # right = inverted left
    x += 0.01
    f = tmp_path / "bad.flac"
    write_audio(f, x, SR)
    r = check_audio(f)
    assert r.correlation is not None and r.correlation < -0.9
    assert any("out of phase" in w for w in r.warnings)
    assert any("DC offset" in w for w in r.warnings)
    s = tmp_path / "silent.wav"
    write_audio(s, np.zeros((2, SR)), SR)
    rs = check_audio(s)
    assert not np.isfinite(rs.integrated_lufs) and "silent" in rs.warnings[0]


def test_loud_master_warning(tmp_path: Path, rng: np.random.Generator) -> None:
    x = np.clip(music_like(10.0, rng) * 6, -0.98, 0.98)
    f = tmp_path / "loud.wav"
    write_audio(f, x, SR)
    r = check_audio(f)
    assert r.integrated_lufs > -9
    assert any("far louder than streaming targets" in w for w in r.warnings)


def test_cli_strict_exit_codes(tmp_path: Path, rng: np.random.Generator) -> None:
    clean = tmp_path / "clean.wav"
    write_audio(clean, music_like(3.0, rng) * 0.5, SR)
    hot = tmp_path / "hot.wav"
    y = music_like(3.0, rng)
    y[:, 1000:1100] = 1.0
    write_audio(hot, y, SR, bit_depth="float")
    run = [sys.executable, "-m", "backline", "audio", "check", "--strict"]
    assert subprocess.run([*run, str(clean)], capture_output=True).returncode == 0
    r = subprocess.run([*run, str(hot)], capture_output=True, text=True)
    assert r.returncode == 1 and "clips" in r.stdout


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 100, b"RIFF\x00\x00\x00\x00WAVEfmt "])
def test_non_audio_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "x.wav"
    f.write_bytes(content)
    with pytest.raises(AudioInputError) as ei:
        check_audio(f)
    assert str(f) in str(ei.value)
    r = subprocess.run(
        [sys.executable, "-m", "backline", "audio", "check", str(f)], capture_output=True, text=True
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_truncated_wav_reads_what_is_there(tmp_path: Path, rng: np.random.Generator) -> None:
    f = tmp_path / "full.wav"
    write_audio(f, music_like(4.0, rng), SR, bit_depth=16)
    data = f.read_bytes()
    t = tmp_path / "cut.wav"
    t.write_bytes(data[: len(data) // 2])
    try:
        r = check_audio(t)
    except AudioInputError as exc:
        assert "cut.wav" in str(exc)
    else:
        assert 0 < r.duration <= 4.0
