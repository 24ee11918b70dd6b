"""Writing audio files: WAV (16/24-bit, 32-bit float), FLAC, MP3 and OGG, atomically.

WAV and FLAC go through soundfile; MP3 and OGG through pedalboard's ``AudioFile``,
written in chunks (libsndfile's OGG writer crashes on long single writes). Every file
is written under a temporary name beside the target and renamed when complete
(:func:`backline.util.atomic.atomic_path`). 16-bit output gets seeded TPDF dither,
so the same input always gives the same bytes.

Audio is ``(n_samples, channels)`` float32.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from backline.errors import OutputError, RenderError
from backline.util.atomic import atomic_path

__all__ = [
    "FORMATS",
    "BIT_DEPTHS",
    "write_audio",
    "extension",
    "check_format",
    "set_default_mode",
    "write_error",
]

FORMATS = ("wav", "flac", "mp3", "ogg")
BIT_DEPTHS = (16, 24, 32)
_CHUNK = 1 << 16
_LOSSY_QUALITY = {"mp3": "V0", "ogg": "192 kbps"}


def extension(fmt: str) -> str:
    """The file extension of a format (``.wav`` ...)."""
    return "." + fmt


def check_format(fmt: str, bit_depth: int, sample_rate: int, channels: int = 2) -> None:
    """Raise :class:`RenderError` for a combination we cannot write."""
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


def set_default_mode(path: Path) -> None:
    """Give ``path`` the permissions of a freshly created file (0666 less the umask):
    temporary files are created 0600."""
    mask = os.umask(0)
    os.umask(mask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~mask)


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


def _dither16(audio: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0x5EED)
    lsb = 1.0 / 32768.0
    noise = (rng.random(audio.shape, dtype=np.float32) - rng.random(audio.shape, dtype=np.float32)) * lsb
    return np.clip(audio + noise, -1.0, 1.0 - lsb).astype(np.float32)


def _write_sndfile(tmp: Path, audio: np.ndarray, sample_rate: int, fmt: str, bit_depth: int) -> None:
    import soundfile as sf

    subtype = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[bit_depth]
    data = _dither16(audio) if bit_depth == 16 else audio
    if bit_depth == 24:
        data = np.clip(data, -1.0, 1.0 - 2.0**-23)
    with sf.SoundFile(
        tmp, "w", samplerate=sample_rate, channels=data.shape[1], subtype=subtype, format=fmt.upper()
    ) as f:
        for start in range(0, data.shape[0], _CHUNK):
            f.write(data[start : start + _CHUNK])


def _write_pedalboard(tmp: Path, audio: np.ndarray, sample_rate: int, fmt: str) -> None:
    from pedalboard.io import AudioFile

    with AudioFile(str(tmp), "w", sample_rate, audio.shape[1], quality=_LOSSY_QUALITY[fmt]) as f:
        for start in range(0, audio.shape[0], _CHUNK):
            f.write(np.ascontiguousarray(audio[start : start + _CHUNK].T))


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    *,
    fmt: str | None = None,
    bit_depth: int = 24,
) -> Path:
    """Write ``audio`` ((n,) or (n, ch) float) to ``path`` atomically and return the path.

    ``fmt`` defaults to the extension of ``path``; ``bit_depth`` applies to WAV/FLAC
    (32 = float). OS failures (unwritable folder, full disk) raise
    :class:`~backline.errors.OutputError`.
    """
    target = Path(path)
    fmt = (fmt or target.suffix.lstrip(".")).lower()
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    check_format(fmt, bit_depth if fmt in ("wav", "flac") else 24, sample_rate, data.shape[1])
    if not np.isfinite(data).all():
        raise RenderError(f"{target.name}: audio holds NaN or infinite samples")
    try:
        with atomic_path(target) as tmp:
            if fmt in ("wav", "flac"):
                _write_sndfile(tmp, data, sample_rate, fmt, bit_depth)
            else:
                _write_pedalboard(tmp, data, sample_rate, fmt)
    except OutputError:
        raise
    except (OSError, RuntimeError) as exc:  # libsndfile / pedalboard report disk errors so
        raise write_error(target, exc) from exc
    set_default_mode(target)
    return target
