"""``audio check``: dead channels, unrelated channels, cut-off and header-only WAV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pedalboard")

from backline.audio.check import check_audio
from backline.audio.io import write_audio

SR = 44100


def test_dead_right_channel_is_reported(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    left = (0.1 * rng.standard_normal(SR * 3)).astype(np.float32)
    f = tmp_path / "dead.wav"
    write_audio(f, np.stack([left, np.zeros_like(left)]), SR)
    r = check_audio(f)
    assert r.silent_channels == [1]
    assert any("right channel is silent" in w for w in r.warnings)
    assert r.correlation is None  # was +1.00


def test_unrelated_channels_are_not_out_of_phase(tmp_path: Path) -> None:
    """Two independent noises (correlation about 0) fold to mono fine: no phase warning;
    a polarity-flipped copy still gets one."""
    rng = np.random.default_rng(4)
    a, b = (0.1 * rng.standard_normal((2, SR * 3))).astype(np.float32)
    f = tmp_path / "wide.wav"
    write_audio(f, np.stack([a, b]), SR)
    r = check_audio(f)
    assert r.correlation is not None and abs(r.correlation) < 0.1
    assert not any("out of phase" in w for w in r.warnings)
    g = tmp_path / "flip.wav"
    write_audio(g, np.stack([a, -a]), SR)
    assert any("out of phase" in w for w in check_audio(g).warnings)


def test_cut_off_and_header_only_wavs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from backline.cli.app import app

    rng = np.random.default_rng(5)
    whole = tmp_path / "whole.wav"
    write_audio(whole, (0.1 * rng.standard_normal((2, SR * 6))).astype(np.float32), SR, bit_depth=16)
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 3])
    r = check_audio(cut)
    assert r.duration == pytest.approx(2.0, abs=0.05)
    assert r.missing_seconds == pytest.approx(4.0, abs=0.05)
    assert any("truncated" in w for w in r.warnings)
    head = tmp_path / "head.wav"
    head.write_bytes(data[: data.index(b"data") + 8])  # the header, up to where the samples start
    res = CliRunner().invoke(app, ["audio", "check", str(head)])
    assert res.exit_code == 2 and "no audio data" in res.output, res.output
    res = CliRunner().invoke(
        app, ["audio", "shift", str(head), "--semitones", "1", "-o", str(tmp_path / "o.wav")]
    )
    assert res.exit_code == 2 and "no audio data" in res.output, res.output
    assert not (tmp_path / "o.wav").exists()
