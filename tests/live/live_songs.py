"""Synthetic test songs: short stems written as WAV, with a stem that encodes the song position.

The ``pos`` stem carries, on every sample, the frame it was read from:
``left = (frame % 4096) / 4096``, ``right = (frame // 4096) / 4096`` (exact in float32),
so a recording of an output shows exactly which song frame was played when.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from backline.live.engine import Engine
from backline.live.offline import parse_events, run_offline
from backline.live.show import Show

SR = 48000
TEMPO = 240.0  # one 4/4 bar per second
BAR = SR  # frames per bar at TEMPO
POS_DIV = 4096


def pos_stem(frames: int) -> np.ndarray:
    f = np.arange(frames, dtype=np.int64)
    return np.stack([(f % POS_DIV) / POS_DIV, (f // POS_DIV) / POS_DIV], axis=1).astype(np.float32)


def decode_pos(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Song frame per output sample (from the two channels that carry the ``pos`` stem)."""
    return (
        np.round(right.astype(np.float64) * POS_DIV) * POS_DIV + np.round(left.astype(np.float64) * POS_DIV)
    ).astype(np.int64)


def tone(frames: int, freq: float, level: float = 0.25, channels: int = 2) -> np.ndarray:
    t = np.arange(frames) / SR
    x = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def impulses(frames: int, every: int, level: float = 0.5) -> np.ndarray:
    x = np.zeros(frames, dtype=np.float32)
    x[::every] = level
    return x


def write_song(
    folder: Path, bars: int = 8, *, sections: tuple[tuple[float, str], ...] = ((0.0, "A"), (4.0, "B"))
) -> Path:
    """A stems folder: pos (stereo position code), keys (stereo tone), click (beats) and cues
    (a tone burst each bar), plus ``markers.csv``; ``bars`` 4/4 bars at 240 BPM."""
    folder.mkdir(parents=True, exist_ok=True)
    n = bars * BAR
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    sf.write(folder / "keys.wav", tone(n, 220.0), SR, subtype="FLOAT")
    sf.write(folder / "click.wav", impulses(n, BAR // 4), SR, subtype="FLOAT")
    cues = np.zeros(n, dtype=np.float32)
    for b in range(bars):
        cues[b * BAR : b * BAR + 2400] = tone(2400, 1000.0, 0.3, channels=1)
    sf.write(folder / "cues.wav", cues, SR, subtype="FLOAT")
    (folder / "markers.csv").write_text("time,label\n" + "".join(f"{t},{lab}\n" for t, lab in sections))
    return folder


SETLIST_HEAD = """
[setlist]
title = "test show"
sample_rate = 48000
count_in_bars = 0
cache = "cache"

[outputs]
count = 6
foh = [1, 2]
in_ear = [3, 4]
"""


def song_toml(title: str, folder: str, extra: str = "") -> str:
    return f"""
[[songs]]
title = "{title}"
stems = "{folder}"
markers = "{folder}/markers.csv"
tempo = 240
key = "E"
routing = {{ pos = [5, 6] }}
{extra}
"""


def render(
    show: Show, script: str, *, block: int = 512, fmt: str = "x.txt", autoplay: bool = True
) -> tuple[np.ndarray, Engine]:
    """Run the offline driver; returns (outputs x frames, engine)."""
    engine = Engine(show)
    blocks: list[np.ndarray] = []
    run_offline(
        engine, parse_events(script, fmt), lambda b: blocks.append(b.copy()), block=block, autoplay=autoplay
    )
    return np.concatenate(blocks, axis=1), engine
