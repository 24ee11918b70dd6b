"""The terminal UI of ``backline live play`` (textual).

It shows the setlist, the current song, section, bar and beat, the next cue, the tempo,
the output meters and the keys for every action; it refreshes from
:meth:`~backline.live.engine.Engine.snapshot` 20 times a second and only ever sends
commands to the engine's queue (it never waits on the audio).

Keys: ``space`` play/stop, ``.`` pause, ``n``/``p`` next/previous song, ``1``-``9`` jump
to section N of the song (``j`` cycles when: next bar, end of section, now), ``v``
vamp/release, ``g`` go, ``f`` fade out, ``m`` mute/unmute the click, ``s`` save levels,
``l`` MIDI learn (then the key of the action, then the foot-switch), ``q`` quit.

A live screen never ends on an error: every key action and the refresh catch what they
raise (an unreadable setlist on save, a bug) and show it on the message line; only ``q``
(or the caller) ends the app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Concatenate, ParamSpec

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static

from backline.errors import BacklineError
from backline.live.commands import When
from backline.live.engine import Engine, EngineSnapshot
from backline.live.midi_control import MidiControl, command_of, save_learned
from backline.live.notices import NoticeReader, error_messages

__all__ = ["LiveApp", "KEY_ACTIONS", "meter_bar", "render_now"]

#: key -> the action text it sends (and learns with ``l``); digits jump to sections
KEY_ACTIONS: dict[str, str] = {
    "space": "play/stop",
    "full_stop": "play/pause",
    "n": "next",
    "p": "previous",
    "v": "vamp/release",
    "g": "go",
    "f": "fade 4",
}
_WHENS = (When.NEXT_BAR, When.END_OF_SECTION, When.NOW)
_WHEN_TEXT = {When.NEXT_BAR: "next bar", When.END_OF_SECTION: "end of section", When.NOW: "now"}
_P = ParamSpec("_P")


def _error_text(exc: Exception) -> str:
    """A message for the screen: ours as they are, anything else with its type."""
    return str(exc) if isinstance(exc, BacklineError) else f"error: {type(exc).__name__}: {exc}"


def _guarded(fn: Callable[Concatenate[LiveApp, _P], None]) -> Callable[Concatenate[LiveApp, _P], None]:
    """The last line of defence of a key action: what it raises goes to the message line
    (textual would end the app, and with it the show's audio)."""

    @functools.wraps(fn)
    def run(self: LiveApp, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            fn(self, *args, **kwargs)
        except Exception as exc:
            self.say(_error_text(exc))

    return run


def escape(text: str) -> str:
    """``text`` as markup that shows it as written: every ``[`` escaped (textual's own
    ``escape`` lets ``[Bridge]`` through, which its markup then drops as a style)."""
    return text.replace("[", "\\[")


def meter_bar(db: float, width: int = 24) -> str:
    """A text meter from -60 to 0 dBFS."""
    k = max(0, min(width, round((db + 60) / 60 * width)))
    return "#" * k + "." * (width - k)


def render_now(s: EngineSnapshot) -> str:
    """The big panel: song, state, section, bar.beat, tempo, next cue, flags (markup; the
    song's own text escaped: a title like "Medley [live]" shows as written)."""
    flags = [
        f
        for f, on in (
            (f"VAMP x{s.vamp_loops}", s.vamp),
            ("WAITING FOR GO", s.holding),
            ("PAD", s.pad),
            ("FADING", s.fading),
            (f"JUMP at bar {s.pending_jump_bar}", s.pending_jump_bar is not None),
            (
                f"THEN {s.numbers[s.cued] if s.numbers else s.cued + 1}. {escape(s.titles[s.cued])}"
                if s.cued is not None
                else "",
                s.cued is not None,
            ),
        )
        if on
    ]
    count = f"  count-in {s.count_in_left:.1f} s" if s.count_in_left > 0 else ""
    mins, secs = divmod(s.seconds, 60)
    return (
        f"[b]{s.number}/{s.setlist_count or s.song_count}  {escape(s.title)}[/b]   {s.state.upper()}{count}\n"
        f"section [b]{escape(s.section)}[/b]   bar [b]{s.bar}[/b]/{s.bar_count}  beat [b]{s.beat}[/b]/{s.beats_in_bar}"
        f"   {int(mins)}:{secs:04.1f}   {s.tempo:.0f} BPM\n"
        f"next cue: {escape(s.next_section or '(end)')}"
        + (f"   program {s.program}" if s.program is not None else "")
        + ("\n" + "  ".join(flags) if flags else "")
    )


class LiveApp(App[None]):
    """The live player's screen for ``engine``; ``control``: the MIDI mapping (for learn),
    ``setlist_path``: where learned bindings and levels are saved; ``health``: the
    backend's (failure, trouble) messages, polled with the display (a failure, such as the
    audio server stopping, stays on screen in the alert line); ``message``: the first
    message line (warnings from the start). The engine's error notices (a jump to a
    section the song does not have ...) show on the message line."""

    CSS = """
    #songs { width: 32; border: round $accent; padding: 0 1; }
    #main { border: round $accent; padding: 0 1; }
    #now { height: 5; }
    #sections { height: auto; margin-top: 1; }
    #meters { height: auto; margin-top: 1; }
    #message { height: 2; color: $warning; }
    #alert { height: auto; color: $error; text-style: bold; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("space", "key('space')", "play/stop"),
        Binding("full_stop", "key('full_stop')", "pause"),
        Binding("n", "key('n')", "next"),
        Binding("p", "key('p')", "prev"),
        Binding("v", "key('v')", "vamp/release"),
        Binding("g", "key('g')", "go"),
        Binding("f", "key('f')", "fade"),
        Binding("j", "cycle_when", "jump when"),
        Binding("m", "mute_click", "mute click"),
        Binding("s", "save_levels", "save levels"),
        Binding("l", "learn", "MIDI learn"),
        Binding("q", "quit", "quit"),
    ]
    BINDINGS += [Binding(str(k), f"jump({k})", f"section {k}", show=False) for k in range(1, 10)]

    def __init__(
        self,
        engine: Engine,
        *,
        control: MidiControl | None = None,
        setlist_path: Path | None = None,
        refresh_hz: float = 20.0,
        health: Callable[[], tuple[str | None, str | None]] | None = None,
        message: str = "",
    ) -> None:
        super().__init__()
        self.engine = engine
        self.control = control
        self.setlist_path = setlist_path if setlist_path is not None else engine.setlist.path
        self.refresh_hz = refresh_hz
        self.when = When.NEXT_BAR
        self.click_muted = False
        self.learn_step: str | None = None  # "key": waiting for the action's key; "midi": for MIDI
        self.message = message
        self.health = health
        self.alert = ""
        self.notices = NoticeReader(engine)
        self.texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="songs")
            with Vertical(id="main"):
                yield Static(id="now")
                yield Static(id="sections")
                yield Static(id="meters")
                yield Static(id="message")
                yield Static(id="alert")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"backline live: {self.engine.setlist.title}"
        self.refresh_view()
        self.set_interval(1 / self.refresh_hz, self.refresh_view)

    # --- display ----------------------------------------------------------------------
    def _set(self, wid: str, text: str) -> None:
        if self.texts.get(wid) != text:
            self.texts[wid] = text
            self.query_one(f"#{wid}", Static).update(text)

    def refresh_view(self) -> None:
        """Read the engine's snapshot and update the panels (only what changed); an error
        goes to the message line, and the next refresh tries again."""
        try:
            self._refresh_view()
        except Exception as exc:
            self.message = _error_text(exc)
            self._set("message", escape(self.message))

    def _refresh_view(self) -> None:
        s = self.engine.snapshot()
        self._set(
            "songs",
            "\n".join(
                ("[reverse]" if spec.index + 1 == s.number else "")
                + ("[dim]" if spec.index + 1 in s.left_out else "")
                + escape(f"{spec.index + 1:>2}. {spec.title[:26]}")
                + (" (left out)[/]" if spec.index + 1 in s.left_out else "")
                + ("[/]" if spec.index + 1 == s.number else "")
                for spec in self.engine.setlist.songs
            ),
        )
        self._set("now", render_now(s))
        song = self.engine.songs[s.song_index]
        secs = [
            escape(f"{k + 1} {sec.label}{f' #{sec.occurrence}' if sec.occurrence > 1 else ''}")
            + (" <" if sec.label == s.section and sec.start_bar < s.bar <= sec.end_bar else "")
            for k, sec in enumerate(song.sections[:9])
        ]
        self._set("sections", f"jump ({_WHEN_TEXT[self.when]}): " + "  ".join(secs))
        names = self.engine.setlist.outputs.names
        self._set(
            "meters",
            "\n".join(
                escape(f"{names.get(o + 1, f'out {o + 1}'):>8} {meter_bar(db)} {max(db, -60.0):6.1f} dB")
                for o, db in enumerate(s.meters_db)
            ),
        )
        self._poll_learn()
        for err in error_messages(self.notices.new()):
            self.message = err
        self._set("message", escape(self.message))
        if self.health is not None:
            failure, trouble = self.health()
            self.alert = "\n".join(m for m in (failure, trouble) if m)
        self._set("alert", escape(self.alert))

    def say(self, text: str) -> None:
        """Show ``text`` (plain text, not markup) on the message line."""
        self.message = text
        self._set("message", escape(text))

    # --- actions ------------------------------------------------------------------------
    def _fire(self, action: str) -> None:
        if self.learn_step == "key":
            self._learn_action(action)
            return
        self.engine.send(command_of(action, self.engine))

    @_guarded
    def action_key(self, key: str) -> None:
        """Send the action of ``key`` (see :data:`KEY_ACTIONS`)."""
        self._fire(KEY_ACTIONS[key])

    @_guarded
    def action_jump(self, n: int) -> None:
        """Jump to section ``n`` (1-based) of the current song."""
        song = self.engine.song
        if not 1 <= n <= len(song.sections):
            self.say(f"{song.title} has {len(song.sections)} section(s)")
            return
        sec = song.sections[n - 1]
        self._fire(f"jump {sec.label} #{sec.occurrence} {_WHEN_TEXT[self.when]}")

    @_guarded
    def action_cycle_when(self) -> None:
        self.when = _WHENS[(_WHENS.index(self.when) + 1) % len(_WHENS)]
        self.say(f"section jumps now happen at: {_WHEN_TEXT[self.when]}")

    @_guarded
    def action_mute_click(self) -> None:
        muted = not self.click_muted
        for i in range(len(self.engine.songs)):
            self.engine.mute("click", muted, song=i)
        self.click_muted = muted
        self.say("click muted" if muted else "click on")

    @_guarded
    def action_save_levels(self) -> None:
        """Save the levels into the setlist; a failure (the file moved, a stick remounted,
        a full disk) is shown, and the show goes on."""
        self.engine.save_levels()
        self.say("levels saved to the setlist")

    # --- MIDI learn ---------------------------------------------------------------------
    @_guarded
    def action_learn(self) -> None:
        if self.control is None:
            self.say("MIDI is off: no learn")
            return
        self.learn_step = "key"
        self.say("MIDI learn: press the key of the action (space n p v g f . 1-9), Esc cancels")

    @_guarded
    def key_escape(self) -> None:
        if self.learn_step is not None and self.control is not None:
            self.control.learn(None)
            self.learn_step = None
            self.say("learn cancelled")

    def _learn_action(self, action: str) -> None:
        assert self.control is not None
        self.control.learn(action)
        self.learn_step = "midi"
        self.say(f"MIDI learn {action!r}: press the foot-switch")

    def _poll_learn(self) -> None:
        ctl = self.control
        if ctl is None or not ctl.learned:
            return
        trig, action = ctl.learned.popleft()
        self.learn_step = None
        try:
            save_learned(self.setlist_path, trig, action)
            from backline.live.setlist import load_setlist

            ctl.set_config(load_setlist(self.setlist_path).midi)
        except Exception as exc:
            self.message = f"learn failed: {_error_text(exc)}"
            return
        self.message = f"learned: {trig} -> {action} (saved to {self.setlist_path.name})"
