"""The live setlist player: setlist, show loading, engine, routing, transport, backends.

Typical use::

    setlist = load_setlist("gig.toml")
    show = prepare_show(setlist)            # renders charts (cached), checks every file
    engine = Engine(show)
    JackBackend(engine, connect=["system:playback_1", ...]).start()
    engine.play(); engine.jump("Chorus", When.NEXT_BAR); engine.snapshot()

MIDI: ``JackBackend(engine, midi=True)`` adds ``midi_in`` (foot-switch, mapped by the
setlist's ``[midi]`` table through :class:`MidiControl`) and ``midi_out`` (program
changes and beat clock from :class:`MidiClock`); the terminal UI is
:class:`backline.live.tui.LiveApp`.
"""

from __future__ import annotations

from backline.live.commands import Action, Command, When, parse_action, parse_control_line
from backline.live.engine import Engine, EngineSnapshot, Notice, State
from backline.live.levels import MAX_LEVEL_DB, LevelChange, check_level_db
from backline.live.midi_clock import MidiClock, clock_ticks
from backline.live.midi_control import MidiConfig, MidiControl, Trigger, parse_midi_config, save_learned
from backline.live.offline import Event, RenderResult, load_events, parse_events, render_offline, run_offline
from backline.live.routing import MixLevels, Routing, build_routing
from backline.live.setlist import Levels, Setlist, SongSpec, load_setlist, parse_setlist, save_levels
from backline.live.show import PreparedSong, Problem, Show, prepare_show

__all__ = [
    "Action",
    "Command",
    "When",
    "parse_action",
    "parse_control_line",
    "Engine",
    "EngineSnapshot",
    "Notice",
    "State",
    "MAX_LEVEL_DB",
    "LevelChange",
    "check_level_db",
    "MidiClock",
    "clock_ticks",
    "MidiConfig",
    "MidiControl",
    "Trigger",
    "parse_midi_config",
    "save_learned",
    "Event",
    "RenderResult",
    "load_events",
    "parse_events",
    "render_offline",
    "run_offline",
    "MixLevels",
    "Routing",
    "build_routing",
    "Levels",
    "Setlist",
    "SongSpec",
    "load_setlist",
    "parse_setlist",
    "save_levels",
    "PreparedSong",
    "Problem",
    "Show",
    "prepare_show",
]
