"""The JACK backend: a JACK client with one output port per engine output.

The process callback asks the engine for each block and copies it into the port
buffers; xruns are counted by JACK's xrun callback; callback durations are kept in
a preallocated ring (:class:`~backline.live.backends.timing.CallbackTimer`).

MIDI (``midi=True``): a ``midi_in`` port whose messages go through a
:class:`~backline.live.midi_control.MidiControl` at the start of each period (so a
foot-switch acts in the same period it arrives), and a ``midi_out`` port carrying the
engine's :class:`~backline.live.midi_clock.MidiClock` events (program changes, beat
clock, Start/Stop/Continue, Song Position Pointer) at their exact sample offsets.
A device connected to ``midi_out`` later gets the current song's program 4 periods after
the callback sees the connection (a rise in the port's connection count, or JACK's
port-connect notice for a swap that leaves the count as it was): the notice comes before
JACK runs the device after backline, and a program sent at once was often lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backline.errors import DependencyMissingError, LiveError
from backline.live.backends.base import Backend
from backline.live.backends.timing import CallbackTimer, settle_for_realtime
from backline.live.engine import Engine
from backline.live.midi_control import MidiControl

__all__ = ["JackBackend", "ExitGate", "PROGRAM_DELAY_PERIODS", "deactivate_and_close"]

#: Periods between a new connection of ``midi_out`` and the program sent on it.
PROGRAM_DELAY_PERIODS = 4


class ExitGate:
    """Stops a JACK client without cancelling its process thread in the middle of Python.

    ``jack_deactivate`` cancels (``pthread_cancel``) the client's process thread. A thread
    cancelled while it waits for Python's interpreter lock leaves the lock's mutex held,
    and the whole process hangs (seen on this loaded machine: the main thread and a JACK
    thread both waiting for the lock forever). So :meth:`close` first asks the callback to
    leave: the callback (which calls :meth:`check` first) raises ``CallbackExit``, and jack2
    then deactivates the client from that thread and ends it. Only once the thread is gone
    is the client closed: closing while jack2 still talks to the server from that thread
    shares one request socket between two threads and broke the server in review.
    Where threads cannot be watched (no ``/proc``), or the thread does not leave within
    ``timeout``, it falls back to ``deactivate`` and ``close``.
    """

    def __init__(self) -> None:
        self.requested = False
        self.left = threading.Event()
        self.thread_id = 0
        self._exit: type[BaseException] = _jack().CallbackExit

    def check(self) -> None:
        """First thing in the process callback: leave when asked to."""
        if self.requested:
            self.thread_id = threading.get_native_id()
            self.left.set()
            raise self._exit

    def close(self, client: Any, timeout: float = 1.0) -> None:
        """Let the process thread leave (up to ``timeout`` s: a server that no longer
        runs the client never calls it), then close ``client``."""
        self.requested = True
        tasks = Path("/proc/self/task")
        if tasks.is_dir() and self.left.wait(timeout) and _gone(tasks / str(self.thread_id), timeout):
            client.close()  # jack2 has deactivated it from the thread that left
            return
        deactivate_and_close(client)


def deactivate_and_close(client: Any) -> None:
    """JACK's own way to stop ``client``: for a client whose process thread is not running
    Python (never activated, or its server gone), or when :class:`ExitGate` gives up."""
    try:
        client.deactivate()
    finally:
        client.close()


def _gone(path: Path, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while path.exists():
        if time.monotonic() > end:
            return False
        time.sleep(0.002)
    return True


def _jack() -> Any:
    try:
        import jack
    except (ImportError, OSError) as exc:
        raise DependencyMissingError(
            f"the JACK backend needs JACK-Client and libjack: pip install 'backline[live]' ({exc})"
        ) from None
    return jack


class JackBackend(Backend):
    """Run ``engine`` as JACK client ``client_name`` (ports ``out_1`` ... ``out_N``).

    ``server``: the JACK server name (None: the default server). ``connect``: for each
    output, a JACK port to connect it to (``system:playback_1``) or None.
    ``auto_connect``: connect each output that ``connect`` leaves out (beyond its length)
    to the physical playback port of the same number, where there is one (output k to
    the k-th port of ``get_ports(is_physical=True, is_input=True, is_audio=True)``);
    :attr:`unconnected` then lists the outputs that carry sound to nowhere. ``midi``: add
    the ``midi_in`` / ``midi_out`` ports (mapping, clock and channel from the setlist's
    ``[midi]`` table; ``midi_control`` to bring your own), connected from
    ``midi_inputs`` / to ``midi_outputs`` (default: the table's ``input`` / ``output``).
    A MIDI port that cannot be connected (a foot controller unplugged or renamed, a drum
    machine switched off) does not stop the start: :attr:`midi_unconnected` says which,
    and the show plays on (as with an audio output left unconnected).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        client_name: str = "backline",
        server: str | None = None,
        connect: Sequence[str | None] | None = None,
        auto_connect: bool = False,
        midi: bool = False,
        midi_control: MidiControl | None = None,
        midi_inputs: Sequence[str] | None = None,
        midi_outputs: Sequence[str] | None = None,
    ) -> None:
        self.engine = engine
        self.client_name = client_name
        self.server = server
        self.connect = list(connect or [])
        self.auto_connect = auto_connect
        self.physical_ports: list[str] = []  # the server's physical playback ports (at start)
        self.connected: dict[int, str] = {}  # output (1-based) -> the port start() connected it to
        if len(self.connect) > engine.n_out:
            raise LiveError(f"{len(self.connect)} connections given for {engine.n_out} outputs")
        self.timer = CallbackTimer()
        self.client: Any = None
        self.ports: list[Any] = []
        self.shutdown_reason: str | None = None
        self.midi = midi or midi_control is not None
        cfg = engine.setlist.midi
        self.midi_control = midi_control
        if self.midi and midi_control is None:
            self.midi_control = MidiControl(cfg, engine)
        self.midi_inputs = list(midi_inputs if midi_inputs is not None else cfg.inputs)
        self.midi_outputs = list(midi_outputs if midi_outputs is not None else cfg.outputs)
        self.midi_in: Any = None
        self.midi_out: Any = None
        self.midi_dropped = 0
        self.midi_out_links = 0  # connections of midi_out seen by the callback
        self.program_due = 0  # periods until the program goes to a newly connected device
        self.midi_out_connected = False  # set by JACK's port-connect notice, read by the callback
        self.midi_unconnected: list[str] = []  # "PORT (input|output): why" per failed MIDI connection
        #: (output, port, why) per audio output whose port could not be connected
        self.output_unconnected: list[tuple[int, str, str]] = []
        self.callback_errors = 0  # periods silenced because the engine raised (a bug)
        self.last_error: str | None = None
        self.frame_offset = 0  # JACK frame time minus engine frames_out (for latency measures)
        self._gate: ExitGate | None = None
        self._active = False

    @property
    def port_names(self) -> list[str]:
        return [p.name for p in self.ports]

    @property
    def unconnected(self) -> list[int]:
        """The outputs (1-based) that no port is connected to (yet): their sound goes nowhere."""
        return [k + 1 for k, p in enumerate(self.ports) if not p.connections]

    def failure(self) -> str | None:
        """Why the audio stopped for good (the JACK server shut down or threw the client
        out), or None while it runs."""
        if self.shutdown_reason is None:
            return None
        return f"audio server stopped: {self.shutdown_reason.strip() or 'no reason given'}"

    def trouble(self) -> str | None:
        """What the show goes on with (None when all is well): periods the engine failed in
        (each one silenced), and audio the prefetcher cannot read (a song's file gone: that
        song plays silent where it cannot be read, the others go on)."""
        parts: list[str] = []
        if self.callback_errors:
            parts.append(
                f"audio callback failed in {self.callback_errors} period(s), silenced: {self.last_error}"
            )
        streaming = self.engine.prefetcher.trouble()
        if streaming:
            parts.append(streaming)
        return "\n".join(parts) or None

    def _start(self) -> None:
        """Open the client, start the prefetcher, activate and connect (see
        :meth:`Backend.start`: a failure closes the client and the prefetch thread again)."""
        jack = _jack()
        try:
            self.client = jack.Client(self.client_name, servername=self.server, no_start_server=True)
        except jack.JackOpenError as exc:
            raise LiveError(
                f"cannot reach the JACK server{f' {self.server!r}' if self.server else ''} (is jackd running?): {exc}"
            ) from None
        c = self.client
        rate = int(c.samplerate)  # read before close: a closed client reports 0
        if rate != self.engine.sr:
            c.close()
            self.client = None
            raise LiveError(
                f"JACK runs at {rate} Hz but the setlist is at {self.engine.sr} Hz: "
                f"set [setlist] sample_rate = {rate}, or start jackd with -r {self.engine.sr}"
            )
        self.ports = [c.outports.register(f"out_{i + 1}") for i in range(self.engine.n_out)]
        if self.midi:
            self.midi_in = c.midi_inports.register("midi_in")
            self.midi_out = c.midi_outports.register("midi_out")
            if self.engine.midi_out is None:
                self.engine.enable_midi_out()
        settle_for_realtime()
        self._gate = ExitGate()
        c.set_process_callback(self._process)
        c.set_xrun_callback(self._xrun)
        c.set_shutdown_callback(self._shutdown)
        if self.midi:
            c.set_port_connect_callback(self._connected)
        self.engine.prefetcher.start()
        if not self.engine.wait_ready():
            raise LiveError("the first song's audio did not load in time")
        c.activate()
        self._active = True
        self.physical_ports = [p.name for p in c.get_ports(is_physical=True, is_input=True, is_audio=True)]
        dests: list[str | None] = list(self.connect)
        if self.auto_connect:
            dests += self.physical_ports[len(dests) : len(self.ports)]
        for k, (port, dest) in enumerate(zip(self.ports, dests, strict=False)):
            if dest:
                try:
                    c.connect(port, dest)
                except jack.JackError as exc:
                    # a mistyped or renamed port (after a reboot, an interface swap): the
                    # show plays on with that output unconnected, as with a MIDI port
                    why = str(exc).strip() or type(exc).__name__
                    self.output_unconnected.append((k + 1, dest, why))
                    continue
                self.connected[k + 1] = dest
        if self.midi:
            for src in self.midi_inputs:
                self._connect(jack, src, self.midi_in.name, src, "input")
            for dest in self.midi_outputs:
                self._connect(jack, self.midi_out.name, dest, dest, "output")

    def _connect(self, jack: Any, src: str, dest: str, name: str, role: str) -> None:
        """Connect a MIDI port; one that cannot be connected is noted in
        :attr:`midi_unconnected` (the show goes on without it)."""
        try:
            self.client.connect(src, dest)
        except jack.JackError as exc:
            why = str(exc).strip() or type(exc).__name__
            self.midi_unconnected.append(f"{name!r} ({role}): {why}")

    def output_warnings(self) -> list[str]:
        """One line per audio output whose port (``--outputs``) could not be connected, naming
        the output's role (empty when all were)."""
        spec = self.engine.setlist.outputs
        return [
            f"output {self.client_name}:out_{spec.describe(k)} not connected to {port!r} ({why}): "
            "no sound from it (check the port name with jack_lsp, or connect it in a JACK patchbay)."
            for k, port, why in self.output_unconnected
        ]

    def midi_warnings(self) -> list[str]:
        """One line per MIDI port of ``[midi]`` / ``--midi-in`` / ``--midi-out`` that could not
        be connected at start (empty when all were)."""
        return [
            f"MIDI port {w} not connected: the show plays on without it "
            "(check the device and its name, or connect it in a JACK patchbay)."
            for w in self.midi_unconnected
        ]

    def _process(self, frames: int) -> None:
        if self._gate is not None:
            self._gate.check()
        t0 = time.perf_counter_ns()
        eng = self.engine
        self.frame_offset = self.client.last_frame_time - eng.frames_out
        ctl = self.midi_control
        if ctl is not None and self.midi_in is not None:
            for _off, data in self.midi_in.incoming_midi_events():
                ctl.feed(data, t0)
        mo = eng.midi_out
        mport = self.midi_out
        if mport is not None:
            mport.clear_buffer()
            links = mport.number_of_connections
            if links > self.midi_out_links or self.midi_out_connected:
                # a swap (one device out, another in) leaves the count as it was: the
                # notice catches that one
                self.midi_out_connected = False
                self.program_due = PROGRAM_DELAY_PERIODS
            self.midi_out_links = links
            if self.program_due > 0:
                self.program_due -= 1
                if self.program_due == 0 and mo is not None:
                    mo.request_program()  # a device was connected: send it the song's program
        done = 0
        try:
            while done < frames:
                n = min(frames - done, eng.max_block)
                out = eng.process(n)
                for i, port in enumerate(self.ports):
                    port.get_array()[done : done + n] = out[i]
                if mo is not None:
                    if mport is not None:
                        mo.drain(self._write_midi, done, frames)
                    else:
                        mo.clear()
                done += n
        except Exception as exc:  # never let a bug kill the show: silence this period, keep running
            for port in self.ports:
                port.get_array()[done:] = 0.0
            self.callback_errors += 1
            if self.last_error is None:
                self.last_error = f"{type(exc).__name__}: {exc}"
        self.timer.add(time.perf_counter_ns() - t0)

    def _write_midi(self, offset: int, data: bytes) -> None:
        try:
            self.midi_out.write_midi_event(offset, data)
        except Exception:  # the port buffer is full: drop (never raise in the callback)
            self.midi_dropped += 1

    def _connected(self, a: Any, b: Any, connect: bool) -> None:
        if connect and self.midi_out is not None and self.midi_out.name in (a.name, b.name):
            self.midi_out_connected = True

    def _xrun(self, delay_usecs: float) -> None:
        self.timer.xruns += 1

    def _shutdown(self, status: Any, reason: str) -> None:
        self.shutdown_reason = reason

    def stop(self) -> None:
        """Deactivate and close the client, stop the prefetcher."""
        client = self.client
        if client is not None:
            try:
                if self._gate is not None and self._active and self.shutdown_reason is None:
                    self._gate.close(client)  # the callback leaves before the client goes
                else:
                    deactivate_and_close(client)
            finally:
                self.client = None
                self._active = False
        self.engine.prefetcher.stop()
