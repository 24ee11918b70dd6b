"""Melody to MIDI: basic-pitch's note model run through onnxruntime (never TensorFlow).

basic-pitch's wheel ships ``saved_models/icassp_2022/nmp.onnx``; this module finds it
without importing the package's top level (which probes for TensorFlow), runs it with
onnxruntime in 2-second windows exactly as basic-pitch does (22050 Hz mono, 30
frames of overlap), and turns the frame and onset activations into notes with
basic-pitch's own note-creation step (imported with TensorFlow, CoreML and TFLite
blocked). :func:`write_midi` writes a standard MIDI file with mido;
:func:`midi_to_melody` loads one as the melody of a :class:`~backline.model.song.Song`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from backline.errors import AudioInputError, DependencyMissingError
from backline.model.song import Note, Song
from backline.util.atomic import atomic_path, write_failed

__all__ = [
    "TranscribedNote",
    "model_path",
    "transcribe_array",
    "transcribe_file",
    "write_midi",
    "read_midi_notes",
    "midi_to_melody",
]

_SR = 22050
_FFT_HOP = 256
_N_SAMPLES = _SR * 2 - _FFT_HOP  # 43844
_OVERLAP_FRAMES = 30
_OVERLAP = _OVERLAP_FRAMES * _FFT_HOP
_HOP = _N_SAMPLES - _OVERLAP
_FPS = _SR // _FFT_HOP  # 86
_INSTALL = "melody transcription needs basic-pitch and onnxruntime: pip install onnxruntime && pip install --no-deps basic-pitch"


@dataclass(frozen=True, slots=True)
class TranscribedNote:
    """A note in seconds: MIDI ``pitch``, ``velocity`` 1-127."""

    start: float
    end: float
    pitch: int
    velocity: int


def model_path() -> Path:
    """The ``nmp.onnx`` file shipped in basic-pitch's wheel (DependencyMissingError if absent)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyMissingError(_INSTALL)
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "saved_models" / "icassp_2022" / "nmp.onnx"
        if p.is_file():
            return p
    raise DependencyMissingError(f"basic-pitch is installed without its ONNX model (nmp.onnx); {_INSTALL}")


@contextlib.contextmanager
def _no_tensorflow() -> Iterator[None]:
    """Import basic-pitch with TensorFlow, CoreML and TFLite made unimportable (and quiet)."""
    blocked = [m for m in ("tensorflow", "coremltools", "tflite_runtime") if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
        for m in blocked:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]


def _note_creation() -> Any:
    try:
        with _no_tensorflow():
            import basic_pitch.note_creation as nc
    except ImportError as exc:
        raise DependencyMissingError(f"{_INSTALL} ({exc})") from None
    return nc


_SESSION: Any = None


def _session() -> Any:
    global _SESSION
    if _SESSION is None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise DependencyMissingError(_INSTALL) from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        _SESSION = ort.InferenceSession(str(model_path()), opts, providers=["CPUExecutionProvider"])
    return _SESSION


