"""MIDI control: foot-switch messages (notes, CCs, program changes) -> transport commands.

The mapping lives in the setlist's ``[midi]`` table (see ``docs/live.md``)::

    [midi]
    channel = "any"          # listen on every channel, or 1..16
    latching = false         # CCs: act on the press only (momentary switch); true: on both edges
    defaults = true          # keep the default foot-switch map below
    out_channel = 1          # program changes go out on this channel
    clock = true             # send MIDI beat clock
    program_change = true    # send the song's program when it is selected
    input = []               # JACK ports (or rtmidi port names) to take MIDI from
    output = []              # ... and to send program changes and clock to

    [midi.map]
    "cc 64" = "play"                     # sustain pedal
    "note 60" = "next"
    "note 62 ch 10" = "jump Chorus next bar"
    "pc any" = "select"                  # program N selects song N + 1

A trigger is ``note N``, ``cc N``, ``pc N`` or ``pc any``, optionally ``ch C`` (1..16).
An action is any transport action (:func:`~backline.live.commands.parse_action`),
including the toggles ``play/stop``, ``play/pause``, ``vamp/release`` (the engine decides
what a toggle does when it applies it). A note acts on note-on (velocity
above 0), a CC when its value rises to 64 or more (a pressed switch; ``latching = true``
also on the fall below 64), a program change always.

:class:`MidiControl` turns raw MIDI bytes into :class:`~backline.live.commands.Command`
objects; it runs wherever the messages arrive (the JACK process callback, an rtmidi
thread) and never reads the engine's state: a toggle goes to the engine as it is, and the
engine decides when it applies it (two presses before the next block: play, then stop).
It also does **MIDI learn**:
:meth:`MidiControl.learn` makes the next press a new binding instead of an action;
:func:`save_learned` writes it into the setlist (atomically) in a managed block.
"""

from __future__ import annotations

import collections
import re
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from backline.errors import LiveError
from backline.live.commands import TOGGLES, Action, Command, parse_action
from backline.util.atomic import write_text_atomic

__all__ = [
    "TOGGLES",
    "DEFAULT_MAP",
    "Trigger",
    "Binding",
    "MidiConfig",
    "MidiControl",
    "parse_trigger",
    "learn_once",
    "resolve",
    "command_of",
    "trigger_of",
    "validate_action",
    "parse_midi_config",
    "save_learned",
    "render_learned_block",
    "LEARN_BEGIN",
    "LEARN_END",
]

