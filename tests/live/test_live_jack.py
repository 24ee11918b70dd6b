"""Against a real JACK server (dummy driver, started by the fixture): a recording client
connected to the engine's outputs checks routing and sample-exact transport."""

from __future__ import annotations

import time

import numpy as np
import pytest
from live_songs import BAR, decode_pos, song_toml

from backline.live.engine import Engine

pytestmark = pytest.mark.jack


class Recorder:
    """A JACK client whose input ports record into a preallocated buffer."""

    def __init__(self, server: str, n: int, seconds: float) -> None:
        import jack

        from backline.live.backends.jack_backend import ExitGate

        self.client = jack.Client("recorder", servername=server, no_start_server=True)
        self.gate = ExitGate()
        self.ports = [self.client.inports.register(f"in_{i + 1}") for i in range(n)]
        self.buf = np.zeros((n, int(seconds * self.client.samplerate)), dtype=np.float32)
        self.pos = 0
        self.client.set_process_callback(self._process)

    def _process(self, frames: int) -> None:
        self.gate.check()
        k = min(frames, self.buf.shape[1] - self.pos)
        for i, p in enumerate(self.ports):
            self.buf[i, self.pos : self.pos + k] = p.get_array()[:k]
        self.pos += k

    def recorded(self) -> np.ndarray:
        return self.buf[:, : self.pos]


