"""The render pipeline: an :class:`Arrangement` in, the full set of audio files out.

:func:`render_arrangement` synthesises every part, runs it through its mixer strip,
sums and masters the mix, renders the click and spoken cues, and writes (as asked):

========================  ===================================================
``mix.<fmt>``             the mastered stereo mix
``stems/<part>.<fmt>``    each part as it sits in the mix (stereo)
``stems/click.<fmt>``     the click (mono)
``stems/cues.<fmt>``      the spoken cues (mono)
``split.<fmt>``           left = click + cues, right = the music mix folded to mono
``multichannel.wav``      one channel per stem: click, cues, then each part (mono)
``premaster.wav``         (``premaster=True``) the mix before mastering, 32-bit float
``song.mid``              the arrangement as MIDI (no count-in)
``render.json``           the report: files, levels, bar times, the cues spoken
========================  ===================================================

Timing: every audio file starts with the count-in; the music's first bar starts at
``count_in_seconds``. ``chart_start_seconds`` in the report is the first bar of the
chart itself (after count-in and intro); every bar's start time is listed.

Loudness: the default target (-14 LUFS) is moved by the style's ``loudness_db`` (ballads
and bossa -3 dB: they sit lower in a set) and the limiter may then take at most
:data:`DEFAULT_MAX_LIMITING_DB` off the loudest peak; a mix that would need more is left
quieter, with a warning. A target given explicitly (``style_loudness=False``, the CLI's
``--lufs``) is used exactly. ``lufs_target`` in the report is the target used.

Minus-one renders: with parts muted or soloed (``keep_level``, the default) every part
is still played and mixed, the full band is mastered to find the master gain, and the
remaining parts get that same gain: the band minus you, at the level it has in the full
mix (and the same stems as the full render).

Stem level: the stems are the pre-master parts scaled by one common gain,
:data:`STEM_GAIN_DB` plus the style's loudness offset, lowered only if a stem or the
full band's sum would exceed the ceiling: the same for every render of a song (muted
or not) and, unless a peak forces it lower, for every song, so the stems of a set line
up in a multitrack player. ``sum(stems) / stem_gain`` equals the pre-master mix. The
gain is in the report (``stem_gain_db``), and each stem's integrated loudness as
written (``stem_lufs``).

Lossy formats (MP3, OGG): the encoder can overshoot the true-peak ceiling. The mix, the
split and the stems are decoded after encoding and measured; one over the ceiling is
encoded again with its gain trimmed (``encode_trim_db`` for the mix; the stems all
together, so ``stem_gain_db`` is lower), and ``true_peak_dbtp`` in the report is the
peak measured on the decoded mix.

Safety: everything is written into a hidden staging folder inside ``outdir``
(``.backline-render-<pid>-<host>-*``) and moved into place only when all files are
complete, so a failed render leaves what was in ``outdir`` untouched (and an ``outdir``
it had to create is removed again). A staging folder left by a render that was killed
is removed by the next render into the same folder: when its process is gone, or when
it has not changed for an hour (``STALE_STAGING_SECONDS``).

Stem names: ``stems/<part>`` uses the part's name as a slug (ASCII letters, digits and
``_``); two parts whose slugs are equal (``Keys 1`` and ``Keys_1``, or ``Bass`` and
``bass``, one file on macOS), or a part called ``click`` or ``cues``, get distinct names
(``Keys_1_2``): ``render.json`` maps each part to its file.

One render per folder: after the new files are in place, the files an earlier render
wrote there and this one did not (``stems/bass.wav`` after a render with ``--mute
bass``, ``split.wav`` after one without ``--split``) are removed, so the folder holds
exactly what ``render.json`` lists. Only files the previous ``render.json`` lists, with a
name backline writes, inside ``outdir``, and not changed since that render (modified
no later than that ``render.json``) are removed; anything else in the folder is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from backline.arrange import midi_out
from backline.arrange.events import Arrangement
from backline.arrange.styles.registry import StyleRegistry
from backline.errors import DependencyMissingError, OutputError, RenderError, RenderOptionError
from backline.model.checks import MAX_COUNT_IN_BARS
from backline.render import click as click_mod
from backline.render import cues as cues_mod
from backline.render.export import (
    LOSSY_FORMATS,
    check_format,
    decoded_true_peak,
    extension,
    write_audio_blocks,
    write_error,
    write_interleaved,
)
from backline.render.loudness import gated_loudness, hop_energies, k_power
from backline.render.master import MasterReport, MasterSettings, master
from backline.render.mixer import Strip, process_strip, strip_for
from backline.render.soundfonts import choose_sounds
from backline.render.synth import available_backend, check_sample_rate, render_parts
from backline.util.atomic import move_into_place, same_file
from backline.util.slug import unique_slugs

__all__ = [
    "RenderOptions",
    "RenderReport",
    "render_arrangement",
    "check_options",
    "count_in_offset",
    "stem_names",
    "Progress",
    "STALE_STAGING_SECONDS",
    "LUFS_TARGET_RANGE",
    "CEILING_RANGE",
    "COUNT_IN_RANGE",
    "planned_files",
    "STEM_GAIN_DB",
    "DEFAULT_MAX_LIMITING_DB",
    "style_loudness_db",
]

#: The stems' common gain (dB) on the pre-master parts, before the style's loudness offset.
STEM_GAIN_DB = -6.0
#: The most limiting (dB of gain reduction on the loudest peak) a default-target render
#: asks of the master; an explicit target may take more.
DEFAULT_MAX_LIMITING_DB = 5.0
#: How far under the ceiling a lossy file is aimed when it is encoded again (dB); one
#: is encoded again when its decoded true peak is within :data:`ENCODE_SLACK_DB` of the
#: ceiling (our 4x meter can read a few hundredths of a dB under a longer interpolator).
ENCODE_MARGIN_DB = 0.2
ENCODE_SLACK_DB = 0.05
#: The most a lossy encoder was seen to add to a stem's peak (dB, 0.3 measured): stems
#: further under the ceiling than this are not decoded to check.
LOSSY_OVERSHOOT_DB = 3.0

#: The loudness targets a render takes (LUFS, integrated): below -60 LUFS a mix is mostly
#: under BS.1770's gates and is no longer measured as a whole; 0 LUFS and louder cannot be
#: had under any true-peak ceiling.
LUFS_TARGET_RANGE = (-60.0, 0.0)
#: The true-peak ceilings a render takes (dBTP).
CEILING_RANGE = (-20.0, 0.0)
#: The count-in lengths a render takes (bars).
COUNT_IN_RANGE = (0, MAX_COUNT_IN_BARS)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class RenderOptions:
    """What to render and how. ``fmt``: wav, flac, mp3 or ogg; ``bit_depth`` 16, 24 or
    32 (float) for WAV/FLAC. ``count_in_bars`` None: the click's default (1 bar; 2 when
    the counted pulse is below 70 or from 160 per minute, the first of them in half time).
    ``click_sound``: one of :data:`~backline.render.click.CLICK_SOUNDS`; ``subdivision``:
    8ths, 16ths or triplets clicked softer; ``cue_voice_dir``: the user's recorded cues. ``mute``/``solo``: part names. ``soundfont``: one font for every part;
    ``part_soundfonts`` / ``programs``: per part. ``mixer``: per-part :class:`Strip`
    field overrides, e.g. ``{"bass": {"gain_db": 3.0}}``."""

    sample_rate: int = 44100
    fmt: str = "wav"
    bit_depth: int = 24
    lufs_target: float | None = -14.0
    ceiling_dbtp: float = -1.0
    stems: bool = False
    split: bool = False
    multichannel: bool = False
    click: bool = True
    cues: bool = True
    count_in_bars: int | None = None
    click_sound: str = "classic"
    subdivision: str | None = None
    cue_voice_dir: str | None = None
    mute: tuple[str, ...] = ()
    solo: tuple[str, ...] = ()
    soundfont: str | None = None
    part_soundfonts: Mapping[str, str] = field(default_factory=dict)
    programs: Mapping[str, int] = field(default_factory=dict)
    mixer: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    realistic: bool = True
    backend: str = "auto"
    midi: bool = True
    premaster: bool = False
    tail_seconds: float = 2.5
    #: ``lufs_target`` is the default: move it by the style's ``loudness_db`` and cap the
    #: limiting at :data:`DEFAULT_MAX_LIMITING_DB`; False: use ``lufs_target`` exactly
    style_loudness: bool = True
    #: with parts muted or soloed, master with the full band's gain
    keep_level: bool = True


@dataclass
class RenderReport:
    """What was written and measured; :meth:`as_json` is ``render.json``."""

    outdir: Path
    files: dict[str, Any]
    sample_rate: int
    duration_seconds: float
    count_in_seconds: float
    chart_start_seconds: float
    master: MasterReport
    stem_gain_db: float
    backend: str
    sounds: dict[str, str]
    bars: list[dict[str, Any]]
    warnings: list[str]
    seconds_taken: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "sample_rate": self.sample_rate,
            "duration_seconds": round(self.duration_seconds, 6),
            "count_in_seconds": round(self.count_in_seconds, 6),
            "chart_start_seconds": round(self.chart_start_seconds, 6),
            **self.master.as_json(),
            "stem_gain_db": round(self.stem_gain_db, 3) if math.isfinite(self.stem_gain_db) else None,
            "synth_backend": self.backend,
            "sounds": self.sounds,
            "bars": self.bars,
            "warnings": self.warnings,
            **self.extra,
        }


def style_loudness_db(style: str) -> float:
    """The style's ``loudness_db`` offset to the default loudness target; 0 for a style
    the registry does not know (a hand-built arrangement)."""
    try:
        return StyleRegistry.default().get(style).loudness_db
    except (KeyError, ValueError, OSError):
        return 0.0


def _stem_lufs(stem: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (BS.1770, LUFS) of a stem (n, 2)."""
    hops, hop = hop_energies(k_power(stem, sample_rate), sample_rate)
    return gated_loudness(hops, hop)


