"""``backline live``: check a setlist, render it offline against an event script, play it."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from backline.cli.common import console, err_console, handle_errors, say
from backline.errors import BacklineError, LiveError

if TYPE_CHECKING:
    from backline.live.backends.jack_backend import JackBackend as JackBackendT
    from backline.live.backends.portaudio_backend import PortAudioBackend as PortAudioBackendT

__all__ = ["register"]

live_app = typer.Typer(name="live", help="The live setlist player.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``live`` sub-app to ``app``."""
    app.add_typer(live_app, name="live")


def _load(setlist: Path, deep: bool) -> object:
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    sl = load_setlist(setlist)
    return prepare_show(sl, deep=deep, progress=lambda msg: say(err_console, msg, text_style="dim"))


def _problems(show: object, playing: bool) -> None:
    """Print the show's problems to stderr (``playing``: say that the song is left out)."""
    from backline.live.show import Show

    assert isinstance(show, Show)
    for p in show.problems:
        left_out = playing and p.song is not None and show.songs[p.song] is None
        say(err_console, f"{p}{' (song left out)' if left_out else ''}", "problem:", "bold red")


def _report(show: object, peaks: bool = True) -> None:
    """Per song: ok (and the role and outputs of every file) or FAIL; notes; warnings (combined
    gains capped, outputs predicted above 0 dBFS when ``peaks``, MIDI jumps no song can make);
    problems."""
    from backline.live.report import cap_notes, midi_jump_warnings, peak_warnings, stem_roles
    from backline.live.show import Show

    assert isinstance(show, Show)
    for spec, song in zip(show.setlist.songs, show.songs, strict=True):
        if song is not None:
            say(
                console,
                f"  {spec.index + 1:>2}. {spec.title}  ({song.frames / song.sample_rate:.1f} s, "
                f"{len(song.stems)} stem(s), {song.n_bars} bars, {len(song.sections)} sections)",
                "ok",
                "green",
            )
            for line in stem_roles(show.setlist, song):
                say(console, f"        {line}", text_style="dim")
        else:
            say(console, f"{spec.index + 1:>2}. {spec.title}", "FAIL", "red")
    for note in show.notes:
        say(console, f"note: {note}", text_style="dim")
    warnings = cap_notes(show) + (peak_warnings(show) if peaks else []) + midi_jump_warnings(show)
    for w in warnings:
        say(err_console, w, "warning:", "yellow")
    _problems(show, playing=False)


@live_app.command("check")
@handle_errors
def check_cmd(
    setlist: Path = typer.Argument(..., help="The setlist file (TOML)."),
    quick: bool = typer.Option(False, "--quick", help="Read file headers only (no full decode)."),
) -> None:
    """Validate every song of the setlist before the show (exit code 1 when any problem)."""
    show = _load(setlist, deep=not quick)
    _report(show, peaks=not quick)
    from backline.live.show import Show

    assert isinstance(show, Show)
    if show.problems:
        err_console.print(
            f"{len(show.problems)} problem(s); {len(show.playable)} of {len(show.songs)} songs can play"
        )
        raise typer.Exit(1)
    console.print(f"all {len(show.songs)} songs ready")


