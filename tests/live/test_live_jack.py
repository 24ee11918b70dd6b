"""Against a real JACK server (dummy driver, started by the fixture): a recording client
connected to the engine's outputs checks routing and sample-exact transport."""

from __future__ import annotations

import time

import numpy as np
import pytest
from live_songs import BAR, SETLIST_HEAD, decode_pos, song_toml

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

    def listen_to(self, backend) -> None:
        """Start recording the backend's outputs (port k into input k)."""
        self.client.activate()
        for i, port in enumerate(self.ports):
            self.client.connect(backend.ports[i].name, port.name)
        time.sleep(0.2)


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
        rec.listen_to(backend)
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
    p, _ = _song_frames(out, engine)
    glitched = any(int(p[i + 1]) != 0 for i in np.flatnonzero(np.diff(p) != 1))
    return show, engine, backend, out, glitched


def _song_frames(out: np.ndarray, engine: Engine) -> tuple[np.ndarray, int]:
    """(the song frame of each recorded sample from the first one played up to the final
    stop, whose de-click fade scales the position code; that first sample's index in the
    recording)."""
    p = decode_pos(out[4], out[5])
    start = int(np.flatnonzero(p == 1)[0]) - 1
    played = next(n.frame for n in engine.notices if n.kind == "start")
    stop = next(n.frame for n in engine.notices if n.kind == "applied" and n.a == "stop")
    return p[start : start + stop - played], start


def _routing_matches(show, engine, out) -> bool:
    """Whether the FOH outputs carry the keys stem at the recorded song frame throughout."""
    import soundfile as sf

    keys = sf.read(show.songs[0].sources[0].path.parent / "keys.wav", dtype="float32")[0][:, 0]
    p, start = _song_frames(out, engine)
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
        if not glitched and not (backend.timer.xruns > 0 and not _routing_matches(show, engine, out)):
            break
    assert backend.shutdown_reason is None
    assert engine.misses == 0
    p, start = _song_frames(out, engine)
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
    click = sf.read(folder / "click.wav", dtype="float32")[0]
    cues = sf.read(folder / "cues.wav", dtype="float32")[0]
    played = slice(0, j_out + BAR // 2)
    idx = p[played]
    rec_all = out[:, start:][:, played]
    np.testing.assert_allclose(rec_all[0], keys[idx], atol=1e-6)  # FOH: the music only
    np.testing.assert_allclose(rec_all[1], keys[idx], atol=1e-6)
    for ch in (2, 3):  # in-ears: click + cues only (the cue faded out in a bar before a loop or jump)
        cue_part = rec_all[ch] - click[idx]
        assert np.all(np.abs(cue_part) <= np.abs(cues[idx]) + 1e-6)
        assert np.all(cue_part * cues[idx] >= -1e-9)
        assert np.abs(cue_part).max() > 0.2
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


# --- connections, sample rate, a server that dies: `backline live play` as a user runs it --


def _play(setlist, server: str, *args: str):
    """``backline live play --plain`` on ``server`` in its own process (stdin a pipe)."""
    import os
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "backline", "live", "play", str(setlist), "--plain", "--no-midi"]
        + ["--jack-server", server, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, COLUMNS="300"),
    )


def _connections(server: str, port: str, timeout: float = 20.0) -> list[str]:
    """The ports connected to ``port`` once it exists (a client of our own asks the server)."""
    import jack

    c = jack.Client("looker", servername=server, no_start_server=True)
    try:
        end = time.monotonic() + timeout
        while not c.get_ports(port):
            assert time.monotonic() < end, f"{port} never appeared"
            time.sleep(0.05)
        time.sleep(0.3)  # the connections follow the activation
        return [p.name for p in c.get_all_connections(port)]
    finally:
        c.close()