def _cue_json(c: cues_mod.Cue) -> dict[str, Any]:
    """A spoken cue as render.json lists it: what is said, where the speech starts and
    ends, the beat it points at (seconds in the track) and the section it names."""
    return {
        "text": c.text,
        "kind": c.kind,
        "section": c.section,
        "start_seconds": round(c.start_seconds, 6),
        "end_seconds": round(c.end_seconds, 6),
        "target_seconds": round(c.target_seconds, 6),
    }


def count_in_offset(arr: Arrangement, count_in_bars: int | None) -> tuple[int, float]:
    """(bars, seconds) of count-in before the arrangement's first bar."""
    if count_in_bars is not None and count_in_bars < 0:
        raise RenderOptionError(f"count-in must be 0 or more bars, not {count_in_bars}")
    n = click_mod.default_count_in_bars(arr) if count_in_bars is None else count_in_bars
    return n, float(click_mod.count_in_seconds(arr, n))


#: stem file names a part cannot take: the click and cue stems
_RESERVED_STEMS = ("click", "cues")


def stem_names(parts: list[str]) -> dict[str, str]:
    """The file name (without extension) of each part's stem: its name as a slug, made
    distinct where two slugs would name one file (compared case-insensitively) or a
    part would take the click's or the cues' (see the module docstring)."""
    return unique_slugs(parts, reserved=_RESERVED_STEMS, fallback="part")


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """Pad with zeros or cut to ``n`` samples (first axis)."""
    if x.shape[0] == n:
        return x
    if x.shape[0] > n:
        return x[:n]
    pad = np.zeros((n - x.shape[0],) + x.shape[1:], dtype=x.dtype)
    return np.concatenate([x, pad])