@live_app.command("render")
@handle_errors
def render_cmd(
    setlist: Path = typer.Argument(..., help="The setlist file (TOML)."),
    events: Path = typer.Option(
        None, "--events", "-e", help="Event script (.json, .jsonl, .toml, .yaml, .txt)."
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="File to write, one channel per output (.wav, .flac, .ogg; .mp3 only for 1-2 outputs).",
    ),
    block: int = typer.Option(512, "--block", help="Block size in frames."),
    autoplay: bool = typer.Option(True, "--autoplay/--no-autoplay", help="Send play at time 0."),
    max_seconds: float = typer.Option(
        None, "--max-seconds", help="Stop after this long (default: generous)."
    ),
    log: bool = typer.Option(
        None,
        "--log/--no-log",
        help="A line per fired event: time, song, bar, state, action (default: when 20 or fewer).",
    ),
) -> None:
    """Run the engine offline against an event script; write exactly what every output carries.
    Exits 1 (the file still written) when an event failed or --max-seconds stopped the
    render before every event fired."""
    from backline.live.engine import Engine
    from backline.live.offline import check_max_seconds, load_events, render_offline

    check_max_seconds(max_seconds)
    evs = load_events(events) if events is not None else []
    show = _load(setlist, deep=False)
    from backline.live.show import Show

    assert isinstance(show, Show)
    _problems(show, playing=True)
    engine = Engine(show)
    res = render_offline(engine, evs, output, block=block, autoplay=autoplay, max_seconds=max_seconds)
    failed = {(f, a) for f, a, _ in res.failed}
    say(
        console,
        f"wrote {output}: {engine.n_out} channels, {res.seconds:.2f} s, "
        f"{len(res.fired) - len(failed)} event(s) fired" + (f", {len(failed)} failed" if failed else ""),
    )
    if log or (log is None and len(res.log) <= 20):
        for frame, number, bar, state, action, _where in res.log:
            title = show.setlist.songs[number - 1].title
            at_bar = f"bar {bar}" if bar else "top"
            say(
                console,
                f"  {frame / engine.sr:8.3f} s  song {number} {title!r}  {at_bar:<8} {state:<14} {action}",
            )
    for frame, _action, msg in res.failed:
        say(err_console, f"{msg} (at {frame / engine.sr:.2f} s)", "failed:", "bold red")
    why = res.truncation()
    if why:
        err_console.print(f"warning: {why}")
    if res.misses:
        err_console.print(f"warning: {res.misses} block(s) had no audio ready")
    if failed or (res.truncated and res.events_left):
        raise typer.Exit(1)  # the file is written, but the script did not run as written


def _status(engine: object) -> str:
    from backline.live.engine import Engine

    assert isinstance(engine, Engine)
    s = engine.snapshot()
    meters = " ".join(f"{max(-60, int(v)):>4}" for v in s.meters_db)
    flags = "".join(
        f for f, on in ((" VAMP", s.vamp), (" GO?", s.holding), (" PAD", s.pad), (" FADE", s.fading)) if on
    )
    nxt = f" -> {s.next_section}" if s.next_section else ""
    if s.cued is not None:
        flags += f" THEN {s.numbers[s.cued]}"
    if s.overs:
        flags += f" CLIP x{s.overs}"
    return (
        f"[{s.number}/{s.setlist_count}] {s.title[:24]:<24} {s.state:<14} {int(s.seconds // 60)}:{s.seconds % 60:04.1f} "
        f"bar {s.bar:>3}/{s.bar_count} beat {s.beat} {s.section}{nxt} {s.tempo:.0f}bpm{flags} | {meters}"
    )


