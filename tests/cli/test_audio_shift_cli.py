"""``backline audio shift`` and ``audio analyze`` as a user runs them: float outputs, the
help texts, and the warning for a WAV cut off while copying (real files, short signals)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from backline.cli.app import app

pytest.importorskip("pedalboard")

runner = CliRunner()
SR = 22050


def _tone(path: Path, seconds: float = 1.5, amp: float = 0.3, subtype: str | None = None) -> Path:
    """A 440 Hz tone with a click every half second (something for Rubber Band to time)."""
    t = np.arange(int(seconds * SR)) / SR
    x = amp * np.sin(2 * np.pi * 440 * t)
    x[:: SR // 2] += amp
    sf.write(path, np.stack([x, x], axis=1).astype(np.float32), SR, subtype=subtype)
    return path


def _cut(path: Path, keep: float) -> Path:
    """``path`` cut off after ``keep`` of its bytes, header untouched (as a broken copy)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _words(text: str) -> str:
    """Help text with rich's box drawing and line wrapping taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_float_aiff_holds_the_overs(tmp_path: Path) -> None:
    # --bit-depth float into .aiff failed in the encoder ("AIFF ... supported bit depths: 8,
    # 16, 24"), though the docs and the error message for .flac both offered AIFF
    src = _tone(tmp_path / "hot.wav", amp=0.9, subtype="FLOAT")  # peaks at 0.9 (-0.9 dBFS)
    out = tmp_path / "v.aiff"
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "--bit-depth", "float", "--no-headroom", "-o", str(out), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    info = sf.info(out)
    assert info.format == "AIFF" and info.subtype == "FLOAT"
    y, sr = sf.read(out, dtype="float32")
    assert sr == SR and y.shape == (int(1.5 * SR), 2)
    assert np.abs(y).max() > 1.0  # the shifted peaks above full scale are kept, not clipped
    # the 24-bit AIFF of the same shift clips them, and says so
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "--no-headroom", "-o", str(tmp_path / "v24.aiff"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sf.info(tmp_path / "v24.aiff").subtype == "PCM_24" and "clipped" in r.stderr
    assert "turned down" not in r.stdout
    # by default both are turned down to the source's peak, and nothing clips
    for name in ("h.aiff", "h24.aiff"):
        depth = ["--bit-depth", "float"] if name == "h.aiff" else []
        r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", *depth, "-o", str(tmp_path / name), "-q"])  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "clipped" not in r.stderr
        assert "to keep the source's -0.9 dBFS peak (the shift raised it to +" in _words(r.stdout)
        y, _ = sf.read(tmp_path / name, dtype="float32")
        assert 0.89 <= np.abs(y).max() <= 0.9


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".ogg"])
def test_float_elsewhere_is_refused_naming_wav_and_aiff(tmp_path: Path, ext: str) -> None:
    src = _tone(tmp_path / "a.wav")
    out = tmp_path / f"v{ext}"
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "--bit-depth", "float", "-o", str(out)])  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "--bit-depth float needs a .wav or .aiff output" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_help_names_what_is_read_and_where_float_goes() -> None:
    r = runner.invoke(app, ["audio", "shift", "--help"])
    assert r.exit_code == 0
    text = _words(r.output)
    assert "(WAV, FLAC, MP3, OGG, AIFF)" in text
    assert "float (32-bit float: WAV and AIFF only" in text and "(WAV/FLAC)" not in text
    r = runner.invoke(app, ["audio", "analyze", "--help"])
    assert r.exit_code == 0 and "(WAV, FLAC, MP3, OGG, AIFF)" in _words(r.output)


def test_a_truncated_wav_is_shifted_with_a_warning(tmp_path: Path) -> None:
    # check, analyze and click said "the file is truncated"; shift said nothing
    src = _cut(_tone(tmp_path / "take.wav", seconds=2.0), 0.5)
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "-o", str(tmp_path / "o.wav"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "warning: the file is truncated: 1.0 s of the length in its header are missing" in r.stderr
    assert sf.info(tmp_path / "o.wav").frames == pytest.approx(SR, abs=10)  # what is there
    # a whole file: no warning
    whole = _tone(tmp_path / "whole.wav")
    r = runner.invoke(app, ["audio", "shift", str(whole), "--semitones", "1", "-o", str(tmp_path / "w.wav"), "-q"])  # fmt: skip
    assert r.exit_code == 0 and "warning" not in r.stderr


def test_a_truncated_stem_is_named_in_a_folder(tmp_path: Path) -> None:
    stems = tmp_path / "stems"
    stems.mkdir()
    _cut(_tone(stems / "bass.wav", seconds=2.0), 0.5)
    _tone(stems / "click.wav", seconds=2.0)
    _cut(_tone(stems / "keys.wav", seconds=2.0), 0.75)
    r = runner.invoke(app, ["audio", "shift", str(stems), "--tempo", "1.25", "-o", str(tmp_path / "out"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    warned = [line for line in r.stderr.splitlines() if "truncated" in line]
    assert len(warned) == 2
    assert warned[0].startswith("warning: bass.wav: the file is truncated: 1.0 s")
    assert warned[1].startswith("warning: keys.wav: the file is truncated: 0.5 s")
    assert "click.wav" not in r.stderr


def _mastered(path: Path, seconds: float = 3.0) -> Path:
    """Dense harmonics and noise bursts, clipped hard at 0.6 and set to a -1 dBFS peak: a
    shift raises its peaks past -1 dBFS."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * SR)) / SR
    x = sum(
        np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / k for k, f in enumerate((110, 220, 330, 550, 770), 1)
    )
    x = x + 0.5 * rng.standard_normal(t.size) * (t % 0.25 < 0.03)
    x = np.clip(x / np.abs(x).max(), -0.6, 0.6) * (10 ** (-1 / 20) / 0.6)
    sf.write(path, np.stack([x, x], axis=1).astype(np.float32), SR, subtype="PCM_24")
    return path


