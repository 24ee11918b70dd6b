"""Writing audio files: WAV (16/24-bit, 32-bit float), FLAC, MP3 and OGG, atomically.

WAV and FLAC go through soundfile; MP3 and OGG through pedalboard's ``AudioFile``,
written in chunks (libsndfile's OGG writer crashes on long single writes). Every file
is written under a temporary name beside the target and renamed when complete
(:func:`backline.util.atomic.atomic_path`). 16-bit output gets seeded TPDF dither,
so the same input always gives the same bytes.

Cost: a file is written in blocks of 65,536 frames taken from the caller (any memory
layout; :func:`write_audio_blocks` builds them on the fly, so a multichannel file never
exists whole in memory). 24-bit PCM is converted in numpy into reused buffers (scale,
clip, round to int32); a 24-bit WAV is then packed and written by numpy (the 44-byte
header libsndfile writes), several times faster than libsndfile's own packing; FLAC
gets the integers through libsndfile.

Audio is interleaved, ``(frames, channels)`` float32 (:func:`write_interleaved`); the
planar ``(channels, frames)`` arrays of :mod:`backline.audio` go through
:func:`backline.audio.io.write_audio`. Both refuse a channel count outside 1 to 64, or
more channels than frames (an array with its axes swapped).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from backline.errors import OutputError, RenderError, RenderOptionError
from backline.util.atomic import atomic_path
from backline.util.channels import MAX_CHANNELS, channel_problem

__all__ = [
    "LOSSY_FORMATS",
    "decoded_true_peak",
    "FORMATS",
    "BIT_DEPTHS",
    "MAX_CHANNELS",
    "write_interleaved",
    "write_audio_blocks",
    "extension",
    "check_format",
    "write_error",
]

FORMATS = ("wav", "flac", "mp3", "ogg")
#: The formats whose decoded peaks can differ from what was encoded.
LOSSY_FORMATS = ("mp3", "ogg")
BIT_DEPTHS = (16, 24, 32)
_CHUNK = 1 << 16
_LOSSY_QUALITY = {"mp3": "V0", "ogg": "192 kbps"}


def extension(fmt: str) -> str:
    """The file extension of a format (``.wav`` ...)."""
    return "." + fmt


def check_format(
    fmt: str, bit_depth: int, sample_rate: int, channels: int = 2, frames: int | None = None
) -> None:
    """Raise :class:`RenderError` for a combination we cannot write (a
    :class:`RenderOptionError` for a channel count outside 1 to :data:`MAX_CHANNELS`, or
    more channels than ``frames``, when given: an array with its axes swapped)."""
    problem = channel_problem(channels, frames)
    if problem is not None:
        raise RenderOptionError(f"{problem}; audio here is (frames, channels)")
    if fmt not in FORMATS:
        raise RenderError(f"unknown audio format {fmt!r} (choose from {', '.join(FORMATS)})")
    if bit_depth not in BIT_DEPTHS:
        raise RenderError(f"bit depth must be 16, 24 or 32 (float), not {bit_depth}")
    if fmt == "flac" and bit_depth == 32:
        raise RenderError("FLAC holds 16 or 24 bits, not 32-bit float")
    if fmt in ("mp3", "ogg") and channels > 2:
        raise RenderError(f"{fmt.upper()} holds at most 2 channels, not {channels}")
    if fmt == "flac" and channels > 8:
        raise RenderError(f"FLAC holds at most 8 channels, not {channels}")
    if sample_rate < 8000 or sample_rate > 192000:
        raise RenderError(f"unsupported sample rate {sample_rate}")


def write_error(path: str | os.PathLike[str], exc: BaseException) -> OutputError:
    """An :class:`OutputError` for a failed write, saying why where the OS said it.

    libsndfile reports a failed write as "System error." and numpy's short writes carry
    no errno, so when the exception has none, the likely causes are checked: the
    process's file-size limit (``ulimit -f``) and the free space of the disk."""
    target = Path(path)
    reason = str(exc.strerror) if isinstance(exc, OSError) and exc.strerror else str(exc)
    if not (isinstance(exc, OSError) and exc.errno):
        import resource
        import shutil

        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        try:
            free = shutil.disk_usage(target.parent).free
        except OSError:
            free = None
        if soft != resource.RLIM_INFINITY:
            reason = f"File too large: the file size limit (ulimit -f) is {soft} bytes ({reason})"
        elif free is not None and free < 64 << 20:
            reason = f"No space left on device ({free} bytes free; {reason})"
    return OutputError(f"cannot write {target}: {reason}")