@live_app.command("play")
@handle_errors
def play_cmd(
    setlist: Path = typer.Argument(..., help="The setlist file (TOML)."),
    backend: str = typer.Option("jack", "--backend", "-b", help="jack or portaudio."),
    outputs: str = typer.Option(
        None,
        "--outputs",
        help="JACK: comma-separated ports per output (system:playback_1,...); PortAudio: the device.",
    ),
    connect: bool = typer.Option(
        True,
        "--connect/--no-connect",
        help="JACK without --outputs: connect output k to the k-th physical playback port.",
    ),
    server: str = typer.Option(None, "--jack-server", help="JACK server name."),
    midi: bool = typer.Option(
        True, "--midi/--no-midi", help="MIDI in (foot-switch) and out (program, clock)."
    ),
    midi_in: str = typer.Option(None, "--midi-in", help="MIDI port(s) to listen to (comma-separated)."),
    midi_out: str = typer.Option(None, "--midi-out", help="MIDI port(s) to send to (comma-separated)."),
    midi_api: str = typer.Option(
        None, "--midi-api", help="PortAudio backend: rtmidi API (alsa, jack, coremidi, winmm)."
    ),
    plain: bool = typer.Option(False, "--plain", help="A status line and typed actions instead of the UI."),
) -> None:
    """Play the setlist live in a terminal UI (keys: space play/stop, n/p next/previous,
    1-9 jump to a section, v vamp, g go, f fade, m mute click, l MIDI learn, q quit).
    With --plain: type actions and Enter (play, jump Chorus next bar, level bass -3, save, quit).
    Ends with an error (exit code 2) when the audio server stops under it."""
    from backline.live.engine import Engine
    from backline.live.show import Show

    show = _load(setlist, deep=False)
    assert isinstance(show, Show)
    _problems(show, playing=True)
    engine = Engine(show)
    sys.setswitchinterval(0.0005)  # the audio thread waits at most 0.5 ms for the GIL
    ins = [x.strip() for x in midi_in.split(",") if x.strip()] if midi_in else None
    outs = [x.strip() for x in midi_out.split(",") if x.strip()] if midi_out else None
    be: JackBackendT | PortAudioBackendT
    conns: list[str | None] | None = None
    if backend == "jack":
        from backline.live.backends.jack_backend import JackBackend

        conns = [c.strip() or None for c in outputs.split(",")] if outputs else None
        be = JackBackend(
            engine,
            server=server,
            connect=conns,
            auto_connect=connect and conns is None,
            midi=midi,
            midi_inputs=ins,
            midi_outputs=outs,
        )
    elif backend == "portaudio":
        from backline.live.backends.portaudio_backend import PortAudioBackend

        dev: str | int | None = int(outputs) if outputs and outputs.isdigit() else outputs
        be = PortAudioBackend(
            engine, device=dev, midi=midi, midi_api=midi_api, midi_inputs=ins, midi_outputs=outs
        )
    else:
        raise LiveError(f"unknown backend {backend!r}: use jack or portaudio")
    try:
        be.start()
        warnings = _connection_warnings(be, given=conns, connect=connect)
        for w in warnings:
            say(err_console, w, "warning:", "yellow")
        if plain:
            _plain_loop(engine, lambda: _health(be))
        else:
            from backline.live.tui import LiveApp

            LiveApp(
                engine,
                control=be.midi_control,
                setlist_path=setlist,
                health=lambda: _health(be),
                message=" ".join(warnings),
            ).run()
    finally:
        be.stop()
    failure = _health(be)[0]
    if failure:
        raise LiveError(failure)


def _health(be: object) -> tuple[str | None, str | None]:
    """(why the audio stopped for good, or None; trouble the show goes on with, or None)."""
    failure = getattr(be, "failure", None)
    trouble = getattr(be, "trouble", None)
    return (failure() if failure else None, trouble() if trouble else None)


def _connection_warnings(be: object, given: list[str | None] | None, connect: bool) -> list[str]:
    """What to tell the musician about JACK outputs that go nowhere and MIDI ports that could
    not be connected (the show plays on either way)."""
    from backline.live.backends.jack_backend import JackBackend

    midi_warnings = getattr(be, "midi_warnings", None)
    midi = list(midi_warnings()) if midi_warnings is not None else []
    if not isinstance(be, JackBackend):
        return midi
    spec = be.engine.setlist.outputs
    n = be.engine.n_out
    out: list[str] = []
    if given is not None and len(given) < n:
        out.append(f"--outputs names {len(given)} port(s) for the setlist's {n} outputs.")
    out += be.output_warnings()
    failed = {k for k, _port, _why in be.output_unconnected}
    loose = [k for k in be.unconnected if k not in failed]
    if loose:
        names = ", ".join(f"{be.client_name}:out_{spec.describe(k)}" for k in loose)
        if given is not None:
            why = "add ports to --outputs or connect them in a JACK patchbay"
        elif not connect:
            why = "--no-connect: connect them in a JACK patchbay"
        else:
            why = (
                f"the server has {len(be.physical_ports)} physical playback port(s); "
                "give --outputs or connect them in a JACK patchbay"
            )
        out.append(f"output(s) {names} not connected: no sound from them ({why}).")
    return out + midi


