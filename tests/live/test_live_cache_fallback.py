"""A setlist whose cache cannot be written (a USB stick): resampled audio goes to the
user's cache folder, or the song gets a clear problem; never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from backline.cli.app import app

runner = CliRunner()


def _gig(tmp_path: Path) -> Path:
    t = np.arange(44100 * 2) / 44100
    sf.write(tmp_path / "song.wav", 0.2 * np.sin(2 * np.pi * 220 * t), 44100)  # the show runs at 48 kHz
    gig = tmp_path / "gig.toml"
    # the cache is a file: nothing can be written under it, as on a read-only stick
    gig.write_text(
        '[setlist]\ntitle = "USB stick"\ncache = "song.wav"\n[[songs]]\ntitle = "A"\naudio = "song.wav"\n'
    )
    return gig


def test_an_unwritable_cache_falls_back_to_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gig = _gig(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    res = runner.invoke(app, ["live", "check", "--quick", str(gig)])
    assert res.exit_code == 0, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert list((tmp_path / "xdg" / "backline" / "resampled").glob("song-*.wav"))
    assert "xdg" in res.output


def test_no_writable_cache_is_a_problem_of_the_song_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gig = _gig(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "song.wav"))  # a file as well
    res = runner.invoke(app, ["live", "check", "--quick", str(gig)])
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit)
    text = " ".join(res.output.split())
    assert "neither the setlist's cache" in text and "can be written" in text
    assert "Traceback" not in res.output