class _Blocks:
    """Float blocks to the file's sample type, in reused buffers."""

    def __init__(self, channels: int, bit_depth: int) -> None:
        self.bit_depth = bit_depth
        self.fbuf = np.empty((_CHUNK, channels), dtype=np.float32)
        self.ibuf = np.empty((_CHUNK, channels), dtype=np.int32) if bit_depth == 24 else None
        self.rng = np.random.default_rng(0x5EED) if bit_depth == 16 else None

    def to_int24(self, block: np.ndarray) -> np.ndarray:
        """The block as 24-bit integers in int32 (scaled by 2**23, clipped, rounded)."""
        k = block.shape[0]
        f = self.fbuf[:k]
        np.multiply(block, np.float32(1 << 23), out=f)
        np.clip(f, -float(1 << 23), float((1 << 23) - 1), out=f)
        np.rint(f, out=f)
        assert self.ibuf is not None
        i = self.ibuf[:k]
        i[...] = f
        return i

    def convert(self, block: np.ndarray) -> np.ndarray:
        k = block.shape[0]
        f = self.fbuf[:k]
        if self.bit_depth == 24:
            i = self.to_int24(block)
            np.left_shift(i, 8, out=i)  # libsndfile keeps the top 24 bits of an int32
            return i
        if self.bit_depth == 16 and self.rng is not None:
            lsb = np.float32(1.0 / 32768.0)
            noise = self.rng.random(f.shape, dtype=np.float32)
            noise -= self.rng.random(f.shape, dtype=np.float32)
            np.multiply(noise, lsb, out=noise)
            np.add(block, noise, out=f)
            np.clip(f, -1.0, 1.0 - lsb, out=f)
            return f
        f[...] = block
        return f


def _finite(block: np.ndarray) -> bool:
    """No NaN or infinity in ``block`` (two reductions: max propagates NaN)."""
    return bool(np.isfinite(block.max(initial=0.0)) and np.isfinite(block.min(initial=0.0)))


Blocks = Callable[[int, int], np.ndarray]


def _write_sndfile(
    tmp: Path, blocks: Blocks, n: int, channels: int, sample_rate: int, fmt: str, bit_depth: int
) -> None:
    import soundfile as sf

    subtype = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[bit_depth]
    conv = _Blocks(channels, bit_depth)
    with sf.SoundFile(
        tmp, "w", samplerate=sample_rate, channels=channels, subtype=subtype, format=fmt.upper()
    ) as f:
        for start in range(0, n, _CHUNK):
            f.write(conv.convert(_checked(blocks, start, min(n, start + _CHUNK))))


def _pack24(i: np.ndarray) -> memoryview:
    """24-bit little-endian bytes of int32 samples (4 samples -> 3 uint32 words)."""
    flat = i.reshape(-1)
    count = flat.size
    if count % 4:
        flat = np.concatenate([flat, np.zeros(4 - count % 4, dtype=np.int32)])
    u = flat.view(np.uint32).reshape(-1, 4)
    a, b, c, d = u[:, 0], u[:, 1], u[:, 2], u[:, 3]
    out = np.empty((u.shape[0], 3), dtype=np.uint32)
    np.bitwise_and(a, 0xFFFFFF, out=out[:, 0])
    out[:, 0] |= b << 24
    np.right_shift(b, 8, out=out[:, 1])
    out[:, 1] &= 0xFFFF
    out[:, 1] |= c << 16
    np.right_shift(c, 16, out=out[:, 2])
    out[:, 2] &= 0xFF
    out[:, 2] |= d << 8
    return memoryview(out.reshape(-1).view(np.uint8))[: count * 3]  # type: ignore[arg-type]


_RIFF_MAX = 0xFFFFFFFF - 64


def _write_wav24(tmp: Path, blocks: Blocks, n: int, channels: int, sample_rate: int) -> None:
    """A 24-bit PCM WAV (the header libsndfile writes: 44 bytes, format tag 1), packed
    in numpy: several times faster than libsndfile's own 24-bit packing."""
    data_bytes = n * channels * 3
    pad = data_bytes % 2
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes + pad,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * channels * 3,
        channels * 3,
        24,
        b"data",
        data_bytes,
    )
    conv = _Blocks(channels, 24)
    with open(tmp, "wb") as fh:
        fh.write(header)
        for start in range(0, n, _CHUNK):
            block = _checked(blocks, start, min(n, start + _CHUNK))
            fh.write(_pack24(conv.to_int24(block)))
        if pad:
            fh.write(b"\0")


