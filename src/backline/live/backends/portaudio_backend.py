"""The PortAudio backend (sounddevice ``OutputStream``): any device with enough outputs.

MIDI (``midi=True``) goes through python-rtmidi (:class:`RtMidiPorts`): a MIDI input
port feeds a :class:`~backline.live.midi_control.MidiControl` from rtmidi's thread; the
engine's :class:`~backline.live.midi_clock.MidiClock` events are taken from the audio
callback with the time their block reaches the converter and sent by a sender thread at
that time (about a millisecond of jitter; the JACK backend is sample-accurate).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Sequence
from typing import Any

from backline.errors import DependencyMissingError, LiveError
from backline.live.backends.base import Backend
from backline.live.backends.timing import CallbackTimer, settle_for_realtime
from backline.live.engine import Engine
from backline.live.midi_control import MidiControl

__all__ = ["PortAudioBackend", "RtMidiPorts", "rtmidi_api"]


def rtmidi_api(name: str | None) -> int:
    """``"jack"``, ``"alsa"``, ``"coremidi"``, ``"winmm"`` or None (rtmidi's default) -> API id."""
    try:
        import rtmidi
    except ImportError as exc:
        raise DependencyMissingError(
            f"MIDI needs python-rtmidi: pip install 'backline[live]' ({exc})"
        ) from None
    apis = {
        None: rtmidi.API_UNSPECIFIED,
        "jack": rtmidi.API_UNIX_JACK,
        "alsa": rtmidi.API_LINUX_ALSA,
        "coremidi": rtmidi.API_MACOSX_CORE,
        "winmm": rtmidi.API_WINDOWS_MM,
    }
    if name not in apis:
        raise LiveError(f"unknown MIDI API {name!r}: use jack, alsa, coremidi or winmm")
    return int(apis[name])


class RtMidiPorts:
    """A python-rtmidi input and output: ``inputs`` / ``outputs`` name existing ports to
    open (the first whose name contains the text); with none given, virtual ports
    ``backline:midi_in`` / ``midi_out`` are opened (where the API has them). A named port
    that is not there is left out (listed in :attr:`missing`): the show plays on without it."""

    def __init__(
        self,
        control: MidiControl | None,
        *,
        api: str | None = None,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
        client_name: str = "backline",
    ) -> None:
        import rtmidi

        api_id = rtmidi_api(api)
        self.control = control
        opened: list[Any] = []
        try:
            try:
                self.min = rtmidi.MidiIn(api_id, name=client_name)
                opened.append(self.min)
                self.mout = rtmidi.MidiOut(api_id, name=client_name)
                opened.append(self.mout)
            except rtmidi.SystemError as exc:
                raise LiveError(f"cannot open MIDI ({api or 'default API'}): {exc}") from None
            self.missing: list[str] = []  # "NAME (input|output): why" per port not found
            self.missing += self._open(self.min, inputs, "midi_in", "input")
            out_missing = self._open(self.mout, outputs, "midi_out", "output")
            self.missing += out_missing
            self.out_open = not out_missing  # nothing is sent to an output left closed
        except BaseException:
            for port in opened:  # the input opened before the output failed: close it now
                port.close_port()
                port.delete()
            raise
        self.min.ignore_types(sysex=True, timing=True, active_sense=True)
        self.min.set_callback(self._incoming)
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send_loop, name="backline-midi-out", daemon=True)
        self._thread.start()

    @staticmethod
    def _open(port: Any, names: Sequence[str], virtual: str, role: str) -> list[str]:
        """Open the first of ``names`` (rtmidi ports open one device each); returns what
        could not be found (the port then stays closed)."""
        if not names:
            try:
                port.open_virtual_port(virtual)
            except Exception as exc:  # rtmidi raises its own error types per API
                raise LiveError(f"cannot open a virtual MIDI port ({exc}); name a port instead") from None
            return []
        avail = port.get_ports()
        want = names[0]
        hit = next((i for i, n in enumerate(avail) if want.lower() in n.lower()), None)
        if hit is None:
            return [f"{want!r} ({role}): no such port; ports: {', '.join(avail) or 'none'}"]
        port.open_port(hit)
        return []

    def _incoming(self, event: tuple[list[int], float], data: object = None) -> None:
        if self.control is not None:
            self.control.feed(event[0])

    def schedule(self, due: float, msg: bytes) -> None:
        """Send ``msg`` at ``time.perf_counter()`` = ``due`` (from the audio callback)."""
        self.queue.append((due, msg))

    def _send_loop(self) -> None:
        q = self.queue
        while not self._stop.is_set():
            if not q:
                self.wake.wait(0.002)
                self.wake.clear()
                continue
            due, msg = q[0]
            wait = due - time.perf_counter()
            if wait > 0.001:
                time.sleep(wait - 0.0008)
                continue
            while time.perf_counter() < due:
                time.sleep(0)  # the last stretch: give the interpreter lock to the audio thread
            q.popleft()
            if self.out_open:
                self.mout.send_message(msg)

    def close(self) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=2)
        self.min.cancel_callback()
        self.min.close_port()
        self.mout.close_port()


