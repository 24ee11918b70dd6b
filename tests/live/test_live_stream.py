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


# --- a song whose audio cannot be read fails alone (review finding 1) ---------------------


def test_an_unreadable_neighbour_song_fails_alone_and_comes_back(make_show, tmp_path):
    from backline.live.engine import Engine
    from backline.live.offline import run_offline

    engine = Engine(make_show())  # One (a, 8 bars), then Two (b)
    keys = tmp_path / "b" / "keys.wav"
    hidden = keys.rename(tmp_path / "keys.gone")  # the stick lost it after the check
    pre = engine.prefetcher
    told: list[str] = []
    pre.on_error = told.append
    blocks: list[np.ndarray] = []
    run_offline(engine, [], lambda b: blocks.append(b.copy()))  # song One to its end
    assert engine.misses == 0 and sum(b.shape[1] for b in blocks) == 8 * 48000  # One whole
    # the next song's error is recorded for it alone, and said once (every round tried it)
    msg = pre.failed[1]
    assert msg is not None and msg.startswith("Two: cannot read audio (") and "keys.wav" in msg
    assert pre.failed[0] is None and told == [msg] and pre.errors == [msg]
    assert pre.trouble() == f"{msg}: it plays silent where it cannot be read"
    # the file comes back: the song is streamed and the trouble goes away
    hidden.rename(keys)
    pre.step(sync=True)
    assert pre.failed[1] is None and pre.trouble() is None
    st = engine.streams[1]
    assert st is not None and st.ready


def test_sending_a_command_takes_no_lock_and_the_prefetcher_still_follows(make_show):
    # Engine.send runs in the JACK process callback (a foot-switch): it must not take a
    # lock (threading.Event.set takes the Event's condition lock). The prefetcher still
    # follows a far song selection at once, not at its next round.
    import threading
    import time

    from live_songs import song_toml

    from backline.live.commands import Action, Command
    from backline.live.engine import Engine

    engine = Engine(make_show(song_toml("One", "a") + song_toml("Two", "b") + song_toml("Three", "a")))
    pre = engine.prefetcher
    pre.period_s = 30.0  # rounds only when something asks for one
    pre.start()
    try:
        assert engine.wait_ready(5)
        time.sleep(0.05)
        lock = pre.wake._cond  # type: ignore[attr-defined]  # held by another thread, as it can be
        with lock:
            sender = threading.Thread(target=engine.send, args=(Command(Action.SELECT, 3),))
            sender.start()
            sender.join(1.0)
            blocked = sender.is_alive()
        sender.join()
        assert not blocked, "Engine.send waited for a lock"
        assert engine.streams[2] is None  # song Three is outside the prefetch window
        engine.process(256)  # the callback applies the select
        assert engine.song_index == 2
        t0 = time.monotonic()
        while not (engine.streams[2] is not None and engine.streams[2].ready):
            assert time.monotonic() - t0 < 2.0, "the prefetcher did not follow the song change"
            time.sleep(0.002)
    finally:
        pre.stop()


def test_bar_at_allocates_no_array(make_show):
    # PreparedSong.bar_at runs in the audio callback (jumps at the next bar, vamps): it
    # must not build an array of the bar grid on each call
    import dataclasses
    import tracemalloc

    song = make_show().songs[0]
    long = dataclasses.replace(
        song,
        bar_starts=tuple(range(0, 20_001 * 48000, 48000)),
        bar_numerators=(4,) * 20_000,
        bar_denominators=(4,) * 20_000,
        bar_tempos=(240.0,) * 20_000,
        bar_sections=(0,) * 20_000,
    )
    assert long.bar_at(0) == 0 and long.bar_at(48000 * 777 + 5) == 777 and long.bar_at(-3) == 0
    assert long.bar_at(10**12) == 19_999
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for f in range(0, 48000 * 20_000, 48000 * 97):
            long.bar_at(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000 * 8 // 4, peak  # far below one copy of the grid (160 kB)


def test_the_prefetch_thread_survives_an_error_of_its_own(make_show):
    # the last line of defence of the thread: an error that is not the file's (here a bug
    # in the engine's prediction, made to happen) is reported and the thread goes on
    import time

    from backline.live.engine import Engine

    engine = Engine(make_show())
    pre = engine.prefetcher
    told: list[str] = []
    pre.on_error = told.append
    real = engine.predicted_ranges
    broken = [True]

    def predicted_ranges() -> list[tuple[int, int]]:
        if broken[0]:
            raise ZeroDivisionError("a bug")
        return real()

    engine.predicted_ranges = predicted_ranges  # type: ignore[method-assign]
    pre.start()
    try:
        t0 = time.monotonic()
        while not told:
            assert time.monotonic() - t0 < 5
            time.sleep(0.005)
        assert told == ["One: audio prefetch failed (ZeroDivisionError: a bug)"]
        assert pre.trouble() == f"{told[0]}: it plays silent where it cannot be read"
        broken[0] = False
        t0 = time.monotonic()
        while pre.trouble() is not None:
            assert time.monotonic() - t0 < 5, pre.trouble()
            time.sleep(0.005)
        assert pre._thread is not None and pre._thread.is_alive()
    finally:
        pre.stop()