def _write_pedalboard(tmp: Path, blocks: Blocks, n: int, channels: int, sample_rate: int, fmt: str) -> None:
    from pedalboard.io import AudioFile

    with AudioFile(str(tmp), "w", sample_rate, channels, quality=_LOSSY_QUALITY[fmt]) as f:
        for start in range(0, n, _CHUNK):
            f.write(np.ascontiguousarray(_checked(blocks, start, min(n, start + _CHUNK)).T))


class _NotFinite(Exception):
    pass


def _checked(blocks: Blocks, start: int, stop: int) -> np.ndarray:
    block = np.asarray(blocks(start, stop), dtype=np.float32)
    if not _finite(block):
        raise _NotFinite
    return block


def write_audio_blocks(
    path: str | os.PathLike[str],
    blocks: Blocks,
    n_frames: int,
    channels: int,
    sample_rate: int,
    *,
    fmt: str | None = None,
    bit_depth: int = 24,
) -> Path:
    """Write ``n_frames`` frames of ``channels`` channels to ``path`` atomically, asking
    ``blocks(start, stop)`` for each block of frames ((stop - start, channels) float).

    ``fmt`` defaults to the extension of ``path``; ``bit_depth`` applies to WAV/FLAC
    (32 = float). OS failures (unwritable folder, full disk) raise
    :class:`~backline.errors.OutputError`; NaN or infinite samples a
    :class:`~backline.errors.RenderError` (and no file); a channel count outside 1 to
    :data:`MAX_CHANNELS`, or not below ``n_frames``, a
    :class:`~backline.errors.RenderOptionError` (see :func:`check_format`).
    """
    target = Path(path)
    fmt = (fmt or target.suffix.lstrip(".")).lower()
    try:
        check_format(fmt, bit_depth if fmt in ("wav", "flac") else 24, sample_rate, channels, n_frames)
    except RenderError as exc:
        raise type(exc)(f"cannot write {target}: {exc}") from None
    try:
        with atomic_path(target) as tmp:
            if fmt == "wav" and bit_depth == 24 and n_frames * channels * 3 < _RIFF_MAX:
                _write_wav24(tmp, blocks, n_frames, channels, sample_rate)
            elif fmt in ("wav", "flac"):
                _write_sndfile(tmp, blocks, n_frames, channels, sample_rate, fmt, bit_depth)
            else:
                _write_pedalboard(tmp, blocks, n_frames, channels, sample_rate, fmt)
    except _NotFinite:
        raise RenderError(f"{target.name}: audio holds NaN or infinite samples") from None
    except OutputError:
        raise
    except (OSError, RuntimeError) as exc:  # libsndfile / pedalboard report disk errors so
        raise write_error(target, exc) from exc
    except struct.error as exc:  # a header field out of range: refused above, kept as a guard
        raise RenderError(f"cannot write {target.name}: {exc}") from None
    return target


def write_interleaved(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    *,
    fmt: str | None = None,
    bit_depth: int = 24,
) -> Path:
    """Write interleaved ``audio``, ``(frames,)`` or ``(frames, channels)`` float (any
    memory layout), to ``path`` atomically and return the path.

    ``fmt`` defaults to the extension of ``path``; ``bit_depth`` applies to WAV/FLAC
    (32 = float). OS failures (unwritable folder, full disk) raise
    :class:`~backline.errors.OutputError`; an array of another shape, or one whose axes
    look swapped (more channels than frames, or more than :data:`MAX_CHANNELS`), a
    :class:`~backline.errors.RenderOptionError`.
    """
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise RenderOptionError(f"audio must be (frames,) or (frames, channels), not shape {data.shape}")

    def blocks(start: int, stop: int) -> np.ndarray:
        return data[start:stop]

    return write_audio_blocks(
        path, blocks, data.shape[0], data.shape[1], sample_rate, fmt=fmt, bit_depth=bit_depth
    )


def decoded_true_peak(path: str | os.PathLike[str]) -> float:
    """The true peak (dBTP, 4x oversampled) of an audio file as a player decodes it: for
    MP3 and OGG the encoder's overshoot is in it. Read through pedalboard (MP3/OGG) or
    soundfile, chunk by chunk."""
    from backline.render.loudness import true_peak

    if Path(path).suffix.lower() in (".mp3", ".ogg"):
        from pedalboard.io import AudioFile

        with AudioFile(str(path)) as f:
            audio = f.read(f.frames)  # (channels, n)
        return true_peak(np.ascontiguousarray(audio.T, dtype=np.float32))
    import soundfile as sf

    data, _sr = sf.read(str(path), dtype="float32", always_2d=True)
    return true_peak(data)
