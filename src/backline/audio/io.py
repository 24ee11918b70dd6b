"""Reading and writing audio files (WAV, FLAC, MP3, OGG, AIFF) through pedalboard (MP3
read gapless, on ffmpeg's timing: see :func:`open_audio`).

Arrays are planar float32 ``(channels, samples)``, here and everywhere in
``backline.audio`` (:mod:`backline.render` writes interleaved ``(frames, channels)``
arrays through :func:`backline.render.export.write_interleaved`). Reads can stream in
blocks so that long files keep memory bounded; writes are atomic, and refuse a channel
count outside 1 to 64 or more channels than samples (an array with its axes swapped).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backline.errors import AudioInputError, DependencyMissingError, OutputError
from backline.util.atomic import atomic_path
from backline.util.channels import channel_problem

__all__ = [
    "AUDIO_EXTENSIONS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "NonFiniteSamples",
    "AudioInfo",
    "iter_blocks",
    "open_audio",
    "open_writer",
    "probe",
    "read_audio",
    "resample",
    "write_audio",
]

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff")

#: Sample rates an audio command accepts: below 1 kHz a file holds no music (a damaged or
#: mislabelled header), and above 768 kHz no converter records.
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 768_000

#: A WAV data size meaning "unknown": ffmpeg and other streaming writers leave it so when
#: they write to a pipe and cannot go back to fill it in.
_UNKNOWN_SIZE = 0xFFFFFFFF


def _audiofile():  # type: ignore[no-untyped-def]
    try:
        from pedalboard.io import AudioFile
    except ImportError as exc:  # pragma: no cover - pedalboard is a core audio dependency
        raise DependencyMissingError("audio needs pedalboard: pip install 'backline[audio]'") from exc
    return AudioFile


def open_audio(path: str | os.PathLike[str]) -> Any:
    """Open an audio file for reading (pedalboard's ``AudioFile`` interface:
    ``samplerate``, ``num_channels``, ``frames``, ``seek``, ``read`` -> ``(channels, n)``).
    An MP3 is served gapless (:mod:`backline.audio.mp3_gapless`): its music alone, on
    the timing players and ffmpeg give it, not 26 ms late. Raises what the decoder raises
    (``ValueError``, ``RuntimeError``, ``OSError``)."""
    f = _audiofile()(str(path))
    if str(path).lower().endswith(".mp3"):
        from backline.audio.mp3_gapless import GaplessReader, gapless_info

        return GaplessReader(f, gapless_info(Path(path)))
    return f


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    sample_rate: int
    channels: int
    frames: int
    #: seconds the header promises beyond the end of the file (a cut-off WAV); 0 when whole
    missing_seconds: float = 0.0

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Sample rate, channels and length of an audio file; a clear error when it is not audio."""
    p = Path(path)
    if not p.exists():
        raise AudioInputError(f"{p}: no such file")
    if p.is_dir():
        raise AudioInputError(f"{p}: is a folder, not an audio file")
    if not p.is_file():
        # a device, pipe or socket: its length is unknown and reading it may never end
        raise AudioInputError(
            f"{p}: is not a regular file (a device or a pipe?): save the audio to a file first"
        )
    if p.stat().st_size == 0:
        raise AudioInputError(f"{p}: file is empty")
    present = _wav_frames_present(p)
    if present is not None and present.frames == 0:
        raise AudioInputError(
            f"{p}: contains no audio data (only a WAV header: the file was cut off while copying or recording)"
        )
    try:
        with open_audio(p) as f:
            info = AudioInfo(p, round(f.samplerate), int(f.num_channels), int(f.frames))
    except (ValueError, RuntimeError, OSError) as exc:
        raise AudioInputError(f"{p}: not a readable audio file ({_short(exc)})") from None
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioInputError(
            f"{p}: sample rate {info.sample_rate} Hz is not an audio rate "
            f"({MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz): the header is damaged or wrong"
        )
    if info.frames <= 0 or info.channels <= 0:
        raise AudioInputError(f"{p}: contains no audio")
    if present is not None and present.unknown_size:
        # the header's size is "unknown" (a WAV written to a pipe): the data runs to the end
        # of the file, and nothing is missing
        info = AudioInfo(p, info.sample_rate, info.channels, present.frames)
    elif present is not None and present.frames < info.frames:
        missing = (info.frames - present.frames) / info.sample_rate
        info = AudioInfo(p, info.sample_rate, info.channels, present.frames, missing)
    return info


@dataclass(frozen=True)
class _Present:
    #: whole frames in the file's data chunk
    frames: int
    #: the header gives the data size as unknown (``0xFFFFFFFF``): the data runs to the end
    unknown_size: bool = False


