"""Audio ahead of the callback: a page cache per song, filled by a prefetch thread.

A song's audio (all its source files, one row per channel) is cut into chunks of
``chunk_frames``. :class:`SongStream` owns a preallocated pool of chunk buffers
(``pool[slot, rows, chunk_frames]``) and a page table (``table[chunk] -> slot`` or
-1). The audio callback only reads: it looks a chunk up and copies what is there
(a chunk that is not there plays as silence and counts as a miss). The
:class:`Prefetcher` does all the file I/O and decoding: it keeps resident

- *pinned* chunks: the first two chunks of the song, of every section and stop
  marker, so a jump to any section or a loop back is instant;
- the chunks along the path the engine predicts (:meth:`Engine.predicted_ranges`):
  linear play, the pending jump, the vamp loop and the way out of it.

Publishing is ordered so the callback never sees a half-written chunk: the data is
written first, then ``table[chunk]`` is set. A slot is unpublished before it is
reused, and (in threaded mode) reused only after the callback has finished two more
blocks, so a block that had already looked the slot up is never overwritten under it.
The block count is read when the slot is unpublished and again when it is reused, not
once per round: loading a chunk takes several blocks' time, and a count read before the
loads would let a slot be rewritten while the callback is still copying from it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from backline.live.show import PreparedSong

__all__ = ["SongStream", "Prefetcher", "DEFAULT_CHUNK_FRAMES", "DEFAULT_LOOKAHEAD_CHUNKS"]

DEFAULT_CHUNK_FRAMES = 8192
DEFAULT_LOOKAHEAD_CHUNKS = 6


class SongStream:
    """The page cache of one song (see the module docstring)."""

    def __init__(
        self,
        song: PreparedSong,
        *,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        lookahead_chunks: int = DEFAULT_LOOKAHEAD_CHUNKS,
    ) -> None:
        self.song = song
        self.chunk = chunk_frames
        self.rows = sum(s.channels for s in song.sources)
        self.n_chunks = max(1, -(-song.frames // chunk_frames))
        heads = {0} | {s.start for s in song.sections} | {m.frame for m in song.stops}
        pinned: set[int] = set()
        for f in heads:
            c = min(f // chunk_frames, self.n_chunks - 1)
            pinned.update(x for x in (c, c + 1) if x < self.n_chunks)
        self.pinned = frozenset(pinned)
        n_slots = min(self.n_chunks, len(self.pinned) + 4 * (lookahead_chunks + 2) + 2)
        self.table = np.full(self.n_chunks, -1, dtype=np.int64)
        self.slot_chunk = np.full(n_slots, -1, dtype=np.int64)
        self.freed_at = np.full(n_slots, -(10**9), dtype=np.int64)
        self.pool = np.empty((n_slots, self.rows, chunk_frames), dtype=np.float32)
        self.pool.fill(0.0)  # commit the pages now, not in the middle of the show
        self.ready = False  # the pinned chunks are all resident
        self.errors: list[str] = []
        self._files: list[Any] | None = None

    @property
    def nbytes(self) -> int:
        return int(self.pool.nbytes)

    # --- prefetch side only -------------------------------------------------------------
    def _open(self) -> list[Any]:
        if self._files is None:
            import soundfile as sf

            self._files = [sf.SoundFile(str(s.path)) for s in self.song.sources]
        return self._files

    def close(self) -> None:
        for f in self._files or []:
            f.close()
        self._files = None

    def _load(self, chunk: int, slot: int) -> None:
        start = chunk * self.chunk
        dest = self.pool[slot]
        row = 0
        for src, f in zip(self.song.sources, self._open(), strict=True):
            n = 0
            if start < src.frames:
                f.seek(start)
                data = f.read(min(self.chunk, src.frames - start), dtype="float32", always_2d=True)
                n = data.shape[0]
                dest[row : row + src.channels, :n] = data.T
            dest[row : row + src.channels, n:] = 0.0
            row += src.channels

    def fill(self, wanted: list[int], blocks_done: Callable[[], int], *, sync: bool) -> int:
        """Make ``wanted`` chunks resident (in order, pinned ones first); returns chunks loaded.
        ``blocks_done()``: how many blocks the callback has finished, now."""
        loaded = 0
        need = [c for c in dict.fromkeys(sorted(self.pinned) + wanted) if 0 <= c < self.n_chunks]
        keep = set(need)
        for c in need:
            if self.table[c] >= 0:
                continue
            slot = self._free_slot(keep, blocks_done, sync)
            if slot < 0:
                break  # nothing can be freed yet: try again on the next round
            self._load(c, slot)
            self.slot_chunk[slot] = c
            self.table[c] = slot  # publish last
            loaded += 1
        if not self.ready and all(self.table[c] >= 0 for c in self.pinned):
            self.ready = True
        return loaded

    def _free_slot(self, keep: set[int], blocks_done: Callable[[], int], sync: bool) -> int:
        free = np.flatnonzero(self.slot_chunk < 0)
        now = blocks_done()
        for f in free.tolist():
            if sync or now - int(self.freed_at[f]) >= 2:
                return int(f)
        for s, c in enumerate(self.slot_chunk.tolist()):
            if c >= 0 and c not in keep:
                self.table[c] = -1  # unpublish first, then note the block count
                self.slot_chunk[s] = -1
                self.freed_at[s] = blocks_done()
                if sync:
                    return s
        return -1


class Prefetcher:
    """Keeps the engine's songs streamable: makes :class:`SongStream` objects for the
    current song and its neighbours, and fills them along the predicted path.

    ``step()`` does one round (the offline backend calls it before every block, so
    offline renders are deterministic); ``start()`` runs it in a daemon thread.

    A song whose audio cannot be read (a file gone, a stick pulled) fails alone: the
    error is recorded for that song (:attr:`failed`, :meth:`trouble`), passed to
    ``on_error`` once per message, and the other songs go on being streamed; the thread
    tries the song again every ``retry_s`` (a file put back is picked up), and never dies
    of an error (one it did not expect is reported the same way).

    Waking it takes no lock: :meth:`kick` (for the audio callback, through
    :meth:`Engine.send <backline.live.engine.Engine.send>`) sets a plain flag that the
    thread polls every ``poll_s``; it also starts a round at once when the engine's
    current song changes. ``wake`` (an Event) is for control threads.
    """

    def __init__(
        self, engine: Any, *, period_s: float = 0.01, poll_s: float = 0.002, retry_s: float = 0.5
    ) -> None:
        self.engine = engine
        self.period_s = period_s
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.wake = threading.Event()
        self._kicked = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.on_error: Callable[[str], None] | None = None
        #: per song: the message of the error that keeps its audio from being read, or None
        self.failed: list[str | None] = [None] * len(engine.songs)
        self.errors: list[str] = []  # every distinct error message, oldest first
        self.thread_error: str | None = None  # the prefetch thread ended by an error
        self.round_error: str | None = None  # the last round failed (not a song's error)
        self._retry_at: dict[int, float] = {}  # song -> monotonic time of its next try
        self._unpublished: dict[int, SongStream] = {}  # made, but its pinned chunks not yet in
        self._round_song = -1  # the engine's song when the last round began

    def kick(self) -> None:
        """Ask for a round soon (any thread, the audio callback included: no lock)."""
        self._kicked = True

    def step(self, *, sync: bool = False) -> None:
        """One round: drop the streams of songs out of reach, make and fill the others.
        ``sync``: in the caller's thread (offline), every failed song is tried again."""
        eng = self.engine
        cur = self._round_song = eng.song_index
        keep = {cur - 1, cur, cur + 1}
        for i in range(len(eng.songs)):
            if i not in keep:
                st = eng.streams[i]
                if st is not None:
                    eng.streams[i] = None
                    st.close()
                pending = self._unpublished.pop(i, None)
                if pending is not None:
                    pending.close()
                self._retry_at.pop(i, None)
        for i in sorted(keep, key=lambda i: abs(i - cur)):
            if not 0 <= i < len(eng.songs):
                continue
            if not sync and time.monotonic() < self._retry_at.get(i, 0.0):
                continue
            try:
                self._fill_song(i, i == cur, sync)
            except Exception as exc:
                self._fail(i, exc)
            else:
                self.failed[i] = None
                self._retry_at.pop(i, None)

    def _fill_song(self, i: int, current: bool, sync: bool) -> None:
        eng = self.engine
        st = eng.streams[i]
        if st is None:
            st = self._unpublished.pop(i, None)
            if st is None:
                st = SongStream(
                    eng.songs[i], chunk_frames=eng.chunk_frames, lookahead_chunks=eng.lookahead_chunks
                )
            self._unpublished[i] = st  # kept (its buffers too) until its pinned chunks are in
            st.fill([], self._blocks_done, sync=True)
            del self._unpublished[i]
            eng.streams[i] = st  # published only once its pinned chunks are in
        wanted: list[int] = []
        if current:
            for a, b in eng.predicted_ranges():
                wanted += range(a // st.chunk, (max(a, b - 1)) // st.chunk + 1)
        st.fill(wanted, self._blocks_done, sync=sync)

    def _fail(self, i: int, exc: BaseException) -> None:
        """Song ``i`` could not be read: record it for that song, tell once, retry later."""
        song = self.engine.songs[i]
        if isinstance(exc, OSError | RuntimeError):  # soundfile's errors are RuntimeErrors
            msg = f"{song.title}: cannot read audio ({exc})"
        else:  # a bug, not the file: say what it was
            msg = f"{song.title}: audio prefetch failed ({type(exc).__name__}: {exc})"
        self.failed[i] = msg
        self._retry_at[i] = time.monotonic() + self.retry_s
        st = self.engine.streams[i] or self._unpublished.get(i)
        if st is not None:
            st.close()  # the files are opened again on the next try
            if msg not in st.errors:
                st.errors.append(msg)
        self._report(msg)

    def _report(self, msg: str) -> None:
        if msg in self.errors:
            return
        self.errors.append(msg)
        if self.on_error is not None:
            with contextlib.suppress(Exception):  # a display's handler must not stop the streaming
                self.on_error(msg)

    def trouble(self) -> str | None:
        """What keeps audio from being streamed now (for a backend's ``trouble()``), or None."""
        parts: list[str] = []
        if self.thread_error is not None:
            parts.append(f"audio prefetch stopped: {self.thread_error}")
        elif self._thread is not None and not self._thread.is_alive() and not self._stop.is_set():
            parts.append("audio prefetch stopped")
        if self.round_error is not None:
            parts.append(self.round_error)
        bad = [m for m in self.failed if m is not None]
        if bad:
            more = f" (and {len(bad) - 1} more song(s))" if len(bad) > 1 else ""
            parts.append(f"{bad[0]}{more}: it plays silent where it cannot be read")
        return "; ".join(parts) or None

    def _blocks_done(self) -> int:
        return int(self.engine.blocks_done)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception as exc:  # not a song's: report it and go on
                    self.round_error = f"audio prefetch failed: {type(exc).__name__}: {exc}"
                    self._report(self.round_error)
                else:
                    self.round_error = None
                self._idle()
        except BaseException as exc:  # the thread ends: say why (trouble() shows it)
            self.thread_error = f"{type(exc).__name__}: {exc}"
            raise

    def _idle(self) -> None:
        """Wait for the next round: ``period_s``, or less when kicked, woken, or when the
        engine moved to another song."""
        eng = self.engine
        end = time.monotonic() + self.period_s
        while not self._stop.is_set():
            if self._kicked or eng.song_index != self._round_song:
                break
            left = end - time.monotonic()
            if left <= 0 or self.wake.wait(min(left, self.poll_s)):
                break
        self._kicked = False
        self.wake.clear()

    def start(self) -> None:
        """Run :meth:`step` in a background thread until :meth:`stop`."""
        old = self._thread
        if old is not None and self._stop.is_set():
            old.join()  # a stop that gave up waiting: never two fill threads on one stream
            self._thread = None
        if self._thread is None:
            self._stop.clear()
            self.thread_error = None
            self._thread = threading.Thread(target=self._run, name="backline-prefetch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._thread = None  # else start() waits for it
