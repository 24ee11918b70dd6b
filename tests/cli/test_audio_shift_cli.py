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
    src = _tone(tmp_path / "hot.wav", amp=0.9, subtype="FLOAT")
    out = tmp_path / "v.aiff"
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "--bit-depth", "float", "-o", str(out), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    info = sf.info(out)
    assert info.format == "AIFF" and info.subtype == "FLOAT"
    y, sr = sf.read(out, dtype="float32")
    assert sr == SR and y.shape == (int(1.5 * SR), 2)
    assert np.abs(y).max() > 1.0  # the shifted peaks above full scale are kept, not clipped
    # the 24-bit AIFF of the same shift clips them, and says so
    r = runner.invoke(app, ["audio", "shift", str(src), "--semitones", "1", "-o", str(tmp_path / "v24.aiff"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sf.info(tmp_path / "v24.aiff").subtype == "PCM_24" and "clipped" in r.stderr


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
