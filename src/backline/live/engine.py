"""The live engine: transport, routing and mixing, block by block.

One :class:`Engine` plays a :class:`~backline.live.show.Show`. A backend (JACK,
PortAudio, offline) calls :meth:`Engine.process` from its audio thread; every
other method is for the control thread (UI, MIDI, event scripts) and is safe to call
while audio runs.

The audio callback (:meth:`Engine.process`):

- takes commands from a lock-free queue (``collections.deque``: append and popleft
  are atomic; :meth:`Engine.send` wakes the prefetcher with a plain flag, no lock, so
  the JACK callback can send too) and applies them at the start of the block or
  schedules them for an
  exact frame (the next bar line, the end of the section, the end of a vamp loop); a
  command that cuts the music while it plays (stop, pause, next, previous, a jump now)
  first fades the output out over :data:`DECLICK_S` and is applied on that frame, and
  the music fades back in after a jump or a resume; a toggle (``play/stop``,
  ``vamp/release``) is decided here, from the state at that moment;
- holds the start of a song whose audio is not resident yet (selected from outside the
  prefetch window) in :attr:`State.STARTING` until its stream is ready, so the song
  never starts with a few milliseconds of silence;
- copies the song's prepared audio (see :mod:`backline.live.stream`: the prefetch
  thread does all file I/O) into a preallocated source buffer, segment by segment,
  so jumps, loops and stops land on the exact sample;
- mixes sources to outputs with one matrix product into a preallocated output
  buffer (``np.matmul(..., out=)``); gains come from an immutable array that the
  control thread swaps atomically (a new level crossfades over one block); when a
  song ends partway through a block, the part before is mixed with its own routing;
- updates peak meters in place.

It never opens files, never takes a lock and allocates no buffers.

API for control surfaces (MIDI, terminal UI):
``send(Command)`` or the helpers ``play()``, ``stop()``, ``jump(...)`` ...;
``snapshot()`` -> :class:`EngineSnapshot` for display; ``meters_db()``;
``notices`` (a deque of :class:`Notice`: song changes, jumps, loops, holds, applied
commands with their ``sent_ns`` for latency measurement); ``set_level``/``mute``/
``solo``/``set_output_level`` and ``save_levels()``.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from backline.errors import LiveError
from backline.live.commands import Action, Command, When, parse_when
from backline.live.cue_clips import CueClipPlayer, baked_starts, load_cue_bank
from backline.live.levels import MAX_TOTAL_GAIN_DB, check_level_db
from backline.live.midi_clock import MidiClock
from backline.live.pad import pad_loop
from backline.live.routing import MixLevels, Routing, build_routing, capped_gains, effective_gains
from backline.live.setlist import Levels, save_levels
from backline.live.show import PreparedSong, Show
from backline.live.stream import DEFAULT_CHUNK_FRAMES, DEFAULT_LOOKAHEAD_CHUNKS, Prefetcher, SongStream

__all__ = ["DECLICK_S", "START_WAIT_S", "Engine", "EngineSnapshot", "Notice", "State", "MAX_BLOCK"]

MAX_BLOCK = 4096
_METER_DECAY_S = 0.3
#: Stop, pause, next, previous and a jump *now* cut the music: the output fades out over
#: this long first (and back in after a jump or on resuming), so the PA does not click.
DECLICK_S = 0.005
#: Actions that cut the sound when they come while the music plays.
_CUTS = frozenset({Action.STOP, Action.PAUSE, Action.NEXT, Action.PREVIOUS})
#: The longest a start waits for the song's audio (selected from outside the prefetch
#: window) before it plays what there is (the missing audio counts as misses).
START_WAIT_S = 1.0
#: How fast the cue stem fades out (and back in) around a bar whose cue would lie.
CUE_FADE_S = 0.01
#: The safety stage on every output: no sample leaves the engine above full scale.
CEILING = 1.0


class State(StrEnum):
    STOPPED = "stopped"
    COUNT_IN = "count-in"
    PLAYING = "playing"
    PAUSED = "paused"
    HOLD = "waiting for go"
    GAP = "between songs"
    STARTING = "starting"  # play was pressed; the song's audio is being loaded (milliseconds)


#: States in which ``play/stop`` stops.
_UNDER_WAY = frozenset({State.PLAYING, State.COUNT_IN, State.PAUSED, State.STARTING})
_TOGGLES = frozenset({Action.TOGGLE_PLAY, Action.TOGGLE_PAUSE, Action.TOGGLE_VAMP})


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the engine did, at output frame ``frame`` (frames since the engine started).

    kinds: ``song`` (a = song index), ``cued`` (a = the song index that follows the one
    playing), ``start`` (count-in or play began), ``end`` (song ended), ``jump`` (a = from
    song frame, b = to song frame), ``loop`` (vamp loop, a = loop count), ``hold`` (a = song
    frame), ``go``, ``stop``, ``applied`` (a = action name, b = the command's ``sent_ns``,
    c = ``perf_counter_ns`` when applied; for a cut, when its fade-out begins), ``error``
    (a = message), ``show-over``."""

    frame: int
    kind: str
    a: object = None
    b: object = None
    c: object = None


@dataclass(frozen=True, slots=True)
class CountIn:
    """A song's count-in: ``clicks`` (frame offsets from the first click, int64) with
    their ``accents``, spanning ``total`` frames and ending on the song's first downbeat.
    ``shift`` is the count-in frame at which the song's audio starts: ``total`` minus the
    audio's lead-in before its first downbeat. The engine counts alone for ``frames``
    (``shift``, or none when the lead-in is as long as the count-in); the clicks after
    that sound over the lead-in, so the band comes in on the downbeat after the count."""

    total: int
    shift: int
    clicks: np.ndarray
    accents: np.ndarray

    @property
    def frames(self) -> int:
        """Frames counted in before the audio starts."""
        return max(0, self.shift)


@dataclass(frozen=True)
class EngineSnapshot:
    """What a display needs, read without stopping the audio (values may be one block apart)."""

    state: str
    song_index: int
    song_count: int
    title: str
    program: int | None
    seconds: float
    song_seconds: float
    bar: int
    bar_count: int
    beat: int
    beats_in_bar: int
    tempo: float
    section: str
    next_section: str | None
    vamp: bool
    vamp_loops: int
    pending_jump_bar: int | None
    holding: bool
    count_in_left: float
    pad: bool
    fading: bool
    meters_db: tuple[float, ...]
    misses: int
    frames_out: int
    show_over: bool
    titles: tuple[str, ...]
    cued: int | None = None  # the song selected to follow the one playing (index)
    #: the setlist number (1-based) of each playable song: left-out songs keep their numbers
    numbers: tuple[int, ...] = ()
    #: songs in the setlist, left-out ones included
    setlist_count: int = 0
    #: setlist numbers of the songs left out (problems found by check): not playable
    left_out: tuple[int, ...] = ()
    #: blocks in which an output went past full scale (the safety clip held it at 0 dBFS)
    overs: int = 0

    @property
    def number(self) -> int:
        """The current song's number in the setlist (1-based)."""
        return self.numbers[self.song_index] if self.numbers else self.song_index + 1