class _DiskStem:
    """A processed stem parked in the staging folder as raw planar float32 (2, n), so
    the stems of a long song do not all sit in memory; read back (memory-mapped) whole
    or in chunks as (frames, 2) views."""

    def __init__(self, path: Path, audio: np.ndarray) -> None:
        self.path = path
        self.shape = audio.shape
        self.peak = _peak(audio)
        data = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T)  # planar: no copy
        try:
            with open(path, "wb") as fh:  # not ndarray.tofile: its short writes lose errno
                fh.write(data.data)
        except OSError as exc:
            raise write_error(path, exc) from exc
        self._map: np.ndarray | None = None

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        if self._map is None:
            self._map = np.memmap(self.path, dtype=np.float32, mode="r", shape=(2, self.shape[0]))
        stop = self.shape[0] if stop is None else min(stop, self.shape[0])
        return self._map[:, start:stop].T

    def close(self) -> None:
        self._map = None


class _Scaled:
    """A stem (on disk or in memory) read in chunks with a gain, folded to mono."""

    def __init__(self, src: _DiskStem | np.ndarray, gain: float = 1.0) -> None:
        self.src = src
        self.gain = np.float32(gain)
        self.shape = src.shape

    def __getitem__(self, sl: slice) -> np.ndarray:
        if isinstance(self.src, _DiskStem):
            x = self.src.read(sl.start or 0, sl.stop)
        else:
            x = self.src[sl]
        if x.ndim == 1:
            return x * self.gain if self.gain != 1 else x
        return (x[:, 0] + x[:, 1]) * (self.gain * np.float32(0.5))


def _gained(stem: _DiskStem, gain: float) -> Callable[[int, int], np.ndarray]:
    """Blocks of a parked stem times ``gain``."""
    g = np.float32(gain)

    def blocks(start: int, stop: int) -> np.ndarray:
        return stem.read(start, stop) * g

    return blocks


def _encode_under(ceiling_dbtp: float, measure: Callable[[], float], trim: Callable[[float], None]) -> float:
    """Keep an encoded lossy file under the true-peak ceiling: ``measure()`` decodes it and
    gives its true peak (dBTP); while that is within :data:`ENCODE_SLACK_DB` of the
    ceiling (three times at most), ``trim(k)`` turns it down by the linear factor ``k``
    that aims :data:`ENCODE_MARGIN_DB` under the ceiling and encodes it again. Returns
    the last peak measured."""
    tp = measure()
    for _ in range(3):
        if not tp > ceiling_dbtp - ENCODE_SLACK_DB:
            break
        trim(10 ** ((ceiling_dbtp - tp - ENCODE_MARGIN_DB) / 20.0))
        tp = measure()
    return tp


def _peak(x: np.ndarray) -> float:
    return float(max(np.max(x, initial=0.0), -np.min(x, initial=0.0)))


def _write_multichannel(path: Path, tracks: list[_Scaled], sample_rate: int, bit_depth: int) -> None:
    """One mono channel per track, written in blocks (no (n, k) array in memory)."""
    n = tracks[0].shape[0]
    buf = np.empty((1 << 16, len(tracks)), dtype=np.float32)

    def blocks(start: int, stop: int) -> np.ndarray:
        out = buf[: stop - start]
        for c, t in enumerate(tracks):
            out[:, c] = t[start:stop]
        return out

    write_audio_blocks(path, blocks, n, len(tracks), sample_rate, fmt="wav", bit_depth=bit_depth)


