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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backline.errors import LiveError, Location
from backline.live.levels import check_level_db
from backline.live.midi_control import MidiConfig, parse_midi_config
from backline.model.checks import MAX_COUNT_IN_BARS
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
    "click_stem",
    "cues_stem",
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
    #: stems-folder files that are the click / the cues whatever their names (file names)
    click_stem: tuple[str, ...] = ()
    cues_stem: tuple[str, ...] = ()
    markers: Path | None = None
    style: str | None = None
    key: str | None = None
    tempo: float | None = None
    seed: int = 0
    intro: bool | None = None  # None: the style's intro unless the chart opens with its own
    ending: bool | None = None  # None: the style's ending unless the chart ends with its own
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

    def describe(self, n: int) -> str:
        """Output ``n`` for messages: ``3 (in-ear, "IEM L")``, ``1 (front of house)``, ``5``."""
        what = [r for r, chans in (("front of house", self.foh), ("in-ear", self.in_ear)) if n in chans]
        if n in self.names:
            what.append(f'"{self.names[n]}"')
        return f"{n} ({', '.join(what)})" if what else str(n)


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


def _level(v: Any, what: str, path: Path, line: int | None) -> float:
    """A level in dB (``mix``, ``[levels]``): at most +12 dB, ``-inf`` mutes (see
    :func:`~backline.live.levels.check_level_db`)."""
    try:
        return check_level_db(v, what)
    except LiveError as exc:
        raise _err(path, str(exc), line) from None


def _int(v: Any, what: str, path: Path, line: int | None, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _err(path, f"{what} must be a whole number, not {v!r}", line)
    if not lo <= v <= hi:
        raise _err(path, f"{what} {v} is outside {lo}..{hi}", line)
    return v


def _between(d: Mapping[str, Any], base: Between, path: Path, at: Callable[[str], int | None]) -> Between:
    """``at(key)``: the line of a key (for messages)."""
    mode = d.get("between", base.mode)
    if mode not in BETWEEN_MODES:
        raise _err(path, f"between must be one of {', '.join(BETWEEN_MODES)}, not {mode!r}", at("between"))
    gap = _num(d.get("gap_seconds", base.gap_seconds), "gap_seconds", path, at("gap_seconds"), 0, 3600)
    pad = _num(d.get("pad_seconds", base.pad_seconds), "pad_seconds", path, at("pad_seconds"), 0.01, 60)
    return Between(mode, gap, pad)


def _unknown(
    d: Mapping[str, Any],
    known: set[str],
    where: str,
    path: Path,
    line: int | None,
    lines: _Lines | None = None,
) -> None:
    """Unknown keys are errors (at the line of the first one, when ``lines`` finds it)."""
    bad = sorted(set(d) - known)
    if bad:
        at = (lines.key(line, bad[0]) if lines is not None else None) or line
        raise _err(path, f"unknown key(s) {', '.join(bad)} in {where}; known: {', '.join(sorted(known))}", at)


def _time_signature(v: Any, path: Path, line: int | None) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(v))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) not in (1, 2, 4, 8, 16, 32):
        raise _err(path, f"time_signature must look like 4/4 or 7/8, not {v!r}", line)
    return int(m.group(1)), int(m.group(2))


class _Lines:
    """Where tables and keys are in the setlist text, for ``file:line`` messages.

    TOML parsers give values, not positions: the lines are found by scanning for the
    table headers (``[setlist]``, ``[[songs]]``) and for ``key =`` inside a table.
    """

    _HEADER = re.compile(r"\s*\[")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, name: str) -> int | None:
        """Line of the first ``[name]`` or ``[name.x]`` header."""
        return self._first(re.compile(rf"\s*\[\s*{re.escape(name)}\s*[\].]"))

    def table(self, name: str) -> int | None:
        """Line of the ``[name]`` header (or the first ``[name.x]``; or ``name =`` at the top)."""
        return self.header(name) or self.key(None, name)

    def song_levels(self, title: str) -> int | None:
        """Line of the ``[levels.songs."TITLE"]`` header."""
        quoted = (re.escape(title), re.escape(_toml_key(title)), re.escape(f"'{title}'"))
        return self._first(re.compile(rf"\s*\[\s*levels\s*\.\s*songs\s*\.\s*(?:{'|'.join(quoted)})\s*\]"))

    def _first(self, pat: re.Pattern[str]) -> int | None:
        return next((i + 1 for i, ln in enumerate(self.lines) if pat.match(ln)), None)

    def key(self, table: int | None, key: str) -> int | None:
        """Line of ``key = ...`` in the table whose header is on line ``table`` (None: the
        top level, before any header); None when it is not found."""
        pat = re.compile(rf"""\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[=.]""")
        for i in range(table or 0, len(self.lines)):  # from the line after the header
            if self._HEADER.match(self.lines[i]):
                return None  # the next table
            if pat.match(self.lines[i]):
                return i + 1
        return None

    def at(self, table: int | None, key: str) -> int | None:
        """The line of ``key`` in the table, else the table's header line."""
        return self.key(table, key) or table


