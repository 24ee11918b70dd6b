"""Both audio writers refuse a channel count they should not write: an array passed with its
axes swapped was written as a 4410-channel WAV (or spun writing one), or leaked struct.error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backline.audio.io import open_writer, write_audio
from backline.errors import AudioInputError, BacklineError
from backline.render.export import write_interleaved
from backline.util.channels import MAX_CHANNELS, channel_problem

SR = 22050


@pytest.mark.parametrize(
    ("channels", "frames", "ok"),
    [
        (1, 100, True),
        (2, 100, True),
        (MAX_CHANNELS, 1000, True),
        (2, 0, True),  # an empty file of two channels
        (1, 1, True),  # one mono sample
        (0, 100, False),
        (MAX_CHANNELS + 1, 100_000, False),
        (2, 2, False),  # as many channels as frames: the axes look swapped
        (100, 2, False),
        (2, -1, False),
        (4410, None, False),
    ],
)
def test_channel_problem(channels: int, frames: int | None, ok: bool) -> None:
    assert (channel_problem(channels, frames) is None) == ok


def test_planar_writer_refuses_interleaved_audio(tmp_path: Path) -> None:
    interleaved = np.zeros((20, 2), dtype=np.float32)  # (frames, channels): the render order
    with pytest.raises(AudioInputError, match=r"20 channels of 2 frames.*\(channels, samples\)"):
        write_audio(tmp_path / "a.wav", interleaved, SR)
    with pytest.raises(AudioInputError, match="at most 64"):
        write_audio(tmp_path / "a.wav", np.zeros((4410, 2), dtype=np.float32), SR)
    assert list(tmp_path.iterdir()) == []
    p = write_audio(tmp_path / "a.wav", interleaved.T, SR)
    assert p.is_file()


def test_open_writer_checks_the_channel_count_and_every_block(tmp_path: Path) -> None:
    for bad in (0, MAX_CHANNELS + 1):
        with pytest.raises(AudioInputError, match="channels"), open_writer(tmp_path / "a.wav", SR, bad):
            pass
    with pytest.raises(AudioInputError, match="3 channel"), open_writer(tmp_path / "b.wav", SR, 3) as write:
        write(np.zeros((3, 100), dtype=np.float32))
        write(np.zeros((100, 3), dtype=np.float32))
    assert list(tmp_path.iterdir()) == []


def test_interleaved_writer_refuses_planar_audio(tmp_path: Path) -> None:
    for frames in (4410, 44100):  # 44100 frames leaked a raw struct.error
        with pytest.raises(BacklineError, match=f"{frames} channels: at most 64.*\\(frames, channels\\)"):
            write_interleaved(tmp_path / "a.wav", np.zeros((2, frames), dtype=np.float32), SR)
    assert list(tmp_path.iterdir()) == []
    assert write_interleaved(tmp_path / "a.wav", np.zeros((frames, 2), dtype=np.float32), SR).is_file()
