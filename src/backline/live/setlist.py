"""The setlist file (TOML): songs in order, outputs, routing, what happens between songs.

Parsing only: :func:`load_setlist` turns the file into typed, validated specs
(:class:`Setlist`, :class:`SongSpec`); nothing is read or rendered here (see
:mod:`backline.live.show`). Paths are resolved against the setlist's folder.
The full format is documented in ``docs/live.md``.

Levels set during sound check live in a ``[levels]`` table that backline rewrites
between two marker comments at the end of the file (:func:`save_levels`), so the
rest of the file, comments included, is never touched.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backline.errors import LiveError, Location
from backline.live.midi_control import MidiConfig, parse_midi_config
from backline.util.atomic import write_text_atomic

__all__ = [
    "BETWEEN_MODES",
    "STOP_MODES",
    "Between",
    "OutputsSpec",
    "Setlist",
    "SongSpec",
    "StopSpec",
    "Levels",
    "load_setlist",
    "parse_setlist",
    "save_levels",
    "render_levels_block",
]

BETWEEN_MODES = ("stop", "continue", "pad")
STOP_MODES = ("wait", "vamp")
LEVELS_BEGIN = "# --- backline levels: written by `backline live`, edit freely ---"
LEVELS_END = "# --- end of backline levels ---"

_SONG_KEYS = {
    "title",
    "chart",
    "audio",
    "stems",
    "click",
    "cues",
    "markers",
    "song",
    "style",
    "key",
    "tempo",
    "seed",
    "intro",
    "ending",
    "time_signature",
    "first_downbeat",
    "program",
    "count_in_bars",
    "between",
    "gap_seconds",
    "pad_seconds",
    "stops",
    "mix",
    "routing",
    "click_sound",
}
_SETLIST_KEYS = {
    "title",
    "sample_rate",
    "count_in_bars",
    "between",
    "gap_seconds",
    "pad_seconds",
    "cache",
    "pad_level_db",
}
_OUTPUT_KEYS = {"count", "foh", "in_ear", "names", "allow_click_to_foh", "levels"}
_TOP_KEYS = {"setlist", "outputs", "routing", "songs", "levels", "midi"}


@dataclass(frozen=True)
class Between:
    """What happens after a song: ``stop`` (wait for play), ``continue`` after
    ``gap_seconds``, or ``pad`` (a pad in the next song's key under the talk, until play;
    it fades in over ``pad_seconds`` and crossfades out under the next count-in)."""

    mode: str = "stop"
    gap_seconds: float = 0.0
    pad_seconds: float = 2.0


@dataclass(frozen=True)
class StopSpec:
    """A stop marker: at ``bar N`` (1-based) or ``section LABEL`` (its first occurrence,
    or ``section LABEL #k`` for the k-th); ``wait`` holds silent until go, ``vamp``
    loops that section until go."""

    at: str
    mode: str = "wait"


@dataclass(frozen=True)
class SongSpec:
    """One song of the setlist as written (paths resolved, nothing loaded)."""

    index: int
    title: str
    line: int | None
    chart: Path | None = None
    song: str | None = None
    audio: Path | None = None
    stems: Path | None = None
    click: Path | None = None
    cues: Path | None = None
    markers: Path | None = None
    style: str | None = None
    key: str | None = None
    tempo: float | None = None
    seed: int = 0
    intro: bool = True
    ending: bool = True
    time_signature: tuple[int, int] = (4, 4)
    first_downbeat: float = 0.0
    program: int | None = None
    count_in_bars: int | None = None
    between: Between = field(default_factory=Between)
    stops: tuple[StopSpec, ...] = ()
    mix: Mapping[str, float] = field(default_factory=dict)
    routing: Mapping[str, Any] = field(default_factory=dict)
    click_sound: str = "classic"

    @property
    def kind(self) -> str:
        """``chart`` or ``audio``."""
        return "chart" if self.chart is not None else "audio"

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(
            p for p in (self.chart, self.audio, self.stems, self.click, self.cues, self.markers) if p
        )


@dataclass(frozen=True)
class OutputsSpec:
    """The output channels (1-based): how many, which are front of house, which the in-ear pair."""

    count: int = 4
    foh: tuple[int, ...] = (1, 2)
    in_ear: tuple[int, ...] = (3, 4)
    names: Mapping[int, str] = field(default_factory=dict)
    allow_click_to_foh: bool = False


@dataclass(frozen=True)
class Levels:
    """Sound-check levels in dB: per output (1-based) and per song title, per stem."""

    outputs: Mapping[int, float] = field(default_factory=dict)
    songs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Setlist:
    """A parsed setlist."""

    path: Path
    title: str
    songs: tuple[SongSpec, ...]
    outputs: OutputsSpec = field(default_factory=OutputsSpec)
    routing: Mapping[str, Any] = field(default_factory=dict)
    sample_rate: int = 48000
    cache: Path = Path(".backline-cache")
    pad_level_db: float = -18.0
    levels: Levels = field(default_factory=Levels)
    midi: MidiConfig = field(default_factory=MidiConfig)

    @property
    def folder(self) -> Path:
        return self.path.parent


def _err(path: Path, msg: str, line: int | None = None) -> LiveError:
    return LiveError(f"{Location(str(path), line)}: {msg}")


def _song_lines(text: str) -> list[int]:
    return [i + 1 for i, ln in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*songs\s*\]\]", ln)]


def _num(v: Any, what: str, path: Path, line: int | None, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise _err(path, f"{what} must be a number, not {v!r}", line)
    if not lo <= float(v) <= hi:
        raise _err(path, f"{what} {v:g} is outside {lo:g}..{hi:g}", line)
    return float(v)


def _int(v: Any, what: str, path: Path, line: int | None, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _err(path, f"{what} must be a whole number, not {v!r}", line)
    if not lo <= v <= hi:
        raise _err(path, f"{what} {v} is outside {lo}..{hi}", line)
    return v


def _between(d: Mapping[str, Any], base: Between, path: Path, line: int | None) -> Between:
    mode = d.get("between", base.mode)
    if mode not in BETWEEN_MODES:
        raise _err(path, f"between must be one of {', '.join(BETWEEN_MODES)}, not {mode!r}", line)
    gap = _num(d.get("gap_seconds", base.gap_seconds), "gap_seconds", path, line, 0, 3600)
    pad = _num(d.get("pad_seconds", base.pad_seconds), "pad_seconds", path, line, 0.01, 60)
    return Between(mode, gap, pad)


def _unknown(d: Mapping[str, Any], known: set[str], where: str, path: Path, line: int | None) -> None:
    bad = sorted(set(d) - known)
    if bad:
        raise _err(
            path, f"unknown key(s) {', '.join(bad)} in {where}; known: {', '.join(sorted(known))}", line
        )


def _time_signature(v: Any, path: Path, line: int | None) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(v))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) not in (1, 2, 4, 8, 16, 32):
        raise _err(path, f"time_signature must look like 4/4 or 7/8, not {v!r}", line)
    return int(m.group(1)), int(m.group(2))


def _levels(d: Any, path: Path) -> Levels:
    if not isinstance(d, dict):
        raise _err(path, "[levels] must be a table")
    outs: dict[int, float] = {}
    for k, v in (d.get("outputs") or {}).items():
        if not str(k).isdigit():
            raise _err(path, f"[levels.outputs] key must be an output number, not {k!r}")
        outs[int(k)] = _num(v, f"level of output {k}", path, None, -120, 24)
    songs: dict[str, dict[str, float]] = {}
    for title, stems in (d.get("songs") or {}).items():
        if not isinstance(stems, dict):
            raise _err(path, f"[levels.songs.{title!r}] must be a table of stem = dB")
        songs[str(title)] = {
            str(s): _num(v, f"level of {title}/{s}", path, None, -120, 24) for s, v in stems.items()
        }
    return Levels(outs, songs)


def parse_setlist(text: str, path: str | Path) -> Setlist:
    """Parse setlist TOML ``text`` (``path``: where it lives; relative paths resolve from its folder).

    Raises :class:`~backline.errors.LiveError` with ``file:line`` for any mistake.
    """
    p = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _err(p, f"not valid TOML: {exc}") from None
    _unknown(data, _TOP_KEYS, "the setlist", p, None)
    head = data.get("setlist", {})
    _unknown(head, _SETLIST_KEYS, "[setlist]", p, None)
    base = _between(head, Between(), p, None)
    sr = _int(head.get("sample_rate", 48000), "sample_rate", p, None, 8000, 192000)
    base_count = head.get("count_in_bars")
    if base_count is not None:
        _int(base_count, "count_in_bars", p, None, 0, 8)
    outs = data.get("outputs", {})
    _unknown(outs, _OUTPUT_KEYS, "[outputs]", p, None)
    count = _int(outs.get("count", 4), "outputs.count", p, None, 1, 256)

    def chans(v: Any, what: str) -> tuple[int, ...]:
        if not isinstance(v, list) or not v:
            raise _err(p, f"{what} must be a list of output numbers like [1, 2]")
        return tuple(_int(x, what, p, None, 1, count) for x in v)

    names = {int(k): str(v) for k, v in (outs.get("names") or {}).items() if str(k).isdigit()}
    outputs = OutputsSpec(
        count=count,
        foh=chans(outs.get("foh", [1, 2]), "outputs.foh"),
        in_ear=chans(outs.get("in_ear", [3, 4] if count >= 4 else [count]), "outputs.in_ear"),
        names=names,
        allow_click_to_foh=bool(outs.get("allow_click_to_foh", False)),
    )
    folder = p.parent
    cache = Path(head.get("cache", ".backline-cache"))
    raw_songs = data.get("songs", [])
    if not isinstance(raw_songs, list) or not raw_songs:
        raise _err(p, "the setlist has no songs: add [[songs]] tables")
    lines = _song_lines(text)
    songs: list[SongSpec] = []
    titles: set[str] = set()
    for i, s in enumerate(raw_songs):
        line = lines[i] if i < len(lines) else None
        _unknown(s, _SONG_KEYS, f"song {i + 1}", p, line)

        def path_of(k: str, s: Mapping[str, Any] = s) -> Path | None:
            v = s.get(k)
            return None if v is None else (folder / str(v))

        sources = [k for k in ("chart", "audio", "stems") if k in s]
        if len(sources) != 1:
            raise _err(
                p,
                f"song {i + 1}: give exactly one of chart, audio or stems (found {sources or 'none'})",
                line,
            )
        title = str(s.get("title") or Path(str(s[sources[0]])).stem)
        if title in titles:
            raise _err(p, f"song {i + 1}: title {title!r} is used twice; titles name songs in [levels]", line)
        titles.add(title)
        stops = []
        for st in s.get("stops", []):
            if not isinstance(st, dict) or "at" not in st:
                raise _err(p, f'song {title!r}: each stop needs at = "bar N" or "section NAME"', line)
            mode = st.get("mode", "wait")
            if mode not in STOP_MODES:
                raise _err(p, f"song {title!r}: stop mode must be wait or vamp, not {mode!r}", line)
            stops.append(StopSpec(str(st["at"]), mode))
        mix = {
            str(k): _num(v, f"mix level of {k}", p, line, -120, 24) for k, v in (s.get("mix") or {}).items()
        }
        prog = s.get("program")
        count_in = s.get("count_in_bars", base_count)
        songs.append(
            SongSpec(
                index=i,
                title=title,
                line=line,
                chart=path_of("chart"),
                song=None if s.get("song") is None else str(s["song"]),
                audio=path_of("audio"),
                stems=path_of("stems"),
                click=path_of("click"),
                cues=path_of("cues"),
                markers=path_of("markers"),
                style=s.get("style"),
                key=None if s.get("key") is None else str(s["key"]),
                tempo=None if s.get("tempo") is None else _num(s["tempo"], "tempo", p, line, 10, 400),
                seed=_int(s.get("seed", 0), "seed", p, line, 0, 2**31),
                intro=bool(s.get("intro", True)),
                ending=bool(s.get("ending", True)),
                time_signature=_time_signature(s.get("time_signature", "4/4"), p, line),
                first_downbeat=_num(s.get("first_downbeat", 0.0), "first_downbeat", p, line, 0, 3600),
                program=None if prog is None else _int(prog, "program", p, line, 0, 127),
                count_in_bars=None if count_in is None else _int(count_in, "count_in_bars", p, line, 0, 8),
                between=_between(s, base, p, line),
                stops=tuple(stops),
                mix=mix,
                routing=dict(s.get("routing") or {}),
                click_sound=str(s.get("click_sound", "classic")),
            )
        )
    levels = _levels(data.get("levels", {}), p)
    known_titles = {s.title for s in songs}
    stray = sorted(set(levels.songs) - known_titles)
    if stray:
        raise _err(p, f"[levels.songs] names unknown song(s) {', '.join(map(repr, stray))}")
    # sound-check levels win over the songs' own mix tables
    songs = [replace(s, mix={**s.mix, **levels.songs.get(s.title, {})}) for s in songs]
    return Setlist(
        path=p,
        title=str(head.get("title", p.stem)),
        songs=tuple(songs),
        outputs=outputs,
        routing=dict(data.get("routing") or {}),
        sample_rate=sr,
        cache=cache if cache.is_absolute() else folder / cache,
        pad_level_db=_num(head.get("pad_level_db", -18.0), "pad_level_db", p, None, -60, 0),
        levels=levels,
        midi=parse_midi_config(data.get("midi"), str(Location(str(p), _table_line(text, "midi")))),
    )


def _table_line(text: str, name: str) -> int | None:
    """Line of the first ``[name]`` or ``[name.x]`` header (for messages)."""
    for i, ln in enumerate(text.splitlines()):
        if re.match(rf"\s*\[\s*{re.escape(name)}\s*[\].]", ln):
            return i + 1
    return None


def load_setlist(path: str | Path) -> Setlist:
    """Read and parse a setlist file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LiveError(f"{p}: no such setlist file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LiveError(f"{p}: cannot read the setlist ({exc})") from None
    return parse_setlist(text, p)


def _toml_key(k: str) -> str:
    return (
        k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'
    )


def render_levels_block(levels: Levels) -> str:
    """The ``[levels]`` block as TOML text between the marker comments."""
    out = [LEVELS_BEGIN, "[levels.outputs]"]
    out += [f'"{k}" = {round(v, 2)}' for k, v in sorted(levels.outputs.items())]
    for title, stems in levels.songs.items():
        out.append(f"[levels.songs.{_toml_key(title)}]")
        out += [f"{_toml_key(s)} = {round(v, 2)}" for s, v in sorted(stems.items())]
    out.append(LEVELS_END)
    return "\n".join(out) + "\n"


def save_levels(path: str | Path, levels: Levels) -> Path:
    """Write ``levels`` into the setlist file at ``path`` (atomically).

    The block between the marker comments is replaced (or appended); the rest of the
    file is kept byte for byte. A hand-written ``[levels]`` table outside the markers
    is an error (it would be defined twice).
    """
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    start, end = text.find(LEVELS_BEGIN), text.find(LEVELS_END)
    if start >= 0 and end > start:
        rest = text[:start] + text[end + len(LEVELS_END) :].lstrip("\n")
    else:
        rest = text
    if re.search(r"^\s*\[\s*levels[\].]", rest, re.M):
        raise LiveError(
            f"{p}: has its own [levels] table; remove it so backline can save the sound-check levels"
        )
    new = rest.rstrip("\n") + "\n\n" + render_levels_block(levels)
    parse_setlist(new, p)  # never write a file we cannot read back
    return write_text_atomic(p, new)