def _table(v: Any, what: str, example: str, path: Path, line: int | None) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _err(path, f"{what} must be a table like {example}, not {v!r}", line)
    return v


def _str(v: Any, what: str, path: Path, line: int | None) -> str:
    if not isinstance(v, str):
        raise _err(path, f'{what} must be text in quotes ("..."), not {v!r}', line)
    return v


def _title(v: Any, path: Path, line: int | None) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)  # title = 1999
    return _str(v, "title", path, line)


def _bool(v: Any, what: str, path: Path, line: int | None) -> bool:
    if not isinstance(v, bool):
        raise _err(path, f"{what} must be true or false, not {v!r}", line)
    return v


def _click_sound(v: Any, path: Path, line: int | None) -> str:
    from backline.render.click import CLICK_SOUNDS

    if v not in CLICK_SOUNDS:
        raise _err(path, f"unknown click_sound {v!r}; click sounds: {', '.join(CLICK_SOUNDS)}", line)
    return str(v)


def _levels(d: Any, path: Path, where: _Lines) -> Levels:
    line = where.table("levels")
    if not isinstance(d, dict):
        raise _err(path, "[levels] must be a table", line)
    _unknown(d, {"outputs", "songs"}, "[levels]", path, line, where)
    outs: dict[int, float] = {}
    out_line = where.table("levels.outputs") or line
    raw_outs = _table(d.get("outputs") or {}, "[levels.outputs]", '{ "3" = -3.0 }', path, out_line)
    for k, v in raw_outs.items():
        if not str(k).isdigit():
            raise _err(path, f"[levels.outputs] key must be an output number, not {k!r}", out_line)
        outs[int(k)] = _level(v, f"level of output {k}", path, where.at(out_line, str(k)))
    songs: dict[str, dict[str, float]] = {}
    songs_line = where.table("levels.songs") or line
    raw_songs = _table(
        d.get("songs") or {}, "[levels.songs]", '{ "Title" = { bass = -3 } }', path, songs_line
    )
    for title, stems in raw_songs.items():
        t_line = where.song_levels(str(title)) or songs_line
        if not isinstance(stems, dict):
            raise _err(path, f"[levels.songs.{title!r}] must be a table of stem = dB", t_line)
        songs[str(title)] = {
            str(s): _level(v, f"level of {title}/{s}", path, where.at(t_line, str(s)))
            for s, v in stems.items()
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
    where = _Lines(text)
    _unknown(data, _TOP_KEYS, "the setlist", p, None, where)
    h_line = where.table("setlist")
    head = _table(data.get("setlist", {}), "[setlist]", '{ title = "Friday" }', p, h_line)
    _unknown(head, _SETLIST_KEYS, "[setlist]", p, h_line, where)

    def hl(k: str) -> int | None:
        return where.at(h_line, k)

    base = _between(head, Between(), p, hl)
    sr = _int(head.get("sample_rate", 48000), "sample_rate", p, hl("sample_rate"), 8000, 192000)
    base_count = head.get("count_in_bars")
    if base_count is not None:
        _int(base_count, "count_in_bars", p, hl("count_in_bars"), 0, MAX_COUNT_IN_BARS)
    o_line = where.table("outputs")
    outs = _table(data.get("outputs", {}), "[outputs]", "{ count = 4 }", p, o_line)
    _unknown(outs, _OUTPUT_KEYS, "[outputs]", p, o_line, where)

    def ol(k: str) -> int | None:
        return where.at(o_line, k)

    count = _int(outs.get("count", 4), "outputs.count", p, ol("count"), 1, 256)

    def chans(v: Any, what: str) -> tuple[int, ...]:
        line = ol(what.removeprefix("outputs."))
        if not isinstance(v, list) or not v:
            raise _err(p, f"{what} must be a list of output numbers like [1, 2]", line)
        return tuple(_int(x, what, p, line, 1, count) for x in v)

    names: dict[int, str] = {}
    raw_names = _table(outs.get("names") or {}, "outputs.names", '{ 1 = "FOH L" }', p, ol("names"))
    for k, v in raw_names.items():
        if not str(k).isdigit() or not 1 <= int(k) <= count:
            raise _err(p, f"outputs.names: {k!r} is not an output number (1..{count})", ol("names"))
        names[int(k)] = _str(v, f"outputs.names {k}", p, ol("names"))
    outputs = OutputsSpec(
        count=count,
        foh=chans(outs.get("foh", [1, 2]), "outputs.foh"),
        in_ear=chans(outs.get("in_ear", [3, 4] if count >= 4 else [count]), "outputs.in_ear"),
        names=names,
        allow_click_to_foh=_bool(
            outs.get("allow_click_to_foh", False), "allow_click_to_foh", p, ol("allow_click_to_foh")
        ),
    )
    folder = p.parent
    cache = Path(_str(head.get("cache", ".backline-cache"), "cache", p, hl("cache")))
    routing = _table(data.get("routing") or {}, "[routing]", "{ music = [1, 2] }", p, where.table("routing"))
    raw_songs = data.get("songs", [])
    if not isinstance(raw_songs, list) or not raw_songs:
        raise _err(p, "the setlist has no songs: add [[songs]] tables", where.table("songs"))
    lines = _song_lines(text)
    songs: list[SongSpec] = []
    titles: set[str] = set()
    for i, s in enumerate(raw_songs):
        line = lines[i] if i < len(lines) else where.table("songs")
        s = _table(s, f"song {i + 1}", '[[songs]] with title = "..."', p, line)
        _unknown(s, _SONG_KEYS, f"song {i + 1}", p, line, where)

        def kl(k: str, line: int | None = line) -> int | None:
            return where.at(line, k)

        def path_of(k: str, s: Mapping[str, Any] = s) -> Path | None:
            v = s.get(k)
            return None if v is None else (folder / _str(v, k, p, kl(k)))

        def text_of(k: str, s: Mapping[str, Any] = s) -> str | None:
            v = s.get(k)
            return None if v is None else _str(v, k, p, kl(k))

        sources = [k for k in ("chart", "audio", "stems") if k in s]
        if len(sources) != 1:
            raise _err(
                p,
                f"song {i + 1}: give exactly one of chart, audio or stems (found {sources or 'none'})",
                line,
            )
        raw_title = s.get("title")
        title = (None if raw_title is None else _title(raw_title, p, kl("title"))) or Path(
            _str(s[sources[0]], sources[0], p, kl(sources[0]))
        ).stem
        if title in titles:
            raise _err(p, f"song {i + 1}: title {title!r} is used twice; titles name songs in [levels]", line)
        titles.add(title)
        stops = []
        raw_stops = s.get("stops", [])
        if not isinstance(raw_stops, list):
            raise _err(
                p,
                f'song {title!r}: stops must be a list like [{{ at = "bar 9" }}], not {raw_stops!r}',
                kl("stops"),
            )
        for st in raw_stops:
            if not isinstance(st, dict) or "at" not in st:
                raise _err(p, f'song {title!r}: each stop needs at = "bar N" or "section NAME"', kl("stops"))
            mode = st.get("mode", "wait")
            if mode not in STOP_MODES:
                raise _err(p, f"song {title!r}: stop mode must be wait or vamp, not {mode!r}", kl("stops"))
            stops.append(StopSpec(str(st["at"]), mode))
        named: dict[str, tuple[str, ...]] = {}
        for k in ("click_stem", "cues_stem"):
            v = s.get(k)
            if v is None:
                named[k] = ()
                continue
            if "stems" not in s:
                raise _err(p, f"song {title!r}: {k} names a file of a stems folder: give stems = ...", kl(k))
            items = v if isinstance(v, list) else [v]
            named[k] = tuple(_str(x, k, p, kl(k)) for x in items)
        raw_mix = _table(s.get("mix") or {}, f"song {title!r}: mix", "{ bass = -3.0 }", p, kl("mix"))
        mix = {str(k): _level(v, f"mix level of {k}", p, kl("mix")) for k, v in raw_mix.items()}
        song_routing = _table(
            s.get("routing") or {}, f"song {title!r}: routing", "{ bass = [1, 2] }", p, kl("routing")
        )
        prog = s.get("program")
        count_in = s.get("count_in_bars", base_count)
        song_no = s.get("song")
        songs.append(
            SongSpec(
                index=i,
                title=title,
                line=line,
                chart=path_of("chart"),
                song=None if song_no is None else str(song_no),
                audio=path_of("audio"),
                stems=path_of("stems"),
                click=path_of("click"),
                cues=path_of("cues"),
                click_stem=named["click_stem"],
                cues_stem=named["cues_stem"],
                markers=path_of("markers"),
                style=text_of("style"),
                key=None if s.get("key") is None else str(s["key"]),
                tempo=None if s.get("tempo") is None else _num(s["tempo"], "tempo", p, kl("tempo"), 10, 400),
                seed=_int(s.get("seed", 0), "seed", p, kl("seed"), 0, 2**31),
                intro=None if s.get("intro") is None else _bool(s["intro"], "intro", p, kl("intro")),
                ending=None if s.get("ending") is None else _bool(s["ending"], "ending", p, kl("ending")),
                time_signature=_time_signature(s.get("time_signature", "4/4"), p, kl("time_signature")),
                first_downbeat=_num(
                    s.get("first_downbeat", 0.0), "first_downbeat", p, kl("first_downbeat"), 0, 3600
                ),
                program=None if prog is None else _int(prog, "program", p, kl("program"), 0, 127),
                count_in_bars=None
                if count_in is None
                else _int(count_in, "count_in_bars", p, kl("count_in_bars"), 0, MAX_COUNT_IN_BARS),
                between=_between(s, base, p, kl),
                stops=tuple(stops),
                mix=mix,
                routing=dict(song_routing),
                click_sound=_click_sound(s.get("click_sound", "classic"), p, kl("click_sound")),
            )
        )
    levels = _levels(data.get("levels", {}), p, where)
    known_titles = {s.title for s in songs}
    stray = sorted(set(levels.songs) - known_titles)
    if stray:
        raise _err(
            p,
            f"[levels.songs] names unknown song(s) {', '.join(map(repr, stray))}; songs: "
            + ", ".join(map(repr, (s.title for s in songs))),
            where.song_levels(stray[0]) or where.table("levels"),
        )
    # sound-check levels win over the songs' own mix tables
    songs = [replace(s, mix={**s.mix, **levels.songs.get(s.title, {})}) for s in songs]
    return Setlist(
        path=p,
        title=_title(head.get("title", p.stem), p, hl("title")),
        songs=tuple(songs),
        outputs=outputs,
        routing=dict(routing),
        sample_rate=sr,
        cache=cache if cache.is_absolute() else folder / cache,
        pad_level_db=_num(head.get("pad_level_db", -18.0), "pad_level_db", p, hl("pad_level_db"), -60, 0),
        levels=levels,
        midi=parse_midi_config(data.get("midi"), str(Location(str(p), where.header("midi")))),
    )


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
    out = [LEVELS_BEGIN]
    if levels.outputs:  # no empty tables: only what the sound check set
        out.append("[levels.outputs]")
        out += [f'"{k}" = {round(v, 2)}' for k, v in sorted(levels.outputs.items())]
    for title, stems in levels.songs.items():
        if not stems:
            continue
        out.append(f"[levels.songs.{_toml_key(title)}]")
        out += [f"{_toml_key(s)} = {round(v, 2)}" for s, v in sorted(stems.items())]
    out.append(LEVELS_END)
    return "\n".join(out) + "\n"


def save_levels(path: str | Path, levels: Levels) -> Path:
    """Write ``levels`` into the setlist file at ``path`` (atomically).

    The block between the marker comments is replaced (or appended); the rest of the
    file is kept byte for byte. A hand-written ``[levels]`` table outside the markers
    is an error (it would be defined twice). Raises :class:`LiveError` when the file
    cannot be read (moved, a stick remounted) and
    :class:`~backline.errors.OutputError` when it cannot be written.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LiveError(f"{p}: cannot read the setlist to save the levels ({exc})") from None
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
