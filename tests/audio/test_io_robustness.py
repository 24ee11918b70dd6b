"""Damaged and unusual audio inputs (fuzz review findings 1, 7, 8, 14): a WAV written
to a pipe, not-a-number samples, absurd sample rates, devices instead of files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backline.audio.check import check_audio
from backline.audio.io import NonFiniteSamples, iter_blocks, probe, read_audio
from backline.errors import AudioInputError

SR = 22050


def _tone(seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _piped_wav(path: Path, y: np.ndarray, sr: int = SR) -> Path:
    """A WAV as ffmpeg writes it to a pipe: RIFF and data sizes 0xFFFFFFFF (ffmpeg
    itself when installed, else the same header written by hand)."""
    src = path.with_name("src.wav")
    sf.write(src, y, sr, subtype="PCM_16")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        with open(path, "wb") as fh:
            subprocess.run(
                [ffmpeg, "-loglevel", "error", "-i", str(src), "-f", "wav", "-"], stdout=fh, check=True
            )
    else:
        data = (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()
        fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + sr.to_bytes(4, "little")
        fmt += (sr * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
        head = b"RIFF" + b"\xff" * 4 + b"WAVE" + b"fmt " + (16).to_bytes(4, "little") + fmt
        path.write_bytes(head + b"data" + b"\xff" * 4 + data)
    raw = path.read_bytes()
    assert raw[4:8] == b"\xff\xff\xff\xff"
    assert raw[raw.index(b"data") + 4 : raw.index(b"data") + 8] == b"\xff\xff\xff\xff"
    return path


def test_wav_written_to_a_pipe_is_read_for_the_data_present(tmp_path: Path) -> None:
    y = _tone(2.0)
    p = _piped_wav(tmp_path / "piped.wav", y)
    info = probe(p)
    assert info.frames == len(y)
    assert info.missing_seconds == 0.0
    audio, sr = read_audio(p)
    assert sr == SR and audio.shape == (1, len(y))
    assert np.max(np.abs(audio[0] - y)) < 1e-3
    r = check_audio(p)
    assert abs(r.duration - 2.0) < 1e-3
    assert not any("truncated" in w for w in r.warnings)


def _nan_wav(path: Path) -> Path:
    y = np.stack([_tone(), _tone()], axis=1)
    y[1000:1010, :] = np.nan  # 20 values, both channels, from 1000 / 22050 s
    y[5000, 0] = np.inf
    sf.write(path, y, SR, subtype="FLOAT")
    return path


def test_non_finite_samples_are_refused_with_count_and_time(tmp_path: Path) -> None:
    p = _nan_wav(tmp_path / "nan.wav")
    with pytest.raises(NonFiniteSamples, match=r"holds 21 not-a-number/infinite samples .*0:00\.05") as e:
        list(iter_blocks(p, block_frames=2048))  # the count covers every block, not the first
    assert isinstance(e.value, AudioInputError) and e.value.count == 21
    with pytest.raises(NonFiniteSamples):
        read_audio(p)


def test_check_counts_non_finite_samples_and_stays_valid_json(tmp_path: Path) -> None:
    p = _nan_wav(tmp_path / "nan.wav")
    r = check_audio(p)
    assert r.nonfinite_samples == 21
    assert r.nonfinite_first == pytest.approx(1000 / SR)
    assert r.would_distort
    assert any("not-a-number/infinite" in w for w in r.warnings)
    assert not any("silent" in w for w in r.warnings)
    text = json.dumps(r.as_json(), allow_nan=False)  # raises on NaN or inf
    assert json.loads(text)["nonfinite_samples"] == 21
    assert np.isfinite(r.integrated_lufs)  # the rest of the file is measured


def test_all_nan_file_is_not_called_silent(tmp_path: Path) -> None:
    p = tmp_path / "allnan.wav"
    sf.write(p, np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    r = check_audio(p)
    assert r.nonfinite_samples == SR
    assert not any("silent" in w for w in r.warnings)
    json.dumps(r.as_json(), allow_nan=False)


@pytest.mark.parametrize("rate", [1, 100, 999])
def test_absurd_sample_rates_are_refused(tmp_path: Path, rate: int) -> None:
    p = tmp_path / "slow.wav"
    sf.write(p, np.zeros(100, np.float32), rate, subtype="PCM_16")
    with pytest.raises(AudioInputError, match=f"sample rate {rate} Hz is not an audio rate"):
        probe(p)
    with pytest.raises(AudioInputError, match="sample rate"):
        check_audio(p)


def test_lowest_accepted_sample_rate(tmp_path: Path) -> None:
    p = tmp_path / "phone.wav"
    sf.write(p, _tone(1.0, 8000), 8000, subtype="PCM_16")
    assert probe(p).sample_rate == 8000


def test_devices_are_refused_not_read(tmp_path: Path) -> None:
    link = tmp_path / "zero.wav"
    link.symlink_to("/dev/zero")
    for p in (Path("/dev/zero"), link):
        with pytest.raises(AudioInputError, match="not a regular file"):
            probe(p)
        with pytest.raises(AudioInputError, match="not a regular file"):
            list(iter_blocks(p))


def test_shift_writes_non_finite_samples_as_silence_with_a_warning(tmp_path: Path) -> None:
    from backline.audio.shift import shift_file_report

    src = _nan_wav(tmp_path / "nan.wav")
    res = shift_file_report(src, tmp_path / "out.wav", semitones=1.0, bit_depth="float")
    y, _ = sf.read(tmp_path / "out.wav")
    assert np.isfinite(y).all()
    assert any("21 not-a-number/infinite samples" in w for w in res.warnings)


# --- MP3 timing (gapless) --------------------------------------------------------------


def _bursts(sr: int, seconds: float = 2.0, channels: int = 2) -> tuple[np.ndarray, list[int]]:
    x = np.zeros((channels, int(seconds * sr)), dtype=np.float32)
    onsets = [round(t * sr) for t in (0.5, 1.0, 1.5)]
    for a in onsets:
        x[:, a : a + 50] = 0.5
    return x, onsets


@pytest.mark.parametrize("sr", [44100, 48000, 22050])
def test_an_mp3_reads_on_time_and_at_its_length(tmp_path: Path, sr: int) -> None:
    """pedalboard's MP3 decoder keeps the encoder's delay and padding: a LAME file read
    26 ms late and 1656 frames long at 44.1 kHz (an `audio click` for an MP3 clicked
    26 ms behind the music a player plays). MP3 is read gapless now."""
    from backline.audio.io import write_audio

    x, onsets = _bursts(sr)
    path = tmp_path / "bursts.mp3"
    write_audio(path, x, sr)
    assert probe(path).frames == x.shape[1]
    y, rate = read_audio(path)
    assert rate == sr and y.shape == x.shape
    for a in onsets:
        here = float(np.abs(y[0, a - 20 : a + 70]).max())
        assert here > 0.3, (a, here)
        first = a - 20 + int(np.flatnonzero(np.abs(y[0, a - 20 : a + 70]) > 0.1)[0])
        assert abs(first - a) <= sr // 1000, (a, first)  # within 1 ms
    # small blocks give the same samples as one read
    assert np.array_equal(np.concatenate(list(iter_blocks(path, 1000)), axis=1), y)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg to encode and decode")
@pytest.mark.parametrize(
    ("codec", "args"), [("libmp3lame", ["-q:a", "2"]), ("libmp3lame", ["-b:a", "192k"]), ("libshine", [])]
)
def test_an_mp3_from_another_encoder_reads_as_ffmpeg_decodes_it(
    tmp_path: Path, codec: str, args: list[str]
) -> None:
    sr = 44100
    x, _ = _bursts(sr, 3.0)
    src = tmp_path / "src.wav"
    sf.write(src, x.T, sr, subtype="FLOAT")
    mp3, ref_wav = tmp_path / "e.mp3", tmp_path / "ref.wav"
    made = subprocess.run(["ffmpeg", "-v", "quiet", "-y", "-i", str(src), "-c:a", codec, *args, str(mp3)])
    if made.returncode != 0:
        pytest.skip(f"this ffmpeg has no {codec}")
    subprocess.run(
        ["ffmpeg", "-v", "quiet", "-y", "-i", str(mp3), "-c:a", "pcm_f32le", str(ref_wav)], check=True
    )
    ref = sf.read(ref_wav, dtype="float32", always_2d=True)[0].T
    y, _ = read_audio(mp3)
    assert y.shape == ref.shape  # the same length (LAME's padding off; libshine ends early, as there)
    # the same samples at the same times: two decoders differ by 0.004 at most here, while
    # a one-sample shift of these 0.5 bursts would differ by 0.3
    assert float(np.abs(y - ref).max()) < 0.01
