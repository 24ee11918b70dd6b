"""Loading a setlist into a show: every song prepared for playback, every problem listed.

:func:`prepare_show` turns each :class:`~backline.live.setlist.SongSpec` into a
:class:`PreparedSong` (its source files, bar grid, sections, stop markers, key):

- a **chart** is arranged and rendered (stems, click, cues) into the cache folder,
  keyed by a hash of the chart bytes and every option, so a second load is instant;
- the user's **audio** (one file or a folder of stems, optional click/cue files and a
  marker file) is inspected: readable, not truncated, same sample rate, same length.

A problem in one song never stops the others: it becomes a :class:`Problem` (song,
file, message) and that song is left out of the show. Audio at another sample rate
than the show's is converted once into the cache (a note, not a problem).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backline.errors import BacklineError, LiveError, OutputError
from backline.live.markers import MarkerCue, MarkerFile, read_markers, spoken_cues
from backline.live.setlist import Setlist, SongSpec
from backline.model.pitch import Key, parse_key
from backline.util.atomic import write_text_atomic

__all__ = [
    "user_cache_folder",
    "Problem",
    "Source",
    "Section",
    "StopMarker",
    "CueClip",
    "PreparedSong",
    "Show",
    "prepare_show",
    "prepare_song",
    "stem_role_of",
    "inspect_audio",
    "LENGTH_TOLERANCE_S",
]

LENGTH_TOLERANCE_S = 0.05
_CACHE_VERSION = "live-3"  # 2: fermatas held, intro and ending from the chart; 3: spoken cues listed
_AUDIO_EXT = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")


@dataclass(frozen=True)
class Problem:
    """Something wrong with one song (``song`` is its 0-based index; None: the whole setlist)."""

    song: int | None
    title: str
    file: Path | None
    message: str

    def __str__(self) -> str:
        where = f"song {self.song + 1} {self.title!r}" if self.song is not None else "setlist"
        return f"{where}: {self.file}: {self.message}" if self.file else f"{where}: {self.message}"


@dataclass(frozen=True)
class Source:
    """One source file of a song: a stem, the click or the cues."""

    name: str
    kind: str  # "stem" | "click" | "cues"
    path: Path
    channels: int  # 1 or 2
    frames: int
    #: the file as the user gave it, when ``path`` is its converted copy in the cache
    original: Path | None = None

    @property
    def file_name(self) -> str:
        """The name of the user's file (not of its converted copy)."""
        return (self.original or self.path).name


@dataclass(frozen=True)
class Section:
    """One played occurrence of a section: bars ``[start_bar, end_bar)``, frames ``[start, end)``."""

    index: int
    label: str
    occurrence: int
    start_bar: int
    end_bar: int
    start: int
    end: int


@dataclass(frozen=True)
class StopMarker:
    """Playback waits for go at ``frame`` (``wait``), or vamps the section there (``vamp``)."""

    frame: int
    mode: str
    section: int
    text: str


@dataclass(frozen=True, slots=True)
class CueClip:
    """A section's spoken cue in the song's cue stem: frames ``[start, end)`` say ``text``
    (naming section ``label``), ending ``target - end`` frames before the downbeat it names."""

    label: str
    text: str
    start: int
    end: int
    target: int


@dataclass(frozen=True)
class PreparedSong:
    """A song ready to play: files, bar grid (frames at the show's rate), sections, stops."""

    spec: SongSpec
    sample_rate: int
    frames: int
    sources: tuple[Source, ...]
    bar_starts: tuple[int, ...]  # one per bar, then the end of the last bar
    bar_numerators: tuple[int, ...]
    bar_denominators: tuple[int, ...]
    bar_tempos: tuple[float, ...]
    bar_sections: tuple[int, ...]
    sections: tuple[Section, ...]
    key: Key | None
    stops: tuple[StopMarker, ...] = ()
    notes: tuple[str, ...] = ()
    has_grid: bool = True
    render_dir: Path | None = None
    #: frames of the audio before its first downbeat (``first_downbeat``): the count-in
    #: ends on that downbeat, so this lead-in plays under the count-in's last part
    lead_in: int = 0
    #: where each section's spoken cue lies in the cue stem (from a backline render)
    cue_clips: tuple[CueClip, ...] = ()
    #: the bar lines as an int64 array, made once: :meth:`bar_at` runs in the audio callback
    _bar_lines: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bar_lines", np.asarray(self.bar_starts[:-1], dtype=np.int64))

    @property
    def index(self) -> int:
        return self.spec.index

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def stems(self) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if s.kind == "stem")

    @property
    def n_bars(self) -> int:
        return len(self.bar_starts) - 1

    def bar_at(self, frame: int) -> int:
        """Index of the bar playing at ``frame`` (0-based; clamped to the bars). Allocates
        no array (the audio callback calls it for jumps and vamps)."""
        i = int(self._bar_lines.searchsorted(frame, side="right")) - 1
        return max(0, min(i, self.n_bars - 1))

    def find_section(
        self, label: str, occurrence: int | None = None, after_frame: int | None = None
    ) -> Section:
        """The section called ``label`` (case-insensitive): its ``occurrence`` (1-based), or the
        first one starting after ``after_frame`` (wrapping), or the first. Raises LiveError."""
        hits = [s for s in self.sections if s.label.lower() == label.lower()]
        if not hits:
            raise LiveError(
                f"song {self.title!r} has no section {label!r}; sections: {', '.join(sorted({s.label for s in self.sections}))}"
            )
        if occurrence is not None:
            if not 1 <= occurrence <= len(hits):
                raise LiveError(
                    f"song {self.title!r}: section {label!r} occurs {len(hits)} time(s), not {occurrence}"
                )
            return hits[occurrence - 1]
        if after_frame is not None:
            for s in hits:
                if s.start > after_frame:
                    return s
        return hits[0]


