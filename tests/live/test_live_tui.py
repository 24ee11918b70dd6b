"""The terminal UI, headless (textual's pilot): keys send the engine the right commands and
the screen shows the song, section, bar and meters; MIDI learn from the UI saves the binding."""

from __future__ import annotations

import asyncio

from live_songs import song_toml

from backline.live.commands import Action, When
from backline.live.engine import Engine
from backline.live.midi_control import MidiControl
from backline.live.setlist import load_setlist
from backline.live.tui import LiveApp, meter_bar


def drain(engine: Engine) -> list:
    out = list(engine.commands)
    engine.commands.clear()
    return out


def advance(engine: Engine, seconds: float) -> None:
    """Run the engine's audio callback as a backend would (offline, in this thread)."""
    engine.sync_prefetch = True
    for _ in range(int(seconds * engine.sr / 512)):
        engine.process(512)


def test_keys_send_commands_and_the_screen_follows(make_show):
    engine = Engine(make_show(song_toml("Two", "b") + song_toml("One", "a", "program = 4")))

    async def run() -> None:
        app = LiveApp(engine, control=MidiControl(engine.setlist.midi, engine))
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("space")
            cmds = drain(engine)
            assert [c.action for c in cmds] == [Action.TOGGLE_PLAY]  # the engine decides: play
            engine.send(cmds[0])
            advance(engine, 2.6)  # into the Chorus (bar 3)
            await pilot.pause(0.15)
            now = app.texts["now"]
            assert "Two" in now and "PLAYING" in now and "section [b]Chorus" in now
            assert "bar [b]3[/b]/6" in now and "240 BPM" in now and "next cue: (end)" in now
            assert "1 Verse" in app.texts["sections"] and "2 Chorus <" in app.texts["sections"]
            assert "###" in app.texts["meters"]  # music on the outputs
            await pilot.press("space")  # playing: space stops (the engine decides it, below)
            await pilot.press("v", "1", "j", "2", "g", "f", "full_stop", "n", "p")
            cmds = drain(engine)
            acts = [c.action for c in cmds]
            assert acts == [
                Action.TOGGLE_PLAY,
                Action.TOGGLE_VAMP,
                Action.JUMP,
                Action.JUMP,
                Action.GO,
                Action.FADE,
                Action.TOGGLE_PAUSE,
                Action.NEXT,
                Action.PREVIOUS,
            ]
            assert (cmds[2].target, cmds[2].when) == ("Verse #1", When.NEXT_BAR)
            assert (cmds[3].target, cmds[3].when) == ("Chorus #1", When.END_OF_SECTION)
            assert cmds[5].value == 4.0
            engine.send(cmds[0])
            advance(engine, 0.05)
            assert engine.state.value == "stopped"  # the toggle, applied while playing, stopped
            engine.next_song()
            advance(engine, 0.05)
            await pilot.pause(0.15)
            assert "2/2  One" in app.texts["now"] and "program 4" in app.texts["now"]
            assert "[reverse] 2. One" in app.texts["songs"]
            await pilot.press("m")
            assert engine._levels[0].muted == {"click"}

    asyncio.run(run())


def test_learn_from_the_ui_saves_the_binding(make_show, tmp_path):
    engine = Engine(make_show(song_toml("Two", "b")))
    control = MidiControl(engine.setlist.midi, engine)

    async def run() -> None:
        app = LiveApp(engine, control=control)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("l", "n")  # learn "next"
            assert control.learning == "next" and not engine.commands
            control.feed(b"\x90\x30\x40")  # the foot-switch: note 48
            await pilot.pause(0.2)
            assert "learned: note 48 ch 1 -> next" in app.texts["message"]
            control.feed(b"\x90\x30\x40")  # now it fires
            assert [c.action for c in drain(engine)] == [Action.NEXT]

    asyncio.run(run())
    assert load_setlist(tmp_path / "set.toml").midi.learned == {"note 48 ch 1": "next"}


def test_meter_bar():
    assert (
        meter_bar(0.0, 10) == "#" * 10
        and meter_bar(-120.0, 10) == "." * 10
        and meter_bar(-30, 10) == "#####....."
    )


def _shown(app: LiveApp, wid: str) -> str:
    """What a panel shows on screen (its markup rendered)."""
    return str(app.query_one(f"#{wid}").render())


def test_brackets_in_titles_and_sections_show_as_written(make_show, tmp_path):
    # "[/acoustic]" made rich raise MarkupError; "[live]" vanished as an unknown style
    (tmp_path / "b" / "markers.csv").write_text("time,label\n0,Verse [soft]\n2,Chorus [/x]\n")
    engine = Engine(
        make_show(
            song_toml("Encore [/acoustic]", "b")
            + song_toml("Medley [live]", "a")
            + song_toml("Also [b]bold[/b]", "a").replace('stems = "a"', 'stems = "a"\nmix = { keys = -1 }')
        )
    )

    async def run() -> None:
        app = LiveApp(engine)
        async with app.run_test(size=(120, 30)) as pilot:
            engine.play()
            advance(engine, 2.5)  # in "Chorus [/x]"
            await pilot.pause(0.15)
            songs = _shown(app, "songs")
            assert "1. Encore [/acoustic]" in songs and "2. Medley [live]" in songs
            assert "3. Also [b]bold[/b]" in songs
            now = _shown(app, "now")
            assert "1/3  Encore [/acoustic]" in now and "section Chorus [/x]" in now
            assert "1 Verse [soft]" in _shown(app, "sections") and "2 Chorus [/x] <" in _shown(
                app, "sections"
            )
            app.say("no section [Bridge]")
            await pilot.pause(0.05)
            assert _shown(app, "message") == "no section [Bridge]"

    asyncio.run(run())


def test_engine_errors_and_a_dead_audio_server_show_on_screen(make_show):
    engine = Engine(make_show(song_toml("Two", "b")))
    health = {"failure": None, "trouble": None}

    async def run() -> None:
        app = LiveApp(engine, health=lambda: (health["failure"], health["trouble"]), message="warning: out_3")
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause(0.1)
            assert _shown(app, "message") == "warning: out_3" and _shown(app, "alert") == ""
            engine.play()
            advance(engine, 0.5)
            engine.jump("Bridge")  # the song has no Bridge: the engine posts an error notice
            advance(engine, 0.05)
            await pilot.pause(0.15)
            assert _shown(app, "message") == "no jump target 'Bridge'"
            health["trouble"] = "audio callback failed in 1 period(s), silenced: ValueError: x"
            health["failure"] = "audio server stopped: killed [by test]"
            await pilot.pause(0.15)
            assert _shown(app, "alert") == (
                "audio server stopped: killed [by test]\n"
                "audio callback failed in 1 period(s), silenced: ValueError: x"
            )

    asyncio.run(run())


def test_a_song_cued_while_another_plays_shows_as_next(make_show):
    from backline.live.tui import render_now

    engine = Engine(make_show(song_toml("One", "a") + song_toml("Two [live]", "b") + song_toml("Three", "a")))
    engine.sync_prefetch = True
    engine.play()
    engine.process(256)
    engine.select_song(2)
    engine.process(256)
    s = engine.snapshot()
    assert s.state == "playing" and s.song_index == 0 and s.cued == 1
    assert "THEN 2. Two \\[live]" in render_now(s)