def test_outputs_connect_to_the_physical_ports_and_the_rest_is_named(make_show, tmp_path, jack_server):
    import jack

    from backline.cli.live_cmds import _connection_warnings
    from backline.live.backends.jack_backend import JackBackend

    engine = Engine(make_show(song_toml("Two", "b")))  # 6 outputs: foh 1-2, in-ear 3-4
    backend = JackBackend(engine, client_name="auto", server=jack_server, auto_connect=True)
    backend.start()
    try:
        probe = jack.Client("probe2", servername=jack_server, no_start_server=True)
        physical = [p.name for p in probe.get_ports(is_physical=True, is_input=True, is_audio=True)]
        probe.close()
        assert len(physical) == 2  # the dummy driver's system:playback_1 and _2
        assert backend.connected == {1: physical[0], 2: physical[1]}
        assert [[q.name for q in p.connections] for p in backend.ports[:2]] == [[physical[0]], [physical[1]]]
        assert backend.unconnected == [3, 4, 5, 6]
        (w,) = _connection_warnings(backend, given=None, connect=True)
        assert w == (
            "output(s) auto:out_3 (in-ear), auto:out_4 (in-ear), auto:out_5, auto:out_6 not connected: "
            "no sound from them (the server has 2 physical playback port(s); give --outputs or connect "
            "them in a JACK patchbay)."
        )
    finally:
        backend.stop()
    # --outputs with fewer ports than outputs: only those, and a warning
    backend = JackBackend(
        Engine(make_show(song_toml("Two", "b"))),
        client_name="given",
        server=jack_server,
        connect=[physical[1]],
    )
    backend.start()
    try:
        assert backend.connected == {1: physical[1]} and backend.unconnected == [2, 3, 4, 5, 6]
        first, second = _connection_warnings(backend, given=[physical[1]], connect=True)
        assert first == "--outputs names 1 port(s) for the setlist's 6 outputs."
        assert second.startswith("output(s) given:out_2 (front of house), given:out_3 (in-ear),")
    finally:
        backend.stop()