@dataclass(frozen=True)
class Show:
    """A loaded setlist: a prepared song (or None when it has problems) per setlist song."""

    setlist: Setlist
    songs: tuple[PreparedSong | None, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()

    @property
    def playable(self) -> tuple[PreparedSong, ...]:
        return tuple(s for s in self.songs if s is not None)


Progress = Callable[[str], None]


# --- audio files -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Info:
    path: Path
    sample_rate: int
    channels: int
    frames: int


def inspect_audio(path: Path, *, deep: bool = False) -> _Info:
    """Sample rate, channels and readable frames of ``path``; LiveError when it is missing,
    unreadable, corrupt or truncated (the header promises more audio than the file holds).
    ``deep`` decodes the whole file (finds damage in the middle of compressed files)."""
    import soundfile as sf

    if not path.exists():
        raise LiveError(f"{path}: no such file")
    if path.is_dir():
        raise LiveError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise LiveError(f"{path}: file is empty")
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError, sf.LibsndfileError) as exc:
        raise LiveError(f"{path}: not a readable audio file ({str(exc).splitlines()[0][:120]})") from None
    if info.frames <= 0:
        raise LiveError(f"{path}: contains no audio")
    header = _header_frames(path)
    if header is not None and header > info.frames:
        raise LiveError(
            f"{path}: truncated: the header promises {header / info.samplerate:.2f} s, "
            f"the file holds {info.frames / info.samplerate:.2f} s"
        )
    frames = int(info.frames)
    if deep:
        n = 0
        try:
            with sf.SoundFile(str(path)) as f:
                for block in f.blocks(blocksize=1 << 17, dtype="float32", always_2d=True):
                    if not np.isfinite(block).all():
                        raise LiveError(
                            f"{path}: damaged audio (not-a-number samples) near {n / info.samplerate:.1f} s"
                        )
                    n += block.shape[0]
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise LiveError(f"{path}: damaged audio after {n / info.samplerate:.1f} s ({exc})") from None
        if n < frames:
            raise LiveError(
                f"{path}: truncated: only {n / info.samplerate:.2f} s of {frames / info.samplerate:.2f} s decode"
            )
    return _Info(path, int(info.samplerate), int(info.channels), frames)


def _header_frames(path: Path) -> int | None:
    """Frames the file's header announces (None when the format has no such header, or a
    WAV gives its size as unknown: one written to a pipe holds what runs to its end)."""
    if path.suffix.lower() not in (".wav", ".aif", ".aiff", ".flac"):
        return None
    if path.suffix.lower() == ".wav":
        from backline.audio.io import probe
        from backline.errors import AudioInputError

        try:
            info = probe(path)
        except AudioInputError:
            return None  # the decoder read it: its own count stands
        return info.frames + round(info.missing_seconds * info.sample_rate)
    try:
        from pedalboard.io import AudioFile

        with AudioFile(str(path)) as f:
            return int(f.frames)
    except Exception:
        return None


