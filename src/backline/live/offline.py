"""The offline driver: the same engine, block by block, against a scripted list of events.

An event script is a list of events, each ``at`` a trigger and an ``action``:

- ``at``: seconds of output time (``12.5``, ``"12.5s"``, ``"1:02.5"``), ``"bar N"``
  (when the playhead reaches the start of bar N of the current song, or of song
  ``song = K``), or ``"waiting"`` (when the engine stops or waits for go);
  ``after = S`` delays the action S seconds after its trigger; ``times = K`` (bar
  triggers) waits for the K-th arrival at that bar after the previous event fired
  (``{at = "bar 4", times = 3, action = "release"}`` releases a vamp in its third pass);
- ``action``: a transport action (``play``, ``jump Chorus next bar``, ``vamp``,
  ``release``, ``go``, ``fade 4`` ... see :func:`~backline.live.commands.parse_action`),
  ``level SOURCE DB``, ``mute SOURCE``, ``unmute SOURCE``, ``solo SOURCE``,
  ``unsolo SOURCE``, ``output N DB`` (levels at most +12 dB, ``-inf`` mutes; read by
  :func:`~backline.live.commands.parse_control_line`, as the ``--plain`` prompt), or
  ``end`` (stop the render).

Events fire in the order written (each waits for the one before it). Files:
JSON (a list, or ``{"events": [...]}``), JSON lines (``.jsonl``), TOML
(``[[events]]``), YAML (when PyYAML is installed), or text lines ``AT: ACTION``
(``bar 5: vamp``; a ``#`` at the start of a line or after a space begins a comment,
except ``#N`` after a section name: ``jump Chorus #2  # the second chorus``).

The render starts with ``play`` (unless ``autoplay=False``) and ends when every
event has fired and the engine is stopped, or at ``max_seconds``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backline.errors import DependencyMissingError, LiveError, Location
from backline.live.commands import Command, parse_control_line
from backline.live.engine import Engine, State
from backline.live.levels import LevelChange
from backline.live.markers import parse_time
from backline.live.notices import NoticeReader, error_messages

__all__ = [
    "MAX_RENDER_SECONDS",
    "Event",
    "RenderResult",
    "check_max_seconds",
    "load_events",
    "parse_events",
    "run_offline",
    "render_offline",
]

#: A ``#`` that begins a comment in a text script: at the start of the line or after a
#: space, and not the occurrence number of a section (``Chorus #2``, ``Chorus #2 now``).
_COMMENT = re.compile(r"(?:^|\s)#(?!\d+(?:\s|$)).*$")


@dataclass(frozen=True)
class Event:
    """One scripted event (see the module docstring)."""

    kind: str  # "time" | "bar" | "waiting"
    value: float  # seconds for "time", bar number for "bar"
    action: str
    song: int | None = None
    after: float = 0.0
    when: str | None = None
    where: str = ""
    times: int = 1

    def parsed(self) -> Command | LevelChange | str:
        """The action: a transport :class:`Command`, a :class:`LevelChange`, or ``"end"``.
        Raises LiveError (without the event's place) when it is not understood."""
        return parse_control_line(self.action, when=self.when, words=("end",))

    def command(self) -> Command | None:
        """The transport command, or None for level/end actions."""
        p = self.parsed()
        return p if isinstance(p, Command) else None


def _event(d: Any, where: str) -> Event:
    if not isinstance(d, dict) or "at" not in d or "action" not in d:
        raise LiveError(f'{where}: an event needs at and action, e.g. {{at: "bar 5", action: "vamp"}}')
    at = d["at"]
    song = d.get("song")
    try:
        after = float(d.get("after", 0.0))
        times = int(d.get("times", 1))
    except (TypeError, ValueError):
        raise LiveError(f"{where}: after must be seconds and times a whole number") from None
    if after < 0 or times < 1:
        raise LiveError(f"{where}: after must be >= 0 and times >= 1")
    if isinstance(at, int | float) and not isinstance(at, bool):
        ev = Event("time", float(at), str(d["action"]), song, after, d.get("when"), where)
    else:
        text = str(at).strip().lower()
        if m := re.fullmatch(r"bar\s+(\d+)", text):
            if int(m.group(1)) < 1:
                raise LiveError(f"{where}: bars count from 1")
            ev = Event("bar", float(m.group(1)), str(d["action"]), song, after, d.get("when"), where, times)
        elif text in ("waiting", "stopped", "wait"):
            ev = Event("waiting", 0.0, str(d["action"]), song, after, d.get("when"), where)
        else:
            try:
                secs = parse_time(text[:-1] if text.endswith("s") else text)
            except ValueError:
                raise LiveError(f"{where}: at {at!r}: write seconds, m:ss, 'bar N' or 'waiting'") from None
            ev = Event("time", secs, str(d["action"]), song, after, d.get("when"), where)
    _validate(ev)
    return ev


def _validate(ev: Event) -> None:
    if not ev.action.split():
        raise LiveError(f"{ev.where}: empty action")
    try:
        ev.parsed()
    except LiveError as exc:
        raise LiveError(f"{ev.where}: {exc}") from None


def parse_events(text: str, source: str = "<events>") -> list[Event]:
    """Parse an event script; the format follows ``source``'s extension (see the module docstring)."""
    ext = Path(source).suffix.lower()
    items: list[tuple[Any, str]] = []
    if ext == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LiveError(
                f"{Location(source, exc.lineno, exc.colno)}: not valid JSON ({exc.msg})"
            ) from None
        data = data.get("events", []) if isinstance(data, dict) else data
        if not isinstance(data, list):
            raise LiveError(f"{source}: expected a list of events")
        items = [(d, f"{source}: event {i + 1}") for i, d in enumerate(data)]
    elif ext == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                try:
                    items.append((json.loads(line), str(Location(source, n))))
                except json.JSONDecodeError as exc:
                    raise LiveError(f"{Location(source, n, exc.colno)}: not valid JSON ({exc.msg})") from None
    elif ext == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LiveError(f"{source}: not valid TOML: {exc}") from None
        items = [(d, f"{source}: event {i + 1}") for i, d in enumerate(data.get("events", []))]
    elif ext in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise DependencyMissingError(
                f"{source}: YAML event scripts need PyYAML (pip install pyyaml); or use .json/.toml/.txt"
            ) from None
        data = yaml.safe_load(text)
        data = data.get("events", []) if isinstance(data, dict) else data
        items = [(d, f"{source}: event {i + 1}") for i, d in enumerate(data or [])]
    else:
        for n, line in enumerate(text.splitlines(), start=1):
            body = _COMMENT.sub("", line).strip()
            if not body:
                continue
            at, sep, action = body.partition(":") if not re.match(r"^\d+:\d", body) else body.rpartition(": ")
            if not sep or not action.strip():
                raise LiveError(f"{Location(source, n)}: expected 'AT: ACTION', e.g. 'bar 5: vamp'")
            d: dict[str, Any] = {"at": at.strip(), "action": action.strip()}
            if re.fullmatch(r"\d+(\.\d*)?", at.strip()):
                d["at"] = float(at)
            items.append((d, str(Location(source, n))))
    return [_event(d, where) for d, where in items]


def load_events(path: str | Path) -> list[Event]:
    """Read an event script file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LiveError(f"{p}: no such event script") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LiveError(f"{p}: cannot read ({exc})") from None
    return parse_events(text, str(p))


@dataclass
class RenderResult:
    """What the offline run did: frames written, events fired (output frame each), notes.

    ``failed``: the fired events the engine could not carry out (output frame, action,
    the engine's message: ``no jump target 'Chorus'``); they are in ``fired`` too."""

    frames: int
    sample_rate: int
    fired: list[tuple[int, str]]
    truncated: bool
    misses: int
    notices: list[Any]
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    events_left: int = 0  # events of the script not fired (the run reached max_seconds first)
    #: one entry per fired event: (output frame, setlist number of the song, bar (1-based;
    #: 0 before the song started), the engine's state, the action, the script line)
    log: list[tuple[int, int, int, str, str, str]] = field(default_factory=list)
    end_state: str = ""  # what the engine was doing when the run ended ("the song was still playing")

    def truncation(self) -> str | None:
        """Why the run stopped at ``max_seconds``, worded by case (None when it did not)."""
        if not self.truncated:
            return None
        at = f"stopped at --max-seconds ({self.seconds:.2f} s)"
        if self.events_left:
            return f"{at} with {self.events_left} event(s) of the script not fired"
        return f"{at}: every event fired, but {self.end_state or 'the song was still playing'}"

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def _fire(engine: Engine, ev: Event) -> bool:
    """Apply one event; False for ``end``."""
    try:
        p = ev.parsed()
        if isinstance(p, str):  # "end"
            return False
        if isinstance(p, LevelChange):
            p.apply(engine)
        else:
            engine.send(p)
    except LiveError as exc:
        raise LiveError(f"{ev.where}: {exc}") from None
    return True


#: The longest run ``--max-seconds`` may ask for: six hours (a long show, twice over).
MAX_RENDER_SECONDS = 6 * 3600.0


def check_max_seconds(max_seconds: float | None) -> None:
    """:class:`LiveError` unless ``max_seconds`` is None (the default: twice the set plus
    two minutes) or a number of seconds above 0 and at most :data:`MAX_RENDER_SECONDS`."""
    if max_seconds is not None and not (0 < max_seconds <= MAX_RENDER_SECONDS):
        raise LiveError(
            f"--max-seconds must be above 0 and at most {MAX_RENDER_SECONDS:.0f} (six hours), not {max_seconds:g}"
        )


def run_offline(
    engine: Engine,
    events: list[Event],
    sink: Callable[[np.ndarray], None],
    *,
    block: int = 512,
    autoplay: bool = True,
    max_seconds: float | None = None,
) -> RenderResult:
    """Run ``engine`` against ``events``, passing every ``(outputs, n)`` block to ``sink``."""
    if not 1 <= block <= engine.max_block:
        raise LiveError(f"block size must be 1..{engine.max_block}")
    check_max_seconds(max_seconds)
    sr = engine.sr
    engine.sync_prefetch = True
    engine.prefetcher.step(sync=True)
    if max_seconds is None:
        max_seconds = 2 * sum(s.frames for s in engine.songs) / sr + 120
    limit = round(max_seconds * sr)
    if autoplay:
        engine.play()
    fired: list[tuple[int, str]] = []
    log: list[tuple[int, int, int, str, str, str]] = []
    failed: list[tuple[int, str, str]] = []
    reader = NoticeReader(engine)
    k = 0
    due: int | None = None  # output frame at which event k fires (after its trigger)
    truncated = False
    ended = False
    arrivals = 0
    last_frame = -1  # output frame of the last fired event or bar arrival
    deferred: list[tuple[int, str, Event]] = []  # fired events whose command waits behind a cut
    while not ended:
        engine.settle()
        while k < len(events):  # fire every event that is due now
            ev = events[k]
            if due is None and _triggered(engine, ev):
                if ev.kind == "bar":
                    if engine.frames_out == last_frame:
                        break  # a bar is reached once per arrival
                    arrivals += 1
                    last_frame = engine.frames_out
                    if arrivals < ev.times:
                        break
                due = engine.frames_out + round(ev.after * sr)
            if due is None or engine.frames_out < due:
                break
            fired.append((engine.frames_out, events[k].action))
            log.append(_log_entry(engine, events[k]))
            k += 1
            due = None
            arrivals = 0
            last_frame = engine.frames_out
            # what came before this event is not its doing (but may be a deferred one's)
            _attribute(error_messages(reader.new()), deferred, failed)
            if not _fire(engine, events[k - 1]):
                ended = True
                break
            engine.settle()  # applies the command: an error notice now is this event's
            for msg in error_messages(reader.new()):
                failed.append((fired[-1][0], fired[-1][1], f"{events[k - 1].where}: {msg}"))
            if engine.cutting():  # a cut (jump now, stop ...) applies after its fade-out
                deferred.append((fired[-1][0], fired[-1][1], events[k - 1]))
        if ended:
            break
        # the between-song pad waits for play: with the script done it is idle too
        idle = engine.state is State.STOPPED and not engine.commands
        if k >= len(events) and idle:
            break
        if engine.frames_out >= limit:
            truncated = True
            break
        n = min(block, limit - engine.frames_out, max(1, engine.frames_to_boundary()))
        if due is not None:
            n = min(n, max(1, due - engine.frames_out))
        elif k < len(events):
            n = min(n, _frames_until(engine, events[k], block))
        sink(engine.process(n))
        if deferred:  # an error now is from a command that waited behind its fade-out
            _attribute(error_messages(reader.new()), deferred, failed)
            if not engine.cutting():
                deferred.clear()
    end_state = _doing(engine)
    return RenderResult(
        engine.frames_out,
        sr,
        fired,
        truncated,
        engine.misses,
        list(engine.notices),
        failed,
        events_left=len(events) - k,
        end_state=end_state,
        log=log,
    )


def _log_entry(engine: Engine, ev: Event) -> tuple[int, int, int, str, str, str]:
    """Where the engine is when ``ev`` fires (for ``live render --log``)."""
    started = engine.state not in (State.STOPPED, State.GAP, State.STARTING, State.COUNT_IN) or engine.pos > 0
    bar = engine.song.bar_at(engine.pos) + 1 if started else 0
    return (
        engine.frames_out,
        engine.numbers[engine.song_index] + 1,
        bar,
        engine.state.value,
        ev.action,
        ev.where,
    )


def _doing(engine: Engine) -> str:
    """What the engine is busy with, for the end of a run that reached ``max_seconds``."""
    st = engine.state
    if engine.holding_vamp_stop and engine.vamp_on and st is State.PLAYING:
        return (
            "the song was vamping at a stop marker until go (a script line 'go' or 'waiting: go' releases it)"
        )
    if st is State.HOLD:
        return "the song was waiting for go at a stop marker"
    if st is State.PLAYING and engine.vamp_on:
        return "the song was vamping (no release)"
    return {
        State.PLAYING: "the song was still playing",
        State.COUNT_IN: "the song was counting in",
        State.PAUSED: "the song was paused",
        State.GAP: "the engine was between songs (the next one about to start)",
        State.STARTING: "the song was starting",
        State.STOPPED: "the engine was stopped",
    }.get(st, f"the engine was {st.value}")


def _attribute(
    messages: list[str], deferred: list[tuple[int, str, Event]], failed: list[tuple[int, str, str]]
) -> None:
    """Give each error message to the deferred event whose command it names (``no jump target
    'X'``: the jump to X; ``no song N``: the select), else to the only one waiting."""
    for msg in messages:
        hit = None
        for i, (_frame, _action, ev) in enumerate(deferred):
            p = ev.parsed()
            target = getattr(p, "target", None)
            if target is not None and (f"{str(target)!r}" in msg or f"no song {target} " in msg):
                hit = i
                break
        if hit is None and len(deferred) == 1:
            hit = 0
        if hit is None:
            continue
        frame, action, ev = deferred.pop(hit)
        failed.append((frame, action, f"{ev.where}: {msg}"))


def _triggered(engine: Engine, ev: Event) -> bool:
    """True when ``ev``'s trigger has happened now."""
    if ev.kind == "time":
        return engine.frames_out >= round(ev.value * engine.sr)
    if ev.kind == "waiting":  # stopped, at a "wait" stop marker, or vamping at a "vamp" one
        vamping = engine.holding_vamp_stop and engine.vamp_on and engine.state is State.PLAYING
        return (engine.state in (State.STOPPED, State.HOLD) or vamping) and not engine.commands
    song_ok = ev.song is None or engine.numbers[engine.song_index] == ev.song - 1
    bar = int(ev.value)
    if song_ok and bar > engine.song.n_bars:
        raise LiveError(f"{ev.where}: song {engine.song.title!r} has {engine.song.n_bars} bars, not {bar}")
    return bool(song_ok and engine.state is State.PLAYING and engine.pos == engine.song.bar_starts[bar - 1])


def _frames_until(engine: Engine, ev: Event, block: int) -> int:
    if ev.kind == "time":
        return max(1, min(block, round(ev.value * engine.sr) - engine.frames_out))
    if (
        ev.kind == "bar"
        and engine.state is State.PLAYING
        and (ev.song is None or engine.numbers[engine.song_index] == ev.song - 1)
    ):
        target = engine.song.bar_starts[int(ev.value) - 1]
        if target > engine.pos:
            return max(1, min(block, target - engine.pos))
    return block


def render_offline(
    engine: Engine,
    events: list[Event],
    out_path: str | Path,
    *,
    block: int = 512,
    autoplay: bool = True,
    max_seconds: float | None = None,
) -> RenderResult:
    """Run the engine offline and write every output channel to one multichannel
    32-bit float WAV at ``out_path`` (atomically)."""
    from backline.audio.io import open_writer

    with open_writer(out_path, engine.sr, engine.n_out, bit_depth="float") as write:
        return run_offline(engine, events, write, block=block, autoplay=autoplay, max_seconds=max_seconds)
