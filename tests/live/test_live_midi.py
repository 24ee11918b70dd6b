"""MIDI control and MIDI out: the mapping, learn, clock tick positions (offline), and the
foot-switch, program change and beat clock against a real JACK server (dummy driver)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from live_songs import BAR, SETLIST_HEAD, SR, decode_pos, song_toml, write_song

from backline.errors import LiveError
from backline.live.commands import Action, When
from backline.live.engine import DECLICK_S, Engine
from backline.live.midi_clock import CLOCK, CONTINUE, START, STOP, clock_ticks, song_position
from backline.live.midi_control import (
    MidiControl,
    parse_midi_config,
    parse_trigger,
    save_learned,
    trigger_of,
)
from backline.live.setlist import load_setlist, parse_setlist

# --- the mapping --------------------------------------------------------------------------


def test_triggers_parse_and_print():
    assert str(parse_trigger("note 60")) == "note 60"
    t = parse_trigger("CC 64 ch 2")
    assert (t.kind, t.number, t.channel) == ("cc", 64, 1) and str(t) == "cc 64 ch 2"
    assert parse_trigger("pc any").number is None
    for bad in ("note 128", "cc 64 ch 17", "note any", "knob 3", "cc"):
        with pytest.raises(LiveError):
            parse_trigger(bad)


def test_config_defaults_map_and_errors():
    cfg = parse_midi_config(None)
    acts = {str(b.trigger): b.action for b in cfg.bindings}
    assert acts == {"cc 64": "play", "cc 67": "vamp/release", "cc 66": "stop", "pc any": "select"}
    cfg = parse_midi_config(
        {"defaults": False, "map": {"note 60": "next", "cc 64": "jump Chorus  next bar"}, "out_channel": 10}
    )
    acts = {str(b.trigger): b.action for b in cfg.bindings}
    assert acts == {"note 60": "next", "cc 64": "jump Chorus next bar"}
    assert cfg.out_channel == 9
    jump = cfg.binding_for("jump Chorus next bar")[0].command
    assert jump is not None and jump.action is Action.JUMP and jump.when is When.NEXT_BAR
    with pytest.raises(LiveError, match="unknown action"):
        parse_midi_config({"map": {"note 60": "explode"}}, "set.toml:9")
    with pytest.raises(LiveError, match=r"set\.toml:9"):
        parse_midi_config({"chanel": 3}, "set.toml:9")
    with pytest.raises(LiveError, match="pc any"):
        parse_midi_config({"map": {"note 1": "select"}})


def test_setlist_midi_table_is_read_with_its_line(tmp_path):
    text = SETLIST_HEAD + song_toml("One", "a") + '\n[midi]\nchannel = 3\n[midi.map]\n"note 70" = "bogus"\n'
    with pytest.raises(LiveError, match=r"set.toml:\d+: \[midi.map\] 'note 70'"):
        parse_setlist(text, tmp_path / "set.toml")
    sl = parse_setlist(text.replace("bogus", "fade 2"), tmp_path / "set.toml")
    assert sl.midi.channel == 2 and any(str(b.trigger) == "note 70" for b in sl.midi.bindings)


class FakeEngine:
    """Where commands go (the mapping never reads the engine: toggles are decided by it)."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, cmd) -> None:
        self.sent.append(cmd)


