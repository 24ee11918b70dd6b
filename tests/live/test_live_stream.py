"""The page cache the audio callback reads (backline.live.stream): slots are reused safely."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from backline.live.stream import SongStream


def test_a_slot_is_rewritten_only_two_blocks_after_it_left_the_table(make_show):
    # Reading a chunk from disk takes the callback several blocks' time. The prefetcher
    # must count the blocks since a slot was unpublished from when it really was, or it
    # rewrites a slot that the callback may still be copying from.
    song = make_show().songs[0]  # 8 bars, 384,000 frames
    st = SongStream(song, chunk_frames=4096, lookahead_chunks=1)
    clock = [0]  # blocks the callback has finished
    resident: dict[int, int] = {}  # chunk -> slot, as last seen
    left_at: dict[int, int] = {}  # slot -> block count when its chunk left the table
    rewrites: list[tuple[int, int]] = []  # (slot, blocks between leaving and rewrite)
    real_load = st._load

    def notice_unpublished() -> None:  # called whenever a block may pass next
        for c, s in list(resident.items()):
            if st.table[c] < 0:
                left_at[s] = clock[0]
                del resident[c]

    def load(chunk: int, slot: int) -> None:
        notice_unpublished()
        if slot in left_at:
            rewrites.append((slot, clock[0] - left_at.pop(slot)))
        real_load(chunk, slot)
        clock[0] += 3  # the read took three blocks
        resident[chunk] = slot

    st._load = load  # type: ignore[method-assign]
    st.fill([], lambda: clock[0], sync=True)
    pos = 0
    while pos < st.n_chunks - 1:  # through the song, three new chunks wanted at a time
        ahead = list(range(pos, min(st.n_chunks, pos + 3)))
        st.fill(ahead, lambda: clock[0], sync=False)
        notice_unpublished()
        clock[0] += 1
        if all(st.table[c] >= 0 for c in ahead):
            pos += 3
    assert len(rewrites) > 20  # the walk did reuse slots
    assert min(gap for _, gap in rewrites) >= 2, rewrites
    # and what is resident is the song's audio
    keys = sf.read(song.sources[1].path, dtype="float32", always_2d=True)[0]
    c = st.n_chunks - 2
    row = song.sources[0].channels
    np.testing.assert_array_equal(st.pool[st.table[c], row, :4096], keys[c * 4096 : (c + 1) * 4096, 0])


def test_a_restart_waits_for_a_prefetch_thread_that_outlived_its_stop(make_show):
    import threading
    import time

    from backline.live.engine import Engine

    engine = Engine(make_show())
    pre = engine.prefetcher
    release = threading.Event()
    real_step = pre.step
    running = [0, 0]  # fill threads now, most at once

    def step(*, sync: bool = False) -> None:
        running[0] += 1
        running[1] = max(running[1], running[0])
        release.wait(0.2)  # a slow disk: this round outlives stop()'s wait
        real_step(sync=sync)
        running[0] -= 1

    pre.step = step  # type: ignore[method-assign]
    pre.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    assert pre._thread is not None
    pre._thread.join = lambda timeout=None: None  # type: ignore[method-assign]  # stop gives up at once
    thread = pre._thread
    pre.stop()
    assert time.monotonic() - t0 < 0.1  # stop gave up waiting
    if thread is not None:
        del thread.join  # type: ignore[attr-defined]
    release.set()
    pre.start()  # waits for the old thread before starting a new one
    time.sleep(0.05)
    pre.stop()
    assert running[1] == 1
