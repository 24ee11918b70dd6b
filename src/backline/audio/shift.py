"""Pitch shift and time stretch with Rubber Band (pedalboard.time_stretch, high-quality mode).

A pitch shift keeps the duration; a tempo change keeps the pitch. Long files are
processed in overlapping chunks (bounded memory) and the output length is exactly
``round(n / tempo_ratio)`` samples.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backline.audio.io import AUDIO_EXTENSIONS, open_writer, probe
from backline.errors import AudioInputError

__all__ = ["shift_audio", "shift_file", "shift_folder", "ShiftResult", "is_click_or_cue"]

CHUNK_SECONDS = 300.0
CONTEXT_SECONDS = 2.0
FADE_SECONDS = 1.0

Reader = Callable[[int, int], np.ndarray]
Writer = Callable[[np.ndarray], None]


def shift_audio(
    audio: np.ndarray, sample_rate: int, *, semitones: float = 0.0, tempo_ratio: float = 1.0
) -> np.ndarray:
    """Shift ``(channels, samples)`` audio by ``semitones`` and play it ``tempo_ratio`` times faster.

    Output has exactly ``round(samples / tempo_ratio)`` samples.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    pieces: list[np.ndarray] = []
    _shift_stream(
        lambda a, b: x[:, a:b], x.shape[1], x.shape[0], sample_rate, semitones, tempo_ratio, pieces.append
    )
    return np.concatenate(pieces, axis=1) if pieces else np.zeros((x.shape[0], 0), np.float32)


def _shift_stream(
    read: Reader, n: int, channels: int, sample_rate: int, semitones: float, tempo_ratio: float, write: Writer
) -> None:
    """Shift ``n`` samples obtained with ``read(a, b)`` and pass the result to ``write`` in order.

    Files longer than ``CHUNK_SECONDS`` are processed in chunks with ``CONTEXT_SECONDS`` of
    context on each side, joined with a ``FADE_SECONDS`` crossfade: memory stays bounded.
    """
    from pedalboard import time_stretch

    if tempo_ratio <= 0 or not np.isfinite(tempo_ratio):
        raise ValueError("tempo ratio must be positive")
    n_out = round(n / tempo_ratio)
    chunk = int(CHUNK_SECONDS * sample_rate)
    ctx = int(CONTEXT_SECONDS * sample_rate)
    if semitones == 0 and tempo_ratio == 1.0:
        for a in range(0, n, chunk):
            write(np.array(read(a, min(n, a + chunk)), dtype=np.float32))
        return

    def stretch(a: int, b: int) -> np.ndarray:
        y = time_stretch(
            np.ascontiguousarray(read(a, b), dtype=np.float32),
            float(sample_rate),
            stretch_factor=tempo_ratio,
            pitch_shift_in_semitones=semitones,
            high_quality=True,
        )
        return _fit(y, round((b - a) / tempo_ratio))

    if n <= chunk + 2 * ctx:
        write(_fit(stretch(0, n), n_out))
        return
    fade = int(FADE_SECONDS * sample_rate / tempo_ratio)
    held: np.ndarray | None = None  # the tail of the previous piece, waiting for its crossfade
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        a, b = max(0, start - ctx), min(n, end + ctx)
        y = stretch(a, b)
        o_start = round(start / tempo_ratio)
        o_end = round(end / tempo_ratio) if end < n else n_out
        lead = round((start - a) / tempo_ratio)
        body = y[:, lead : lead + (o_end - o_start)]
        if body.shape[1] < o_end - o_start:
            body = np.pad(body, ((0, 0), (0, o_end - o_start - body.shape[1])))
        if held is not None:
            # crossfade the held tail (previous chunk, same output span) into this chunk's head
            head_ctx = y[:, lead - fade : lead] if lead >= fade else None
            ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
            if head_ctx is not None and head_ctx.shape[1] == fade:
                write(held * (1.0 - ramp) + head_ctx * ramp)
            else:
                write(held)
        if end < n:
            write(body[:, : body.shape[1] - fade])
            held = body[:, body.shape[1] - fade :]
        else:
            write(body)
            held = None


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    if y.shape[1] >= n:
        return np.ascontiguousarray(y[:, :n], dtype=np.float32)
    return np.pad(y, ((0, 0), (0, n - y.shape[1]))).astype(np.float32)


_CLICK_RE = re.compile(r"(click|metronome|cue|cues|guide|count)", re.IGNORECASE)


def is_click_or_cue(path: str | os.PathLike[str]) -> bool:
    """Stems named like click/metronome/cues/guide are time-stretched but never pitch-shifted."""
    return bool(_CLICK_RE.search(Path(path).stem))


@dataclass(frozen=True)
class ShiftResult:
    inputs: list[Path]
    outputs: list[Path]
    semitones: float
    tempo_ratio: float
    pitch_kept: list[Path]


def shift_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    semitones: float = 0.0,
    tempo_ratio: float = 1.0,
    bit_depth: int | str = 24,
    pad_to: int | None = None,
) -> Path:
    """Shift one file into ``dst`` (format from its extension), streaming: memory stays
    bounded for any length. The input is never overwritten. ``pad_to`` pads the input
    with silence to that many samples first (keeps stems of a folder aligned)."""
    from pedalboard.io import AudioFile

    s, d = Path(src), Path(dst)
    if d.exists() and s.resolve() == d.resolve():
        raise AudioInputError(f"{d}: output would overwrite the input; choose another name")
    info = probe(s)
    n = max(info.frames, pad_to or 0)
    with AudioFile(str(s)) as f:

        def read(a: int, b: int) -> np.ndarray:
            out = np.zeros((info.channels, b - a), dtype=np.float32)
            if a < info.frames:
                f.seek(a)
                got = f.read(min(b, info.frames) - a)
                out[:, : got.shape[1]] = got
            return out

        with open_writer(d, info.sample_rate, info.channels, bit_depth) as write:
            _shift_stream(read, n, info.channels, info.sample_rate, semitones, tempo_ratio, write)
    return d


def shift_folder(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    semitones: float = 0.0,
    tempo_ratio: float = 1.0,
    bit_depth: int | str = 24,
) -> ShiftResult:
    """Shift every stem of a folder, keeping them sample-aligned.

    Every output has ``round(n / tempo_ratio)`` samples where ``n`` is the longest
    stem (shorter stems are padded with silence). Click and cue stems are
    time-stretched but keep their pitch.
    """
    s, d = Path(src), Path(dst)
    if not s.is_dir():
        raise AudioInputError(f"{s}: not a folder")
    files = sorted(p for p in s.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise AudioInputError(f"{s}: no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    if d.exists() and d.resolve() == s.resolve():
        raise AudioInputError(f"{d}: output folder is the input folder; choose another")
    infos = [probe(f) for f in files]
    rates = {i.sample_rate for i in infos}
    if len(rates) > 1:
        raise AudioInputError(f"{s}: stems have different sample rates {sorted(rates)}; convert them first")
    n = max(i.frames for i in infos)
    outs: list[Path] = []
    kept: list[Path] = []
    for f in files:
        st = 0.0 if is_click_or_cue(f) else semitones
        if st != semitones:
            kept.append(f)
        outs.append(
            shift_file(f, d / f.name, semitones=st, tempo_ratio=tempo_ratio, bit_depth=bit_depth, pad_to=n)
        )
    return ShiftResult(files, outs, semitones, tempo_ratio, kept)