class PortAudioBackend(Backend):
    """Run ``engine`` on PortAudio output ``device`` (name or index; None: the default).
    ``midi``: MIDI in/out through python-rtmidi (``midi_api``: jack, alsa ...; ports from
    ``midi_inputs`` / ``midi_outputs`` or the setlist's ``[midi]`` input/output)."""

    def __init__(
        self,
        engine: Engine,
        *,
        device: str | int | None = None,
        blocksize: int = 256,
        midi: bool = False,
        midi_api: str | None = None,
        midi_inputs: Sequence[str] | None = None,
        midi_outputs: Sequence[str] | None = None,
    ) -> None:
        if not 1 <= blocksize <= engine.max_block:
            raise LiveError(f"blocksize must be 1..{engine.max_block}")
        self.engine = engine
        self.device = device
        self.blocksize = blocksize
        self.timer = CallbackTimer()
        self.stream: Any = None
        self.midi = midi
        self.midi_api = midi_api
        cfg = engine.setlist.midi
        self.midi_inputs = list(midi_inputs if midi_inputs is not None else cfg.inputs)
        self.midi_outputs = list(midi_outputs if midi_outputs is not None else cfg.outputs)
        self.midi_control: MidiControl | None = MidiControl(cfg, engine) if midi else None
        self.rtmidi: RtMidiPorts | None = None
        self._midi_down: str | None = None  # why MIDI could not be opened at all
        self._due0 = 0.0

    def midi_warnings(self) -> list[str]:
        """One line per MIDI port of ``[midi]`` / ``--midi-in`` / ``--midi-out`` that was not
        found at start (empty when all were)."""
        missing = self.rtmidi.missing if self.rtmidi is not None else []
        down = [f"{self._midi_down}: the show plays on without MIDI."] if self._midi_down else []
        return down + [f"MIDI port {w} not connected: the show plays on without it." for w in missing]

    def trouble(self) -> str | None:
        """What the show goes on with (None when all is well): audio the prefetcher cannot
        read (a song's file gone: that song plays silent where it cannot be read)."""
        return self.engine.prefetcher.trouble()

    def _start(self) -> None:
        """Open the MIDI ports, start the prefetcher and the output stream (see
        :meth:`Backend.start`: a failure closes what was opened again)."""
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            raise DependencyMissingError(
                f"the PortAudio backend needs sounddevice and libportaudio2 ({exc})"
            ) from None
        if self.midi:
            try:
                self.rtmidi = RtMidiPorts(
                    self.midi_control, api=self.midi_api, inputs=self.midi_inputs, outputs=self.midi_outputs
                )
            except LiveError as exc:  # no MIDI system (no ALSA sequencer): play on without it
                self._midi_down = str(exc)
            if self.rtmidi is not None and self.engine.midi_out is None:
                self.engine.enable_midi_out()
        self.engine.prefetcher.start()
        if not self.engine.wait_ready():
            raise LiveError("the first song's audio did not load in time")
        try:
            self.stream = sd.OutputStream(
                samplerate=self.engine.sr,
                blocksize=self.blocksize,
                channels=self.engine.n_out,
                dtype="float32",
                device=self.device,
                callback=self._callback,
            )
            settle_for_realtime()
            self.stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            which = "the default output device" if self.device is None else f"device {self.device!r}"
            raise LiveError(f"cannot open {which} (PortAudio): {exc}") from None

    def _schedule(self, offset: int, msg: bytes) -> None:
        assert self.rtmidi is not None
        self.rtmidi.schedule(self._due0 + offset / self.engine.sr, msg)

    def _callback(self, outdata: Any, frames: int, t: Any, status: Any) -> None:
        t0 = time.perf_counter_ns()
        if status.output_underflow:
            self.timer.xruns += 1
        eng = self.engine
        mo = eng.midi_out
        if mo is not None and self.rtmidi is not None:
            ahead = t.outputBufferDacTime - t.currentTime if t.outputBufferDacTime else 0.0
            self._due0 = t0 / 1e9 + max(0.0, ahead)
        done = 0
        while done < frames:
            n = min(frames - done, eng.max_block)
            outdata[done : done + n, :] = eng.process(n).T
            if mo is not None:
                if self.rtmidi is not None:
                    mo.drain(self._schedule, done, frames)
                    self.rtmidi.wake.set()
                else:
                    mo.clear()
            done += n
        self.timer.add(time.perf_counter_ns() - t0)

    def stop(self) -> None:
        """Stop and close the stream and the MIDI ports, stop the prefetcher (also after a
        start that failed partway)."""
        if self.stream is not None:
            self.stream.stop()
            self.stream.close()
            self.stream = None
        if self.rtmidi is not None:
            self.rtmidi.close()
            self.rtmidi = None
        self.engine.prefetcher.stop()