def _check_parts(arr: Arrangement, names: tuple[str, ...], what: str) -> None:
    known = [p.name for p in arr.parts]
    bad = [n for n in names if n not in known]
    if bad:
        raise RenderOptionError(
            f"cannot {what} unknown part(s) {', '.join(bad)}; parts are {', '.join(known)}"
        )


def _muting(o: RenderOptions) -> str:
    """What left no part to play, in the options' words (``--solo bass with --mute bass``)."""
    said = [f"--{what} {', '.join(names)}" for what, names in (("solo", o.solo), ("mute", o.mute)) if names]
    return " with ".join(said) or "no parts"


def check_options(o: RenderOptions) -> None:
    """Raise :class:`RenderOptionError` for options no render can honour (format, bit
    depth, sample rate, count-in, loudness target, ceiling): cheap, before any work."""
    try:
        check_format(o.fmt, o.bit_depth, o.sample_rate)
    except RenderError as exc:
        if isinstance(exc, RenderOptionError):
            raise
        raise RenderOptionError(str(exc)) from None
    check_sample_rate(o.sample_rate)
    lo_bars, hi_bars = COUNT_IN_RANGE
    if o.count_in_bars is not None and not lo_bars <= o.count_in_bars <= hi_bars:
        raise RenderOptionError(f"count-in must be from {lo_bars} to {hi_bars} bars, not {o.count_in_bars}")
    if o.click_sound not in click_mod.CLICK_SOUNDS:
        raise RenderOptionError(
            f"unknown click sound {o.click_sound!r}; choose one of {', '.join(click_mod.CLICK_SOUNDS)}"
        )
    if o.subdivision is not None and o.subdivision not in click_mod.SUBDIVISIONS:
        raise RenderOptionError(
            f"unknown click subdivision {o.subdivision!r}; choose one of {', '.join(click_mod.SUBDIVISIONS)}"
        )
    if o.cue_voice_dir is not None and not Path(o.cue_voice_dir).is_dir():
        what = "is a file, not a voice folder" if Path(o.cue_voice_dir).exists() else "no such voice folder"
        raise RenderOptionError(f"{o.cue_voice_dir}: {what}")
    lo, hi = CEILING_RANGE
    if not (math.isfinite(o.ceiling_dbtp) and lo <= o.ceiling_dbtp <= hi):
        raise RenderOptionError(
            f"true-peak ceiling must be from {lo:g} to {hi:g} dBTP (default -1), not {o.ceiling_dbtp:g}"
        )
    lo, hi = LUFS_TARGET_RANGE
    if o.lufs_target is not None and not (math.isfinite(o.lufs_target) and lo <= o.lufs_target < hi):
        raise RenderOptionError(
            f"loudness target must be at least {lo:g} LUFS and below {hi:g} LUFS (default -14), "
            f"not {o.lufs_target:g}"
        )
    if not (math.isfinite(o.tail_seconds) and o.tail_seconds >= 0):
        raise RenderOptionError(f"tail must be 0 s or more, not {o.tail_seconds:g}")


#: what a render writes, relative to its folder: only such names are ever removed as stale
_OWN_FILE = re.compile(
    r"(?:mix|split)\.(?:wav|flac|mp3|ogg)|premaster\.wav|multichannel\.wav|song\.mid"
    r"|stems/[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:wav|flac|mp3|ogg)"
)


def planned_files(arr: Arrangement, o: RenderOptions) -> list[str]:
    """The paths (relative to the output folder) a render of ``arr`` with ``o`` writes."""
    ext = extension(o.fmt)
    rels = ["mix" + ext, "render.json"]
    if o.premaster:
        rels.append("premaster.wav")
    if o.stems:
        rels += [f"stems/{name}{ext}" for name in stem_names([p.name for p in arr.parts]).values()]
        rels += [f"stems/click{ext}", f"stems/cues{ext}"]
    if o.split:
        rels.append("split" + ext)
    if o.multichannel:
        rels.append("multichannel.wav")
    if o.midi:
        rels.append("song.mid")
    return rels


def _check_inputs_kept(out: Path, rels: list[str], protect: tuple[str | os.PathLike[str], ...]) -> None:
    """Refuse (:class:`RenderOptionError`) a render that would write over one of its
    inputs: a chart called ``render.json`` in the output folder, say."""
    for src in protect:
        for rel in rels:
            if same_file(out / rel, src):
                raise RenderOptionError(
                    f"{src} would be overwritten by the render ({rel}): choose another output folder"
                )


def _listed_files(files: Any) -> set[str]:
    """The relative paths named in a ``render.json`` ``files`` object."""
    out: set[str] = set()
    if not isinstance(files, dict):
        return out
    for value in files.values():
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, dict):
            if isinstance(value.get("file"), str):
                out.add(value["file"])
            else:
                out.update(v for v in value.values() if isinstance(v, str))
    return out