def test_live_play_connects_by_itself_and_warns(make_show, tmp_path, jack_server):
    make_show(song_toml("Two", "b"))
    head = (
        (tmp_path / "set.toml")
        .read_text()
        .replace("in_ear = [3, 4]", 'in_ear = [3, 4]\nnames = { 3 = "IEM L", 4 = "IEM R" }')
    )
    (tmp_path / "set.toml").write_text(head)
    proc = _play(tmp_path / "set.toml", jack_server)
    try:
        assert _connections(jack_server, "backline:out_1") == ["system:playback_1"]
        assert _connections(jack_server, "backline:out_3") == []
        _out, err = proc.communicate("quit\n", timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert (
        'warning: output(s) backline:out_3 (in-ear, "IEM L"), backline:out_4 (in-ear, "IEM R"), '
        "backline:out_5, backline:out_6 not connected: no sound from them" in err
    ), err
    # --no-connect: nothing connected, and still said
    proc = _play(tmp_path / "set.toml", jack_server, "--no-connect")
    try:
        assert _connections(jack_server, "backline:out_1") == []
        _out, err = proc.communicate("quit\n", timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "backline:out_1 (front of house) not" not in err
    assert "output(s) backline:out_1 (front of house), backline:out_2 (front of house)," in err
    assert "(--no-connect: connect them in a JACK patchbay)" in err


def test_a_sample_rate_mismatch_names_both_rates(make_show, jack_server):
    from backline.errors import LiveError
    from backline.live.backends.jack_backend import JackBackend

    show = make_show(
        song_toml("Two", "b"), head=SETLIST_HEAD.replace("sample_rate = 48000", "sample_rate = 44100")
    )
    backend = JackBackend(Engine(show), server=jack_server)
    with pytest.raises(LiveError) as exc:
        backend.start()
    assert str(exc.value).startswith("JACK runs at 48000 Hz but the setlist is at 44100 Hz")
    assert backend.client is None
    backend.stop()  # nothing left to close


def test_an_audio_server_that_dies_mid_show_is_reported(make_show, tmp_path, own_jack_server):
    name, jackd = own_jack_server()
    make_show(song_toml("Two", "b"))
    proc = _play(tmp_path / "set.toml", name)
    try:
        assert _connections(name, "backline:out_1") == ["system:playback_1"]
        proc.stdin.write("play\n")
        proc.stdin.flush()
        time.sleep(0.5)
        # the server goes away under the show (SIGTERM: a SIGKILLed jackd leaves its entry
        # in JACK's registry of servers, and after eight of them no new server starts)
        jackd.terminate()
        jackd.wait()
        _out, err = proc.communicate(timeout=30)  # stdin stays open: it must leave by itself
    finally:
        proc.kill()
    assert proc.returncode == 2, err
    assert "error: audio server stopped: " in err, err
    assert "Traceback" not in err


# --- what the show must survive (the code review's findings) ------------------------------


def test_an_unreadable_next_song_does_not_silence_the_song_playing(make_show, tmp_path, jack_server):
    # One stem of the *next* song goes missing after the check (a stick pulled, a file
    # renamed): the song playing goes on streaming, the error is said once and shown
    # in the backend's trouble line, and the next song is picked up when the file is back.
    from live_songs import write_song

    from backline.live.backends.jack_backend import JackBackend

    write_song(tmp_path / "long", bars=12)
    engine = Engine(make_show(song_toml("One", "long") + song_toml("Two", "b")))
    keys = tmp_path / "b" / "keys.wav"
    hidden = keys.rename(tmp_path / "keys.gone")
    told: list[str] = []
    engine.prefetcher.on_error = told.append
    backend = JackBackend(engine, client_name="backline-gone", server=jack_server)
    backend.start()
    try:
        engine.play()
        wait_for(lambda: engine.pos > 3 * BAR)  # far past the chunks kept resident at the top
        assert engine.misses == 0  # the song playing was streamed all along
        assert engine.prefetcher._thread is not None and engine.prefetcher._thread.is_alive()
        trouble = backend.trouble()
        assert trouble is not None and trouble.startswith("Two: cannot read audio ("), trouble
        assert "keys.wav" in trouble and trouble.endswith("it plays silent where it cannot be read")
        assert len(told) == 1 and told[0] in trouble
        hidden.rename(keys)  # the file is back
        wait_for(lambda: backend.trouble() is None, timeout=5)
        st = engine.streams[1]
        assert st is not None and st.ready
        assert engine.misses == 0
    finally:
        backend.stop()


def test_a_song_selected_from_outside_the_prefetch_window_starts_on_its_first_sample(
    make_show, tmp_path, jack_server
):
    from live_songs import SR, write_song

    from backline.live.backends.jack_backend import JackBackend

    for name in "cdef":
        write_song(tmp_path / name, bars=3, sections=((0.0, "A"), (2.0, "B")))
    titles = (("One", "a"), ("Two", "b"), ("C", "c"), ("D", "d"), ("E", "e"), ("F", "f"))
    engine = Engine(make_show("".join(song_toml(t, f) for t, f in titles)))  # no count-in
    assert len(engine.songs) == 6
    backend = JackBackend(engine, client_name="backline-far", server=jack_server)
    rec = Recorder(jack_server, engine.n_out, 8.0)
    backend.start()
    try:
        rec.listen_to(backend)
        assert engine.streams[5] is None  # song 6 is not resident
        engine.select_song(6)
        engine.play()  # at once: both reach the engine in the same period
        wait_for(lambda: engine.song_index == 5 and engine.pos > BAR)
        engine.stop()
        time.sleep(0.1)
    finally:
        rec.gate.close(rec.client)
        backend.stop()
    assert engine.misses == 0  # not one chunk read found its audio missing
    out = rec.recorded()
    p = decode_pos(out[4], out[5])
    assert (p == 1).any()  # the song's second sample was heard: its top was not silence
    first = int(np.flatnonzero(p == 1)[0]) - 1
    if backend.timer.xruns == 0:  # a period dropped in an xrun shows as a jump in the recording
        assert np.array_equal(p[first : first + BAR], np.arange(BAR))
    play = next(n for n in engine.notices if n.kind == "applied" and n.a == "play")
    start = next(n for n in engine.notices if n.kind == "start")
    assert 0 <= start.frame - play.frame < SR // 10  # held while it loaded: milliseconds


def _say(proc, line: str, expect: str, timeout: float = 20.0) -> str:
    """Type ``line`` at ``live play --plain`` and read its stderr until ``expect`` shows."""
    import os
    import select

    proc.stdin.write(line)
    proc.stdin.flush()
    fd = proc.stderr.fileno()
    buf = ""
    end = time.monotonic() + timeout
    while expect not in " ".join(buf.split()):
        left = end - time.monotonic()
        assert left > 0, f"no {expect!r} after {line!r}: {buf}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"stderr closed before {expect!r}: {buf}"
            buf += chunk.decode(errors="replace")
    return buf


def test_the_plain_prompt_survives_a_failed_save_and_bad_levels(make_show, tmp_path, jack_server):
    make_show(song_toml("Two", "b"))
    # a setlist whose temporary twin's name is too long for the file system: it can be
    # read, but not saved (an OutputError, which the prompt did not catch)
    setlist = tmp_path / ("s" * 240 + ".toml")
    (tmp_path / "set.toml").rename(setlist)
    proc = _play(setlist, jack_server, "--no-connect")
    try:
        _connections(jack_server, "backline:out_1")  # it runs
        err = _say(proc, "save\n", "error: cannot write")
        setlist.unlink()  # then the file goes away (a stick remounted)
        err += _say(proc, "save\n", "cannot read the setlist to save the levels (")
        err += _say(proc, "level keys nan\n", "level of keys must be a number of dB, not nan")
        err += _say(proc, "level keys 99\n", "level of keys 99 dB is above the +12 dB limit")
        _out, rest = proc.communicate("level keys -3\nquit\n", timeout=30)  # and quit still works
    finally:
        proc.kill()
    err += rest
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 4, err


def test_a_start_that_fails_leaves_no_client_and_no_thread(make_show, jack_server, monkeypatch):
    import jack

    from backline.errors import LiveError
    from backline.live.backends.jack_backend import JackBackend

    engine = Engine(make_show(song_toml("Two", "b")))
    # the client is open and its ports registered when the audio fails to load
    monkeypatch.setattr(engine, "wait_ready", lambda timeout=30.0: False)
    with (
        pytest.raises(LiveError, match="did not load in time"),
        JackBackend(engine, client_name="leftover", server=jack_server, connect=["nowhere:at_all"]),
    ):
        pass
    probe = jack.Client("probe4", servername=jack_server, no_start_server=True)
    try:
        left = [p.name for p in probe.get_ports("leftover:")]
    finally:
        probe.close()
    assert left == []  # the client was closed
    assert engine.prefetcher._thread is None  # and the prefetch thread stopped


def test_a_mistyped_output_port_is_a_warning_and_the_show_plays(make_show, jack_server):
    """Finding 8: a wrong --outputs port (renamed after a reboot) leaves that output
    unconnected with a warning naming its role; it used to stop the show."""
    from backline.cli.live_cmds import _connection_warnings
    from backline.live.backends.jack_backend import JackBackend

    engine = Engine(make_show(song_toml("Two", "b")))
    be = JackBackend(
        engine, client_name="typo", server=jack_server, connect=[None, None, "nowhere:at_all"], midi=False
    )
    be.start()
    try:
        assert be.output_unconnected and be.output_unconnected[0][:2] == (3, "nowhere:at_all")
        warnings = _connection_warnings(be, given=[None, None, "nowhere:at_all"], connect=True)
        text = "\n".join(warnings)
        assert "typo:out_3 (in-ear) not connected to 'nowhere:at_all'" in text, text
        # reported once, not again among the outputs left alone
        assert "out_3" not in warnings[-1] and "out_4 (in-ear)" in warnings[-1], text
        engine.play()
        time.sleep(0.3)
        assert be.failure() is None and engine.frames_out > 0
    finally:
        be.stop()


def test_rtmidi_ports_close_the_input_when_the_output_cannot_open(jack_server, monkeypatch):
    import jack

    from backline.errors import LiveError
    from backline.live.backends.portaudio_backend import RtMidiPorts

    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server)  # python-rtmidi's JACK API
    real_open = RtMidiPorts._open

    def failing_open(port, names, virtual, role):
        if role == "output":
            raise LiveError("cannot open a virtual MIDI port (test); name a port instead")
        return real_open(port, names, virtual, role)

    monkeypatch.setattr(RtMidiPorts, "_open", staticmethod(failing_open))
    with pytest.raises(LiveError, match="cannot open a virtual MIDI port"):
        RtMidiPorts(None, api="jack", client_name="halfopen")
    probe = jack.Client("probe5", servername=jack_server, no_start_server=True)
    try:
        left = [p.name for p in probe.get_ports("halfopen")]
    finally:
        probe.close()
    assert left == []  # the virtual input it had opened is gone


def test_rtmidi_port_that_is_not_there_is_a_warning_not_an_error(jack_server, monkeypatch):
    from backline.live.backends.portaudio_backend import RtMidiPorts

    monkeypatch.setenv("JACK_DEFAULT_SERVER", jack_server)
    ports = RtMidiPorts(None, api="jack", outputs=["no such synth"], client_name="missingout")
    try:
        assert len(ports.missing) == 1 and ports.missing[0].startswith(
            "'no such synth' (output): no such port"
        )
        assert not ports.out_open
        ports.schedule(0.0, b"\xc0\x01")  # nothing is sent to the closed output, nothing fails
        ports.wake.set()
        time.sleep(0.05)
    finally:
        ports.close()


def test_play_goes_on_when_a_midi_port_cannot_be_connected(make_show, tmp_path, jack_server):
    """An unplugged foot controller or a drum machine switched off: a warning naming the
    port, and the show plays (review finding 1: it used to exit 2 with no audio)."""
    import os
    import subprocess
    import sys

    make_show(
        song_toml("Two", "b")
        + '\n[midi]\ninput = ["a2j:FCB1010 [24] (capture): FCB1010 MIDI 1"]\n'
        + 'output = ["a2j:Drum machine [28] (playback): MIDI 1"]\n'
    )
    setlist = tmp_path / "set.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backline", "live", "play", str(setlist), "--plain"]
        + ["--jack-server", jack_server, "--no-connect"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, COLUMNS="300"),
    )
    try:
        ports = _connections(jack_server, "backline:midi_in")  # the client came up
        assert ports == []
        _out, err = proc.communicate("play\nquit\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    flat = " ".join(err.split())
    assert "warning: MIDI port 'a2j:FCB1010 [24] (capture): FCB1010 MIDI 1' (input)" in flat
    assert "'a2j:Drum machine [28] (playback): MIDI 1' (output)" in flat
    assert "the show plays on without it" in flat