def user_cache_folder() -> Path:
    """The user's own cache folder for backline: ``$XDG_CACHE_HOME/backline``, else
    ``~/.cache/backline``; used when a setlist's cache cannot be written (a USB stick)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "backline"


def _decode_mp3(path: Path, sr: int) -> np.ndarray:
    """An MP3 decoded whole by libsndfile, planar float32 at ``sr``. The player never
    streams an MP3: libsndfile 1.2 garbles a click track read in blocks (clicks lost,
    measured at 4096 and 8192 frames; read whole it equals ffmpeg's decode), and
    pedalboard's decoder keeps the encoder's delay (26 ms late). So it is decoded once,
    whole and on time, into the cache."""
    import soundfile as sf

    from backline.audio.io import resample
    from backline.errors import AudioInputError

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as exc:
        raise AudioInputError(f"{path}: cannot decode the MP3 ({exc})") from None
    audio = np.ascontiguousarray(data.T)
    return resample(audio, int(rate), sr) if int(rate) != sr else audio


def _resampled(info: _Info, sr: int, cache: Path) -> tuple[Path, str | None]:
    """``info.path`` converted to ``sr`` in the cache (once; keyed by content hash), and a
    note when the setlist's cache could not be written and the user's cache folder
    (:func:`user_cache_folder`) was used instead. Raises :class:`OutputError` naming
    both folders when neither can be written."""
    from backline.audio.io import read_audio, write_audio

    h = hashlib.sha256()
    h.update(info.path.read_bytes())
    h.update(f"{sr}".encode())
    if info.path.suffix.lower() == ".mp3":
        h.update(b"mp3 decoded whole, gapless")  # not the 26 ms late copies of before
    name = f"{info.path.stem}-{h.hexdigest()[:16]}.wav"
    folders = [cache, user_cache_folder()]
    for folder in folders:
        dest = folder / "resampled" / name
        if dest.is_file():
            return dest, None if folder == cache else f"cached in {folder}: {cache} cannot be written"
    if info.path.suffix.lower() == ".mp3":
        audio = _decode_mp3(info.path, sr)
    else:
        audio, _ = read_audio(info.path, sample_rate=sr)
    reasons: list[str] = []
    for folder in folders:
        dest = folder / "resampled" / name
        try:
            write_audio(dest, audio, sr, bit_depth="float")
        except OutputError as exc:
            reasons.append(str(exc))
            continue
        return dest, None if folder == cache else f"cached in {folder}: {cache} cannot be written"
    raise OutputError(
        f"needs converting to {sr} Hz, but neither the setlist's cache {cache} nor the user cache "
        f"{folders[1]} can be written ({'; '.join(reasons)}): set `cache` in the setlist to a "
        f"writable folder, or give the files at {sr} Hz"
    )


# --- grids ---------------------------------------------------------------------------------


@dataclass
class _Grid:
    starts: list[int]
    nums: list[int]
    dens: list[int]
    tempos: list[float]
    labels: list[str]
    heads: list[bool]  # a new section occurrence starts at this bar
    has_grid: bool = True
    notes: list[str] = field(default_factory=list)
    lead_in: int = 0  # frames of the file before its first downbeat (``first_downbeat``)


def _grid_from_bars(bars: list[dict[str, Any]], sr: int, frames: int) -> _Grid:
    g = _Grid([], [], [], [], [], [])
    for b in bars:
        g.starts.append(round(float(b["seconds"]) * sr))
        g.nums.append(int(b["numerator"]))
        g.dens.append(int(b["denominator"]))
        g.tempos.append(float(b["tempo"]))
        g.labels.append(str(b["section"]))
        g.heads.append(bool(b.get("head", False)))
    last = bars[-1]
    end = float(
        last.get(
            "end_seconds", last["seconds"] + last["numerator"] * 4 / last["denominator"] * 60 / last["tempo"]
        )
    )
    g.starts.append(min(frames, round(end * sr)))
    return g


def _grid_from_tempo(
    spec: SongSpec, mf: MarkerFile | None, sr: int, frames: int, problems: list[str]
) -> _Grid:
    num, den = spec.time_signature
    g = _Grid([], [], [], [], [], [])
    if spec.tempo is None:
        # no tempo: every marker is a bar line (and a section)
        g.has_grid = False
        marks = list(mf.markers) if mf else []
        if not marks or marks[0].seconds > 0:
            g.starts.append(0)
            g.labels.append(marks[0].label if marks else "Song")
        for m in marks:
            if round(m.seconds * sr) == 0 and g.starts:
                g.labels[0] = m.label
                continue
            g.starts.append(round(m.seconds * sr))
            g.labels.append(m.label)
        n = len(g.starts)
        g.nums, g.dens, g.tempos, g.heads = [num] * n, [den] * n, [0.0] * n, [True] * n
        g.starts.append(frames)
        g.notes.append(
            "no tempo given: the markers are the only bar lines (jumps 'at the next bar' wait for the next marker)"
        )
        return g
    bar = round(num * 4 / den * 60.0 / spec.tempo * sr)
    t0 = round(spec.first_downbeat * sr)
    if t0 > 0:
        g.starts.append(0)
        g.lead_in = t0
    s = t0
    while s < frames:
        g.starts.append(s)
        s += bar
    n = len(g.starts)
    g.nums, g.dens, g.tempos = [num] * n, [den] * n, [spec.tempo] * n
    g.starts.append(frames)
    g.labels = ["Song"] * n
    g.heads = [False] * n
    g.heads[0] = True
    if mf:
        starts = np.asarray(g.starts[:-1])
        tol = round(0.02 * sr)
        for m in mf.markers:
            f = round(m.seconds * sr)
            k = int(np.argmin(np.abs(starts - f)))
            if abs(int(starts[k]) - f) > tol:
                problems.append(
                    f"marker {m.label!r} at {m.seconds:g} s is not on a bar line of the {spec.tempo:g} BPM grid "
                    f"(nearest: bar {k + 1} at {starts[k] / sr:.3f} s); fix first_downbeat or the marker"
                )
                continue
            g.heads[k] = True
            for j in range(k, n):
                g.labels[j] = m.label
    return g


def _sections(g: _Grid) -> tuple[list[Section], list[int]]:
    secs: list[Section] = []
    owner: list[int] = []
    counts: dict[str, int] = {}
    for i, label in enumerate(g.labels):
        if i == 0 or g.heads[i] or label != g.labels[i - 1]:
            counts[label.lower()] = counts.get(label.lower(), 0) + 1
            secs.append(
                Section(len(secs), label, counts[label.lower()], i, i + 1, g.starts[i], g.starts[i + 1])
            )
        else:
            s = secs[-1]
            secs[-1] = Section(s.index, s.label, s.occurrence, s.start_bar, i + 1, s.start, g.starts[i + 1])
        owner.append(len(secs) - 1)
    return secs, owner


_STOP_RE = re.compile(r"^\s*(bar\s+(\d+)|section\s+(.+?)(?:\s+#(\d+))?)\s*$", re.I)


def _stops(spec: SongSpec, song_secs: list[Section], g: _Grid, problems: list[str]) -> list[StopMarker]:
    out: list[StopMarker] = []
    for st in spec.stops:
        m = _STOP_RE.match(st.at)
        if not m:
            problems.append(f"stop at {st.at!r}: write 'bar N' or 'section NAME'")
            continue
        if m.group(2):
            n = int(m.group(2))
            if not 1 <= n <= len(g.starts) - 1:
                problems.append(f"stop at bar {n}: the song has {len(g.starts) - 1} bars")
                continue
            sec = next(s for s in song_secs if s.start_bar <= n - 1 < s.end_bar)
            out.append(StopMarker(g.starts[n - 1], st.mode, sec.index, st.at))
        else:
            label, occ = m.group(3), int(m.group(4)) if m.group(4) else 1
            hits = [s for s in song_secs if s.label.lower() == label.lower()]
            if len(hits) < occ:
                problems.append(
                    f"stop at unknown section {label!r}{f' #{occ}' if m.group(4) else ''}; sections: "
                    + ", ".join(dict.fromkeys(s.label for s in song_secs))
                )
                continue
            out.append(StopMarker(hits[occ - 1].start, st.mode, hits[occ - 1].index, st.at))
    out.sort(key=lambda s: s.frame)
    return out


# --- charts -------------------------------------------------------------------------------


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("._")[:40] or "song"


def _render_chart(spec: SongSpec, setlist: Setlist, progress: Progress | None) -> tuple[Path, dict[str, Any]]:
    """Arrange and render a chart song into the cache (or reuse it); returns (folder, live.json)."""
    assert spec.chart is not None
    try:
        data = spec.chart.read_bytes()
    except FileNotFoundError:
        raise LiveError(f"{spec.chart}: no such chart file") from None
    except OSError as exc:
        raise LiveError(f"{spec.chart}: cannot read ({exc.strerror})") from None
    opts = {
        "v": _CACHE_VERSION,
        "song": spec.song,
        "style": spec.style,
        "key": spec.key,
        "tempo": spec.tempo,
        "seed": spec.seed,
        "intro": spec.intro,
        "ending": spec.ending,
        "sr": setlist.sample_rate,
        "click": spec.click_sound,
        "ext": spec.chart.suffix.lower(),
    }
    h = hashlib.sha256(data + json.dumps(opts, sort_keys=True).encode()).hexdigest()[:20]
    folder = setlist.cache / f"{_slug(spec.title)}-{h}"
    done = folder / "live.json"
    if done.exists():
        try:
            return folder, json.loads(done.read_text())
        except (OSError, json.JSONDecodeError):
            pass  # a damaged cache entry: render again
    from backline.arrange.engine import arrange
    from backline.arrange.own_form import intro_ending
    from backline.formats import load_song
    from backline.render.pipeline import RenderOptions, render_arrangement

    if progress:
        progress(f"rendering {spec.title}")
    which: int | str | None = int(spec.song) if spec.song and spec.song.isdigit() else spec.song
    song = load_song(spec.chart, which)
    intro, ending = intro_ending(song, spec.intro, spec.ending)
    arr = arrange(
        song, spec.style, seed=spec.seed, key=spec.key, tempo=spec.tempo, intro=intro, ending=ending
    )
    rep = render_arrangement(
        arr,
        folder,
        RenderOptions(
            sample_rate=setlist.sample_rate,
            stems=True,
            click=True,
            cues=True,
            count_in_bars=0,
            midi=False,
            click_sound=spec.click_sound,
        ),
    )
    heads = set(_chart_heads(arr))
    bars = [
        {
            "seconds": b.start_seconds,
            "numerator": b.numerator,
            "denominator": b.denominator,
            "tempo": b.tempo,
            "section": b.section or "Song",
            "head": k in heads,
            "end_seconds": arr.tempo_map.seconds_at(b.start_beat + b.beats),
        }
        for k, b in enumerate(arr.bars)
    ]
    live = {
        "title": arr.song.title,
        "key": str(arr.song.key) if arr.song.key else None,
        "stems": rep.files.get("stems", {}),
        "click": rep.files.get("click"),
        "cues": rep.files.get("cues"),
        "spoken": rep.extra.get("cues", []),
        "bars": bars,
        "warnings": rep.warnings,
    }
    write_text_atomic(done, json.dumps(live, indent=1))
    return folder, live


def _chart_heads(arr: Any) -> list[int]:
    """Bars where a section occurrence starts (a new label, or the chart's section head again)."""
    heads: set[int] = set()
    i = 0
    for sec in arr.song.sections:
        heads.add(i)
        i += len(sec.bars)
    out = []
    prev = None
    for k, pb in enumerate(arr.bars):
        if (
            prev is None
            or pb.section != prev.section
            or (pb.written_bar is not None and pb.written_bar in heads)
        ):
            out.append(k)
        prev = pb
    return out


# --- one song ---------------------------------------------------------------------------


def _audio_files(spec: SongSpec) -> list[tuple[str, str, Path]]:
    """(name, kind, path) of every source file the song names."""
    files: list[tuple[str, str, Path]] = []
    if spec.audio is not None:
        files.append(("music", "stem", spec.audio))
    if spec.stems is not None:
        if not spec.stems.is_dir():
            raise LiveError(f"{spec.stems}: no such stems folder")
        found = sorted(
            p for p in spec.stems.iterdir() if p.suffix.lower() in _AUDIO_EXT and not p.name.startswith(".")
        )
        if not found:
            raise LiveError(f"{spec.stems}: no audio files ({', '.join(_AUDIO_EXT)}) in the stems folder")
        names = {p.name for p in found}
        for key, listed in (("click_stem", spec.click_stem), ("cues_stem", spec.cues_stem)):
            for name in listed:
                if name not in names:
                    raise LiveError(
                        f"{spec.stems}: {key} = {name!r} is not a file of the stems folder; "
                        f"files: {', '.join(sorted(names))}"
                    )
        for p in found:
            if (spec.click is not None and p.resolve() == spec.click.resolve()) or (
                spec.cues is not None and p.resolve() == spec.cues.resolve()
            ):
                continue
            role = stem_role_of(spec, p)
            files.append((role, role, p) if role else (p.stem, "stem", p))
    if spec.click is not None:
        files.append(("click", "click", spec.click))
    if spec.cues is not None:
        files.append(("cues", "cues", spec.cues))
    return files


def stem_role_of(spec: SongSpec, path: Path) -> str | None:
    """The role of a file of a song's stems folder: ``"click"`` or ``"cues"`` (named so by
    ``click_stem`` / ``cues_stem``, else by its name: :func:`backline.util.stem_names.stem_role`,
    e.g. ``Click Track.wav``, ``01 CLICK.wav``, ``Metronome.wav``, ``Guide Cues.wav``), or None:
    music."""
    from backline.util.stem_names import stem_role

    if path.name in spec.click_stem:
        return "click"
    if path.name in spec.cues_stem:
        return "cues"
    return stem_role(path)


def _render_folder_files(
    spec: SongSpec, files: list[tuple[str, str, Path]]
) -> tuple[list[tuple[str, str, Path]], list[str]]:
    """A stems folder that is a backline render folder (``mix.wav`` next to a ``stems/``
    sub-folder) plays only the mix: not the split track (its left side is the click and
    the cues: never to front of house), the multichannel file, the click or the cues.
    Returns the files to play and a note that says so (the song plays)."""
    if spec.stems is None or not (spec.stems / "stems").is_dir():
        return files, []
    mix = [f for f in files if f[1] == "stem" and f[0].lower() == "mix"]
    if not mix:
        return files, []
    left = sorted(p.name for _, _, p in files if p != mix[0][2])
    return mix, [
        f"{spec.title}: warning: {spec.stems} is a render folder: only {mix[0][2].name} plays"
        + (f" (not {', '.join(left)})" if left else "")
        + f"; for the stems, click and cues write stems = "
        f'"{(spec.stems / "stems").as_posix()}/"'
    ]


def prepare_song(
    spec: SongSpec, setlist: Setlist, *, deep: bool = False, progress: Progress | None = None
) -> tuple[PreparedSong | None, list[Problem], list[str]]:
    """Prepare one song; returns (song or None, problems, notes). Never raises for the song's own faults."""
    problems: list[Problem] = []
    notes: list[str] = []
    sr = setlist.sample_rate

    def problem(msg: str, file: Path | None = None) -> None:
        problems.append(Problem(spec.index, spec.title, file, msg))

    def bad_file(exc: BacklineError, path: Path) -> None:
        # the message may name the file already ("x.wav: ...", "bad.chart:4:7: ..."): once is enough
        text = str(exc)
        prefix = f"{path}:"
        if not text.startswith(prefix):
            problem(text, path)
        elif text.startswith(prefix + " "):
            problem(text[len(prefix) + 1 :], path)
        else:
            problem(text)  # file:line:col: what is wrong

    render_dir: Path | None = None
    live: dict[str, Any] | None = None
    mf: MarkerFile | None = None
    try:
        if spec.chart is not None:
            render_dir, live = _render_chart(spec, setlist, progress)
            files = [(n, "stem", render_dir / p) for n, p in live["stems"].items()]
            for kind in ("click", "cues"):
                if live.get(kind):
                    files.append((kind, kind, render_dir / live[kind]))
            notes += [f"{spec.title}: {w}" for w in live.get("warnings", [])]
        else:
            files, said = _render_folder_files(spec, _audio_files(spec))
            notes += said
    except BacklineError as exc:
        where = spec.chart or spec.stems
        if where is None:
            problem(str(exc))
        else:
            bad_file(exc, where)  # the message names the file already: once is enough
        return None, problems, notes
    if spec.markers is not None:
        try:
            mf = read_markers(spec.markers)
        except BacklineError as exc:
            bad_file(exc, spec.markers)
    sources: list[Source] = []
    rates: dict[int, list[Path]] = {}
    infos: list[tuple[str, str, _Info]] = []
    for name, kind, path in files:
        try:
            info = inspect_audio(path, deep=deep)
        except BacklineError as exc:
            bad_file(exc, path)
            continue
        if info.channels > 2:
            problem(f"has {info.channels} channels; give mono or stereo files", path)
            continue
        rates.setdefault(info.sample_rate, []).append(path)
        infos.append((name, kind, info))
    if len(rates) > 1:
        desc = "; ".join(f"{r} Hz: {', '.join(p.name for p in ps)}" for r, ps in sorted(rates.items()))
        problem(f"the song's files have different sample rates ({desc})")
    if problems:
        return None, problems, notes
    if not infos:
        problem("has no audio to play")
        return None, problems, notes
    for name, kind, info in infos:
        mp3 = info.path.suffix.lower() == ".mp3"
        if info.sample_rate != sr or mp3:
            try:
                path, cached_note = _resampled(info, sr, setlist.cache)
            except BacklineError as exc:
                bad_file(exc, info.path)
                continue
            what = (
                f"converted from {info.sample_rate} Hz to {sr} Hz"
                if info.sample_rate != sr
                else "decoded to WAV once"
            )
            notes.append(f"{spec.title}: {info.path.name} {what} ({cached_note or 'cached'})")
            frames = round(info.frames * sr / info.sample_rate)
            sources.append(Source(name, kind, path, info.channels, frames, original=info.path))
        else:
            sources.append(Source(name, kind, info.path, info.channels, info.frames))
    if problems or not sources:
        return None, problems, notes
    lengths = {s.path: s.frames for s in sources}
    longest, shortest = max(lengths.values()), min(lengths.values())
    if longest - shortest > LENGTH_TOLERANCE_S * sr:
        desc = ", ".join(f"{p.name} {n / sr:.2f} s" for p, n in lengths.items())
        problem(f"stems have different lengths ({desc})")
    elif longest != shortest:
        notes.append(
            f"{spec.title}: stems differ by {(longest - shortest) / sr * 1000:.0f} ms; the short ones end in silence"
        )
    if problems:
        return None, problems, notes
    frames = longest
    grid_problems: list[str] = []
    if live is not None:
        grid = _grid_from_bars(live["bars"], sr, frames)
    elif mf is not None and mf.bars:
        bars = [
            {
                "seconds": b.seconds,
                "numerator": b.numerator,
                "denominator": b.denominator,
                "tempo": b.tempo,
                "section": b.section,
            }
            for b in mf.bars
        ]
        grid = _grid_from_bars(bars, sr, frames)
        grid.heads = [i == 0 or mf.bars[i].section != mf.bars[i - 1].section for i in range(len(mf.bars))]
    else:
        grid = _grid_from_tempo(spec, mf, sr, frames, grid_problems)
    notes += [f"{spec.title}: {n}" for n in grid.notes]
    if grid.starts[-1] < grid.starts[-2] or grid.starts[-2] >= frames:
        grid_problems.append(
            f"the bar grid ({grid.starts[-2] / sr:.2f} s) runs past the end of the audio ({frames / sr:.2f} s)"
        )
    for p in grid_problems:
        problem(p, spec.markers)
    secs, owner = _sections(grid)
    stops_problems: list[str] = []
    stops = _stops(spec, secs, grid, stops_problems)
    for p in stops_problems:
        problem(p)
    key: Key | None = None
    key_text = spec.key or (live or {}).get("key")
    if key_text:
        try:
            key = parse_key(str(key_text))
        except ValueError:
            problem(f"key {key_text!r} is not a key (write C, Bb, F#m, G minor)")
    if problems:  # the sources are known: check the routing and levels too, all in one report
        more = _routing_problems(setlist, spec, sources) + _unknown_level_sources(setlist, spec, sources)
        return None, problems + more, notes
    listed = spoken_cues((live or {}).get("spoken")) if live else mf.cues if mf else ()
    clips = _cue_clips(listed, sr, frames)
    if live is None and not listed and grid.has_grid:
        clips = _guide_clips(spec, sources, secs, grid.starts, frames, notes)
    if mf is not None and mf.count_in_seconds > 0 and spec.count_in_bars != 0:
        # the stems of a render carry its count-in (click and spoken numbers) before bar 1:
        # counting in again would make two
        notes.append(
            f"{spec.title}: the stems carry the render's count-in ({mf.count_in_seconds:.2f} s of click "
            "and spoken count before bar 1): the player does not count in again"
        )
        spec = dataclasses.replace(spec, count_in_bars=0)
    song = PreparedSong(
        spec=spec,
        sample_rate=sr,
        frames=frames,
        sources=tuple(sources),
        bar_starts=tuple(grid.starts),
        bar_numerators=tuple(grid.nums),
        bar_denominators=tuple(grid.dens),
        bar_tempos=tuple(grid.tempos),
        bar_sections=tuple(owner),
        sections=tuple(secs),
        key=key,
        stops=tuple(stops),
        notes=tuple(notes),
        has_grid=grid.has_grid,
        render_dir=render_dir,
        cue_clips=clips,
        lead_in=grid.lead_in,
    )
    return song, problems, notes


def _cue_clips(cues: Sequence[MarkerCue], sr: int, frames: int) -> tuple[CueClip, ...]:
    """The render's section cues in frames at the show's rate (those inside the audio)."""
    out = []
    for c in cues:
        a, b, t = round(c.start * sr), round(c.end * sr), round(c.target * sr)
        if 0 <= a < b <= min(t, frames):
            out.append(CueClip(c.section, c.text, a, b, t))
    return tuple(out)


def _guide_clips(
    spec: SongSpec,
    sources: Sequence[Source],
    secs: Sequence[Section],
    bar_starts: Sequence[int],
    frames: int,
    notes: list[str],
) -> tuple[CueClip, ...]:
    """The section cues of a cue stem of the user's own (no cue list), found in the bar
    before each section (see :mod:`backline.live.guide_cues`); a note says how many."""
    from backline.live.guide_cues import find_guide_cues

    cues = [s for s in sources if s.kind == "cues"]
    if len(cues) != 1 or len(secs) < 2:
        return ()
    try:
        found = find_guide_cues(cues[0].path, [(s.label, s.start) for s in secs], bar_starts, frames)
    except (OSError, RuntimeError, ValueError) as exc:
        notes.append(f"{spec.title}: {cues[0].file_name}: cannot look for spoken cues for jumps ({exc})")
        return ()
    if found:
        heard = sorted({label for label, *_ in found}, key=str.lower)
        notes.append(
            f"{spec.title}: {cues[0].file_name}: cues heard before {len(found)} of {len(secs) - 1} "
            f"sections ({', '.join(heard)}): said before jumps and vamp loops"
        )
    return tuple(CueClip(label, label, a, b, t) for label, a, b, t in found)  # words unknown


def _level_sources(sources: Sequence[Source]) -> list[str]:
    """The names a song's ``mix`` and ``[levels.songs]`` can set: its stems, click, cues, pad
    (each once: a stem called "pad" and the between-song pad share the name)."""
    return list(dict.fromkeys([s.name for s in sources if s.kind == "stem"] + ["click", "cues", "pad"]))


def _unknown_level_sources(setlist: Setlist, spec: SongSpec, sources: Sequence[Source]) -> list[Problem]:
    """A level for a source the song does not have (``mix = { bas = -3 }``) is a typo (the
    song still plays; the level does nothing)."""
    known = _level_sources(sources)
    saved = setlist.levels.songs.get(spec.title, {})
    out = []
    for name in spec.mix:
        if name not in known:
            where = f"[levels.songs.{json.dumps(spec.title)}]" if name in saved else "mix"
            out.append(
                Problem(
                    spec.index,
                    spec.title,
                    None,
                    f"{where} names unknown source {name!r}; sources: {', '.join(known)}",
                )
            )
    return out


def _routing_problems(setlist: Setlist, spec: SongSpec, sources: Sequence[Source]) -> list[Problem]:
    """Every routing problem of a song (unknown sources, outputs that do not exist, the click
    to front of house), all in one go."""
    from backline.live.routing import routing_problems

    return [
        Problem(spec.index, spec.title, None, m)
        for m in routing_problems(setlist, spec.title, spec.routing, sources)
    ]


def _unknown_setlist_routes(setlist: Setlist, songs: list[PreparedSong | None]) -> list[Problem]:
    """A setlist-wide route must name a source some song has (``[routing] clik = [3]`` is a typo;
    a stem that only some songs have is fine)."""
    from backline.live.routing import RESERVED_SOURCES

    loaded = [s for s in songs if s is not None]
    stems = list(dict.fromkeys(st.name for s in loaded for st in s.stems))
    known = list(dict.fromkeys([*RESERVED_SOURCES, *stems]))
    out = []
    for name in setlist.routing:
        if name not in known:
            which = "no song" if len(loaded) == len(songs) else "no song that loaded"
            out.append(
                Problem(
                    None,
                    "",
                    None,
                    f"[routing] names unknown source {name!r} ({which} has it); sources: {', '.join(known)}",
                )
            )
    return out


def prepare_show(setlist: Setlist, *, deep: bool = False, progress: Progress | None = None) -> Show:
    """Prepare every song of ``setlist`` (see the module docstring); also checks the routing
    (:func:`backline.live.routing.build_routing`) and the pads between songs."""

    songs: list[PreparedSong | None] = []
    problems: list[Problem] = []
    notes: list[str] = []
    for spec in setlist.songs:
        if progress:
            progress(f"loading {spec.title}")
        try:
            song, probs, nts = prepare_song(spec, setlist, deep=deep, progress=progress)
        except BacklineError as exc:  # a fault of this song that escaped: still only this song
            song, probs, nts = None, [Problem(spec.index, spec.title, None, str(exc))], []
        if song is not None:
            routes = _routing_problems(setlist, spec, song.sources)
            # a level for no source: reported, the song still plays
            probs += routes + _unknown_level_sources(setlist, spec, song.sources)
            if routes:  # a bad route: the song is left out
                song = None
        songs.append(song)
        problems += probs
        notes += nts
    problems += _unknown_setlist_routes(setlist, songs)
    for i, spec in enumerate(setlist.songs[:-1]):
        nxt = songs[i + 1]
        if spec.between.mode == "pad" and nxt is not None and nxt.key is None:
            problems.append(
                Problem(
                    i,
                    spec.title,
                    None,
                    f'between = "pad" needs the key of the next song {nxt.title!r}: give it key = ...',
                )
            )
    return Show(setlist, tuple(songs), tuple(problems), tuple(notes))