def _activations(y: np.ndarray) -> dict[str, np.ndarray]:
    """Frame-wise note, onset and contour activations of a 22050 Hz mono signal."""
    sess = _session()
    original = len(y)
    x = np.concatenate([np.zeros(_OVERLAP // 2, np.float32), y.astype(np.float32)])
    outs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    names = ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0"]
    for i in range(0, len(x), _HOP):
        w = x[i : i + _N_SAMPLES]
        if len(w) < _N_SAMPLES:
            w = np.pad(w, (0, _N_SAMPLES - len(w)))
        res = sess.run(names, {"serving_default_input_2:0": w[None, :, None]})
        for k, v in zip(("note", "onset", "contour"), res, strict=True):
            outs[k].append(v)
    n_frames = int(np.floor(original * (_FPS / _SR)))
    half = _OVERLAP_FRAMES // 2
    result = {}
    for k, parts in outs.items():
        a = np.concatenate(parts)[:, half:-half, :]
        result[k] = a.reshape(-1, a.shape[-1])[:n_frames]
    return result


def transcribe_array(
    y: np.ndarray,
    sample_rate: int,
    *,
    onset_threshold: float = 0.5,
    frame_threshold: float = 0.3,
    min_note_ms: float = 127.7,
    min_hz: float | None = None,
    max_hz: float | None = None,
    melodia_trick: bool = True,
) -> list[TranscribedNote]:
    """Notes of a signal (mono, or ``(channels, samples)`` folded to mono)."""
    x = np.asarray(y, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if sample_rate != _SR:
        import soxr

        x = np.asarray(soxr.resample(x, sample_rate, _SR), dtype=np.float32)
    if len(x) == 0 or float(np.max(np.abs(x))) < 1e-5:
        return []
    nc = _note_creation()
    act = _activations(x)
    if act["note"].shape[0] == 0:
        return []
    notes = nc.output_to_notes_polyphonic(
        act["note"],
        act["onset"],
        onset_thresh=onset_threshold,
        frame_thresh=frame_threshold,
        infer_onsets=True,
        min_note_len=round(min_note_ms / 1000 * _FPS),
        min_freq=min_hz,
        max_freq=max_hz,
        melodia_trick=melodia_trick,
    )
    times = nc.model_frames_to_time(act["contour"].shape[0])
    out = [
        TranscribedNote(
            float(times[s]),
            float(times[min(e, len(times) - 1)]),
            int(p),
            int(np.clip(round(127 * a), 1, 127)),
        )
        for s, e, p, a in notes
    ]
    return sorted(out, key=lambda n: (n.start, n.pitch))


def transcribe_file(path: str | os.PathLike[str], **options: Any) -> list[TranscribedNote]:
    """Notes of an audio file (AudioInputError when it cannot be read)."""
    from backline.audio.io import read_audio

    y, sr = read_audio(path, mono=True)
    return transcribe_array(y[0], sr, **options)


def write_midi(notes: list[TranscribedNote], path: str | os.PathLike[str], *, tempo: float = 120.0) -> Path:
    """Write ``notes`` as a type-0 MIDI file (480 ticks per quarter, atomically)."""
    import mido

    ppq = 480
    ticks_per_s = ppq * tempo / 60.0
    evs: list[tuple[int, int, mido.Message]] = []
    for n in notes:
        on = round(n.start * ticks_per_s)
        off = max(on + 1, round(n.end * ticks_per_s))
        evs.append((on, 1, mido.Message("note_on", note=n.pitch, velocity=n.velocity)))
        evs.append((off, 0, mido.Message("note_off", note=n.pitch, velocity=0)))
    evs.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    track.append(mido.MetaMessage("track_name", name="melody", time=0))
    now = 0
    for t, _, msg in evs:
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=0))
    mf = mido.MidiFile(type=0, ticks_per_beat=ppq)
    mf.tracks.append(track)
    p = Path(path)
    with atomic_path(p) as tmp:
        try:
            mf.save(str(tmp))
        except OSError as exc:
            raise write_failed(p, exc) from exc
    return p


def read_midi_notes(path: str | os.PathLike[str]) -> list[TranscribedNote]:
    """Every note of a MIDI file in seconds (tempo changes followed), drums left out."""
    import mido

    try:
        mf = mido.MidiFile(str(path))
    except (OSError, ValueError, EOFError) as exc:
        raise AudioInputError(f"{path}: not a readable MIDI file ({exc})") from None
    active: dict[tuple[int, int], tuple[float, int]] = {}
    out: list[TranscribedNote] = []
    now = 0.0
    for msg in mf:  # merged tracks, times in seconds
        now += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel == 9:
            continue
        k = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            active[k] = (now, msg.velocity)
        elif k in active:
            s, v = active.pop(k)
            if now > s:
                out.append(TranscribedNote(s, now, msg.note, v))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def _skyline(notes: list[TranscribedNote]) -> list[TranscribedNote]:
    """A monophonic line: at each onset the highest note wins; earlier notes are cut."""
    out: list[TranscribedNote] = []
    for n in sorted(notes, key=lambda n: (n.start, -n.pitch)):
        if out and abs(out[-1].start - n.start) < 0.03:
            continue  # a lower note starting together with the kept one
        if out and out[-1].end > n.start:
            out[-1] = replace(out[-1], end=n.start)
        out.append(n)
    return [n for n in out if n.end > n.start]


def midi_to_melody(
    path: str | os.PathLike[str], song: Song, *, offset_seconds: float = 0.0, grid: Fraction = Fraction(1, 4)
) -> Song:
    """``song`` with the notes of a MIDI file as its melody.

    Seconds become beats through the song's own tempo map (after form expansion);
    ``offset_seconds`` is where the song's first bar starts in the MIDI file. The
    notes are reduced to one line (the highest note wins), quantised to ``grid``
    quarter notes (sixteenths), and placed in the written bar where the song first
    plays them (a repeated passage keeps its first pass).
    """
    from backline.model.form import expand

    tl = expand(song)
    if not tl.bars:
        raise AudioInputError(f"{song.title or 'the song'} has no bars to put a melody in")
    tm = tl.tempo_map()
    total = float(tl.total_beats)
    seen: set[int] = set()
    first_pass: dict[int, bool] = {}
    for pb in tl.bars:
        first_pass[pb.index] = pb.written not in seen
        seen.add(pb.written)
    melody: list[Note] = []
    for n in _skyline(read_midi_notes(path)):
        b0 = tm.beat_at(n.start - offset_seconds)
        b1 = tm.beat_at(n.end - offset_seconds)
        if b0 < -1e-6 or b0 >= total:
            continue
        start = Fraction(round(b0 / grid)) * grid
        dur = max(grid, Fraction(round((b1 - b0) / grid)) * grid)
        pb = tl.bar_at(start)
        if not first_pass[pb.index]:
            continue
        melody.append(Note(bar=pb.written, start=start - pb.start_beat, duration=dur, pitch=n.pitch))
    melody.sort(key=lambda m: (m.bar, m.start))
    return replace(song, melody=tuple(melody))