def _previous_files(out: Path) -> tuple[set[str], int]:
    """The files the last render into ``out`` wrote (from its ``render.json``) and that
    report's modification time (ns); nothing when there is no readable report."""
    report = out / "render.json"
    try:
        st = report.lstat()
        if not report.is_file() or report.is_symlink():
            return set(), 0
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set(), 0
    if not isinstance(data, dict):
        return set(), 0
    return _listed_files(data.get("files")), st.st_mtime_ns


def _remove_stale(
    out: Path,
    previous: set[str],
    before_ns: int,
    kept: set[str],
    protect: tuple[str | os.PathLike[str], ...] = (),
) -> list[str]:
    """Remove what the previous render wrote and this one did not (see the module
    docstring for what counts), never one of the render's inputs (``protect``);
    returns the relative paths removed."""
    removed: list[str] = []
    try:
        root = out.resolve()
    except OSError:
        return removed
    for rel in sorted(previous - kept):
        if not _OWN_FILE.fullmatch(rel):
            continue
        path = out / rel
        try:
            st = path.lstat()
            if not path.is_file() or path.is_symlink() or st.st_mtime_ns > before_ns:
                continue  # not a plain file, or changed since: the user's now
            if path.resolve().parent != (root / rel).parent:
                continue
            if any(same_file(path, src) for src in protect):
                continue  # an input of this render
            path.unlink()
            removed.append(rel)
        except OSError:
            continue
    for folder in sorted({str(Path(r).parent) for r in removed} - {"."}):
        with contextlib.suppress(OSError):
            (out / folder).rmdir()  # only when it is now empty
    return removed


#: a staging folder of another render that has not changed for this long is taken for
#: the remains of a killed render (whatever its process id says) and removed
STALE_STAGING_SECONDS = 3600.0
_STAGING_PREFIX = ".backline-render-"
_STAGING_NAME = re.compile(re.escape(_STAGING_PREFIX) + r"(\d+)-([0-9a-f]{8})-")


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine may still be running (True when unsure)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: rely on the age
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or a number we cannot ask about: keep it
    return True


def _remove_stale_staging(outdir: Path, now: float | None = None) -> list[str]:
    """Remove the staging folders that killed renders left in ``outdir``: those of a
    process of this machine that is gone, and any unchanged for
    :data:`STALE_STAGING_SECONDS`. Returns the names removed."""
    now = time.time() if now is None else now
    host = _host_tag()
    removed: list[str] = []
    try:
        entries = list(outdir.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(_STAGING_PREFIX):
            continue
        try:
            st = entry.lstat()
            if not entry.is_dir() or entry.is_symlink():
                continue
        except OSError:
            continue
        m = _STAGING_NAME.match(entry.name)
        dead = m is not None and m.group(2) == host and not _process_alive(int(m.group(1)))
        if dead or now - st.st_mtime > STALE_STAGING_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry.name)
    return removed


