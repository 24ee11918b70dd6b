"""MP3 timing: where the music starts in a decoded MP3, and how long it is.

An MP3 decoder's output starts later than the audio that was encoded: the encoder adds
its own delay (LAME: 576 samples) and pads the end to whole frames, and the decoder adds
529 samples of filter delay. Players and ffmpeg take these off, reading the encoder's
delay and padding from the LAME tag in the first frame; pedalboard's decoder does not
(a LAME file at 44.1 kHz read 26 ms late and 1656 samples long), so a click made for an
MP3, or an MP3 stem beside WAV stems, was off by 26 ms.

:func:`gapless_info` reads the tag (no audio is decoded); :class:`GaplessReader` wraps
a decoder (``seek``/``read`` in frames) and serves the music alone, on ffmpeg's timing.
A file without a LAME tag (libshine, some hardware) loses the decoder delay only, as in
ffmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DECODER_DELAY", "Gapless", "GaplessReader", "gapless_info"]

#: Samples a standard MP3 decoder's synthesis filter delays its output (mpg123, ffmpeg).
DECODER_DELAY = 529


@dataclass(frozen=True)
class Gapless:
    """What the first frame says: samples to skip at the start of the decoder's output
    (decoder delay + encoder delay) and the music's length (None: not given)."""

    skip: int
    frames: int | None


def _first_frame(data: bytes) -> int:
    """Offset of the first MPEG audio frame header (after an ID3v2 tag), or -1."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    while pos + 4 <= len(data):
        if data[pos] == 0xFF and data[pos + 1] & 0xE0 == 0xE0:
            version = (data[pos + 1] >> 3) & 3
            layer = (data[pos + 1] >> 1) & 3
            rate = (data[pos + 2] >> 2) & 3
            bitrate = data[pos + 2] >> 4
            if version != 1 and layer == 1 and rate != 3 and 0 < bitrate < 15:
                return pos
        pos += 1
    return -1


def gapless_info(path: str | Path) -> Gapless:
    """Read the LAME tag of an MP3 (the first 64 KiB are enough). Without one: skip the
    decoder delay only, length unknown."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 16)
    except OSError:
        return Gapless(DECODER_DELAY, None)
    pos = _first_frame(data)
    if pos < 0:
        return Gapless(DECODER_DELAY, None)
    b1, b3 = data[pos + 1], data[pos + 3]
    mpeg1 = (b1 >> 3) & 3 == 3
    mono = (b3 >> 6) == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    spf = 1152 if mpeg1 else 576
    tag = pos + 4 + side
    if data[tag : tag + 4] not in (b"Xing", b"Info"):
        return Gapless(DECODER_DELAY, None)
    flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
    p = tag + 8
    n_frames = None
    if flags & 1:
        n_frames = int.from_bytes(data[p : p + 4], "big")
        p += 4
    if flags & 2:
        p += 4
    if flags & 4:
        p += 100
    if flags & 8:
        p += 4
    # the LAME extension: 9 bytes of encoder name, ..., delay and padding at +21 (12 bits each)
    if len(data) < p + 24 or n_frames is None or not data[p : p + 4].isalpha():
        return Gapless(DECODER_DELAY, None)
    d = data[p + 21 : p + 24]
    delay = (d[0] << 4) | (d[1] >> 4)
    padding = ((d[1] & 0x0F) << 8) | d[2]
    length = n_frames * spf - delay - padding
    if delay > 4 * spf or padding > 4 * spf or length <= 0:
        return Gapless(DECODER_DELAY, None)
    return Gapless(DECODER_DELAY + delay, length)


class GaplessReader:
    """A decoder (pedalboard's ``AudioFile``: ``samplerate``, ``num_channels``,
    ``frames``, ``seek``, ``read`` -> ``(channels, n)``) that serves only the music: the
    delays skipped, the padding cut, zeros past the decoder's end if it stops short."""

    def __init__(self, f: Any, info: Gapless) -> None:
        self._f = f
        self.samplerate = f.samplerate
        self.num_channels = f.num_channels
        self.skip = info.skip
        avail = max(0, int(f.frames) - info.skip)
        # the music, or what the decoder gives of it (an encoder that pads less than the
        # decoder delays, as libshine, ends early: as in ffmpeg)
        self.frames = min(info.frames, avail) if info.frames is not None else avail
        self._pos = 0

    def seek(self, frame: int) -> None:
        self._pos = max(0, int(frame))

    def read(self, n: int) -> np.ndarray:
        n = max(0, min(int(n), self.frames - self._pos))
        out = np.zeros((int(self.num_channels), n), dtype=np.float32)
        src = self._pos + self.skip
        have = max(0, min(n, int(self._f.frames) - src))
        if have:
            self._f.seek(src)
            got = self._f.read(have)
            out[:, : got.shape[-1]] = got
        self._pos += n
        return out

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> GaplessReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