def _wav_frames_present(path: Path) -> _Present | None:
    """Whole frames actually in a WAV file's data chunk (``None`` when not a plain WAV):
    a file cut off mid-copy keeps a header that promises more, and a WAV written to a pipe
    gives its size as unknown (the file's size then bounds the data, as in other tools)."""
    if path.suffix.lower() != ".wav":
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        size = path.stat().st_size
    except OSError:
        return None
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    pos, block = 12, 0
    while pos + 8 <= len(head):
        cid, clen = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if cid == b"fmt ":
            block = int.from_bytes(head[pos + 20 : pos + 22], "little")
        if cid == b"data":
            if not block:
                return None
            if clen == _UNKNOWN_SIZE:
                if head[:4] == b"RF64":
                    return None  # the real size is in the ds64 chunk, which the decoder reads
                return _Present(max(0, size - pos - 8) // block, unknown_size=True)
            return _Present(max(0, min(clen, size - pos - 8)) // block)
        pos += 8 + clen + (clen & 1)
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


class NonFiniteSamples(AudioInputError):
    """A (float) file holds not-a-number or infinite samples: a damaged file, refused by
    the commands that analyse audio (``audio check`` counts them instead)."""

    def __init__(self, path: Path, count: int, first_seconds: float) -> None:
        self.count, self.first_seconds = count, first_seconds
        super().__init__(
            f"{path}: holds {count} not-a-number/infinite sample{'s' if count != 1 else ''} "
            f"(the first near {clock(first_seconds)}): the file is damaged; "
            "re-export it from its source (`backline audio check` lists the problem)"
        )


def clock(seconds: float) -> str:
    """``m:ss.cc``, a position in a file for messages."""
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:05.2f}"


def iter_blocks(
    path: str | os.PathLike[str], block_frames: int = 1 << 18, *, finite: bool = True
) -> Iterator[np.ndarray]:
    """Yield consecutive float32 ``(channels, n)`` blocks of the file (the last may be shorter).

    A truncated file ends early with the audio that could be read; a read error in
    the middle raises :class:`AudioInputError` naming the file and the time. With
    ``finite`` (the default), a not-a-number or infinite sample raises
    :class:`NonFiniteSamples` with their count and the first one's time; without it such
    samples are passed on for the caller to count.
    """
    p = Path(path)
    info = probe(p)
    done = 0
    try:
        with open_audio(p) as f:
            while done < info.frames:
                block = f.read(min(block_frames, info.frames - done))
                if block.shape[-1] == 0:
                    break
                if finite and not np.isfinite(block).all():
                    first = done + int(np.flatnonzero(~np.isfinite(block).all(axis=0))[0])
                    count = int(np.count_nonzero(~np.isfinite(block)))
                    done += block.shape[-1]
                    while done < info.frames:  # count the rest: the file is refused anyway
                        rest = f.read(min(block_frames, info.frames - done))
                        if rest.shape[-1] == 0:
                            break
                        count += int(np.count_nonzero(~np.isfinite(rest)))
                        done += rest.shape[-1]
                    raise NonFiniteSamples(p, count, first / info.sample_rate)
                done += block.shape[-1]
                yield np.ascontiguousarray(block, dtype=np.float32)
    except AudioInputError:
        raise  # a ValueError too: not the decoder's
    except (ValueError, RuntimeError, OSError) as exc:
        if done == 0:
            raise AudioInputError(f"{p}: cannot decode audio ({_short(exc)})") from None
        raise AudioInputError(
            f"{p}: audio is damaged after {done / info.sample_rate:.1f} s ({_short(exc)})"
        ) from None


def read_audio(
    path: str | os.PathLike[str], *, sample_rate: int | None = None, mono: bool = False
) -> tuple[np.ndarray, int]:
    """Read a whole file as float32 ``(channels, samples)``; optionally resample and fold to mono."""
    blocks = list(iter_blocks(path))
    info = probe(path)
    if not blocks:
        raise AudioInputError(f"{path}: contains no audio")
    audio = np.concatenate(blocks, axis=1)
    sr = info.sample_rate
    if mono and audio.shape[0] > 1:
        audio = audio.mean(axis=0, keepdims=True)
    if sample_rate is not None and sample_rate != sr:
        audio = resample(audio, sr, sample_rate)
        sr = sample_rate
    return audio.astype(np.float32, copy=False), sr


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling along the last axis (scipy)."""
    from math import gcd

    from scipy.signal import resample_poly

    if sr_in == sr_out:
        return audio
    g = gcd(int(sr_in), int(sr_out))
    out = resample_poly(audio, sr_out // g, sr_in // g, axis=-1)
    return np.asarray(out, dtype=np.float32)


_QUALITY = {".mp3": "V2", ".ogg": "160 kbps"}


@contextlib.contextmanager
def open_writer(
    path: str | os.PathLike[str], sample_rate: int, channels: int, bit_depth: int | str = 24
) -> Iterator[Callable[[np.ndarray], None]]:
    """Open an audio file of ``channels`` channels for streaming writes; yields
    ``write(block)`` for planar ``(channels, n)`` blocks (``(n,)`` when mono). Atomic: the
    file appears under its name only when the block is left without error.

    Raises :class:`AudioInputError` for a channel count outside 1 to 64 or a block of
    another channel count, :class:`OutputError` when the file cannot be written. Errors
    of the caller's own work between writes (reading an input) pass through unchanged."""
    problem = channel_problem(channels)
    if problem is not None:
        raise AudioInputError(f"cannot write {path}: {problem}")
    p = Path(path)
    kwargs = _format_kwargs(p, bit_depth)
    _check_format_channels(p, channels)
    clip = p.suffix.lower() in (".wav", ".flac", ".aif", ".aiff") and bit_depth != "float"
    try:
        with atomic_path(p) as tmp:
            try:
                f = _open_file(tmp, sample_rate, channels, kwargs)
            except (ValueError, RuntimeError, OSError) as exc:
                raise _WriteFailed(_short(exc)) from None

            def write(block: np.ndarray) -> None:
                b = np.asarray(block, dtype=np.float32)
                if b.ndim == 1:
                    b = b[None, :]
                if b.ndim != 2 or b.shape[0] != channels:
                    raise AudioInputError(
                        f"cannot write a block of shape {b.shape} to {p}: it has {channels} channel(s), "
                        "and blocks are (channels, samples)"
                    )
                if clip:
                    b = np.clip(b, -1.0, 1.0)
                step = 1 << 18
                try:
                    for i in range(0, b.shape[1], step):
                        f.write(np.ascontiguousarray(b[:, i : i + step]))
                except (ValueError, RuntimeError, OSError) as exc:
                    raise _WriteFailed(_short(exc)) from None

            try:
                # errors of the caller's own work between writes pass through unchanged
                yield write
            except BaseException:
                with contextlib.suppress(Exception):
                    f.close()
                raise
            try:
                f.close()
            except (ValueError, RuntimeError, OSError) as exc:
                raise _WriteFailed(_short(exc)) from None
    except _WriteFailed as exc:
        raise OutputError(f"cannot write {p}: {exc}") from None


class _WriteFailed(Exception):
    """The encoder refused a block (kept apart from OSError so it is reported once)."""


class _AiffFloat:
    """A 32-bit float AIFF file (AIFF-C, ``FL32``), written through soundfile: pedalboard's
    AIFF writer holds 8, 16 or 24 bits only. Takes planar blocks, as pedalboard does."""

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        try:
            import soundfile as sf
        except ImportError as exc:  # pragma: no cover - soundfile is in the audio extra
            raise DependencyMissingError("float AIFF needs soundfile: pip install 'backline[audio]'") from exc
        self._f = sf.SoundFile(
            str(path), "w", samplerate=sample_rate, channels=channels, format="AIFF", subtype="FLOAT"
        )

    def write(self, block: np.ndarray) -> None:
        self._f.write(block.T)

    def close(self) -> None:
        self._f.close()


def _check_format_channels(path: str | os.PathLike[str], channels: int) -> None:
    """Raise :class:`OutputError` when ``path``'s format cannot hold ``channels`` channels
    (MP3 holds one or two): before any work is done for it."""
    p = Path(path)
    if p.suffix.lower() == ".mp3" and channels > 2:
        raise OutputError(
            f"cannot write {p}: an MP3 holds one or two channels and this has {channels}; "
            "write .wav, .flac or .ogg"
        )


def _open_file(tmp: Path, sample_rate: int, channels: int, kwargs: dict[str, object]) -> Any:
    """The writer for ``tmp``: pedalboard's ``AudioFile``, or :class:`_AiffFloat`."""
    if kwargs.get("aiff_float"):
        return _AiffFloat(tmp, sample_rate, channels)
    AudioFile = _audiofile()
    return AudioFile(str(tmp), "w", samplerate=float(sample_rate), num_channels=channels, **kwargs)


def _format_kwargs(p: Path, bit_depth: int | str) -> dict[str, object]:
    ext = p.suffix.lower()
    if ext not in AUDIO_EXTENSIONS:
        raise OutputError(
            f"cannot write {ext or 'a file without extension'}: use one of {', '.join(AUDIO_EXTENSIONS)}"
        )
    if ext in (".aif", ".aiff") and bit_depth == "float":
        return {"aiff_float": True}
    if ext in (".wav", ".aif", ".aiff"):
        return {"bit_depth": 32 if bit_depth == "float" else int(bit_depth)}
    if ext == ".flac":
        return {"bit_depth": 24 if bit_depth == "float" else int(bit_depth)}
    return {"quality": _QUALITY[ext]}


def write_audio(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sample_rate: int,
    *,
    bit_depth: int | str = 24,
) -> Path:
    """Write planar ``(channels, samples)`` audio (or ``(samples,)`` mono) atomically; the
    format follows the extension.

    ``bit_depth`` is 16, 24 or ``"float"`` (32-bit float) for WAV and AIFF (FLAC: 16 or
    24; ``"float"`` writes FLAC at 24 bits).
    MP3 and OGG are written at a good VBR quality. Audio is written in blocks.
    Raises :class:`AudioInputError` for an array whose axes look swapped (more than 64
    channels, or more channels than samples), :class:`OutputError` when the file cannot
    be written.
    """
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    problem = channel_problem(data.shape[0], data.shape[1]) if data.ndim == 2 else f"shape {data.shape}"
    if problem is not None:
        raise AudioInputError(f"cannot write {path}: {problem}; audio here is (channels, samples)")
    with open_writer(path, sample_rate, data.shape[0], bit_depth) as write:
        write(data)
    return Path(path)
