"""MIDI out: program changes on song select, and MIDI beat clock following the tempo map.

The clock's tick positions are computed once per song (:func:`clock_ticks`): 24 ticks per
quarter note, bar by bar from the song's bar grid (``PreparedSong.bar_starts`` and
``bar_tempos``), so a tempo change moves the clock exactly where the audio changes. The
count-in gets its own ticks (:func:`count_in_ticks`), ending on the song's first tick.

:class:`MidiClock` is fed by the engine from the audio thread, segment by segment
(``play``: song frames ``[a, b)`` went to block offset ``off``; ``count_in``; ``select``;
``end_block``), and writes ``(offset, bytes)`` events into a preallocated buffer; the
backend drains it after each block (the JACK backend writes them with their sample
offsets: jitter-free). It infers the transport messages from what is played:

- the song starts from its top: Start (0xFA), then the clock (0xF8);
- playback resumes elsewhere or in place (after a pause or a hold): Song Position Pointer
  (0xF2, sixteenths from the top of the song) and Continue (0xFB); resuming between two
  sixteenths, the clock skips to the next sixteenth (so the slave's position stays right);
- a jump or a vamp loop while running: Stop (0xFC), Song Position Pointer, Continue;
- playback stops (stop, pause, hold, song end): Stop (0xFC);
- a song is selected: its program change (0xC0 | channel, program).

Clock ticks also run during the count-in (before Start), so a slaved device can lock to
the tempo. Nothing here allocates buffers; events are preallocated ``bytes`` constants,
except the 3-byte Song Position Pointer (on jumps only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from backline.live.show import PreparedSong

__all__ = [
    "CLOCK",
    "START",
    "CONTINUE",
    "STOP",
    "PPQN",
    "clock_ticks",
    "count_in_ticks",
    "song_position",
    "program_change",
    "MidiClock",
]

CLOCK = b"\xf8"
START = b"\xfa"
CONTINUE = b"\xfb"
STOP = b"\xfc"
PPQN = 24
_REGULAR = 0.02  # a bar within 2 % of its nominal length gets its ticks spread evenly


def clock_ticks(song: PreparedSong) -> np.ndarray:
    """Song frames (int64, rising) of every MIDI clock tick of ``song``.

    Each bar of ``num/den`` holds ``num * 96 / den`` ticks at its tempo; a bar whose length
    matches that (within 2 %) gets them spread evenly over its exact frames (so the clock
    never drifts from the audio); an irregular bar (a pickup before the first downbeat, a
    short last bar) gets ticks at the tempo's period, aligned to the bar's end for the first
    bar and to its start otherwise. Songs without a tempo grid have no clock."""
    if not song.has_grid:
        return np.zeros(0, dtype=np.int64)
    sr = song.sample_rate
    out: list[np.ndarray] = []
    starts = song.bar_starts
    for b in range(song.n_bars):
        s, e = starts[b], starts[b + 1]
        tempo = song.bar_tempos[b]
        length = e - s
        if tempo <= 0 or length <= 0:
            continue
        period = 60.0 / (tempo * PPQN) * sr
        nominal = song.bar_numerators[b] * 96 // song.bar_denominators[b]
        if abs(length - nominal * period) <= _REGULAR * length:
            k = np.arange(nominal, dtype=np.float64)
            out.append(s + np.round(k * length / nominal).astype(np.int64))
        elif b == 0:
            n = int(length / period + 1e-9)
            k = np.arange(n, 0, -1, dtype=np.float64)
            out.append(e - np.round(k * period).astype(np.int64))
        else:
            n = int(np.ceil(length / period - 1e-9))
            out.append(s + np.round(np.arange(n) * period).astype(np.int64))
    if not out:
        return np.zeros(0, dtype=np.int64)
    ticks = np.concatenate(out)
    ticks = ticks[(ticks >= 0) & (ticks < song.frames)]
    return np.unique(ticks)


def count_in_ticks(frames: int, tempo: float, sample_rate: int) -> np.ndarray:
    """Offsets (int64) in a count-in of ``frames`` of the ticks at ``tempo``; the last one
    falls one period before the count-in ends (the song's first tick follows it)."""
    if frames <= 0 or tempo <= 0:
        return np.zeros(0, dtype=np.int64)
    period = 60.0 / (tempo * PPQN) * sample_rate
    n = int(frames / period + 1e-9)
    return (frames - np.round(np.arange(n, 0, -1) * period)).astype(np.int64)


def song_position(sixteenths: int) -> bytes:
    """Song Position Pointer (0xF2, LSB, MSB) for ``sixteenths`` (MIDI beats) from the top."""
    v = max(0, min(sixteenths, 0x3FFF))
    return bytes((0xF2, v & 0x7F, v >> 7))


def program_change(channel: int, program: int) -> bytes:
    """Program change on ``channel`` (0..15) to ``program`` (0..127)."""
    return bytes((0xC0 | (channel & 0x0F), program & 0x7F))


class MidiClock:
    """The engine's MIDI out (see the module docstring): ``songs`` in running order,
    ``count_ins``: per song (count-in frames, tempo); ``channel`` for program changes.

    Events of the current block: ``offsets[:count]`` and ``data[:count]``; :meth:`drain`
    hands them to a writer and empties the buffer; ``dropped`` counts events that found the
    buffer full."""

    def __init__(
        self,
        songs: Sequence[PreparedSong],
        count_ins: Sequence[tuple[int, float]],
        *,
        sample_rate: int,
        channel: int = 0,
        clock: bool = True,
        program_changes: bool = True,
        capacity: int = 4096,
    ) -> None:
        self.sample_rate = sample_rate
        self.clock = clock
        self.program_changes = program_changes
        self.ticks: list[np.ndarray] = [
            clock_ticks(s) if clock else np.zeros(0, dtype=np.int64) for s in songs
        ]
        self.tick_lists: list[list[int]] = [t.tolist() for t in self.ticks]
        self.count_ticks: list[list[int]] = [
            count_in_ticks(f, t, sample_rate).tolist() if clock else [] for f, t in count_ins
        ]
        self.programs: list[bytes | None] = [
            program_change(channel, s.spec.program) if s.spec.program is not None else None for s in songs
        ]
        self.offsets: list[int] = [0] * capacity
        self.data: list[bytes] = [b""] * capacity
        self.count = 0
        self.dropped = 0
        self.running = False  # Start/Continue sent and no Stop since
        self.last_song = -1
        self.last_pos = -1
        self.last_off = 0  # block offset just after the last played segment
        self.cursor = 0  # index of the next tick in the current song
        self.sent_ticks = 0
        self.resend_program = False
        self.select(0, 0)

    @classmethod
    def for_engine(cls, engine: object, **kw: object) -> MidiClock:
        """A clock for ``engine`` (an :class:`~backline.live.engine.Engine`), configured from
        its setlist's ``[midi]`` table unless ``kw`` says otherwise."""
        from backline.live.engine import Engine

        assert isinstance(engine, Engine)
        cfg = engine.setlist.midi
        opts: dict[str, object] = {
            "channel": cfg.out_channel,
            "clock": cfg.clock,
            "program_changes": cfg.program_change,
        }
        opts.update(kw)
        counts = [
            (c.frames, s.bar_tempos[0] if s.bar_tempos else 0.0)
            for c, s in zip(engine._count, engine.songs, strict=True)
        ]
        return cls(engine.songs, counts, sample_rate=engine.sr, **opts)  # type: ignore[arg-type]

    # --- the buffer ------------------------------------------------------------------
    def _emit(self, off: int, msg: bytes) -> None:
        c = self.count
        if c >= len(self.offsets):
            self.dropped += 1
            return
        self.offsets[c] = off
        self.data[c] = msg
        self.count = c + 1

    def drain(self, write: Callable[[int, bytes], object], base: int = 0, limit: int | None = None) -> int:
        """Call ``write(base + offset, bytes)`` for each event (offsets clamped to ``limit - 1``)
        and empty the buffer; returns how many."""
        n = self.count
        offs, data = self.offsets, self.data
        for i in range(n):
            o = base + offs[i]
            if limit is not None and o >= limit:
                o = limit - 1
            write(o, data[i])
        self.count = 0
        return n

    def clear(self) -> None:
        self.count = 0

    # --- hooks, called by the engine from the audio thread ------------------------------
    def begin_block(self) -> None:
        self.last_off = 0
        if self.resend_program:
            self.resend_program = False
            pc = self.programs[self.last_song] if self.program_changes and self.last_song >= 0 else None
            if pc is not None:
                self._emit(0, pc)

    def request_program(self) -> None:
        """Send the current song's program again at the next block (any thread: a device
        was connected)."""
        self.resend_program = True

    def _halt(self) -> None:
        if self.running:
            self._emit(self.last_off, STOP)
            self.running = False

    def select(self, song: int, off: int) -> None:
        """Song ``song`` was selected at block offset ``off``."""
        self.last_off = min(self.last_off, off)
        self._halt()
        self.last_song, self.last_pos = song, -1
        pc = self.programs[song] if self.program_changes else None
        if pc is not None:
            self._emit(off, pc)

    def count_in(self, song: int, c0: int, c1: int, off: int) -> None:
        """Count-in frames ``[c0, c1)`` of ``song`` went to block offset ``off``."""
        self._halt()
        for t in self.count_ticks[song]:
            if c0 <= t < c1:
                self._emit(off + t - c0, CLOCK)
                self.sent_ticks += 1
        self.last_off = off + c1 - c0
        self.last_song, self.last_pos = song, -1

    def play(self, song: int, a: int, b: int, off: int) -> None:
        """Song frames ``[a, b)`` of ``song`` went to block offset ``off``."""
        ticks = self.tick_lists[song]
        if not (self.running and song == self.last_song and a == self.last_pos):
            j = int(np.searchsorted(self.ticks[song], a, side="left"))
            if self.running:
                self._emit(off, STOP)
            if a == 0:
                self._emit(off, START)
            else:
                # resume on a sixteenth: the slave's next clock is that sixteenth
                spp = -(-j // 6)
                j = spp * 6
                self._emit(off, song_position(spp))
                self._emit(off, CONTINUE)
            self.running = True
            self.cursor = j
        j = self.cursor
        n = len(ticks)
        while j < n and ticks[j] < b:
            self._emit(off + ticks[j] - a, CLOCK)
            j += 1
        self.sent_ticks += j - self.cursor
        self.cursor = j
        self.last_song, self.last_pos = song, b
        self.last_off = off + b - a

    def end_block(self, n: int, playing: bool) -> None:
        """The block of ``n`` frames is done; ``playing``: the engine is still playing."""
        if not playing:
            self.last_off = min(self.last_off, max(0, n - 1))
            self._halt()