#: The foot-switch map used unless ``defaults = false``: a sustain pedal (CC 64) starts,
#: resumes and says "go" (it never stops the show); a second pedal (CC 67, soft) vamps and
#: releases; CC 66 (sostenuto, the middle pedal) stops; program change N selects song N + 1.
DEFAULT_MAP: Mapping[str, str] = {
    "cc 64": "play",
    "cc 67": "vamp/release",
    "cc 66": "stop",
    "pc any": "select",
}
LEARN_BEGIN = "# --- backline midi learn: written by `backline live learn`, edit freely ---"
LEARN_END = "# --- end of backline midi learn ---"
_KINDS = ("note", "cc", "pc")
_CONFIG_KEYS = {
    "channel",
    "latching",
    "defaults",
    "out_channel",
    "clock",
    "program_change",
    "input",
    "output",
    "map",
    "learned",
}


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a switch sends: ``kind`` note/cc/pc, ``number`` 0..127 (None: any program),
    ``channel`` 0..15 (None: any channel)."""

    kind: str
    number: int | None
    channel: int | None = None

    def __str__(self) -> str:
        num = "any" if self.number is None else str(self.number)
        ch = "" if self.channel is None else f" ch {self.channel + 1}"
        return f"{self.kind} {num}{ch}"


@dataclass(frozen=True, slots=True)
class Binding:
    """A trigger and the action text it fires (``command``: pre-parsed; None for
    ``select`` by program number)."""

    trigger: Trigger
    action: str
    command: Command | None


@dataclass(frozen=True)
class MidiConfig:
    """The ``[midi]`` table of a setlist, validated (see the module docstring)."""

    bindings: tuple[Binding, ...] = ()
    channel: int | None = None
    latching: bool = False
    out_channel: int = 0
    clock: bool = True
    program_change: bool = True
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    learned: Mapping[str, str] = field(default_factory=dict)

    def binding_for(self, action: str) -> list[Binding]:
        """The bindings that fire ``action`` (as written)."""
        return [b for b in self.bindings if b.action == action]


_TRIGGER_RE = re.compile(r"^\s*(note|cc|pc)\s+(\d+|any)(?:\s+ch(?:annel)?\s*(\d+))?\s*$", re.I)


def parse_trigger(text: str) -> Trigger:
    """``"note 60"``, ``"cc 64 ch 2"``, ``"pc 5"``, ``"pc any"`` -> Trigger (LiveError when not)."""
    m = _TRIGGER_RE.match(text)
    if not m:
        raise LiveError(
            f"MIDI trigger {text!r}: write 'note N', 'cc N' or 'pc N' (N 0..127), optionally 'ch C' (1..16)"
        )
    kind = m.group(1).lower()
    num = None if m.group(2).lower() == "any" else int(m.group(2))
    if num is None and kind != "pc":
        raise LiveError(f"MIDI trigger {text!r}: only program changes can be 'any'")
    if num is not None and not 0 <= num <= 127:
        raise LiveError(f"MIDI trigger {text!r}: {kind} number {num} is outside 0..127")
    ch = None
    if m.group(3) is not None:
        ch = int(m.group(3))
        if not 1 <= ch <= 16:
            raise LiveError(f"MIDI trigger {text!r}: channel {ch} is outside 1..16")
        ch -= 1
    return Trigger(kind, num, ch)


def validate_action(text: str, trigger: Trigger | None = None) -> Command | None:
    """Check an action text; returns its Command (None for ``select`` by program)."""
    t = " ".join(text.split()).lower()
    if t == "select":
        if trigger is not None and not (trigger.kind == "pc" and trigger.number is None):
            raise LiveError(f"{trigger}: 'select' without a number only goes with 'pc any'")
        return None
    return parse_action(text)


def _channel(v: Any, what: str, where: str) -> int | None:
    if v is None or (isinstance(v, str) and v.lower() in ("any", "all", "omni")):
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 16:
        raise LiveError(f'{where}: {what} must be 1..16 or "any", not {v!r}')
    return v - 1


def _ports(v: Any, what: str, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise LiveError(f"{where}: {what} must be a port name or a list of them, not {v!r}")


def _bindings(table: Any, what: str, where: str) -> dict[Trigger, Binding]:
    if not isinstance(table, dict):
        raise LiveError(f'{where}: [{what}] must be a table of "trigger" = "action"')
    out: dict[Trigger, Binding] = {}
    for k, v in table.items():
        try:
            trig = parse_trigger(str(k))
            if not isinstance(v, str):
                raise LiveError(f"the action must be text, not {v!r}")
            cmd = validate_action(v, trig)
        except LiveError as exc:
            raise LiveError(f"{where}: [{what}] {k!r}: {exc}") from None
        out[trig] = Binding(trig, " ".join(v.split()), cmd)
    return out


def parse_midi_config(table: Any, where: str = "[midi]") -> MidiConfig:
    """Validate a setlist's ``[midi]`` table (``where``: ``file:line`` for messages).

    Bindings, later winning over earlier for the same trigger: the defaults (unless
    ``defaults = false``), ``[midi.map]``, then ``[midi.learned]`` (MIDI learn)."""
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise LiveError(f"{where}: [midi] must be a table")
    bad = sorted(set(table) - _CONFIG_KEYS)
    if bad:
        raise LiveError(
            f"{where}: unknown key(s) {', '.join(bad)} in [midi]; known: {', '.join(sorted(_CONFIG_KEYS))}"
        )
    for k in ("latching", "defaults", "clock", "program_change"):
        if k in table and not isinstance(table[k], bool):
            raise LiveError(f"{where}: midi.{k} must be true or false")
    out_ch = _channel(table.get("out_channel", 1), "out_channel", where)
    binds: dict[Trigger, Binding] = {}
    if table.get("defaults", True):
        binds.update(_bindings(dict(DEFAULT_MAP), "defaults", where))
    binds.update(_bindings(table.get("map", {}), "midi.map", where))
    learned = table.get("learned", {})
    binds.update(_bindings(learned, "midi.learned", where))
    return MidiConfig(
        bindings=tuple(binds.values()),
        channel=_channel(table.get("channel"), "channel", where),
        latching=bool(table.get("latching", False)),
        out_channel=0 if out_ch is None else out_ch,
        clock=bool(table.get("clock", True)),
        program_change=bool(table.get("program_change", True)),
        inputs=_ports(table.get("input"), "input", where),
        outputs=_ports(table.get("output"), "output", where),
        learned={str(k): str(v) for k, v in learned.items()},
    )


def trigger_of(data: Iterable[int] | bytes, *, latching: bool = False, last_cc: int = 0) -> Trigger | None:
    """The trigger a raw message presses (None: not a press: note-off, CC release, clock ...).

    ``last_cc``: the previous value of that controller (for the edge); ``latching``: CCs
    press on both edges."""
    msg = bytes(data)
    if not msg or msg[0] < 0x80 or msg[0] >= 0xF0:
        return None
    kind, ch = msg[0] & 0xF0, msg[0] & 0x0F
    if kind == 0x90 and len(msg) >= 3 and msg[2] > 0:
        return Trigger("note", msg[1], ch)
    if kind == 0xB0 and len(msg) >= 3:
        down, was = msg[2] >= 64, last_cc >= 64
        if down != was and (down or latching):
            return Trigger("cc", msg[1], ch)
        return None
    if kind == 0xC0 and len(msg) >= 2:
        return Trigger("pc", msg[1], ch)
    return None


class MidiControl:
    """Raw MIDI -> commands for ``engine`` (see the module docstring).

    :meth:`feed` is called where the messages arrive (the JACK process callback: it only
    looks up a dict and appends to the engine's queue). ``config`` can be swapped while
    running (:meth:`set_config`)."""

    def __init__(self, config: MidiConfig, engine: Any = None) -> None:
        self.engine = engine
        self._cc = bytearray(16 * 128)
        self.received = 0
        self.fired: collections.deque[tuple[str, str, int]] = collections.deque(maxlen=256)
        self.learned: collections.deque[tuple[Trigger, str]] = collections.deque(maxlen=16)
        self._learning: str | None = None
        self.set_config(config)

    def set_config(self, config: MidiConfig) -> None:
        """Use ``config`` from now on (one reference swap)."""
        self.config = config
        self._map = {b.trigger: b for b in config.bindings}

    # --- learn ---------------------------------------------------------------------
    def learn(self, action: str | None) -> None:
        """Make the next press a binding for ``action`` (None: cancel). LiveError when the
        action is not valid."""
        if action is not None:
            validate_action(action)
        self._learning = action

    @property
    def learning(self) -> str | None:
        return self._learning

    # --- the hot path ----------------------------------------------------------------
    def lookup(self, trig: Trigger) -> Binding | None:
        """The binding a trigger fires (exact channel first, then any channel)."""
        m = self._map
        return (
            m.get(trig)
            or m.get(Trigger(trig.kind, trig.number, None))
            or (m.get(Trigger("pc", None, trig.channel)) if trig.kind == "pc" else None)
            or (m.get(Trigger("pc", None, None)) if trig.kind == "pc" else None)
        )

    def command_for(self, binding: Binding, trig: Trigger, sent_ns: int) -> Command:
        """The command a binding gives (a toggle as it is: the engine decides it)."""
        return resolve(binding.action, binding.command, self.engine, sent_ns, trig)

    def feed(self, data: Iterable[int] | bytes, sent_ns: int | None = None) -> Command | None:
        """Handle one raw message: returns the command it fired (already sent to the engine,
        when there is one), or None. In learn mode the press is recorded in ``learned``."""
        msg = bytes(data)
        if not msg or msg[0] >= 0xF0 or msg[0] < 0x80:
            return None
        self.received += 1
        cfg = self.config
        ch = msg[0] & 0x0F
        if cfg.channel is not None and ch != cfg.channel:
            return None
        last = 0
        if msg[0] & 0xF0 == 0xB0 and len(msg) >= 3:
            i = ch * 128 + msg[1]
            last = self._cc[i]
            self._cc[i] = msg[2] & 0x7F
        trig = trigger_of(msg, latching=cfg.latching, last_cc=last)
        if trig is None:
            return None
        if self._learning is not None:
            self.learned.append((trig, self._learning))
            self._learning = None
            return None
        b = self.lookup(trig)
        if b is None:
            return None
        cmd = self.command_for(b, trig, time.perf_counter_ns() if sent_ns is None else sent_ns)
        self.fired.append((str(trig), b.action, cmd.sent_ns))
        if self.engine is not None:
            self.engine.send(cmd)
        return cmd


def resolve(
    action: str, command: Command | None, engine: Any = None, sent_ns: int = 0, trig: Trigger | None = None
) -> Command:
    """The command of an action: ``command`` (pre-parsed, toggles included: the engine
    decides those when it applies them) with ``sent_ns``, or ``select`` by ``trig``'s
    program number. ``engine`` is not read (kept for callers that pass it)."""
    if command is not None:
        return replace(command, sent_ns=sent_ns)
    if action.lower() == "select" and trig is not None and trig.number is not None:
        return Command(Action.SELECT, trig.number + 1, sent_ns=sent_ns)
    raise LiveError(f"action {action!r} needs a program change to choose the song")


def command_of(action: str, engine: Any = None) -> Command:
    """The command of an action text (an action or a toggle), for keys and scripts."""
    return resolve(" ".join(action.split()), validate_action(action), engine, time.perf_counter_ns())


# --- saving learned bindings -------------------------------------------------------------


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_learned_block(learned: Mapping[str, str]) -> str:
    """The ``[midi.learned]`` block between the marker comments."""
    out = [LEARN_BEGIN, "[midi.learned]"]
    out += [f"{_toml_str(k)} = {_toml_str(v)}" for k, v in learned.items()]
    out.append(LEARN_END)
    return "\n".join(out) + "\n"


def save_learned(path: str | Path, trigger: Trigger | str, action: str) -> Path:
    """Bind ``trigger`` to ``action`` in the setlist at ``path`` (atomically).

    The binding goes into a ``[midi.learned]`` block between two marker comments at the end
    of the file (the rest is kept byte for byte); it replaces any learned binding of the same
    trigger and any other learned trigger of the same action (learning re-assigns). It wins
    over ``[midi.map]`` and the defaults. The file is parsed again before it is written."""
    from backline.live.setlist import parse_setlist

    p = Path(path)
    trig = parse_trigger(trigger) if isinstance(trigger, str) else trigger
    validate_action(action, trig)
    action = " ".join(action.split())
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise LiveError(f"{p}: cannot read the setlist ({exc})") from None
    start, end = text.find(LEARN_BEGIN), text.find(LEARN_END)
    learned: dict[str, str] = {}
    if start >= 0 and end > start:
        block = text[start : end + len(LEARN_END)]
        try:
            learned = {
                str(k): str(v) for k, v in tomllib.loads(block).get("midi", {}).get("learned", {}).items()
            }
        except tomllib.TOMLDecodeError as exc:
            raise LiveError(f"{p}: the midi learn block is not valid TOML ({exc})") from None
        rest = text[:start] + text[end + len(LEARN_END) :].lstrip("\n")
    else:
        rest = text
    if re.search(r"^\s*\[\s*midi\s*\.\s*learned\s*\]", rest, re.M):
        raise LiveError(f"{p}: has its own [midi.learned] table; remove it so backline can save MIDI learn")
    key = str(trig)
    learned = {k: v for k, v in learned.items() if v != action and parse_trigger(k) != trig}
    learned[key] = action
    new = rest.rstrip("\n") + "\n\n" + render_learned_block(learned)
    parse_setlist(new, p)  # never write a file we cannot read back
    return write_text_atomic(p, new)


# --- learn from a MIDI port -----------------------------------------------------------


def learn_once(
    config: MidiConfig,
    *,
    backend: str = "jack",
    source: str | None = None,
    server: str | None = None,
    api: str | None = None,
    timeout: float = 30.0,
) -> Trigger:
    """Wait for the next press on a MIDI input and return its trigger (LiveError on timeout).

    ``backend="jack"``: a JACK client ``backline-learn`` listening to ``source`` (a port
    name) or to every MIDI output port of the server; ``"rtmidi"``: python-rtmidi (``api``:
    alsa, jack ...) on the port whose name contains ``source``, or on a virtual port."""
    ctl = MidiControl(config)
    ctl.learn("play")
    if backend == "jack":
        try:
            import jack
        except (ImportError, OSError) as exc:
            raise LiveError(f"MIDI learn over JACK needs JACK-Client ({exc})") from None
        try:
            client = jack.Client("backline-learn", servername=server, no_start_server=True)
        except jack.JackOpenError as exc:
            raise LiveError(f"cannot reach the JACK server (is jackd running?): {exc}") from None
        port = client.midi_inports.register("midi_in")
        from backline.live.backends.jack_backend import ExitGate

        gate = ExitGate()

        def process(frames: int) -> None:
            gate.check()
            for _off, data in port.incoming_midi_events():
                ctl.feed(data)

        client.set_process_callback(process)
        try:
            client.activate()
            if source:
                client.connect(source, port.name)
            else:
                for src in client.get_ports(is_midi=True, is_output=True):
                    if not src.name.startswith("backline-learn:"):
                        client.connect(src, port)
            return _wait_learned(ctl, timeout)
        except jack.JackError as exc:
            raise LiveError(f"cannot listen to MIDI {source or ''}: {exc}") from None
        finally:
            gate.close(client)
    if backend == "rtmidi":
        from backline.live.backends.portaudio_backend import RtMidiPorts

        ports = RtMidiPorts(ctl, api=api, inputs=[source] if source else (), client_name="backline-learn")
        try:
            return _wait_learned(ctl, timeout)
        finally:
            ports.close()
    raise LiveError(f"unknown MIDI backend {backend!r}: use jack or rtmidi")


def _wait_learned(ctl: MidiControl, timeout: float) -> Trigger:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ctl.learned:
            return ctl.learned.popleft()[0]
        time.sleep(0.005)
    raise LiveError(f"no MIDI press within {timeout:g} s")
