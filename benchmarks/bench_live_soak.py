"""Soak benchmark of the live engine under JACK (dummy driver): not a test.

N minutes (default 10) at 48 kHz with 128-frame buffers, 10 stereo stems, 8 outputs.
A control thread exercises the transport (vamps, releases, jumps at the next bar,
level changes) while it plays. Reports, as a markdown table: xruns (JACK's xrun
callback), callback time p50/p99/max as a share of the buffer period, blocks without
audio ready (prefetch misses), command latency (queue -> applied in the callback,
plus one buffer until it is heard), and resident memory at start and end.

Control latency from a MIDI message (on by default; ``--no-midi`` to leave it out): the
engine's JACK client has its MIDI ports; a foot-switch client sends ``note 100``
(mapped to ``play/pause``) about every 1.5 s while a song plays, and a listener client
on output 7 (stem00 alone) finds the first output sample that changed (silence after
the pause, sound after the resume). The latency is counted in JACK frames, from the
moment the message was sent (``jack_frame_time``) to that sample, and reported as
p50/p99/max (to the output port; the driver's playback latency comes on top).
``--midi-hook MODULE:FUNC`` replaces it: ``FUNC(engine, duration_s, backend=backend)
-> dict[str, str]`` runs in a thread during the run and adds its rows to the table.

    .venv/bin/python benchmarks/bench_live_soak.py --minutes 10
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import md_table

SR = 48000
PERIOD = 128
STEMS = 10
OUTPUTS = 8
SONG_SECONDS = 30
TEMPO = 120.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_songs(folder: Path) -> Path:
    """10 stems of 60 s (16-bit stereo), click, cues, markers; a setlist repeating the song."""
    stems = folder / "stems"
    stems.mkdir(parents=True)
    n = SONG_SECONDS * SR
    t = np.arange(n) / SR
    rng = np.random.default_rng(1)
    for i in range(STEMS):
        f = 110 * 2 ** (i / 4)
        x = 0.05 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(n)
        sf.write(
            stems / f"stem{i:02d}.wav",
            np.stack([x, x[::-1]], axis=1).astype(np.float32),
            SR,
            subtype="PCM_16",
        )
    click = np.zeros(n, dtype=np.float32)
    click[:: SR // 2] = 0.5
    sf.write(stems / "click.wav", click, SR, subtype="PCM_16")
    sf.write(stems / "cues.wav", 0.1 * np.sin(2 * np.pi * 800 * t).astype(np.float32), SR, subtype="PCM_16")
    bar = 4 * 60 / TEMPO
    labels = ["Intro", "Verse", "Chorus", "Verse", "Chorus", "Bridge", "Chorus", "Outro"]
    per = SONG_SECONDS / len(labels)
    (folder / "markers.csv").write_text(
        "".join(f"{round(k * per / bar) * bar},{lab}\n" for k, lab in enumerate(labels))
    )
    songs = "".join(
        f'\n[[songs]]\ntitle = "Song {k + 1}"\nstems = "stems"\nmarkers = "markers.csv"\ntempo = {TEMPO}\n'
        f'between = "continue"\ngap_seconds = 0.5\n'
        for k in range(60)
    )
    songs += '\n[midi.map]\n"note 100" = "play/pause"\n'

    (folder / "set.toml").write_text(
        f'[setlist]\nsample_rate = {SR}\ncount_in_bars = 1\ncache = "cache"\n'
        f"[outputs]\ncount = {OUTPUTS}\nfoh = [1, 2]\nin_ear = [3, 4]\n"
        "[routing]\nmusic = [1, 2, 5, 6]\nstem00 = [1, 2, 7, 8]\n" + songs
    )
    return folder / "set.toml"


def start_jack(name: str) -> subprocess.Popen[bytes]:
    jackd = shutil.which("jackd")
    if jackd is None:
        sys.exit("jackd is not installed (apt install jackd2)")
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    proc = subprocess.Popen(
        [jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(SR), "-p", str(PERIOD)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    import jack

    for _ in range(100):
        try:
            jack.Client("probe", servername=name, no_start_server=True).close()
            return proc
        except jack.JackOpenError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("jackd did not start")


def baseline(server: str, seconds: float) -> tuple[int, int]:
    """xruns and callbacks of a client that only writes silence (what the machine gives)."""
    if seconds <= 0:
        return -1, 0
    import jack

    c = jack.Client("baseline", servername=server, no_start_server=True)
    ports = [c.outports.register(f"out_{i}") for i in range(OUTPUTS)]
    count = [0, 0]

    def xrun(delay: float) -> None:
        count[0] += 1

    def process(frames: int) -> None:
        count[1] += 1
        for p in ports:
            p.get_array()[:] = 0.0

    c.set_xrun_callback(xrun)
    c.set_process_callback(process)
    c.activate()
    time.sleep(seconds)
    c.deactivate()
    c.close()
    return count[0], count[1]


def midi_latency(engine: object, duration_s: float, *, backend: object) -> dict[str, str]:
    """The built-in MIDI hook (see the module docstring)."""
    import collections

    import jack

    from backline.live.backends.jack_backend import JackBackend
    from backline.live.engine import Engine

    assert isinstance(engine, Engine) and isinstance(backend, JackBackend)
    # two clients: one that sends into the engine and one that listens to it (a single
    # client doing both would close a loop in the JACK graph, which JACK breaks with a
    # period of delay)
    sender = jack.Client("soak-footswitch", servername=backend.server, no_start_server=True)
    c = jack.Client("soak-listener", servername=backend.server, no_start_server=True)
    mout = sender.midi_outports.register("out")
    ain = c.inports.register("in")
    outbox: collections.deque[bytes] = collections.deque()
    # what the listener waits for: "silence" or "sound" (set by the pressing thread), and
    # the frame of the change it found
    want: list[str | None] = [None]
    found: list[int | None] = [None]

    def send(frames: int) -> None:
        mout.clear_buffer()
        while outbox:
            mout.write_midi_event(0, outbox.popleft())

    def process(frames: int) -> None:
        w = want[0]
        if w is None or found[0] is not None:
            return
        x = ain.get_array()
        if w == "silence" and not x[:frames].any():
            found[0] = c.last_frame_time
        elif w == "sound" and x[:frames].any():
            found[0] = c.last_frame_time + int(np.flatnonzero(x[:frames])[0])

    sender.set_process_callback(send)
    c.set_process_callback(process)
    sender.activate()
    c.activate()
    sender.connect(mout, backend.midi_in)
    c.connect(backend.ports[6], ain)
    lat: list[float] = []
    lost = 0
    end = time.monotonic() + duration_s - 2.0
    rnd = random.Random(11)
    press = b"\x90\x64\x7f"
    release = b"\x80\x64\x00"

    def measure(kind: str) -> None:
        nonlocal lost
        found[0] = None
        want[0] = kind
        t0 = c.frame_time
        outbox.extend((press, release))
        deadline = time.monotonic() + 0.5
        while found[0] is None and time.monotonic() < deadline:
            time.sleep(0.001)
        want[0] = None
        if found[0] is None:
            lost += 1
        else:
            lat.append((found[0] - t0) / SR * 1000)

    while time.monotonic() < end:
        time.sleep(rnd.uniform(1.0, 2.0))
        song = engine.song
        if engine.state.value != "playing" or engine.pos > song.frames - SR or engine.fade_total:
            continue
        measure("silence")  # pause
        time.sleep(0.2)
        if engine.state.value == "paused":
            measure("sound")  # resume
        if engine.state.value == "paused":  # a press not seen: never leave the soak paused
            engine.play()
    for cl in (c, sender):
        cl.deactivate()
        cl.close()
    if not lat:
        return {"MIDI control latency": f"no measurement ({lost} lost)"}
    a = np.array(lat)
    period_ms = PERIOD / SR * 1000
    return {
        "MIDI control latency (message -> first changed output sample)": (
            f"p50 {np.percentile(a, 50):.2f} ms, p99 {np.percentile(a, 99):.2f} ms, max {a.max():.2f} ms "
            f"({len(a)} presses, {lost} not seen; + {period_ms:.2f} ms driver playback latency)"
        )
    }


def exercise(engine: object, stop: threading.Event) -> None:
    """Press buttons like a player would: vamp/release, jumps at the next bar, levels."""
    from backline.live.engine import Engine

    assert isinstance(engine, Engine)
    rnd = random.Random(7)
    while not stop.wait(rnd.uniform(2.0, 5.0)):
        r = rnd.random()
        if r < 0.25:
            engine.vamp()
        elif r < 0.5:
            engine.release()
        elif r < 0.75:
            engine.jump(rnd.choice(["Verse", "Chorus", "Bridge"]), "next_bar")
        else:
            engine.set_level(f"stem{rnd.randrange(STEMS):02d}", rnd.uniform(-12, 0))
        if engine.state.value == "stopped":
            engine.play()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument(
        "--baseline-seconds", type=float, default=30.0, help="first measure a silent client this long"
    )
    ap.add_argument("--midi-hook", default=None, help="MODULE:FUNC measuring MIDI control latency")
    ap.add_argument("--no-midi", action="store_true", help="no MIDI ports, no MIDI latency measure")
    args = ap.parse_args()
    from backline.live.backends.jack_backend import JackBackend
    from backline.live.engine import Engine
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    tmp = Path(tempfile.mkdtemp(prefix="backline-soak-"))
    name = f"backline-soak-{uuid.uuid4().hex[:6]}"
    jack_proc = start_jack(name)
    try:
        show = prepare_show(load_setlist(make_songs(tmp)))
        assert not show.problems, show.problems
        engine = Engine(show)
        base_x, _base_n = baseline(name, args.baseline_seconds)
        sys.setswitchinterval(0.0005)  # the audio thread waits at most 0.5 ms for the GIL
        backend = JackBackend(engine, server=name, midi=not args.no_midi)
        backend.start()
        time.sleep(1.0)
        engine.play()
        while engine.song_index < 1:  # warm up: three songs' streams resident
            time.sleep(0.5)
        time.sleep(2.0)
        backend.timer.reset()
        engine.misses = 0
        rss0 = rss_mb()
        stop = threading.Event()
        threading.Thread(target=exercise, args=(engine, stop), daemon=True).start()
        extra: dict[str, str] = {}
        hook = None
        if args.midi_hook:
            mod, fn = args.midi_hook.split(":")
            hook = getattr(importlib.import_module(mod), fn)
        elif not args.no_midi:
            hook = midi_latency
        if hook is not None:
            threading.Thread(
                target=lambda: extra.update(hook(engine, args.minutes * 60, backend=backend)), daemon=True
            ).start()
        t_end = time.monotonic() + args.minutes * 60
        while time.monotonic() < t_end:
            time.sleep(1.0)
        stop.set()
        rss1 = rss_mb()
        d = backend.timer.durations()
        xruns = backend.timer.xruns
        lat = [
            (n.c - n.b) / 1e6
            for n in list(engine.notices)
            if n.kind == "applied" and isinstance(n.b, int) and isinstance(n.c, int)
        ]
        backend.stop()
    finally:
        jack_proc.terminate()
        jack_proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    period_ms = PERIOD / SR * 1000
    rows: list[list[object]] = [
        ["duration", f"{args.minutes:g} min ({backend.timer.count} callbacks)"],
        [
            "setup",
            f"{STEMS} stereo stems + click + cues, {OUTPUTS} outputs, {SR} Hz, {PERIOD}-frame buffers (JACK dummy)",
        ],
        ["xruns", f"{xruns} ({xruns / (args.minutes * 60):.2f}/s)"],
        [
            "xruns of a silent client (machine baseline)",
            f"{base_x} in {args.baseline_seconds:g} s ({base_x / args.baseline_seconds:.2f}/s)"
            if base_x >= 0
            else "not measured",
        ],
        ["prefetch misses (blocks without audio ready)", engine.misses],
        [
            "callback p50",
            f"{np.percentile(d, 50) * 1000:.3f} ms ({np.percentile(d, 50) * 1000 / period_ms:.1%} of {period_ms:.2f} ms)",
        ],
        [
            "callback p99",
            f"{np.percentile(d, 99) * 1000:.3f} ms ({np.percentile(d, 99) * 1000 / period_ms:.1%})",
        ],
        ["callback max", f"{d.max() * 1000:.3f} ms ({d.max() * 1000 / period_ms:.1%})"],
        [
            "command latency (queue -> applied; + 1 buffer to audible)",
            f"p50 {np.percentile(lat, 50):.2f} ms, max {max(lat):.2f} ms (+{period_ms:.2f} ms)"
            if lat
            else "n/a",
        ],
        ["RSS start / end", f"{rss0:.1f} MB / {rss1:.1f} MB (growth {rss1 - rss0:+.1f} MB)"],
    ]
    rows += [[k, v] for k, v in extra.items()]
    print(md_table(["measure", "value"], rows))


if __name__ == "__main__":
    main()