class Engine:
    """See the module docstring. ``show``: the loaded show (its playable songs form the
    running order). ``block_frames``: the largest block a backend will ask for."""

    def __init__(
        self,
        show: Show,
        *,
        max_block: int = MAX_BLOCK,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        lookahead_chunks: int = DEFAULT_LOOKAHEAD_CHUNKS,
    ) -> None:
        if not show.playable:
            raise LiveError("no song of the setlist can be played: see `backline live check`")
        self.show = show
        self.setlist = show.setlist
        self.songs: tuple[PreparedSong, ...] = show.playable
        #: the setlist index (0-based) of each playable song: songs left out (problems) keep
        #: their numbers, so ``select N`` and a foot controller's program N - 1 pick setlist song N
        self.numbers: tuple[int, ...] = tuple(i for i, s in enumerate(show.songs) if s is not None)
        self._by_number = {n: k for k, n in enumerate(self.numbers)}
        self.sr = self.setlist.sample_rate
        self.n_out = self.setlist.outputs.count
        self.max_block = max_block
        self.chunk_frames = chunk_frames
        self.lookahead_chunks = lookahead_chunks
        self.routings: tuple[Routing, ...] = tuple(build_routing(self.setlist, s) for s in self.songs)
        self.streams: list[SongStream | None] = [None] * len(self.songs)
        rows = max(r.n_rows for r in self.routings)
        self._stage = np.zeros((rows, max_block), dtype=np.float32)
        self._out = np.zeros((self.n_out, max_block), dtype=np.float32)
        self._tmp = np.zeros((self.n_out, max_block), dtype=np.float32)
        self._ramp = np.zeros(max_block, dtype=np.float32)
        self._arange = np.arange(max_block, dtype=np.float32)
        self._peak_now = np.zeros(self.n_out, dtype=np.float32)
        self._meters = np.zeros(self.n_out, dtype=np.float32)
        # levels (control thread) and the gains they give (swapped atomically)
        out_db = {k - 1: v for k, v in self.setlist.levels.outputs.items()}
        self._levels: list[MixLevels] = [MixLevels(dict(s.spec.mix), out_db) for s in self.songs]
        self._level_lock = threading.Lock()  # control threads only; never taken by the callback
        self._gains: tuple[np.ndarray, ...] = tuple(
            effective_gains(r, lv) for r, lv in zip(self.routings, self._levels, strict=True)
        )
        self._last_gains: np.ndarray | None = None
        # count-in sounds and pads
        from backline.render.click import click_sound

        self._shots = {
            snd: (
                click_sound(snd, self.sr, 0) * np.float32(0.5),
                click_sound(snd, self.sr, 1) * np.float32(0.5),
            )
            for snd in {s.spec.click_sound for s in self.songs}
        }
        self._count = [self._count_plan(s) for s in self.songs]
        self._pads: list[np.ndarray | None] = [
            pad_loop(s.key, self.sr, level_db=self.setlist.pad_level_db) if s.key is not None else None
            for s in self.songs
        ]
        self._stop_frames = [np.array([m.frame for m in s.stops], dtype=np.int64) for s in self.songs]
        self._count_row = [r.rows_of("count-in")[0] for r in self.routings]
        self._pad_rows = [tuple(r.rows_of_kind("pad")) for r in self.routings]
        # the spoken cues are baked into the cue stem, in the bar before the section they
        # name: they are faded out in a bar after which the music does not go on to the
        # next written bar (a vamp loops back, a jump is pending), so no wrong cue is spoken
        self._cue_rows = [tuple(r.rows_of_kind("cues")) for r in self.routings]
        self._cue_fade = max(1, round(CUE_FADE_S * self.sr))
        self._cue_level = self._cue_fade  # the cue stem's gain, in steps of 1 / _cue_fade (exact)
        self._cue_env = np.ones(max_block, dtype=np.float32)
        self._cue_mute_end = -1  # song frame: the cue stays silent until here (a bar line)
        # ... and the right cue said instead, cut from the render's cue stem (see cue_clips)
        banks = [load_cue_bank(s, len(rows)) for s, rows in zip(self.songs, self._cue_rows, strict=True)]
        self._cue_banks = tuple(b for b, _ in banks)
        cue_errors = [n for _, n in banks if n]
        self._clip = CueClipPlayer(self._cue_fade, max_block)
        # where the baked cue aimed at each downbeat starts (song frame -> frame), when the
        # render listed its cues: a long cue starts before the bar it ends in
        self._baked_from: tuple[dict[int, int], ...] = tuple(baked_starts(s) for s in self.songs)
        self.overs = 0  # blocks in which an output went past full scale (clipped)
        self.sync_prefetch = False  # offline: fill the streams inside process() (deterministic)
        # MIDI out (program changes, beat clock): a MidiClock fed from the callback, or None
        self.midi_out: MidiClock | None = None
        # queues
        self.commands: collections.deque[Command] = collections.deque()
        self.notices: collections.deque[Notice] = collections.deque(maxlen=4096)
        # transport (written by the callback only, read by anyone)
        self.song_index = 0
        self.state = State.STOPPED
        self.pos = 0
        self.frames_out = 0
        self.blocks_done = 0
        self.misses = 0
        self.pending_at = -1
        self.pending_to = 0
        self.vamp_on = False
        self.vamp_start = 0
        self.vamp_end = 0
        self.vamp_loops = 0
        self.next_stop = 0
        self.holding_vamp_stop = False
        self.count_left = 0
        self.count_pos = 0
        self._counting_over = False  # the count-in's last clicks sound over the audio's lead-in
        self.gap_left = 0
        self.fade_left = 0
        self.fade_total = 0
        self.pad_gain = 0.0
        self.pad_target = 0.0
        self.pad_step = 0.0
        self.pad_pos = 0
        self.pad_song = -1
        self.show_over = False
        self.cued = -1  # a song selected while another plays: it follows that one
        # de-click: a cut (stop, pause, next, previous, jump now) fades out over
        # ``_declick`` frames before it is applied, and the music fades back in after
        self._declick = max(1, round(DECLICK_S * self.sr))
        self._cut_left = 0
        self._cut_cmds: list[tuple[Command, Action | None]] = []  # None: a toggle, decided when applied
        self._cut_to = -1  # where a jump now waiting behind its fade-out goes (for the prefetcher)
        self._fadein_left = 0
        self._env = np.ones(max_block, dtype=np.float32)
        self._mixed_song = -1  # the song whose gains mixed the last samples
        self._at = 0  # output frame of the sample being worked on (for notices)
        self._start_wait = max(1, round(START_WAIT_S * self.sr))
        self._hold_left = 0  # frames a start may still wait for its audio (State.STARTING)
        self.prefetcher = Prefetcher(self)
        self.notices.append(Notice(0, "song", 0))
        for msg in cue_errors:
            self.notices.append(Notice(0, "error", msg))

    def enable_midi_out(self, **kw: object) -> MidiClock:
        """Attach a :class:`~backline.live.midi_clock.MidiClock` (program changes and beat
        clock, configured by the setlist's ``[midi]`` table; ``kw`` overrides) and return it.
        Call before the backend starts; the backend drains it after every block."""
        self.midi_out = MidiClock.for_engine(self, **kw)
        return self.midi_out

    # ---------------------------------------------------------------- set-up helpers
    def _count_plan(self, song: PreparedSong) -> CountIn:
        """The song's count-in: whole bars of its first downbeat's meter and tempo."""
        from backline.render.click import pulse_groups

        n_bars = song.spec.count_in_bars if song.spec.count_in_bars is not None else 1
        first = 1 if song.lead_in > 0 else 0  # the bar of the first downbeat
        tempo = song.bar_tempos[first] if len(song.bar_tempos) > first else 0.0
        if n_bars == 0 or tempo <= 0 or not song.has_grid:
            return CountIn(0, 0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
        num, den = song.bar_numerators[first], song.bar_denominators[first]
        unit = 4 / den * 60.0 / tempo * self.sr  # frames per denominator beat
        bar = round(num * unit)
        offs: list[int] = []
        acc: list[bool] = []
        for k in range(n_bars):
            t = 0
            for g, size in enumerate(pulse_groups(num, den)):
                offs.append(k * bar + round(t * unit))
                acc.append(g == 0)
                t += size
        total = n_bars * bar
        return CountIn(total, total - song.lead_in, np.array(offs, dtype=np.int64), np.array(acc, dtype=bool))

    @property
    def song(self) -> PreparedSong:
        return self.songs[self.song_index]

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Block (control thread) until the current song's stream is resident, or the
        prefetcher has found that it cannot be read (the show goes on; the error is in
        ``prefetcher.trouble()``); False when neither happened within ``timeout`` s."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = self.streams[self.song_index]
            if (st is not None and st.ready) or self.prefetcher.failed[self.song_index] is not None:
                return True
            self.prefetcher.wake.set()
            time.sleep(0.005)
        return False

    # ---------------------------------------------------------------- control API
    def send(self, cmd: Command) -> None:
        """Queue a command for the audio thread (thread-safe, never blocks, takes no lock:
        the JACK process callback sends the foot-switch's commands through here)."""
        self.commands.append(cmd)
        self.prefetcher.kick()

    def play(self) -> None:
        self.send(Command(Action.PLAY))

    def stop(self) -> None:
        self.send(Command(Action.STOP))

    def pause(self) -> None:
        self.send(Command(Action.PAUSE))

    def next_song(self) -> None:
        self.send(Command(Action.NEXT))

    def previous_song(self) -> None:
        self.send(Command(Action.PREVIOUS))

    def select_song(self, number: int) -> None:
        """Select song ``number`` (1-based, its number in the setlist: songs left out keep
        their numbers; selecting one of them changes nothing and says so)."""
        self.send(Command(Action.SELECT, number))

    def jump(self, target: str, when: When | str = When.NEXT_BAR) -> None:
        """Jump to a section label (``"Chorus"``, ``"Chorus #2"``) or ``"bar N"``; ``when``:
        a :class:`When` or its text (``"next bar"``, ``"end of section"``, ``"now"``).
        Raises :class:`LiveError` for a ``when`` it does not know."""
        self.send(Command(Action.JUMP, target, parse_when(when)))

    def vamp(self) -> None:
        self.send(Command(Action.VAMP))

    def release(self) -> None:
        self.send(Command(Action.RELEASE))

    def go(self) -> None:
        self.send(Command(Action.GO))

    def fade_out(self, seconds: float = 4.0) -> None:
        self.send(Command(Action.FADE, None, When.NOW, seconds))

    # levels -------------------------------------------------------------------------
    def _update_levels(self, song: int | None, fn: object) -> None:
        with self._level_lock:
            idx = range(len(self.songs)) if song is None else [song]
            levels = list(self._levels)
            for i in idx:
                levels[i] = fn(levels[i])  # type: ignore[operator]
            gains = list(self._gains)
            for i in idx:
                gains[i] = effective_gains(self.routings[i], levels[i])
            self._levels = levels
            self._gains = tuple(gains)  # one reference swap: the callback sees old or new

    def _source_known(self, song: int, source: str) -> None:
        names = set(self.routings[song].row_source) | {"click"}
        if source not in names:
            raise LiveError(
                f"song {self.songs[song].title!r} has no source {source!r}; sources: {', '.join(sorted(names))}"
            )

    def set_level(self, source: str, db: float, song: int | None = None) -> str | None:
        """Level of a stem (or click, cues, pad) in dB, for ``song`` (default: the current one).
        At most +12 dB (:data:`~backline.live.levels.MAX_LEVEL_DB`); ``-inf`` mutes; NaN and
        louder levels raise :class:`LiveError` and change nothing. The combined gain of a
        source on an output (level x route x output level) is capped at +12 dB
        (:data:`~backline.live.levels.MAX_TOTAL_GAIN_DB`): returns a warning saying so
        when this level hit the cap, else None."""
        level = check_level_db(db, f"level of {source}")
        i = self.song_index if song is None else song
        self._source_known(i, source)
        self._update_levels(i, lambda lv: replace(lv, source_db={**lv.source_db, source: level}))
        return self._cap_warning([i], source)

    def _cap_warning(
        self, songs: list[int], source: str | None = None, output: int | None = None
    ) -> str | None:
        """Words for the combined gains capped at +12 dB in ``songs`` (of ``source``, on ``output``)."""
        hits: list[str] = []
        for i in songs:
            for src, o, want in capped_gains(self.routings[i], self._levels[i]):
                if (source is None or src == source) and (output is None or o == output):
                    hits.append(f"{src} on output {self.setlist.outputs.describe(o)} ({want:+.1f} dB)")
        if not hits:
            return None
        shown = ", ".join(dict.fromkeys(hits[:6])) + (" ..." if len(hits) > 6 else "")
        return f"capped at +{MAX_TOTAL_GAIN_DB:g} dB combined (level x route x output): {shown}"

    def mute(self, source: str, on: bool = True, song: int | None = None) -> None:
        i = self.song_index if song is None else song
        self._source_known(i, source)
        self._update_levels(
            i, lambda lv: replace(lv, muted=(lv.muted | {source}) if on else (lv.muted - {source}))
        )

    def solo(self, source: str, on: bool = True, song: int | None = None) -> None:
        i = self.song_index if song is None else song
        self._source_known(i, source)
        self._update_levels(
            i, lambda lv: replace(lv, soloed=(lv.soloed | {source}) if on else (lv.soloed - {source}))
        )

    def set_output_level(self, output: int, db: float) -> str | None:
        """Level of output ``output`` (1-based) in dB, for every song (the same rule as
        :meth:`set_level`)."""
        level = check_level_db(db, f"level of output {output}")
        if not 1 <= output <= self.n_out:
            raise LiveError(f"output {output} does not exist (1..{self.n_out})")
        self._update_levels(None, lambda lv: replace(lv, output_db={**lv.output_db, output - 1: level}))
        return self._cap_warning([self.song_index], output=output)

    def mute_output(self, output: int, on: bool = True) -> None:
        if not 1 <= output <= self.n_out:
            raise LiveError(f"output {output} does not exist (1..{self.n_out})")
        o = output - 1
        self._update_levels(
            None,
            lambda lv: replace(
                lv, muted_outputs=(lv.muted_outputs | {o}) if on else (lv.muted_outputs - {o})
            ),
        )

    def levels(self) -> Levels:
        """The current levels as the setlist stores them."""
        lv0 = self._levels[0]
        songs = {
            s.title: dict(lv.source_db)
            for s, lv in zip(self.songs, self._levels, strict=True)
            if lv.source_db
        }
        return Levels({o + 1: db for o, db in lv0.output_db.items()}, songs)

    def save_levels(self) -> None:
        """Write the current levels into the setlist file (atomically, see :func:`save_levels`)."""
        save_levels(self.setlist.path, self.levels())

    # snapshot -----------------------------------------------------------------------
    def meters_db(self) -> tuple[float, ...]:
        """Peak meter per output in dBFS (with a ~0.3 s fall-back)."""
        return tuple(20 * math.log10(v) if v > 1e-6 else -120.0 for v in self._meters.tolist())

    def snapshot(self) -> EngineSnapshot:
        """The engine state for display (cheap; call it from the UI thread)."""
        i = self.song_index
        s = self.songs[i]
        pos = self.pos
        bar = s.bar_at(pos)
        start = s.bar_starts[bar]
        length = max(1, s.bar_starts[bar + 1] - start)
        beats = s.bar_numerators[bar]
        beat = min(beats, 1 + (pos - start) * beats // length) if pos >= start else 1
        sec = s.sections[s.bar_sections[bar]]
        nxt = s.sections[sec.index + 1].label if sec.index + 1 < len(s.sections) else None
        pend = s.bar_at(self.pending_at) + 1 if self.pending_at >= 0 else None
        return EngineSnapshot(
            state=self.state.value,
            song_index=i,
            song_count=len(self.songs),
            title=s.title,
            program=s.spec.program,
            seconds=pos / self.sr,
            song_seconds=s.frames / self.sr,
            bar=bar + 1,
            bar_count=s.n_bars,
            beat=int(beat),
            beats_in_bar=beats,
            tempo=s.bar_tempos[bar],
            section=sec.label,
            next_section=nxt,
            vamp=self.vamp_on,
            vamp_loops=self.vamp_loops,
            pending_jump_bar=pend,
            holding=self.state is State.HOLD,
            count_in_left=self._count_left_frames() / self.sr,
            pad=self.pad_gain > 0 or self.pad_target > 0,
            fading=self.fade_total > 0,
            meters_db=self.meters_db(),
            misses=self.misses,
            frames_out=self.frames_out,
            show_over=self.show_over,
            titles=tuple(x.title for x in self.songs),
            cued=self.cued if self.cued >= 0 else None,
            numbers=tuple(n + 1 for n in self.numbers),
            setlist_count=len(self.show.songs),
            left_out=tuple(i + 1 for i, x in enumerate(self.show.songs) if x is None),
            overs=self.overs,
        )

    def _count_left_frames(self) -> int:
        """Frames until the count-in's end (the first downbeat) while it sounds, else 0."""
        lead = self.song.lead_in
        if self.state is State.COUNT_IN:
            return self.count_left + lead
        ci = self._count[self.song_index]
        if self._counting_over and lead - ci.total <= self.pos < lead:
            return lead - self.pos
        return 0

    def frames_to_event(self) -> int:
        """Song frames until the next transport event (jump, loop, stop marker, song end)
        while playing; the offline driver cuts its blocks there."""
        if self.state is not State.PLAYING:
            return self.max_block
        pos = self.pos
        nxt = self.song.frames
        if self.pending_at >= pos:
            nxt = min(nxt, self.pending_at)
        if self.vamp_on and self.vamp_end > pos:
            nxt = min(nxt, self.vamp_end)
        stops = self._stop_frames[self.song_index]
        if self.next_stop < len(stops):
            nxt = min(nxt, int(stops[self.next_stop]))
        return max(0, nxt - pos)

    def frames_to_boundary(self) -> int:
        """Frames until the transport next changes course by itself (an event while playing,
        the end of the count-in or of a gap between songs); ``max_block`` when none is near."""
        if self.fade_total > 0:
            return min(self.max_block, self.fade_left, self.frames_to_event() or self.max_block)
        if self.state is State.PLAYING:
            return min(self.max_block, self.frames_to_event())
        if self.state is State.COUNT_IN:
            return min(self.max_block, self.count_left)
        if self.state is State.GAP:
            return min(self.max_block, self.gap_left)
        return self.max_block

    def cutting(self) -> bool:
        """True while commands wait behind a fade-out (``jump ... now``, ``stop`` ...: they
        apply when it ends)."""
        return bool(self._cut_cmds)

    def settle(self) -> None:
        """Apply queued commands and any event due at the current position, producing no
        audio. For drivers that run the engine in their own thread (offline) only."""
        self._at = self.frames_out
        while self.commands:
            self._take(self.commands.popleft())
        for _ in range(16):
            if self.state is State.PLAYING and self.frames_to_event() == 0:
                self._play(0, 0)
            elif self.state is State.COUNT_IN and self.count_left == 0:
                self.state = State.PLAYING
            elif self.state is State.GAP and self.gap_left == 0:
                self._start()
            elif self.state is State.STARTING and self._audio_ready():
                self._begin()
            else:
                break

    def predicted_ranges(self) -> list[tuple[int, int]]:
        """Song-frame ranges the callback may read soon (for the prefetcher)."""
        look = self.chunk_frames * self.lookahead_chunks
        pos, end = self.pos, self.song.frames
        limit, then = end, -1
        if self.pending_at >= pos:
            limit, then = self.pending_at, self.pending_to
        elif self.vamp_on and self.vamp_end > pos:
            limit, then = self.vamp_end, self.vamp_start
        out = [(pos, min(limit, pos + look))]
        rest = look - (out[0][1] - pos)
        if then >= 0:
            out.append((then, min(end, then + max(rest, self.chunk_frames))))
        if self.vamp_on:
            out.append((self.vamp_end, min(end, self.vamp_end + self.chunk_frames * 2)))
        to = self._cut_to
        if to >= 0:
            out.append((to, min(end, to + look)))
        return out

    # ---------------------------------------------------------------- the callback
    def process(self, n: int) -> np.ndarray:
        """Render the next ``n`` frames (``n <= max_block``) and return the ``(outputs, n)``
        view of the engine's output buffer (valid until the next call). Audio thread only."""
        stage = self._stage
        stage[:, :n] = 0.0
        self._at = self.frames_out
        while self.commands:
            self._take(self.commands.popleft())
        if self.sync_prefetch:
            self.prefetcher.step(sync=True)
        mo = self.midi_out
        if mo is not None:
            mo.begin_block()
        shaped = self._cut_left > 0 or self._fadein_left > 0
        if shaped:
            self._env[:n] = 1.0
        done = mixed = 0
        song = self.song_index
        while done < n:
            self._at = self.frames_out + done
            limit = n - done
            cutting = self._cut_left > 0
            if cutting:
                limit = min(limit, self._cut_left)
            st = self.state
            if st is State.PLAYING:
                k = self._play(done, limit)
            elif st is State.COUNT_IN:
                k = self._count_in(done, limit)
            elif st is State.GAP:
                k = min(limit, self.gap_left)
                self.gap_left -= k
                if self.gap_left == 0:
                    self._start()
            elif st is State.STARTING:
                if self._audio_ready():
                    self._begin()
                    k = 0  # this part of the block plays (or counts in) on the next pass
                else:
                    k = min(limit, self._hold_left)
                    self._hold_left -= k
            else:
                k = limit
            if cutting or self._fadein_left > 0:
                self._shape(done, k, cutting)
            done += k
            if cutting:
                self._cut_left -= k
                if self._cut_left == 0:
                    self._at = self.frames_out + done
                    self._finish_cut()
                    shaped = True
            if self.song_index != song:
                # the song changed partway: what came before is mixed with its own routing
                self._mix_part(song, mixed, done)
                mixed, song = done, self.song_index
        self._pad(n)
        self._mix_part(song, mixed, n)
        out = self._finish_block(n, shaped)
        if mo is not None:
            mo.end_block(n, self.state is State.PLAYING or self.state is State.COUNT_IN)
        return out

    def _take(self, cmd: Command) -> None:
        """Apply a command, or begin the fade-out of a cut (applied when it ends); the
        commands that come during a fade-out wait behind it, in order (a toggle among
        them is decided when its turn comes, after the cut)."""
        decided: Action | None = None
        if self._cut_left == 0:
            decided = self._decide(cmd.action)
            if not self._cuts_sound(decided, cmd.when):
                self._apply(cmd, decided)
                return
            self._cut_left = self._declick
        elif cmd.action not in _TOGGLES:
            decided = cmd.action
        if cmd.action is Action.JUMP:
            self._cut_to = self._resolve(cmd.target)
        self._cut_cmds.append((cmd, decided))
        if decided is not None:
            self.notices.append(
                Notice(self._at, "applied", decided.value, cmd.sent_ns, time.perf_counter_ns())
            )

    def _decide(self, a: Action) -> Action:
        """What a toggle does now (from the engine's state); any other action as it is."""
        if a is Action.TOGGLE_PLAY:
            return Action.STOP if self.state in _UNDER_WAY else Action.PLAY
        if a is Action.TOGGLE_PAUSE:
            st = self.state
            return Action.PAUSE if st is State.PLAYING or st is State.COUNT_IN else Action.PLAY
        if a is Action.TOGGLE_VAMP:
            return Action.RELEASE if self.vamp_on else Action.VAMP
        return a

    def _cuts_sound(self, a: Action, when: When) -> bool:
        st = self.state
        if st is not State.PLAYING and st is not State.COUNT_IN:
            return False
        if a in _CUTS:
            return True
        return a is Action.JUMP and when is When.NOW and st is State.PLAYING

    def _finish_cut(self) -> None:
        """The fade-out of a cut is over: apply its commands; fade in if the music goes on."""
        cmds, self._cut_cmds = self._cut_cmds, []
        self._cut_to = -1
        for cmd, decided in cmds:
            self._apply(cmd, decided, notify=decided is None)
        if self.sync_prefetch:
            self.prefetcher.step(sync=True)
        if self.state is State.PLAYING or self.state is State.COUNT_IN:
            self._fadein_left = self._declick

    def _shape(self, off: int, k: int, cutting: bool) -> None:
        """The de-click envelope of frames ``off .. off + k`` of this block."""
        env = self._env[off : off + k]
        d = float(self._declick)
        if cutting:  # falling to 0 at the frame the cut is applied
            np.multiply(self._arange[:k], -1.0 / d, out=env)
            np.add(env, self._cut_left / d, out=env)
            return
        m = min(k, self._fadein_left)
        np.multiply(self._arange[:m], 1.0 / d, out=env[:m])
        np.add(env[:m], (self._declick - self._fadein_left + 1) / d, out=env[:m])
        self._fadein_left -= m

    def _mix_part(self, i: int, a: int, b: int) -> None:
        """Mix frames ``a .. b`` of the block's sources through song ``i``'s gains."""
        if b <= a:
            return
        g = self._gains[i]
        out = self._out[:, a:b]
        x = self._stage[: g.shape[1], a:b]
        np.matmul(g, x, out=out)
        last = self._last_gains
        if self._mixed_song == i and last is not None and last is not g and last.shape == g.shape:
            # a level changed: crossfade from the old gains over this part
            n = b - a
            tmp = self._tmp[:, :n]
            np.matmul(last, x, out=tmp)
            np.subtract(out, tmp, out=out)
            ramp = self._ramp[:n]
            np.multiply(self._arange[:n], 1.0 / n, out=ramp)
            np.multiply(out, ramp, out=out)
            np.add(out, tmp, out=out)
        self._last_gains = g
        self._mixed_song = i

    def _finish_block(self, n: int, shaped: bool) -> np.ndarray:
        """Fades (a fade-out the player asked for, the de-click envelope) and meters."""
        out = self._out[:, :n]
        if self.fade_total > 0:
            ramp = self._ramp[:n]
            g0 = self.fade_left / self.fade_total
            k = min(n, self.fade_left)
            np.multiply(self._arange[:n], -1.0 / self.fade_total, out=ramp)
            np.add(ramp, g0, out=ramp)
            np.maximum(ramp, 0.0, out=ramp)
            np.multiply(out, ramp, out=out)
            self.fade_left -= k
            if self.fade_left <= 0:
                self.fade_total = 0
                self._song_end()
        if shaped:
            np.multiply(out, self._env[:n], out=out)
        tmp = self._tmp[:, :n]
        np.abs(out, out=tmp)
        np.max(tmp, axis=1, out=self._peak_now)
        self._meters *= np.float32(0.5 ** (n / (_METER_DECAY_S * self.sr)))
        np.maximum(self._meters, self._peak_now, out=self._meters)
        peak = float(self._peak_now.max())
        if not peak <= CEILING:
            # the safety stage: no sample past full scale reaches the interface (the
            # meters above still show how far over it was); NaN (never from a level: they
            # are checked) silences the block
            if peak != peak:
                out.fill(0.0)
            else:
                np.clip(out, -CEILING, CEILING, out=out)
            self.overs += 1
        self.frames_out += n
        self.blocks_done += 1
        return out

    def _copy(self, pos: int, off: int, seg: int) -> None:
        stream = self.streams[self.song_index]
        if stream is None:
            self.misses += 1
            return
        chunk = stream.chunk
        rows = stream.rows
        table = stream.table
        pool = stream.pool
        stage = self._stage
        while seg > 0:
            c = pos // chunk
            o = pos - c * chunk
            k = min(seg, chunk - o)
            s = table[c]
            if s >= 0:
                np.copyto(stage[:rows, off : off + k], pool[s, :, o : o + k])
            else:
                self.misses += 1
            pos += k
            off += k
            seg -= k

    def _play(self, off: int, n: int) -> int:
        song = self.songs[self.song_index]
        pos = self.pos
        nxt = song.frames
        if self.pending_at >= pos:
            nxt = min(nxt, self.pending_at)
        if self.vamp_on and self.vamp_end > pos:
            nxt = min(nxt, self.vamp_end)
        stops = self._stop_frames[self.song_index]
        if self.next_stop < len(stops):
            nxt = min(nxt, int(stops[self.next_stop]))
        seg = max(0, min(n, nxt - pos))
        if seg > 0:
            self._copy(pos, off, seg)
            if self._counting_over:
                # the count-in's last clicks, over the audio's lead-in
                ci = self._count[self.song_index]
                c0 = pos + ci.shift
                if c0 < ci.total:
                    self._mix_clicks(ci, c0, c0 + seg, off)
                else:
                    self._counting_over = False
            if self._cue_rows[self.song_index]:
                self._shape_cues(song, pos, off, seg)
            if self.midi_out is not None:
                self.midi_out.play(self.song_index, pos, pos + seg, off)
            pos += seg
            self.pos = pos
            self._at += seg
        if pos < nxt:
            return seg
        # an event at ``pos``: a scheduled jump first, then the vamp loop, a stop marker, the end
        if self.pending_at == pos:
            self.pending_at = -1
            self.vamp_on = self.holding_vamp_stop = False  # a jump leaves the vamp
            self._move(self.pending_to, "jump")
        elif self.vamp_on and pos == self.vamp_end:
            self.vamp_loops += 1
            self.notices.append(Notice(self._at, "loop", self.vamp_loops))
            self._move(self.vamp_start, None, rearm=False)
        elif self.next_stop < len(stops) and pos == stops[self.next_stop]:
            marker = song.stops[self.next_stop]
            self.next_stop += 1
            if marker.mode == "wait":
                self.state = State.HOLD
                self.notices.append(Notice(self._at, "hold", pos))
            else:
                sec = song.sections[marker.section]
                self.vamp_on, self.vamp_start, self.vamp_end = True, sec.start, sec.end
                self.holding_vamp_stop = True
        elif pos >= song.frames:
            self._song_end()
        return seg

    def _shape_cues(self, song: PreparedSong, pos: int, off: int, seg: int) -> None:
        """Fade the cue stem out in a bar after which the music does not go on to the next
        written bar (a vamp loops back, a jump is pending): the cue baked there names the
        section written next, which will not come. The silence starts at that bar's line,
        or earlier where the baked cue (or the clip said instead, see
        :mod:`backline.live.cue_clips`) starts before it; once the baked cue is cut into it
        lasts to the bar's end (a cue cut in half is no cue), but a vamp released before
        the baked cue begins lets it play. It fades back in after the jump or the loop. Song frames ``pos .. pos + seg`` went to
        stage offset ``off``."""
        brk = -1
        if self.pending_at >= pos and self.pending_to != self.pending_at:
            brk = self.pending_at
        if self.vamp_on and self.vamp_end > pos and (brk < 0 or self.vamp_end < brk):
            brk = self.vamp_end
        bank = self._cue_banks[self.song_index]
        if bank.by_start:
            to = self.pending_to if brk == self.pending_at else self.vamp_start
            self._clip.plan(bank, pos, brk, to)
        # the fade ends on that bar's line, so the whole bar is silent; earlier where the
        # baked cue (or the clip said instead) starts before it
        mute_from = latch_from = -1
        if brk > 0:
            line = song.bar_starts[song.bar_at(brk - 1)]
            baked_from = self._baked_from[self.song_index]
            baked = baked_from.get(brk, line)
            start = min(line, baked)
            if self._clip.clip >= 0 and self._clip.brk == brk:
                start = min(start, self._clip.at)
            mute_from = max(0, start - self._cue_fade)
            # silent to the bar's end once the baked cue is cut into (half a cue is no cue);
            # a vamp released before it begins lets it play
            latch_from = max(0, baked - self._cue_fade) if brk in baked_from else mute_from
        end = pos + seg
        if brk > 0 and end > latch_from:
            self._cue_mute_end = max(self._cue_mute_end, brk)
        latch = self._cue_mute_end
        a = pos
        while a < end:
            # the next point where the target changes inside the segment
            b = end
            if pos < mute_from < b and a < mute_from:
                b = mute_from
            if a < latch < b:
                b = latch
            silent = a < latch or (brk > 0 and mute_from <= a < brk)
            self._cue_ramp(off + a - pos, b - a, 0 if silent else self._cue_fade)
            a = b
        if bank.by_start:
            self._clip.mix(bank, self._stage, self._cue_rows[self.song_index], pos, off, seg)

    def _cue_ramp(self, off: int, k: int, target: int) -> None:
        """Bring the cue rows of the stage at ``off .. off + k`` towards ``target`` (0 or
        ``_cue_fade``). The ramp is counted in whole steps, so the samples do not depend on
        where blocks begin."""
        lvl = self._cue_level
        rows = self._cue_rows[self.song_index]
        stage = self._stage
        if lvl == target:
            if target == 0:
                for r in rows:
                    stage[r, off : off + k].fill(0.0)
            return
        env = self._cue_env[:k]
        n = self._cue_fade
        if target > lvl:
            np.add(self._arange[:k], lvl + 1, out=env)
            self._cue_level = min(n, lvl + k)
        else:
            np.multiply(self._arange[:k], -1.0, out=env)
            np.add(env, lvl - 1, out=env)
            self._cue_level = max(0, lvl - k)
        np.clip(env, 0.0, n, out=env)
        np.multiply(env, 1.0 / n, out=env)
        for r in rows:
            np.multiply(stage[r, off : off + k], env, out=stage[r, off : off + k])

    def _move(self, to: int, notice: str | None, rearm: bool = True) -> None:
        """Move the playhead to song frame ``to``. A stop marker right there fires (a jump
        to a cue waits for go) unless ``rearm`` is off (a vamp going round: the marker
        at the top of the vamped section stopped the music once, not at every loop)."""
        if notice:
            self.notices.append(Notice(self._at, notice, self.pos, to))
        self.pos = to
        self._counting_over = False  # a jump or a loop leaves the count-in behind
        self._cue_mute_end = -1  # a new bar: its cue is the right one again
        self._clip.reset()
        stops = self._stop_frames[self.song_index]
        self.next_stop = int(np.searchsorted(stops, to, side="left" if rearm else "right"))

    def _count_in(self, off: int, n: int) -> int:
        k = min(n, self.count_left)
        cpos = self.count_pos
        if self.midi_out is not None and k > 0:
            self.midi_out.count_in(self.song_index, cpos, cpos + k, off)
        self._mix_clicks(self._count[self.song_index], cpos, cpos + k, off)
        self.count_pos += k
        self.count_left -= k
        if self.count_left == 0:
            self.state = State.PLAYING
        return k

    def _mix_clicks(self, ci: CountIn, c0: int, c1: int, off: int) -> None:
        """Mix count-in frames ``[c0, c1)`` of ``ci`` into the count-in row at stage
        offset ``off`` (a click is cut where the count-in ends)."""
        hi, lo = self._shots[self.song.spec.click_sound]
        dest = self._stage[self._count_row[self.song_index]]
        for t, a in zip(ci.clicks, ci.accents, strict=True):
            shot = hi if a else lo
            a0 = max(int(t), c0)
            a1 = min(int(t) + len(shot), c1, ci.total)
            if a1 > a0:
                dest[off + a0 - c0 : off + a1 - c0] += shot[a0 - int(t) : a1 - int(t)]

    def _pad(self, n: int) -> None:
        if self.pad_gain <= 0 and self.pad_target <= 0:
            return
        loop = self._pads[self.pad_song] if self.pad_song >= 0 else None
        if loop is None:
            self.pad_gain = self.pad_target = 0.0
            return
        rows = self._pad_rows[self.song_index]
        ramp = self._ramp[:n]
        g0 = self.pad_gain
        step = 0.0 if self.pad_target == g0 else (self.pad_step if self.pad_target > g0 else -self.pad_step)
        np.multiply(self._arange[:n], step, out=ramp)
        np.add(ramp, g0, out=ramp)
        np.clip(ramp, 0.0, 1.0, out=ramp)
        g1 = g0 + step * n
        self.pad_gain = min(g1, self.pad_target) if step >= 0 else max(g1, self.pad_target)
        L = loop.shape[1]
        p = self.pad_pos
        done = 0
        while done < n:
            k = min(n - done, L - p)
            for ch, r in enumerate(rows):
                np.multiply(loop[ch, p : p + k], ramp[done : done + k], out=self._stage[r, done : done + k])
            done += k
            p = (p + k) % L
        self.pad_pos = p

    # ---------------------------------------------------------------- transport logic
    def _start(self) -> None:
        """Start the current song from its top (count-in first, pad crossfading out). A song
        without a count-in whose audio is not resident yet waits in :attr:`State.STARTING`
        (at most :data:`START_WAIT_S`) and starts as soon as it is."""
        self.pos = 0
        self._move(0, None)
        self._cue_level = self._cue_fade
        self.vamp_on = False
        self.pending_at = -1
        self.fade_total = 0
        if self.pad_target > 0:
            self.pad_target = 0.0
        if self._count[self.song_index].frames == 0 and not self._stream_ready():
            self.state = State.STARTING
            self._hold_left = self._start_wait
            self.prefetcher.kick()
            return
        self._begin()

    def _stream_ready(self) -> bool:
        st = self.streams[self.song_index]
        return st is not None and st.ready

    def _audio_ready(self) -> bool:
        """Whether a start held in STARTING may begin: the song's audio is resident, the
        prefetcher gave up on it (it plays what there is; the error is shown), or the
        wait is over (an error notice says so)."""
        if self._stream_ready() or self.prefetcher.failed[self.song_index] is not None:
            return True
        if self._hold_left > 0:
            return False
        self.notices.append(
            Notice(
                self._at,
                "error",
                f"{self.song.title}: its audio was not loaded after {START_WAIT_S:g} s; playing what there is",
            )
        )
        return True

    def _begin(self) -> None:
        """The song starts now: its count-in, or the music."""
        ci = self._count[self.song_index]
        self.notices.append(Notice(self._at, "start", self.song_index))
        # the count-in goes on over the audio's lead-in (until its first downbeat)
        self._counting_over = ci.shift < ci.total
        if ci.frames > 0:
            self.state = State.COUNT_IN
            self.count_left, self.count_pos = ci.frames, 0
        else:
            self.state = State.PLAYING

    def _select(self, i: int) -> None:
        if not 0 <= i < len(self.songs):
            return
        self.song_index = i
        self.cued = -1
        self.state = State.STOPPED
        self.pos = 0
        self._move(0, None)
        self.vamp_on = False
        self.holding_vamp_stop = False
        self.pending_at = -1
        self.fade_total = 0
        self.show_over = False
        self.notices.append(Notice(self._at, "song", i))
        if self.midi_out is not None:
            self.midi_out.select(i, self._at - self.frames_out)

    def _song_end(self) -> None:
        i = self.song_index
        between = self.songs[i].spec.between
        self.notices.append(Notice(self._at, "end", i))
        self.fade_total = 0
        nxt = self.cued if self.cued >= 0 else i + 1
        if nxt >= len(self.songs):
            self.state = State.STOPPED
            self.pos = 0
            self.cued = -1
            self.show_over = True
            self.notices.append(Notice(self._at, "show-over"))
            return
        self._select(nxt)
        if between.mode == "continue":
            self.state = State.GAP
            self.gap_left = max(1, round(between.gap_seconds * self.sr))
        elif between.mode == "pad" and self._pads[nxt] is not None:
            self.pad_song = nxt
            self.pad_target = 1.0
            self.pad_step = 1.0 / max(1.0, between.pad_seconds * self.sr)
            self.pad_pos = 0

    def _resolve(self, target: str | int | None) -> int:
        """Song frame of a jump target in the current song; -1 when unknown."""
        song = self.song
        if target is None:
            return -1
        t = str(target).strip()
        low = t.lower()
        if low.startswith("bar "):
            try:
                b = int(low[4:])
            except ValueError:
                return -1
            return song.bar_starts[b - 1] if 1 <= b <= song.n_bars else -1
        occ: int | None = None
        if "#" in t:
            t, _, num = t.rpartition("#")
            t = t.strip()
            occ = int(num) if num.strip().isdigit() else None
        try:
            return song.find_section(t, occ, after_frame=self.pos if occ is None else None).start
        except LiveError:
            return -1

    def _apply(self, cmd: Command, decided: Action | None = None, notify: bool = True) -> None:
        """Carry out ``cmd`` now (``decided``: its action when already decided; a toggle
        is decided here otherwise)."""
        a = self._decide(cmd.action) if decided is None else decided
        st = self.state
        if a is Action.PLAY or a is Action.GO:
            if st is State.HOLD:
                self.state = State.PLAYING
                self.notices.append(Notice(self._at, "go", self.pos))
            elif self.holding_vamp_stop and self.vamp_on and st is not State.PAUSED:
                self.vamp_on = False
                self.holding_vamp_stop = False
                self.notices.append(Notice(self._at, "go", self.pos))
            elif st is State.STOPPED or st is State.GAP:
                if self.show_over:
                    self._select(0)
                if self.pos == 0:
                    self._start()
                else:
                    self.state = State.PLAYING
            elif st is State.PAUSED:
                self._resume()
        elif a is Action.STOP:
            self.state = State.STOPPED
            self.pos = self.count_left = 0
            self._move(0, None)
            self.vamp_on = False
            self.pending_at = -1
            self.fade_total = 0
            self.pad_target = 0.0
            self.notices.append(Notice(self._at, "stop"))
        elif a is Action.PAUSE:
            if st is State.PLAYING or st is State.COUNT_IN:
                self.state = State.PAUSED
            elif st is State.PAUSED:
                self._resume()
        elif a is Action.NEXT:
            self._select(min(self.song_index + 1, len(self.songs) - 1))
        elif a is Action.PREVIOUS:
            self._select(max(self.song_index - 1, 0))
        elif a is Action.SELECT:
            k = self._song_of_number(int(cmd.target or 1))
            if k >= 0:
                self._select_or_cue(k)
        elif a is Action.JUMP:
            to = self._resolve(cmd.target)
            if to < 0:
                self.notices.append(Notice(self._at, "error", f"no jump target {cmd.target!r}"))
            elif cmd.when is When.NOW or st is not State.PLAYING:
                self.pending_at = -1
                self.vamp_on = False
                self._move(to, "jump")
            else:
                song = self.song
                if cmd.when is When.NEXT_BAR:
                    b = song.bar_at(self.pos)
                    at = song.bar_starts[b + 1] if song.bar_starts[b] <= self.pos else song.bar_starts[b]
                else:
                    at = song.sections[song.bar_sections[song.bar_at(self.pos)]].end
                self.pending_at, self.pending_to = int(at), int(to)
        elif a is Action.VAMP:
            song = self.song
            sec = song.sections[song.bar_sections[song.bar_at(self.pos)]]
            self.vamp_on, self.vamp_start, self.vamp_end, self.vamp_loops = True, sec.start, sec.end, 0
        elif a is Action.RELEASE:
            self.vamp_on = False
            self.holding_vamp_stop = False
        elif a is Action.FADE:
            if st is State.PLAYING or st is State.COUNT_IN:
                self.fade_total = self.fade_left = max(1, round((cmd.value or 4.0) * self.sr))
        if notify:
            self.notices.append(Notice(self._at, "applied", a.value, cmd.sent_ns, time.perf_counter_ns()))

    def _resume(self) -> None:
        """Resume from pause: the rest of the count-in first, if it was paused there; the
        music fades back in (it stopped mid-note)."""
        self.state = State.PLAYING if self.count_left == 0 else State.COUNT_IN
        self._fadein_left = self._declick

    def _song_of_number(self, number: int) -> int:
        """The playable song with setlist number ``number`` (1-based), or -1 with an error
        notice (no such song, or it was left out): the engine stays where it is."""
        k = self._by_number.get(number - 1, -1)
        if k >= 0:
            return k
        specs = self.setlist.songs
        if 1 <= number <= len(specs):
            msg = f"song {number} {specs[number - 1].title!r} is not playable (left out: see `backline live check`)"
        else:
            msg = f"no song {number} (1..{len(specs)})"
        self.notices.append(Notice(self._at, "error", msg))
        return -1

    def _select_or_cue(self, i: int) -> None:
        """Select song ``i``; while a song is under way (playing, counting in, paused,
        waiting for go) it is cued to follow that one instead: a program change from a
        foot controller or a keyboard's patch change never stops the show."""
        if not 0 <= i < len(self.songs):
            self.notices.append(Notice(self._at, "error", f"no song {i + 1} (1..{len(self.songs)})"))
            return
        if self.state in (State.STOPPED, State.GAP):
            self._select(i)
            return
        self.cued = -1 if i == self.song_index else i
        self.notices.append(Notice(self._at, "cued", i))