def wait_for(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "the engine did not get there in time"
        time.sleep(0.005)


def _perform(make_show, jack_server):
    """Play the scripted moves once against the real server; returns what was recorded."""
    from backline.live.backends.jack_backend import JackBackend

    show = make_show(song_toml("Two", "b"))  # Verse = bars 1-2, Chorus = bars 3-6, 1 s per bar
    engine = Engine(show)
    backend = JackBackend(engine, client_name="backline-test", server=jack_server)
    rec = Recorder(jack_server, engine.n_out, 12.0)
    backend.start()
    try:
        rec.client.activate()
        for i, port in enumerate(rec.ports):
            rec.client.connect(backend.ports[i].name, port.name)
        time.sleep(0.2)
        engine.play()
        wait_for(lambda: engine.pos > 0.3 * BAR)
        engine.vamp()  # in the first pass of Verse
        wait_for(lambda: engine.vamp_loops >= 1 and engine.pos > 0.3 * BAR)
        engine.release()  # in the second pass: leave at the end of this loop
        wait_for(lambda: engine.pos > 2.3 * BAR)  # in the Chorus, bar 3
        engine.jump("Verse", "next_bar")
        wait_for(lambda: any(n.kind == "jump" for n in list(engine.notices)))
        time.sleep(0.6)
        engine.stop()
        time.sleep(0.2)
    finally:
        rec.gate.close(rec.client)
        backend.stop()
    out = rec.recorded()
    p, _ = _song_frames(out)
    glitched = any(int(p[i + 1]) != 0 for i in np.flatnonzero(np.diff(p) != 1))
    return show, engine, backend, out, glitched


def _song_frames(out: np.ndarray) -> tuple[np.ndarray, int]:
    """(the song frame of each recorded sample from the first one played, that sample's
    index in the recording)."""
    p = decode_pos(out[4], out[5])
    start = int(np.flatnonzero(p == 1)[0]) - 1
    return p[start:], start


def _routing_matches(show, out) -> bool:
    """Whether the FOH outputs carry the keys stem at the recorded song frame throughout."""
    import soundfile as sf

    keys = sf.read(show.songs[0].sources[0].path.parent / "keys.wav", dtype="float32")[0][:, 0]
    p, start = _song_frames(out)
    steps = np.flatnonzero((np.diff(p) != 1) & (p[1:] == 0) & (p[:-1] != 0))  # the vamp and the jump
    if len(steps) < 2:
        return False
    played = slice(0, int(steps[1]) + 1 + BAR // 2)  # as the test checks it
    return bool(np.allclose(out[0, start:][played], keys[np.clip(p[played], 0, len(keys) - 1)], atol=1e-6))


def test_jack_routing_vamp_and_jump_land_on_bar_lines(make_show, jack_server):
    # A shared machine without real-time priority can drop a period (an xrun) in the
    # recorder or the engine; play the scene again (up to 3 times) to get a clean take.
    # A take whose recorded music disagrees with its recorded position for a period is
    # retaken too, but only when the server reported an xrun (a take without one must match).
    # Measured under load (two busy cores, 17 takes, 10-121 xruns each): the engine's own
    # blocks always agreed, checked in its callback; in an xrun the recorder, a client in this
    # same process, read one port while the late engine was writing the ports, so that port
    # held the period before or after (music 256 frames off its position, the rest exact).
    for _ in range(3):
        show, engine, backend, out, glitched = _perform(make_show, jack_server)
        if not glitched and not (backend.timer.xruns > 0 and not _routing_matches(show, out)):
            break
    assert backend.shutdown_reason is None
    assert engine.misses == 0
    p, start = _song_frames(out)
    steps = np.flatnonzero(np.diff(p) != 1)
    got = [(int(i) + 1, int(p[i]), int(p[i + 1])) for i in steps]
    # every transport move here goes back to song frame 0 (the Verse); anything else is a
    # block the dummy driver dropped or repeated in an xrun (this shared machine has some)
    moves = [g for g in got if g[2] == 0 and g[1] != 0]
    glitches = [g for g in got if g[2] != 0]
    assert not glitches or backend.timer.xruns > 0, glitches
    # vamp: Verse (2 bars) twice, looping exactly at its last sample
    assert moves[0][1] == 2 * BAR - 1
    # the release leaves at the end of the second pass: the Chorus follows the Verse's last sample
    chorus = int(np.flatnonzero(p == 2 * BAR)[0])
    assert p[chorus - 1] == 2 * BAR - 1
    # the jump at the next bar: from the last sample of a bar straight to the Verse
    j_out, j_from, _ = moves[1]
    assert (j_from + 1) % BAR == 0 and j_from + 1 > 2 * BAR, moves
    if not glitches:
        assert moves[0][0] == 2 * BAR and chorus == 4 * BAR
        assert j_out - 4 * BAR == j_from + 1 - 2 * BAR  # no sample lost or repeated on the way
    # routing, sample by sample: every output carries exactly its sources at the played song frame
    import soundfile as sf

    folder = show.songs[0].sources[0].path.parent
    keys = sf.read(folder / "keys.wav", dtype="float32")[0][:, 0]
    ears = (
        sf.read(folder / "click.wav", dtype="float32")[0] + sf.read(folder / "cues.wav", dtype="float32")[0]
    )
    played = slice(0, j_out + BAR // 2)
    idx = p[played]
    rec_all = out[:, start:][:, played]
    np.testing.assert_allclose(rec_all[0], keys[idx], atol=1e-6)  # FOH: the music only
    np.testing.assert_allclose(rec_all[1], keys[idx], atol=1e-6)
    np.testing.assert_allclose(rec_all[2], ears[idx], atol=1e-6)  # in-ears: click + cues only
    np.testing.assert_allclose(rec_all[3], ears[idx], atol=1e-6)
    assert np.abs(rec_all[2]).max() > 0.2 and np.abs(rec_all[0]).max() > 0.2


def _counting_client(server: str, name: str):
    """An active JACK client whose gated process callback counts its periods:
    (client, gate, [count])."""
    import jack

    from backline.live.backends.jack_backend import ExitGate

    client = jack.Client(name, servername=server, no_start_server=True)
    gate, calls = ExitGate(), [0]

    def process(frames: int) -> None:
        gate.check()
        calls[0] += 1

    client.set_process_callback(process)
    client.activate()
    return client, gate, calls


def test_exit_gate_lets_the_process_thread_leave_before_the_client_goes(jack_server):
    client, gate, calls = _counting_client(jack_server, "gated")
    wait_for(lambda: calls[0] > 5)
    t0 = time.monotonic()
    gate.close(client)
    assert gate.left.is_set()  # the callback saw the request and left by itself
    assert time.monotonic() - t0 < 1.0  # not the timeout
    n = calls[0]
    time.sleep(0.05)
    assert calls[0] == n  # and was never called again
    # and the server is still well: a new client runs (a close racing jack2's own
    # teardown of the thread had left the server failing every cycle)
    after, gate2, runs = _counting_client(jack_server, "after")
    wait_for(lambda: runs[0] > 20, timeout=5)
    gate2.close(after)