def test_the_gain_is_reported_and_the_source_peak_kept(tmp_path: Path) -> None:
    src = _mastered(tmp_path / "m.wav")
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "-3", "-o", str(tmp_path / "o.wav"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    text = _words(r.stdout)
    said = re.search(r"turned down (\d+\.\d) dB to keep the source's -1\.0 dBFS peak \(the shift raised it to ([+-]\d+\.\d) dBFS\)", text)  # fmt: skip
    assert said is not None, text
    assert float(said[1]) == pytest.approx(float(said[2]) + 1.0, abs=0.11)
    y, _ = sf.read(tmp_path / "o.wav", dtype="float32")
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-1.0, abs=0.05)
    assert "clipped" not in r.stderr


def test_a_folder_names_the_stem_that_set_the_common_gain(tmp_path: Path) -> None:
    stems = tmp_path / "stems"
    stems.mkdir()
    _mastered(stems / "band.wav")
    _tone(stems / "keys.wav", seconds=3.0, amp=0.1)
    r = runner.invoke(app, ["audio", "shift", str(stems), "--semitones", "-3", "-o", str(tmp_path / "out"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "turned all stems down" in r.stdout and "together (their balance kept) to keep band.wav's peaks under its source's -1.0 dBFS peak" in _words(r.stdout)  # fmt: skip


def test_help_names_the_headroom_switch() -> None:
    text = _words(runner.invoke(app, ["audio", "shift", "--help"]).output)
    assert "--headroom --no-headroom" in text or "--no-headroom" in text
    assert "turn the whole output down just enough" in text


def test_an_mp3_margin_is_not_called_a_raise() -> None:
    """Into MP3 the peaks are kept 1 dB lower for the encoder: when the shift left them
    under the source's peak (-1.3 for -1.0), the line said "the shift raised them"."""
    from backline.audio.shift import ShiftResult
    from backline.cli.audio_cmds import _level_text

    def line(ceiling: float, gain: float) -> str:
        res = ShiftResult(
            [Path("m.wav")], [Path("o.mp3")], 2.0, 1.0, [], gain_db=gain,
            ceiling_dbfs=ceiling, source_peak_dbfs=-1.0, level_set_by=Path("o.mp3"),
        )  # fmt: skip
        return _level_text(res, folder=False)

    took = line(-2.0, -0.7)
    assert "room for the MP3 encoder's overshoot" in took
    assert "the shift took them to -1.3 dBFS" in took and "raised" not in took
    assert "the shift raised them to -0.5 dBFS" in line(-2.0, -1.5)


def test_a_float_hair_over_full_scale_is_not_clipped_into_24_bits(tmp_path: Path) -> None:
    x = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    x[SR // 2] = np.float32(1.0000005)
    src = tmp_path / "f.wav"
    sf.write(src, np.stack([x, x], axis=1), SR, subtype="FLOAT")
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "0", "--tempo", "1.0", "-o", str(tmp_path / "o.wav"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "clipped" not in r.stderr and "--no-headroom" not in r.stderr
    y, _ = sf.read(tmp_path / "o.wav", dtype="float32")
    assert float(np.abs(y).max()) < 1.0


def test_the_help_says_what_the_headroom_keeps() -> None:
    text = _words(runner.invoke(app, ["audio", "shift", "--help"]).output)
    assert "Peaks stay under the source's (or -1 dBFS for a quieter source)" in text
