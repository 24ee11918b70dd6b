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

import threading
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
    """

    def __init__(self, engine: Any, *, period_s: float = 0.01) -> None:
        self.engine = engine
        self.period_s = period_s
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.on_error: Callable[[str], None] | None = None

    def step(self, *, sync: bool = False) -> None:
        eng = self.engine
        cur = eng.song_index
        keep = {cur - 1, cur, cur + 1}
        for i in range(len(eng.songs)):
            if i not in keep and eng.streams[i] is not None:
                st = eng.streams[i]
                eng.streams[i] = None
                st.close()
        for i in sorted(keep, key=lambda i: abs(i - cur)):
            if not 0 <= i < len(eng.songs):
                continue
            st = eng.streams[i]
            if st is None:
                st = SongStream(
                    eng.songs[i], chunk_frames=eng.chunk_frames, lookahead_chunks=eng.lookahead_chunks
                )
                st.fill([], self._blocks_done, sync=True)
                eng.streams[i] = st  # published only once its pinned chunks are in
            wanted: list[int] = []
            if i == cur:
                for a, b in eng.predicted_ranges():
                    wanted += range(a // st.chunk, (max(a, b - 1)) // st.chunk + 1)
            try:
                st.fill(wanted, self._blocks_done, sync=sync)
            except Exception as exc:
                msg = f"{eng.songs[i].title}: cannot read audio ({exc})"
                if msg not in st.errors:
                    st.errors.append(msg)
                    if self.on_error:
                        self.on_error(msg)

    def _blocks_done(self) -> int:
        return int(self.engine.blocks_done)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self.wake.wait(self.period_s)
            self.wake.clear()

    def start(self) -> None:
        """Run :meth:`step` in a background thread until :meth:`stop`."""
        old = self._thread
        if old is not None and self._stop.is_set():
            old.join()  # a stop that gave up waiting: never two fill threads on one stream
            self._thread = None
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="backline-prefetch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._thread = None  # else start() waits for it