def test_presses_edges_channels_and_toggles():
    eng = FakeEngine()
    ctl = MidiControl(parse_midi_config({"map": {"note 60 ch 1": "next", "cc 20": "play/stop"}}), eng)
    assert ctl.feed(b"\x90\x3c\x40").action is Action.NEXT  # note on, channel 1
    assert ctl.feed(b"\x91\x3c\x40") is None  # another channel
    assert ctl.feed(b"\x90\x3c\x00") is None  # note on with velocity 0 = note off
    assert ctl.feed(b"\xf8") is None  # clock is not a press
    # sustain pedal: press (rising through 64) plays, held and release do nothing
    assert ctl.feed(b"\xb0\x40\x7f").action is Action.PLAY
    assert ctl.feed(b"\xb0\x40\x7f") is None
    assert ctl.feed(b"\xb0\x40\x00") is None
    # toggles go to the engine as toggles: it decides them when it applies them
    assert ctl.feed(b"\xb0\x43\x7f").action is Action.TOGGLE_VAMP
    assert ctl.feed(b"\xb0\x14\x7f").action is Action.TOGGLE_PLAY
    # program change N selects song N + 1
    cmd = ctl.feed(b"\xc0\x02")
    assert cmd.action is Action.SELECT and cmd.target == 3
    assert [c.action for c in eng.sent] == [
        Action.NEXT,
        Action.PLAY,
        Action.TOGGLE_VAMP,
        Action.TOGGLE_PLAY,
        Action.SELECT,
    ]
    # a latching switch acts on both edges
    latch = MidiControl(parse_midi_config({"latching": True, "channel": 2}), FakeEngine())
    assert latch.feed(b"\xb1\x40\x7f").action is Action.PLAY
    assert latch.feed(b"\xb1\x40\x00").action is Action.PLAY
    assert latch.feed(b"\xb0\x40\x7f") is None  # channel 1: not listened to
    assert trigger_of(b"\x80\x3c\x40") is None


def test_learn_saves_atomically_and_reassigns(tmp_path):
    write_song(tmp_path / "a")
    path = tmp_path / "set.toml"
    original = SETLIST_HEAD + "# my comment\n" + song_toml("One", "a")
    path.write_text(original)
    ctl = MidiControl(load_setlist(path).midi, FakeEngine())
    ctl.learn("jump B next bar")
    assert ctl.feed(b"\x99\x24\x50") is None  # learned, not fired
    trig, action = ctl.learned.popleft()
    assert str(trig) == "note 36 ch 10" and action == "jump B next bar"
    save_learned(path, trig, action)
    save_learned(path, "cc 20", "vamp/release")
    save_learned(path, "note 40", "jump B next bar")  # re-learn: replaces note 36
    text = path.read_text()
    assert text.startswith(original)  # the rest of the file is kept byte for byte
    cfg = load_setlist(path).midi
    assert cfg.learned == {"cc 20": "vamp/release", "note 40": "jump B next bar"}
    acts = {str(b.trigger): b.action for b in cfg.bindings}
    assert acts["note 40"] == "jump B next bar" and "note 36 ch 10" not in acts and acts["cc 64"] == "play"
    with pytest.raises(LiveError):
        save_learned(path, "note 41", "nonsense")
    assert path.read_text() == text
    assert not list(tmp_path.glob(".set.toml.*"))  # no temporary file left


# --- clock ticks, offline -----------------------------------------------------------------


