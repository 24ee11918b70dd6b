"""Fixtures for the live tests: synthetic songs and setlists, an engine factory, a JACK server."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_songs import SETLIST_HEAD, song_toml, write_song

from backline.live.setlist import load_setlist
from backline.live.show import Show, prepare_show


@pytest.fixture
def make_show(tmp_path: Path) -> Callable[..., Show]:
    """make_show(songs_toml, head=SETLIST_HEAD) -> Show; songs 'a' (8 bars: A A A A B B B B)
    and 'b' (6 bars: Verse x2, Chorus x4) exist under tmp_path."""
    write_song(tmp_path / "a")
    write_song(tmp_path / "b", bars=6, sections=((0.0, "Verse"), (2.0, "Chorus")))

    def make(songs: str | None = None, head: str = SETLIST_HEAD, deep: bool = False) -> Show:
        text = head + (songs if songs is not None else song_toml("One", "a") + song_toml("Two", "b"))
        (tmp_path / "set.toml").write_text(text)
        return prepare_show(load_setlist(tmp_path / "set.toml"), deep=deep)

    return make


# --- a real JACK server (dummy driver) --------------------------------------------------


def start_jackd(name: str, log: Path, rate: int = 48000) -> subprocess.Popen[bytes]:
    """Start ``jackd -d dummy`` as server ``name`` at ``rate`` (messages to ``log``) and wait
    until a client can connect; skips the test when jackd or JACK-Client is missing or the
    server does not come up."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd is not installed (apt install jackd2)")
    try:
        import jack
    except (ImportError, OSError) as exc:
        pytest.skip(f"JACK-Client is not usable: {exc}")
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    # jackd's messages go to a file, never to a pipe nobody reads: it writes a line per
    # xrun, and once a pipe's 64 KiB are full the server blocks on the write and stops
    # running clients (a client's MIDI then never arrived, in up to 5 of 16 runs)
    with log.open("wb") as logf:
        proc = subprocess.Popen(
            [jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(rate), "-p", "256"],
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c = jack.Client("probe", servername=name, no_start_server=True)
            c.close()
            return proc
        except jack.JackOpenError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    out = log.read_text(errors="replace")[-500:]
    if os.environ.get("BACKLINE_REQUIRE_JACK"):  # CI: a real-time test must run, not skip
        pytest.fail(f"jackd -d dummy did not start: {out}")
    pytest.skip(f"jackd -d dummy did not start: {out}")


def stop_jackd(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``jackd -d dummy`` (48 kHz, two playback ports) under a unique server name;
    yields the name."""
    name = f"backline-test-{uuid.uuid4().hex[:8]}"
    proc = start_jackd(name, tmp_path_factory.mktemp("jackd") / "jackd.log")
    yield name
    stop_jackd(proc)


@pytest.fixture
def own_jack_server(tmp_path: Path) -> Iterator[Callable[..., tuple[str, subprocess.Popen[bytes]]]]:
    """start(rate=48000) -> (name, process): a JACK server of this test's own (one it may
    kill, or at another rate); every one started is stopped at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(rate: int = 48000) -> tuple[str, subprocess.Popen[bytes]]:
        name = f"backline-own-{uuid.uuid4().hex[:8]}"
        proc = start_jackd(name, tmp_path / f"{name}.log", rate)
        procs.append(proc)
        return name, proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            stop_jackd(proc)
