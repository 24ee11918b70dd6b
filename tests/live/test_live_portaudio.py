"""The PortAudio backend (sounddevice) on a real server: PortAudio's JACK host API
talking to its own ``jackd -d dummy`` with eight playback ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest
from live_songs import BAR, SR, song_toml

from backline.live.engine import Engine

pytestmark = pytest.mark.jack


@pytest.fixture
def pa_jack_server():
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd is not installed (apt install jackd2)")
    sd = pytest.importorskip("sounddevice")
    name = f"backline-pa-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(SR), "-p", "256", "-P", "8", "-C", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, JACK_NO_AUDIO_RESERVATION="1"),
    )
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        device = None
        for _ in range(50):  # PortAudio reads the server name when it (re)initialises
            time.sleep(0.1)
            sd._terminate()
            sd._initialize()
            apis = [i for i, h in enumerate(sd.query_hostapis()) if "JACK" in h["name"]]
            outs = [
                i
                for i, d in enumerate(sd.query_devices())
                if apis and d["hostapi"] == apis[0] and d["max_output_channels"] >= 6
            ]
            if outs:
                device = outs[0]
                break
        if device is None:
            pytest.skip("PortAudio did not find the JACK server (no JACK host API in this PortAudio)")
        yield device
    finally:
        sd._terminate()  # let go of the server before it stops (JACK aborts clients it loses)
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        sd._initialize()


def test_portaudio_backend_plays_in_real_time_and_routes(make_show, pa_jack_server):
    from backline.live.backends.portaudio_backend import PortAudioBackend

    engine = Engine(make_show(song_toml("Two", "b")))
    backend = PortAudioBackend(engine, device=pa_jack_server, blocksize=256)
    backend.start()
    try:
        engine.play()
        t0 = time.monotonic()
        time.sleep(1.5)
        played = engine.frames_out
        elapsed = time.monotonic() - t0
        meters = engine.meters_db()
        pos = engine.pos
    finally:
        backend.stop()
    # the audio clock drives the engine: about real time (the dummy driver is clocked)
    assert 0.7 * elapsed * SR < played < 1.3 * elapsed * SR + 4096
    assert pos > 0.5 * BAR  # the song is moving
    # music on front of house, click + cues on the in-ears (outputs 5-6 carry the test's
    # position stem, see live_songs)
    assert meters[0] > -40 and meters[1] > -40
    assert meters[2] > -60 and meters[3] > -60


def test_portaudio_plays_on_when_the_machine_has_no_midi_system(make_show, pa_jack_server):
    """A gig review found that `live play --backend portaudio` stopped with "cannot open MIDI"
    on a machine without an ALSA sequencer (no /dev/snd/seq), though the setlist asks for no
    MIDI port: MIDI is the foot switch and the clock, the show plays on without it, with a
    warning."""
    from backline.live.backends.portaudio_backend import PortAudioBackend

    if os.path.exists("/dev/snd/seq"):
        pytest.skip("this machine has an ALSA sequencer: MIDI opens")
    engine = Engine(make_show(song_toml("Two", "b")))
    backend = PortAudioBackend(engine, device=pa_jack_server, blocksize=256, midi=True, midi_api="alsa")
    backend.start()
    try:
        engine.play()
        time.sleep(0.5)
        played = engine.frames_out
    finally:
        backend.stop()
    assert played > 0.2 * SR
    (warning,) = backend.midi_warnings()
    assert warning.startswith("cannot open MIDI (alsa): ") and warning.endswith(
        "the show plays on without MIDI."
    )
    assert engine.midi_out is None