_HELD_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP for the body: one that arrives meanwhile is
    raised again when it ends, so the moves into place are all done or none. A no-op
    outside the main thread (where handlers cannot be set)."""
    pending: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        pending.append(signum)

    old: dict[int, Any] = {}
    try:
        for sig in _HELD_SIGNALS:
            old[sig] = signal.signal(sig, hold)
    except ValueError:  # not the main thread
        pass
    try:
        yield
    finally:
        for sig, handler in old.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(sig, handler)
        for sig in dict.fromkeys(pending):
            signal.raise_signal(sig)


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, innermost first."""
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def _staging(outdir: Path) -> Path:
    """A new staging folder in ``outdir`` (created as needed), named after this process,
    after removing what killed renders left there."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(
            f"cannot write to {outdir}: it is a file, and a render writes a folder (name another one)"
        )
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(outdir)
        prefix = f"{_STAGING_PREFIX}{os.getpid()}-{_host_tag()}-"
        stage = Path(tempfile.mkdtemp(prefix=prefix, dir=outdir))
    except OSError as exc:
        raise OutputError(f"cannot write to {outdir}: {exc.strerror or exc}") from exc
    return stage


def render_arrangement(
    arr: Arrangement,
    outdir: str | os.PathLike[str],
    options: RenderOptions = RenderOptions(),
    progress: Progress | None = None,
    *,
    protect: tuple[str | os.PathLike[str], ...] = (),
) -> RenderReport:
    """Render ``arr`` into ``outdir`` (see the module docstring) and return the report.

    ``protect``: the render's input files; a render that would write over one of them is
    refused (:class:`RenderOptionError`) before any work, and none is removed as stale."""
    t0 = time.perf_counter()
    out = Path(outdir)
    o = options
    if not arr.parts:
        raise RenderError("the arrangement has no parts to render")
    check_options(o)
    _check_parts(arr, o.mute, "mute")
    _check_parts(arr, o.solo, "solo")
    _check_inputs_kept(out, planned_files(arr, o), protect)
    sr = o.sample_rate
    ext = extension(o.fmt)

    def tick(label: str, frac: float) -> None:
        if progress is not None:
            progress(label, max(0.0, min(1.0, frac)))

    warnings: list[str] = list(arr.extra.get("warnings", []))  # the arranger's (a tempo far off the style)
    backend = available_backend(o.backend)
    audible = [p for p in arr.parts if p.name not in o.mute and (not o.solo or p.name in o.solo)]
    if not audible:
        raise RenderOptionError(f"every part is muted: nothing to render ({_muting(o)})")
    offset_db = style_loudness_db(arr.style) if o.style_loudness else 0.0
    target = None if o.lufs_target is None else o.lufs_target + offset_db
    # a minus-one render plays the whole band too: its master gain is the full band's
    keep = o.keep_level and target is not None and len(audible) < len(arr.parts)
    played = arr.parts if keep else audible
    sounds = choose_sounds(
        arr.parts,
        song_font=o.soundfont,
        part_fonts=o.part_soundfonts,
        programs=o.programs,
        realistic=o.realistic,
        prefer_sf2=backend == "tinysoundfont",
    )
    n_count, offset = count_in_offset(arr, o.count_in_bars)
    created = _missing_folders(out)
    stage = _staging(out)
    done = False
    try:
        # 1. synth (every part of a font in one pass), then strip by strip (each raw
        # part is dropped as soon as its stem is parked on disk)
        stems: dict[str, _DiskStem] = {}
        gains: dict[str, float] = {}
        clock = time.process_time
        stage_t: dict[str, float] = {}
        c0 = clock()
        tick("playing", 0.05)
        res = render_parts(
            arr,
            sounds,
            sr,
            offset_seconds=offset,
            tail_seconds=o.tail_seconds,
            parts=[p.name for p in played],
            backend=backend,
            progress=lambda label, frac: tick(label, 0.05 + 0.35 * frac),
        )
        warnings.extend(res.warnings)
        n = res.n_samples
        stage_t["synth"] = clock() - c0
        c0 = clock()
        mix: np.ndarray | None = None
        full: np.ndarray | None = np.zeros((2, n), dtype=np.float32) if keep else None
        stem_lufs: dict[str, float] = {}
        loudest = 0.0  # the largest sample peak of any part played (muted ones too)
        for i, part in enumerate(played):
            tick(f"mixing {part.name}", 0.4 + 0.2 * i / max(1, len(played)))
            strip: Strip = strip_for(part, o.mixer.get(part.name))
            stem, g = process_strip(res.audio.pop(part.name), sr, strip, in_place=True)
            loudest = max(loudest, _peak(stem))
            if full is not None:
                full += stem.T
            if part not in audible:
                del stem
                continue
            gains[part.name] = g
            stem_lufs[part.name] = _stem_lufs(stem, sr)
            if mix is None:
                mix = np.zeros((2, n), dtype=np.float32)  # planar, like the stems
            mix += stem.T
            stems[part.name] = _DiskStem(stage / f".stem{i}.f32", stem)
            del stem
        del res
        stage_t["mixer"] = clock() - c0
        c0 = clock()
        if not stems or mix is None:
            raise RenderError("every part is muted: nothing to render")
        tick("mixing", 0.6)
        tick("mastering", 0.65)
        cap = DEFAULT_MAX_LIMITING_DB if o.style_loudness else None
        settings = MasterSettings(lufs_target=target, ceiling_dbtp=o.ceiling_dbtp, max_reduction_db=cap)
        if full is not None:
            loudest = max(loudest, _peak(full))
            _, level = master(full.T, sr, settings)  # the full band sets the gain
            del full
            mastered, mrep = master(
                mix.T, sr, MasterSettings(ceiling_dbtp=o.ceiling_dbtp, gain_db=level.gain_db)
            )
        else:
            loudest = max(loudest, _peak(mix))
            mastered, mrep = master(mix.T, sr, settings)
            level = mrep
        if target is not None and abs(level.integrated_lufs - target) > 0.5:
            band = "the full band's loudness" if full is not None else "loudness"
            if cap is not None and level.integrated_lufs < target and level.max_gain_reduction_db > cap - 0.5:
                why = (
                    f"reaching it would take more than {cap:g} dB of limiting "
                    "(give --lufs to have the target exactly)"
                )
            else:
                why = f"the true-peak ceiling {o.ceiling_dbtp:g} dBTP does not leave room for it"
            warnings.append(
                f"{band} {level.integrated_lufs:.1f} LUFS misses the target {target:g} LUFS: {why}"
            )
        ceiling = 10 ** (o.ceiling_dbtp / 20.0)
        stem_gain = min(10 ** ((STEM_GAIN_DB + offset_db) / 20.0), ceiling / loudest if loudest > 0 else 1.0)
        stem_gain_db = 20 * math.log10(stem_gain) if stem_gain > 0 else float("-inf")
        premaster_mix = mix.T if o.premaster else None
        del mix
        stage_t["master"] = clock() - c0
        c0 = clock()

        # 2. click and cues
        click_audio: np.ndarray | None = None
        cue_audio: np.ndarray | None = None
        spoken: list[dict[str, Any]] = []
        if o.click:
            tick("click", 0.75)
            ct = click_mod.render_click(
                arr, sr, count_in_bars=n_count, subdivision=o.subdivision, sound=o.click_sound
            )
            click_audio = _fit(np.asarray(ct.audio, dtype=np.float32), n)
        if o.cues:
            tick("cues", 0.78)
            try:
                cue = cues_mod.render_cues(arr, sr, count_in_bars=n_count, voice_dir=o.cue_voice_dir)
                cue_audio = _fit(np.asarray(cue.audio, dtype=np.float32), n)
                warnings.extend(cue.skipped)
                spoken = [_cue_json(c) for c in cue.cues]
            except DependencyMissingError as exc:  # espeak-ng is a system program, not ours
                warnings.append(f"cues not rendered: {exc}")

        stage_t["click_cues"] = clock() - c0
        c0 = clock()

        # 3. write everything into the staging folder
        files: dict[str, Any] = {}
        written: list[Path] = []

        def put(rel: str, audio: np.ndarray) -> None:
            dest = stage / rel
            write_interleaved(dest, audio, sr, fmt=o.fmt, bit_depth=o.bit_depth)
            if Path(rel) not in written:  # a lossy file may be encoded again
                written.append(Path(rel))

        def put_blocks(rel: str, blocks: Callable[[int, int], np.ndarray], channels: int) -> None:
            dest = stage / rel
            write_audio_blocks(dest, blocks, n, channels, sr, fmt=o.fmt, bit_depth=o.bit_depth)
            if Path(rel) not in written:
                written.append(Path(rel))

        tick("writing mix", 0.8)
        put("mix" + ext, mastered)
        files["mix"] = "mix" + ext
        encode: dict[str, Any] = {}
        if o.fmt in LOSSY_FORMATS:
            # the encoder may overshoot the ceiling: decode, measure, trim and encode again
            trim = 1.0

            def trim_mix(k: float) -> None:
                nonlocal trim, mastered
                trim *= k
                mastered = mastered * np.float32(k)
                put("mix" + ext, mastered)

            tp_dec = _encode_under(o.ceiling_dbtp, lambda: decoded_true_peak(stage / files["mix"]), trim_mix)
            if not tp_dec <= o.ceiling_dbtp:
                warnings.append(f"the encoded mix peaks at {tp_dec:.2f} dBTP, over the ceiling")
            trim_db = 20 * math.log10(trim)
            mrep = replace(
                mrep,
                true_peak_dbtp=tp_dec,
                integrated_lufs=mrep.integrated_lufs + trim_db,
            )
            encode = {"encode_trim_db": round(trim_db, 2)}
        if premaster_mix is not None:
            write_interleaved(stage / "premaster.wav", premaster_mix, sr, fmt="wav", bit_depth=32)
            written.append(Path("premaster.wav"))
            files["premaster"] = "premaster.wav"
            premaster_mix = None
        if o.stems:
            files["stems"] = {}
            file_names = stem_names([p.name for p in arr.parts])  # muting one renames none
            for i, (name, s) in enumerate(stems.items()):
                tick(f"writing stem {name}", 0.82 + 0.08 * i / max(1, len(stems)))
                stem_rel = f"stems/{file_names[name]}{ext}"
                put_blocks(stem_rel, _gained(s, stem_gain), 2)
                files["stems"][name] = stem_rel
            if o.fmt in LOSSY_FORMATS and stems:
                # as for the mix: decoded, a stem may pass the ceiling; all stems are turned
                # down together (their balance, and sum = mix, kept) and encoded again
                # (only stems within 3 dB of it are decoded: an encoder does not add more)
                near = [
                    files["stems"][k]
                    for k, s in stems.items()
                    if s.peak * stem_gain > ceiling * 10 ** (-LOSSY_OVERSHOOT_DB / 20.0)
                ]

                def trim_stems(k: float) -> None:
                    nonlocal stem_gain
                    stem_gain *= k
                    for name, s in stems.items():
                        put_blocks(files["stems"][name], _gained(s, stem_gain), 2)

                tp_stems = _encode_under(
                    o.ceiling_dbtp,
                    lambda: max((decoded_true_peak(stage / rel) for rel in near), default=float("-inf")),
                    trim_stems,
                )
                if not tp_stems <= o.ceiling_dbtp:
                    warnings.append(f"an encoded stem peaks at {tp_stems:.2f} dBTP, over the ceiling")
                stem_gain_db = 20 * math.log10(stem_gain) if stem_gain > 0 else float("-inf")
            if click_audio is not None:
                put(f"stems/click{ext}", click_audio)
                files["click"] = f"stems/click{ext}"
            if cue_audio is not None:
                put(f"stems/cues{ext}", cue_audio)
                files["cues"] = f"stems/cues{ext}"
        if o.split:
            tick("writing split track", 0.9)
            left = np.zeros(n, dtype=np.float32)
            if click_audio is not None:
                left += click_audio
            if cue_audio is not None:
                left += cue_audio
            lp = _peak(left)
            if lp > ceiling:
                left *= np.float32(ceiling / lp)
            split_buf = np.empty((1 << 16, 2), dtype=np.float32)
            music_k = [np.float32(0.5)]  # the mono fold's gain (trimmed for a lossy encoder)

            def split_blocks(a: int, b: int) -> np.ndarray:
                out = split_buf[: b - a]
                out[:, 0] = left[a:b]
                np.add(mastered[a:b, 0], mastered[a:b, 1], out=out[:, 1])
                out[:, 1] *= music_k[0]
                return out

            put_blocks("split" + ext, split_blocks, 2)
            files["split"] = "split" + ext
            if o.fmt in LOSSY_FORMATS:

                def trim_split(k: float) -> None:
                    nonlocal left
                    k32 = np.float32(k)
                    left *= k32
                    music_k[0] = np.float32(music_k[0] * k32)
                    put_blocks("split" + ext, split_blocks, 2)

                _encode_under(o.ceiling_dbtp, lambda: decoded_true_peak(stage / files["split"]), trim_split)
        if o.multichannel:
            tick("writing multichannel", 0.93)
            tracks: list[_Scaled] = []
            names: list[str] = []
            if click_audio is not None:
                tracks.append(_Scaled(click_audio))
                names.append("click")
            if cue_audio is not None:
                tracks.append(_Scaled(cue_audio))
                names.append("cues")
            for name, s in stems.items():
                tracks.append(_Scaled(s, stem_gain))
                names.append(name)
            mc_depth = o.bit_depth if o.fmt == "wav" else 24
            _write_multichannel(stage / "multichannel.wav", tracks, sr, mc_depth)
            written.append(Path("multichannel.wav"))
            files["multichannel"] = {"file": "multichannel.wav", "channels": names}
            del tracks
        if o.midi:
            midi_out.write_midi(arr, stage / "song.mid")
            written.append(Path("song.mid"))
            files["midi"] = "song.mid"

        stage_t["write"] = clock() - c0
        bars = [
            {
                "index": b.index,
                "written_bar": b.written_bar,
                "section": b.section,
                "start_seconds": round(offset + b.start_seconds, 6),
                "time_signature": [b.numerator, b.denominator],
                "tempo": b.tempo,
            }
            for b in arr.bars
        ]
        report = RenderReport(
            outdir=out,
            files=files,
            sample_rate=sr,
            duration_seconds=n / sr,
            count_in_seconds=offset,
            chart_start_seconds=offset + arr.chart_start_seconds,
            master=mrep,
            stem_gain_db=stem_gain_db,
            backend=backend,
            sounds={k: v.description for k, v in sounds.items()},
            bars=bars,
            warnings=warnings,
            extra={
                "title": arr.song.title,
                "style": arr.style,
                "seed": arr.seed,
                "count_in_bars": n_count,
                "format": o.fmt,
                "bit_depth": o.bit_depth,
                "lufs_target": None if target is None else round(target, 2),
                "style_loudness_db": offset_db,
                "master_level": "full band" if keep else "mix",
                **encode,
                "ceiling_dbtp": o.ceiling_dbtp,
                "stem_lufs": {
                    k: round(v + stem_gain_db, 2) if math.isfinite(v + stem_gain_db) else None
                    for k, v in stem_lufs.items()
                },
                "cues": spoken if cue_audio is not None else [],
                "parts": [p.name for p in arr.parts],
                "muted": sorted(p.name for p in arr.parts if p not in audible),
                "part_gains_db": {k: round(v, 2) for k, v in gains.items()},
                "stage_cpu_seconds": {k: round(v, 3) for k, v in stage_t.items()},
            },
        )
        report.seconds_taken = time.perf_counter() - t0
        report.extra["render_seconds"] = round(report.seconds_taken, 3)
        (stage / "render.json").write_text(json.dumps(report.as_json(), indent=2, allow_nan=False) + "\n")
        written.append(Path("render.json"))
        files["report"] = "render.json"

        # 4. move into place (only now is anything in outdir touched), then remove what
        # the previous render wrote there and this one did not
        tick("finishing", 0.98)
        previous, previous_ns = _previous_files(out)
        with _signals_held():  # an interrupt now waits: never half the files of each render
            for rel in written:
                final = out / rel
                final.parent.mkdir(parents=True, exist_ok=True)
                move_into_place(stage / rel, final)  # a replaced file keeps its permissions
            done = True
            _remove_stale(out, previous, previous_ns, {r.as_posix() for r in written}, protect)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not done:
            for folder in created:  # innermost first; only while empty
                with contextlib.suppress(OSError):
                    folder.rmdir()
    tick("done", 1.0)
    return report