def _plain_loop(engine: object, health: Callable[[], tuple[str | None, str | None]]) -> None:
    """The status line and typed actions; returns on quit, or when the audio stops for good
    (``health``: the caller then reports it and exits 2). The engine's error notices go to stderr,
    and so does any error of a typed line: the prompt never dies while the show runs."""
    from backline.live.commands import parse_control_line
    from backline.live.engine import Engine
    from backline.live.levels import LevelChange
    from backline.live.notices import NoticeReader, error_messages

    assert isinstance(engine, Engine)
    quit_flag = threading.Event()
    reader_notices = NoticeReader(engine)

    def show(msg: str, label: str = "", style: str = "") -> None:
        sys.stdout.write("\n")  # leave the status line
        sys.stdout.flush()
        say(err_console, msg, label, style)

    def reader() -> None:
        try:
            for line in sys.stdin:
                text = line.strip()
                if not text:
                    continue
                try:
                    cmd = parse_control_line(text, words=("save", "quit", "exit", "q"))
                    if cmd in ("quit", "exit", "q"):
                        break
                    if cmd == "save":
                        engine.save_levels()
                        show("levels saved")
                    elif isinstance(cmd, LevelChange):
                        capped = cmd.apply(engine)
                        if capped:
                            show(capped, "warning:", "yellow")
                    elif not isinstance(cmd, str):
                        engine.send(cmd)
                except BacklineError as exc:
                    show(str(exc), "error:", "bold red")
                except Exception as exc:  # the last line of defence: the prompt must not die
                    show(f"{type(exc).__name__}: {exc}", "error:", "bold red")
        finally:
            quit_flag.set()

    threading.Thread(target=reader, daemon=True).start()
    last_trouble: str | None = None
    try:
        while not quit_flag.is_set():
            for msg in error_messages(reader_notices.new()):
                show(msg, "error:", "bold red")
            failure, trouble = health()
            if trouble != last_trouble and trouble is not None:
                show(trouble, "warning:", "yellow")
            last_trouble = trouble
            if failure is not None:
                break  # the caller reports it and exits 2
            sys.stdout.write("\r" + _status(engine)[:200] + "\x1b[K")
            sys.stdout.flush()
            time.sleep(0.1)
    finally:
        sys.stdout.write("\n")
        sys.stdout.flush()


@live_app.command("learn")
@handle_errors
def learn_cmd(
    setlist: Path = typer.Argument(..., help="The setlist file (TOML)."),
    action: str = typer.Argument(
        ..., help="The action to map: play, next, 'jump Chorus next bar', vamp/release, play/stop ..."
    ),
    backend: str = typer.Option("jack", "--backend", "-b", help="jack, or rtmidi (python-rtmidi)."),
    source: str = typer.Option(
        None,
        "--from",
        help="MIDI port to listen to (default JACK: every MIDI output; rtmidi: a virtual port).",
    ),
    server: str = typer.Option(None, "--jack-server", help="JACK server name."),
    midi_api: str = typer.Option(None, "--midi-api", help="rtmidi API (alsa, jack, coremidi, winmm)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for the foot-switch."),
) -> None:
    """MIDI learn: wait for the next MIDI press and map it to ACTION in the setlist (saved atomically)."""
    from backline.live.commands import Action
    from backline.live.midi_control import learn_once, save_learned, validate_action
    from backline.live.setlist import load_setlist

    sl = load_setlist(setlist)
    cfg = sl.midi
    cmd = validate_action(action)
    if cmd is not None and cmd.action is Action.JUMP and cmd.target is not None:
        from backline.live.report import jump_target_warning
        from backline.live.show import prepare_show

        show = prepare_show(sl, deep=False, progress=lambda msg: say(err_console, msg, text_style="dim"))
        why = jump_target_warning(str(cmd.target), show.playable)
        if why:
            say(err_console, f"{action!r}: {why}", "warning:", "yellow")
    err_console.print(f"press the foot-switch for {action!r} (waiting {timeout:g} s) ...")
    trig = learn_once(cfg, backend=backend, source=source, server=server, api=midi_api, timeout=timeout)
    save_learned(setlist, trig, action)
    console.print(f"learned: {trig} -> {action} (saved to {setlist})")
