"""The routing matrix: sources (each stem, the music bus, click, cues, count-in, pad) -> outputs.

A song's sources are laid out as *rows* (one per channel: a stereo stem is two rows);
the engine mixes ``out[outputs, n] = gains[outputs, rows] @ sources[rows, n]``.

Routing is written per source name as a list of 1-based outputs (``click = [3, 4]``)
or a table of output -> dB (``click = { "3" = 0.0, "4" = -6.0 }``; at most +12 dB,
``-inf`` silent, as every level: :func:`~backline.live.levels.check_level_db`); ``[]`` routes
nowhere. Names: each stem, ``music`` (every stem without its own route), ``click``
(the click file and the engine's count-in), ``cues``, ``pad``. Defaults: music and
pad to front of house, click and cues to the in-ear outputs. A stereo source on two
outputs goes left -> first, right -> second (and on in pairs for more); on one output
it is folded to mono (each side at half gain).

Safety: the click, the count-in and the cues never reach a front-of-house output
unless the setlist sets ``[outputs] allow_click_to_foh = true``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from backline.errors import LiveError
from backline.live.levels import MAX_TOTAL_GAIN_DB, check_level_db

if TYPE_CHECKING:
    from backline.live.setlist import Setlist
    from backline.live.show import PreparedSong, Source

__all__ = [
    "Routing",
    "MixLevels",
    "build_routing",
    "routing_problems",
    "effective_gains",
    "RESERVED_SOURCES",
    "IN_EAR_ONLY",
    "MAX_GAIN",
    "capped_gains",
]

#: :data:`~backline.live.levels.MAX_TOTAL_GAIN_DB` as a linear gain.
MAX_GAIN = float(10 ** (MAX_TOTAL_GAIN_DB / 20))

RESERVED_SOURCES = ("music", "click", "cues", "pad")
IN_EAR_ONLY = ("click", "cues", "count-in")


@dataclass(frozen=True)
class Routing:
    """The rows of a song (``row_names``, e.g. ``bass.L``), the source each row belongs
    to, and the routed gains ``base[outputs, rows]`` (linear, before levels)."""

    row_names: tuple[str, ...]
    row_source: tuple[str, ...]
    row_kind: tuple[str, ...]  # stem | click | cues | count-in | pad
    base: np.ndarray
    n_outputs: int
    foh: tuple[int, ...]
    in_ear: tuple[int, ...]

    @property
    def n_rows(self) -> int:
        return len(self.row_names)

    def rows_of(self, source: str) -> list[int]:
        return [i for i, s in enumerate(self.row_source) if s == source]

    def rows_of_kind(self, kind: str) -> list[int]:
        """Rows of one kind (``pad`` is the between-song pad, even when a stem is called "pad")."""
        return [i for i, k in enumerate(self.row_kind) if k == kind]


def _targets(value: Any, n_out: int, what: str) -> list[tuple[int, float]]:
    """(0-based output, linear gain) pairs from a list or an output -> dB table."""
    if value in ("off", "none") or value == []:
        return []
    pairs: list[tuple[int, float]] = []
    if isinstance(value, list):
        items: list[tuple[Any, Any]] = [(v, 0.0) for v in value]
    elif isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)
    else:
        raise LiveError(
            f"routing of {what} must be a list of outputs like [1, 2] or a table of output = dB, not {value!r}"
        )
    for out, db in items:
        if isinstance(out, bool) or not str(out).isdigit() or not 1 <= int(out) <= n_out:
            raise LiveError(f"routing of {what}: output {out!r} does not exist (outputs are 1..{n_out})")
        gain = check_level_db(db, f"routing of {what}: the gain for output {out}")
        pairs.append((int(out) - 1, float(10 ** (gain / 20))))
    return pairs


def build_routing(setlist: Setlist, song: PreparedSong) -> Routing:
    """The routing of ``song``: setlist defaults, the setlist's ``[routing]``, then the
    song's own ``routing`` table. Raises :class:`LiveError` for unknown sources or
    outputs and for a click/cue route to front of house that was not allowed (every
    such problem of the song, one per line)."""
    problems: list[str] = []
    routing = _routing(setlist, song.title, song.spec.routing, song.sources, problems)
    if problems:
        raise LiveError("\n".join(f"song {song.title!r}: {p}" for p in problems))
    return routing


def routing_problems(
    setlist: Setlist, title: str, song_routing: Mapping[str, Any], sources: Sequence[Source]
) -> list[str]:
    """Every routing problem of a song (``build_routing`` stops at none of them)."""
    problems: list[str] = []
    _routing(setlist, title, song_routing, sources, problems)
    return problems


def _routing(
    setlist: Setlist,
    title: str,
    song_routing: Mapping[str, Any],
    sources: Sequence[Source],
    problems: list[str],
) -> Routing:
    """Build the routing; each problem is appended to ``problems`` (once) and the route
    it is in is left out, so that every problem of the song is found in one go."""

    def fail(msg: str) -> None:
        if msg not in problems:
            problems.append(msg)

    o = setlist.outputs
    rows: list[str] = []
    row_src: list[str] = []
    kinds: list[str] = []
    for s in sources:
        for ch in range(s.channels):
            rows.append(s.name if s.channels == 1 else f"{s.name}.{'LR'[ch]}")
            row_src.append(s.name)
            kinds.append(s.kind)
    rows += ["count-in", "pad.L", "pad.R"]
    row_src += ["count-in", "pad", "pad"]
    kinds += ["count-in", "pad", "pad"]
    stems = [s.name for s in sources if s.kind == "stem"]
    known = set(stems) | set(RESERVED_SOURCES)
    names = ", ".join(dict.fromkeys([*stems, *RESERVED_SOURCES]))
    routes: dict[str, Any] = {
        "music": list(o.foh),
        "click": list(o.in_ear),
        "cues": list(o.in_ear),
    }
    for where, table in (
        ("the setlist's [routing]", setlist.routing),
        ("the song's", song_routing),
    ):
        for name, value in table.items():
            if name not in known and where == "the song's":
                fail(f"routing names unknown source {name!r}; sources: {names}")
            if name not in known:
                continue  # a setlist-wide route for a stem this song does not have
            routes[name] = value
    routes.setdefault("pad", routes["music"])
    n_out = o.count
    base = np.zeros((n_out, len(rows)), dtype=np.float32)
    foh0 = {c - 1 for c in o.foh}
    for r, (src, kind) in enumerate(zip(row_src, kinds, strict=True)):
        key = (
            "click"
            if kind == "count-in"
            else (src if src in routes else ("music" if kind == "stem" else src))
        )
        if key not in routes:
            continue
        try:
            targets = _targets(routes[key], n_out, key)
        except LiveError as exc:
            fail(str(exc))
            continue
        if kind in IN_EAR_ONLY and not o.allow_click_to_foh:
            bad = sorted(t + 1 for t, _ in targets if t in foh0)
            if bad:
                fail(
                    f"{key} is routed to front-of-house output(s) {bad}; the audience must not "
                    "hear it (set [outputs] allow_click_to_foh = true if you really mean it)"
                )
                continue
        stereo = rows[r].endswith((".L", ".R"))
        side = 0 if rows[r].endswith(".L") else 1
        for k, (out, g) in enumerate(targets):
            if not stereo:
                base[out, r] += g
            elif len(targets) == 1:
                base[out, r] += 0.5 * g
            elif k % 2 == side:
                base[out, r] += g
    return Routing(tuple(rows), tuple(row_src), tuple(kinds), base, n_out, o.foh, o.in_ear)


@dataclass(frozen=True)
class MixLevels:
    """Live levels (immutable: a change makes a new one). dB per source name and per
    output (0-based); mutes; solos (stems only: a solo silences the other stems)."""

    source_db: Mapping[str, float]
    output_db: Mapping[int, float]
    muted: frozenset[str] = frozenset()
    soloed: frozenset[str] = frozenset()
    muted_outputs: frozenset[int] = frozenset()


def effective_gains(routing: Routing, levels: MixLevels, out: np.ndarray | None = None) -> np.ndarray:
    """``routing.base`` with source levels, mutes, solos and output levels applied; the
    combined gain of each source on each output (level x route x output level; the two
    sides of a stereo source folded to one output count together) capped at
    :data:`MAX_GAIN` (+12 dB)."""
    g = _uncapped(routing, levels, out)
    for rows in _source_rows(routing).values():
        total = g[:, rows].sum(axis=1)
        over = total > np.float32(MAX_GAIN)
        if over.any():
            scale = np.where(over, np.float32(MAX_GAIN) / np.maximum(total, np.float32(1e-30)), 1.0)
            g[:, rows] *= scale.astype(np.float32)[:, None]
    return g


def _source_rows(routing: Routing) -> dict[str, list[int]]:
    """Rows per source as the levels name them (the count-in is the click's)."""
    rows: dict[str, list[int]] = {}
    for r, (src, kind) in enumerate(zip(routing.row_source, routing.row_kind, strict=True)):
        rows.setdefault("click" if kind == "count-in" else f"{kind}:{src}", []).append(r)
    return rows


def capped_gains(routing: Routing, levels: MixLevels) -> list[tuple[str, int, float]]:
    """(source, 1-based output, wanted dB) for every source whose combined gain on an output
    (level x route x output level) is above +12 dB and so is capped by :func:`effective_gains`."""
    g = _uncapped(routing, levels, None)
    found: dict[tuple[str, int], float] = {}  # the click file and the count-in share a name
    for key, rows in _source_rows(routing).items():
        total = g[:, rows].sum(axis=1)
        for o in np.nonzero(total > np.float32(MAX_GAIN * 1.0001))[0]:
            k = (key.partition(":")[2] or key, int(o) + 1)
            found[k] = max(found.get(k, -math.inf), 20 * math.log10(float(total[o])))
    return [(s, o, db) for (s, o), db in found.items()]


def _uncapped(routing: Routing, levels: MixLevels, out: np.ndarray | None) -> np.ndarray:
    g = np.array(routing.base, dtype=np.float32, copy=True) if out is None else out
    if out is not None:
        np.copyto(g, routing.base)
    for r, (src, kind) in enumerate(zip(routing.row_source, routing.row_kind, strict=True)):
        name = "click" if kind == "count-in" else src
        lin = 10 ** (levels.source_db.get(name, 0.0) / 20)
        if name in levels.muted or (kind == "stem" and levels.soloed and src not in levels.soloed):
            lin = 0.0
        g[:, r] *= np.float32(lin)
    for o in range(routing.n_outputs):
        lin = 0.0 if o in levels.muted_outputs else 10 ** (levels.output_db.get(o, 0.0) / 20)
        g[o, :] *= np.float32(lin)
    return g