def tempo_change_song(folder: Path, tempos=(240.0, 240.0, 300.0, 300.0)) -> Path:
    """Stems (pos, keys, click, cues) for bars at ``tempos`` and a render.json bar grid."""
    import soundfile as sf
    from live_songs import impulses, pos_stem, tone

    starts = [0.0]
    for t in tempos:
        starts.append(starts[-1] + 4 * 60 / t)
    n = round(starts[-1] * SR)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    sf.write(folder / "keys.wav", tone(n, 220.0), SR, subtype="FLOAT")
    sf.write(folder / "click.wav", impulses(n, BAR // 4), SR, subtype="FLOAT")
    sf.write(folder / "cues.wav", np.zeros(n, dtype=np.float32), SR, subtype="FLOAT")
    bars = [
        {"start_seconds": s, "time_signature": [4, 4], "tempo": t, "section": "A" if i < 2 else "B"}
        for i, (s, t) in enumerate(zip(starts, tempos, strict=False))
    ]
    (folder / "render.json").write_text(json.dumps({"bars": bars}))
    return folder


def test_clock_ticks_follow_the_tempo_map(make_show, tmp_path):
    show = make_show(song_toml("One", "a"))  # 8 bars at 240 BPM: 96 ticks per bar, 500 frames apart
    t = clock_ticks(show.songs[0])
    assert len(t) == 8 * 96 and t[0] == 0
    assert np.all(np.diff(t) == 500)
    tempo_change_song(tmp_path / "c")
    show = make_show('\n[[songs]]\ntitle = "C"\nstems = "c"\nmarkers = "c/render.json"\n')
    t = clock_ticks(show.songs[0])
    assert len(t) == 4 * 96
    d = np.diff(t)
    assert np.all(d[:191] == 500)  # 240 BPM
    assert np.all(d[192:] == 400)  # 300 BPM
    assert t[192] == 2 * BAR  # the tick lands exactly on the bar line of the change
    # a pickup before the first downbeat: ticks aligned to the downbeat
    show = make_show('\n[[songs]]\ntitle = "P"\nstems = "a"\ntempo = 240\nfirst_downbeat = 0.26\n')
    song = show.songs[0]
    t = clock_ticks(song)
    first = song.bar_starts[1]
    assert first == round(0.26 * SR) and first in set(t.tolist())
    assert np.all(np.diff(t) == 500)


def run_blocks(engine: Engine, seconds: float, block: int = 256, events=None) -> tuple[list, np.ndarray]:
    """Drive the engine like a backend; returns (MIDI (frame, bytes), outputs)."""
    engine.sync_prefetch = True
    got: list[tuple[int, bytes]] = []
    outs = []
    events = dict(events or {})
    while engine.frames_out < seconds * SR:
        base = engine.frames_out
        for at in [a for a in events if a <= base]:
            events.pop(at)(engine)
        outs.append(engine.process(block).copy())
        engine.midi_out.drain(lambda o, d, base=base: got.append((base + o, d)), 0, block)
    return got, np.concatenate(outs, axis=1)


def test_clock_start_stop_spp_and_program_changes_offline(make_show):
    show = make_show(
        song_toml("One", "a", "program = 7")
        + song_toml("Two", "b", "program = 9\ncount_in_bars = 1")
        + "\n[midi]\nout_channel = 2\n"
    )
    engine = Engine(show)
    engine.enable_midi_out()
    got, out = run_blocks(
        engine,
        3.6,
        events={
            0: lambda e: e.play(),
            int(0.5 * SR): lambda e: e.jump("B", "next_bar"),  # at bar 2 -> bar 5 (frame 4 BAR)
            int(2.2 * SR): lambda e: e.next_song(),
            int(2.3 * SR): lambda e: e.play(),  # song Two, one bar of count-in
        },
    )
    p = decode_pos(out[4], out[5])
    kinds = [(f, d) for f, d in got if d != CLOCK]
    # program change of song One at once, on channel 2; Start with the first sample
    assert kinds[0] == (0, b"\xc1\x07")
    assert kinds[1][1] == START and p[kinds[1][0]] == 0
    # the jump at the next bar: Stop, SPP (bar 5 = 16 sixteenths x 4), Continue at that sample
    jump_at = int(np.flatnonzero(np.diff(p) != 1)[0]) + 1
    assert p[jump_at] == 4 * BAR and jump_at == BAR
    assert kinds[2:5] == [(jump_at, STOP), (jump_at, song_position(64)), (jump_at, CONTINUE)]
    # next song: Stop where the audio stops, then Two's program change
    assert kinds[5][1] == STOP and kinds[6] == (kinds[5][0], b"\xc1\x09")
    # clocks: every 500 frames while One played (240 BPM), across the jump too
    ticks = np.array([f for f, d in got if d == CLOCK])
    one = ticks[ticks < kinds[5][0]]
    assert np.all(np.diff(one) == 500)
    # Two's count-in (1 bar = 1 s at 240 BPM) ticks, then Start exactly when its audio begins
    start2 = kinds[7]
    assert start2[1] == START
    s2 = start2[0]
    assert np.array_equal(p[s2 : s2 + 1000], np.arange(1000))  # Two's first frame plays at s2
    assert not out[5, s2 - SR // 2 : s2].any() and not out[0, s2 - SR // 2 : s2].any()  # count-in
    pre = ticks[(ticks > kinds[6][0]) & (ticks < start2[0])]
    assert len(pre) == 96 and np.all(np.diff(np.append(pre, start2[0])) == 500)


def test_clock_pause_resume_and_vamp_loop(make_show):
    engine = Engine(make_show(song_toml("Two", "b")))  # Verse = bars 1-2
    engine.enable_midi_out()
    got, _ = run_blocks(
        engine,
        2.8,
        events={
            0: lambda e: e.play(),
            int(0.3 * SR): lambda e: e.pause(),
            int(0.5 * SR): lambda e: e.pause(),
            int(0.7 * SR): lambda e: e.vamp(),
        },
    )
    kinds = [(f, d) for f, d in got if d != CLOCK]
    # the first press takes effect at the end of its de-click fade, the second (resume) at once
    paused, resumed = 57 * 256 + round(DECLICK_S * SR), 94 * 256
    vamped_loop = resumed + 2 * BAR - paused  # the end of the Verse, two bars of song time
    assert kinds == [
        (0, START),
        (paused, STOP),
        (resumed, song_position(5)),  # 14832 frames = tick 29.7: resume on sixteenth 5 (tick 30)
        (resumed, CONTINUE),
        (vamped_loop, STOP),  # the vamp loops back to the top of the song: Start again
        (vamped_loop, START),
    ]
    ticks = np.array([f for f, d in got if d == CLOCK])
    assert ticks[30] == resumed + 30 * 500 - paused  # tick 30 plays exactly at its song frame
    assert np.all(np.diff(ticks[31:]) == 500) and np.all(np.diff(ticks[:30]) == 500)


# --- against a real JACK server -----------------------------------------------------------


class Rig:
    """Test clients on the JACK server, as on a stage: a foot-switch client upstream of the
    engine (``send`` plays a switch into the engine's MIDI input) and a recorder downstream
    (every engine output and the engine's MIDI output, indexed by recorded sample).

    Two clients, not one: a single client both feeding and recording the engine makes a
    cycle in the JACK graph, and in about one run in four jackd then never delivered the
    client's MIDI to the engine (measured: 4 of 16 runs, the engine received nothing)."""

    def __init__(self, server: str, backend, seconds: float) -> None:
        import collections

        import jack

        from backline.live.backends.jack_backend import ExitGate

        self.client = jack.Client("midi-rig", servername=server, no_start_server=True)
        self.pedal = jack.Client("midi-pedal", servername=server, no_start_server=True)
        c = self.client
        n = backend.engine.n_out
        self.ins = [c.inports.register(f"in_{i + 1}") for i in range(n)]
        self.midi_in = c.midi_inports.register("midi_in")
        self.midi_out = self.pedal.midi_outports.register("midi_out")
        self.buf = np.zeros((n, int(seconds * c.samplerate)), dtype=np.float32)
        self.pos = 0
        self.midi: list[tuple[int, bytes]] = []
        self.outbox: collections.deque[bytes] = collections.deque()
        self.sent: list[tuple[int, bytes]] = []
        self.gates = (ExitGate(), ExitGate())
        c.set_process_callback(self._process)
        self.pedal.set_process_callback(self._pedal)
        c.activate()
        self.pedal.activate()
        for i, p in enumerate(self.ins):
            c.connect(backend.ports[i].name, p.name)
        c.connect(backend.midi_out.name, self.midi_in.name)
        self.pedal.connect(self.midi_out.name, backend.midi_in.name)

    def _pedal(self, frames: int) -> None:
        # runs before the engine in each period, the recorder after it: ``self.pos`` is the
        # recorded index of this period's first sample
        self.gates[1].check()
        self.midi_out.clear_buffer()
        while self.outbox:
            msg = self.outbox.popleft()
            self.midi_out.write_midi_event(0, msg)
            self.sent.append((self.pos, msg))

    def _process(self, frames: int) -> None:
        self.gates[0].check()
        for off, data in self.midi_in.incoming_midi_events():
            self.midi.append((self.pos + off, bytes(data)))
        k = min(frames, self.buf.shape[1] - self.pos)
        for i, p in enumerate(self.ins):
            self.buf[i, self.pos : self.pos + k] = p.get_array()[:k]
        self.pos += k

    def send(self, *msgs: bytes) -> None:
        self.outbox.extend(msgs)

    def close(self) -> None:
        self.gates[1].close(self.pedal)
        self.gates[0].close(self.client)


def wait_for(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "the engine did not get there in time"
        time.sleep(0.003)


PEDAL_DOWN, PEDAL_UP = b"\xb0\x40\x7f", b"\xb0\x40\x00"  # sustain pedal (CC 64): play
SOFT_DOWN, SOFT_UP = b"\xb0\x43\x7f", b"\xb0\x43\x00"  # soft pedal (CC 67): vamp / release
MIDDLE_DOWN = b"\xb0\x42\x7f"  # sostenuto (CC 66): stop


@pytest.mark.jack
def test_jack_foot_switch_drives_the_show_and_program_changes_go_out(make_show, jack_server):
    from backline.live.backends.jack_backend import JackBackend

    show = make_show(
        song_toml("Two", "b", "program = 5")  # Verse = bars 1-2, Chorus = bars 3-6
        + song_toml("One", "a", "program = 3\nmix = { keys = -6.0 }")
        + '\n[midi.map]\n"note 60" = "next"\n'
    )
    engine = Engine(show)
    backend = JackBackend(engine, client_name="backline-midi", server=jack_server, midi=True)
    backend.start()
    rig = Rig(jack_server, backend, 12.0)
    try:
        # a device connected to midi_out gets the current song's program
        wait_for(lambda: any(d == b"\xc0\x05" for _, d in rig.midi))
        rig.send(PEDAL_DOWN, PEDAL_UP)  # play
        wait_for(lambda: engine.state.value == "playing" and engine.pos > 0.3 * BAR)
        rig.send(SOFT_DOWN, SOFT_UP)  # vamp the Verse
        wait_for(lambda: engine.vamp_loops >= 1 and engine.pos > 0.3 * BAR)
        rig.send(SOFT_DOWN, SOFT_UP)  # the same pedal releases
        wait_for(lambda: engine.pos > 2.3 * BAR)
        rig.send(b"\x90\x3c\x64", b"\x80\x3c\x00")  # note 60: next song
        wait_for(lambda: engine.song_index == 1)
        time.sleep(0.1)
        rig.send(PEDAL_DOWN, PEDAL_UP)  # play song One
        wait_for(lambda: engine.state.value == "playing" and engine.pos > 0.5 * BAR)
        rig.send(MIDDLE_DOWN)  # stop
        wait_for(lambda: engine.state.value == "stopped")
        time.sleep(0.1)
    finally:
        rig.close()
        backend.stop()
    applied = [n.a for n in engine.notices if n.kind == "applied"]
    if backend.timer.xruns:  # a test client skipped in an xrun leaves its MIDI buffer to be read twice
        applied = [x for i, x in enumerate(applied) if i == 0 or x != applied[i - 1] or x == "release"]
    assert applied == ["play", "vamp", "release", "next", "play", "stop"]
    out = rig.buf[:, : rig.pos]
    p = decode_pos(out[4], out[5])
    audible = np.abs(out[0]) > 0
    first = int(np.flatnonzero(p == 1)[0]) - 1  # the song's frame 0 (its keys tone starts at 0.0)
    steps = [(int(i) + 1, int(p[i]), int(p[i + 1])) for i in np.flatnonzero(np.diff(p) != 1)]
    loops = [s for s in steps if s[1] == 2 * BAR - 1 and s[2] == 0]
    assert len(loops) == 1  # the Verse played twice: the vamp looped exactly at its last sample
    chorus = int(np.flatnonzero(p == 2 * BAR)[0])
    assert p[chorus - 1] == 2 * BAR - 1  # released: into the Chorus
    # next song: silence, then song One from its top with its keys 6 dB down
    silent = int(np.flatnonzero(~audible[chorus:])[0]) + chorus
    restart = int(np.flatnonzero(audible[silent:])[0]) + silent - 1
    assert p[restart] == 0 and p[restart + 1000] == 1000
    ratio = np.abs(out[0, restart : restart + SR // 4]).max() / np.abs(out[0, first : first + SR // 4]).max()
    assert ratio == pytest.approx(10 ** (-6 / 20), rel=0.01)
    # MIDI out: program 5 at once, Start with the first sample, program 3 on "next"
    msgs = [(f, d) for f, d in rig.midi if d != CLOCK]
    assert msgs[0][1] == b"\xc0\x05"
    start = next(f for f, d in msgs if d == START)
    assert start == first
    assert (b"\xc0\x03" in [d for _, d in msgs]) and msgs[-1][1] == STOP
    pc3 = next(f for f, d in msgs if d == b"\xc0\x03")
    assert chorus < pc3 <= silent + 1
    # the switch acted within the period it arrived in (256 frames)
    note_at = next(f for f, d in rig.sent if d[0] == 0x90)
    assert 0 <= silent - note_at <= 256 or backend.timer.xruns > 0


@pytest.mark.jack
def test_jack_midi_clock_follows_the_tempo_change(make_show, jack_server, tmp_path):
    from backline.live.backends.jack_backend import JackBackend

    tempo_change_song(tmp_path / "c")  # bars 1-2 at 240 BPM, bars 3-4 at 300 BPM
    show = make_show(
        '\n[[songs]]\ntitle = "C"\nstems = "c"\nmarkers = "c/render.json"\nrouting = { pos = [5, 6] }\n'
    )
    engine = Engine(show)
    backend = JackBackend(engine, client_name="backline-clock", server=jack_server, midi=True)
    backend.start()
    rig = Rig(jack_server, backend, 6.0)
    try:
        time.sleep(0.1)
        engine.play()
        wait_for(lambda: engine.show_over)
        time.sleep(0.1)
    finally:
        rig.close()
        backend.stop()
    out = rig.buf[:, : rig.pos]
    p = decode_pos(out[4], out[5])
    first = int(np.flatnonzero(p == 1)[0]) - 1
    kinds = [(f, d) for f, d in rig.midi if d != CLOCK]
    assert kinds[0] == (first, START)  # Start on the song's first sample
    change = int(np.flatnonzero(p == 2 * BAR)[0])  # where 300 BPM begins (bar 3)
    assert change == first + 2 * BAR or backend.timer.xruns > 0
    ticks = np.array([f for f, d in rig.midi if d == CLOCK and f >= first])
    assert kinds[-1][1] == STOP and kinds[-1][0] >= ticks[-1]
    glitch_free = backend.timer.xruns == 0  # this shared machine may drop a period now and then
    for a, b, bpm in ((first, change, 240.0), (change, kinds[-1][0], 300.0)):
        seg = ticks[(ticks >= a) & (ticks < b)]
        # the tick period, robust to a period an xrun dropped: the median interval
        assert SR / np.median(np.diff(seg)) == pytest.approx(bpm / 60 * 24, rel=0.005)
        if glitch_free:
            rate = (len(seg) - 1) / ((seg[-1] - seg[0]) / SR)
            assert rate == pytest.approx(bpm / 60 * 24, rel=0.005)
            assert len(seg) == 2 * 96  # two bars of 24 ppqn
    assert change in set(ticks.tolist())  # a tick exactly on the bar line of the change


@pytest.mark.jack
def test_cli_learn_over_jack_saves_the_mapping(make_show, jack_server, tmp_path):
    import jack
    from typer.testing import CliRunner

    from backline.cli.live_cmds import live_app

    make_show(song_toml("Two", "b"))  # writes set.toml
    from backline.live.backends.jack_backend import ExitGate

    sender = jack.Client("footswitch", servername=jack_server, no_start_server=True)
    port = sender.midi_outports.register("out")
    count = [0]
    gate = ExitGate()

    def process(frames: int) -> None:
        gate.check()
        port.clear_buffer()
        count[0] += 1
        if count[0] % 20 == 0:  # a press every 20 periods (~0.1 s)
            port.write_midi_event(3, b"\x92\x32\x7f")

    sender.set_process_callback(process)
    sender.activate()
    try:
        res = CliRunner().invoke(
            live_app,
            [
                "learn",
                str(tmp_path / "set.toml"),
                "jump Chorus next bar",
                "--jack-server",
                jack_server,
                "--timeout",
                "5",
            ],
        )
    finally:
        gate.close(sender)
    assert res.exit_code == 0, res.output
    cfg = load_setlist(tmp_path / "set.toml").midi
    assert cfg.learned == {"note 50 ch 3": "jump Chorus next bar"}
