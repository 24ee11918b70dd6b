"""Control input the show must survive: toggles decided by the engine, the spellings of a
jump's time, comments in event scripts, levels (NaN, absurd gains, -inf), the one parser
of level lines, and saving the levels when the setlist is gone (the UI carries on)."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from live_songs import BAR, SR, decode_pos, render, song_toml, write_song

from backline.errors import LiveError
from backline.live.commands import Action, Command, When
from backline.live.engine import Engine, State
from backline.live.midi_control import MidiControl
from backline.live.offline import parse_events
from backline.live.setlist import Levels, load_setlist, save_levels

FOH = (0, 1)
IEM = (2, 3)

NOTE_60, NOTE_62 = b"\x90\x3c\x64", b"\x90\x3e\x64"  # two foot-switches sending notes


def run(engine: Engine, blocks: int, n: int = 256) -> np.ndarray:
    """The engine's audio callback, as a backend calls it (the prefetch in this thread)."""
    engine.sync_prefetch = True
    return np.concatenate([engine.process(n).copy() for _ in range(blocks)], axis=1)


def applied(engine: Engine) -> list[object]:
    return [n.a for n in engine.notices if n.kind == "applied"]


# --- finding 17: toggles are decided when the engine applies them -------------------------


def test_two_presses_of_a_toggle_before_the_next_block_act_as_two_presses(make_show):
    show = make_show(
        song_toml("Two", "b") + '\n[midi.map]\n"note 60" = "play/stop"\n"note 62" = "vamp/release"\n'
    )
    engine = Engine(show)
    ctl = MidiControl(engine.setlist.midi, engine)
    run(engine, 1)
    ctl.feed(NOTE_60)  # a bouncing switch: two presses in one period
    ctl.feed(NOTE_60)
    run(engine, 10)
    assert applied(engine) == ["play", "stop"]  # played, then stopped (both said "play" before)
    assert engine.state is State.STOPPED and engine.pos == 0
    ctl.feed(NOTE_60)
    run(engine, 20)
    assert engine.state is State.PLAYING
    ctl.feed(NOTE_62)  # vamp, and at once release
    ctl.feed(NOTE_62)
    run(engine, 1)
    assert applied(engine)[-2:] == ["vamp", "release"] and not engine.vamp_on
    # two presses of play/stop while playing: stop (after its de-click fade), then play again
    ctl.feed(NOTE_60)
    ctl.feed(NOTE_60)
    run(engine, 4)
    assert applied(engine)[-2:] == ["stop", "play"]
    assert engine.state is State.PLAYING and engine.pos < BAR // 10  # from the top again


# --- finding 4: Engine.jump takes the documented spellings ---------------------------------


def test_engine_jump_takes_the_spellings_of_the_docs(make_show):
    engine = Engine(make_show(song_toml("Two", "b")))  # Verse = bars 1-2, Chorus = bars 3-6
    engine.play()
    out = run(engine, 10)
    engine.jump("Verse", "next bar")  # the spelling of parse_action, the UI and docs/live.md
    out = np.concatenate([out, run(engine, 200)], axis=1)
    p = decode_pos(out[4], out[5])
    back = [int(i) + 1 for i in np.flatnonzero(np.diff(p) != 1)]
    assert back and back[0] == BAR and p[BAR] == 0  # at the bar line, to the Verse
    assert engine.commands == type(engine.commands)()
    for when in ("end of section", "at next bar", "NOW", When.NOW, "next_bar"):
        engine.jump("Chorus", when)
    with pytest.raises(LiveError, match="unknown jump time 'soon': use now, next bar or end of section"):
        engine.jump("Chorus", "soon")
    assert [c.when for c in list(engine.commands)] == [
        When.END_OF_SECTION,
        When.NEXT_BAR,
        When.NOW,
        When.NOW,
        When.NEXT_BAR,
    ]


# --- finding 9: comments in text event scripts ---------------------------------------------


def test_a_comment_after_a_section_occurrence_is_a_comment(make_show, tmp_path):
    events = parse_events(
        "# the whole line is a comment\n"
        "bar 2: jump Chorus #2  # the second chorus\n"
        "bar 3: jump Chorus  # back to the top\n"
        "bar 4: jump Chorus #2 now # at once\n"
        "bar 5: vamp   #1st pass only\n",
        "show.txt",
    )
    assert [e.action for e in events] == [
        "jump Chorus #2",
        "jump Chorus",
        "jump Chorus #2 now",
        "vamp",
    ]
    assert events[0].command() == Command(Action.JUMP, "Chorus #2", When.NEXT_BAR)
    # and the jump lands on the second Chorus at run time
    write_song(
        tmp_path / "c", bars=8, sections=((0.0, "Verse"), (2.0, "Chorus"), (4.0, "Verse"), (6.0, "Chorus"))
    )
    show = make_show(song_toml("C", "c"))
    out, engine = render(show, "bar 2: jump Chorus #2  # the second chorus\n")
    p = decode_pos(out[4], out[5])
    assert not [n for n in engine.notices if n.kind == "error"]
    assert p[2 * BAR - 1] == 2 * BAR - 1 and p[2 * BAR] == 6 * BAR  # bar 2's end -> bar 7


# --- finding 3: levels are finite and at most +12 dB; -inf mutes ---------------------------


def test_nan_and_absurd_levels_are_refused_and_change_nothing(make_show):
    engine = Engine(make_show(song_toml("One", "a")))
    engine.play()
    before = run(engine, 20)
    for bad in (math.nan, 200.0, math.inf, 12.01):
        with pytest.raises(LiveError, match="level of keys"):
            engine.set_level("keys", bad)
        with pytest.raises(LiveError, match="level of output 1"):
            engine.set_output_level(1, bad)
    with pytest.raises(LiveError, match="must be a number of dB"):
        engine.set_level("keys", "loud")  # type: ignore[arg-type]
    assert engine.levels().songs == {} and engine.levels().outputs == {}
    out = run(engine, 20)
    assert np.isfinite(out).all() and np.isfinite(engine._meters).all()
    assert np.abs(out[FOH[0]]).max() == pytest.approx(np.abs(before[FOH[0]]).max(), rel=0.01)
    engine.set_level("keys", 12.0)  # the limit itself is fine
    out = run(engine, 20)
    assert np.abs(out[FOH[0], -2048:]).max() == pytest.approx(0.25 * 10 ** (12 / 20), rel=0.01)
    engine.set_level("keys", -math.inf)  # silence
    run(engine, 2)  # the crossfade to the new level
    out = run(engine, 60)  # more than a beat
    assert not out[FOH[0]].any() and np.abs(out[IEM[0]]).max() > 0.2  # the click goes on
    assert engine.levels().songs == {"One": {"keys": -math.inf}}


def test_event_scripts_refuse_nan_levels_with_their_line(make_show):
    with pytest.raises(LiveError, match=r"^x\.txt:2: level of keys must be a number of dB, not nan"):
        parse_events("0: play\n1: level keys nan\n", "x.txt")
    with pytest.raises(LiveError, match=r"^x\.txt:1: level of output 3 13 dB is above the \+12 dB limit"):
        parse_events("1: output 3 13\n", "x.txt")
    with pytest.raises(LiveError, match=r"^x\.txt:1: level needs two values"):
        parse_events("1: level keys\n", "x.txt")
    out, _ = render(make_show(song_toml("One", "a")), "1: level keys -inf\n")
    assert not out[FOH[0], SR + 1024 : 2 * SR].any()


def test_a_muted_level_is_saved_and_read_back(make_show, tmp_path):
    engine = Engine(make_show(song_toml("One", "a")))
    engine.set_level("keys", -math.inf)
    engine.set_output_level(3, -6.0)
    engine.save_levels()
    sl = load_setlist(tmp_path / "set.toml")
    assert sl.levels.songs == {"One": {"keys": -math.inf}} and sl.levels.outputs == {3: -6.0}
    assert sl.songs[0].mix["keys"] == -math.inf


def test_level_rule():
    from backline.live.levels import check_level_db

    assert check_level_db(12) == 12.0 and check_level_db(-math.inf) == -math.inf
    for bad in (math.nan, math.inf, 12.5, True, "3", None):
        with pytest.raises(LiveError):
            check_level_db(bad)


# --- D1: one parser for the level lines of --plain and of event scripts -------------------


def test_one_parser_for_typed_and_scripted_lines():
    from backline.live.commands import parse_control_line
    from backline.live.levels import LevelChange

    assert parse_control_line("level keys -3") == LevelChange("level", "keys", -3.0)
    assert parse_control_line("output 3 -inf") == LevelChange("output", "3", -math.inf)
    assert parse_control_line("MUTE click") == LevelChange("mute", "click")
    assert parse_control_line("unsolo bass") == LevelChange("unsolo", "bass")
    assert parse_control_line("save", words=("save", "quit")) == "save"
    assert parse_control_line("jump Chorus end of section").when is When.END_OF_SECTION  # type: ignore[union-attr]
    assert parse_control_line("play/stop") == Command(Action.TOGGLE_PLAY)
    for line, msg in (
        ("level keys nan", "level of keys must be a number of dB, not nan"),
        ("level keys 200", "above the +12 dB limit"),
        ("output x -3", "output needs an output number"),
        ("solo", "solo needs one source name"),
        ("save now", "save takes no argument"),
        ("levels", "unknown action 'levels'"),
    ):
        with pytest.raises(LiveError, match=msg.replace("+", r"\+")):
            parse_control_line(line, words=("save",))


# --- finding 2: saving the levels when the setlist is gone -------------------------------


def test_save_levels_says_when_the_setlist_is_gone(make_show, tmp_path):
    make_show(song_toml("One", "a"))
    (tmp_path / "set.toml").unlink()
    with pytest.raises(LiveError, match=r"set\.toml: cannot read the setlist to save the levels"):
        save_levels(tmp_path / "set.toml", Levels({1: -3.0}, {}))


def test_the_ui_survives_a_save_that_fails(make_show, tmp_path, monkeypatch):
    from backline.live.tui import LiveApp

    engine = Engine(make_show(song_toml("One", "a")))
    (tmp_path / "set.toml").unlink()  # the stick was remounted during the show

    async def go() -> None:
        app = LiveApp(engine)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("s")
            await pilot.pause(0.05)
            assert app.is_running
            assert "cannot read the setlist to save the levels" in app.texts["message"]
            # the last line of defence: whatever a key action raises goes to the message line
            monkeypatch.setattr(engine, "save_levels", lambda: [][1])
            await pilot.press("s")
            await pilot.pause(0.05)
            assert app.is_running and app.texts["message"] == "error: IndexError: list index out of range"
            await pilot.press("space")  # and the keys still work
            assert [c.action for c in engine.commands] == [Action.TOGGLE_PLAY]

    asyncio.run(go())
