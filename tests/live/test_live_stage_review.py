"""The stage review's findings (s21): click/cue stems by name, the gain cap and safety clip,
cues silenced before loops and jumps, songs keeping their setlist numbers, MIDI jump targets,
the render log and the action list."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from live_songs import BAR, SETLIST_HEAD, SR, decode_pos, impulses, render, song_toml, tone
from typer.testing import CliRunner

from backline.cli.app import app
from backline.errors import LiveError
from backline.live.commands import Action, Command, parse_control_line
from backline.live.engine import Engine

runner = CliRunner()


# --- 1. click and cue stems are recognised by their names --------------------------------


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Click Track.wav", "click"),
        ("click-track.wav", "click"),
        ("01 CLICK.wav", "click"),
        ("Metronome.wav", "click"),
        ("metro.flac", "click"),
        ("CLK.wav", "click"),
        ("ClickTrack.wav", "click"),
        ("Guide Cues.wav", "cues"),
        ("Count.wav", "cues"),
        ("Count-In.wav", "cues"),
        ("Voice Guide.wav", "cues"),
        ("02 Cues.wav", "cues"),
        ("Click + Cues.wav", "click"),
        ("bass.wav", None),
        ("country_fiddle.wav", None),
        ("countermelody.wav", None),
        ("Cuerdas.wav", None),
    ],
)
def test_stem_roles_by_name_tokens(name, role):
    from backline.util.stem_names import is_click_or_cue, stem_role

    assert stem_role(name) == role
    assert is_click_or_cue(name) == (role is not None)


def test_the_shift_and_source_rules_are_the_same_rule():
    from backline.audio import shift, source
    from backline.util import stem_names

    assert shift.is_click_or_cue is stem_names.is_click_or_cue
    assert shift.name_tokens is stem_names.name_tokens
    assert not hasattr(source, "_CLICK_NAMES")


def _bought(folder, click_name="Click Track.wav", cue_name="Guide Cues.wav", extra=()):
    """A bought multitrack: bass (music), a click and a cue track with bought-style names."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 4 * BAR
    sf.write(folder / "bass.wav", tone(n, 110.0), SR, subtype="FLOAT")
    sf.write(folder / click_name, impulses(n, BAR // 4, 0.5), SR, subtype="FLOAT")
    if cue_name:
        sf.write(folder / cue_name, tone(n, 1000.0, 0.3, channels=1), SR, subtype="FLOAT")
    for name in extra:
        sf.write(folder / name, impulses(n, BAR // 2, 0.4), SR, subtype="FLOAT")
    return folder


_BOUGHT = """
[[songs]]
title = "Bought"
stems = "bought"
tempo = 240
{extra}
"""


def test_a_bought_click_track_goes_to_the_in_ears_never_to_foh(tmp_path):
    # before: "Click Track.wav" and "Guide Cues.wav" were music stems: on FOH outputs 1, 2
    _bought(tmp_path / "bought")
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + _BOUGHT.format(extra=""))
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    assert not show.problems
    kinds = {s.path.name: s.kind for s in show.songs[0].sources}
    assert kinds == {"bass.wav": "stem", "Click Track.wav": "click", "Guide Cues.wav": "cues"}
    out, _ = render(show, "")
    bass = sf.read(tmp_path / "bought" / "bass.wav", dtype="float32")[0]
    np.testing.assert_allclose(out[0], bass[:, 0], atol=1e-6)  # FOH: the bass alone
    assert np.abs(out[2]).max() > 0.4  # the click is in the in-ears
    r = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert r.exit_code == 0, r.output
    assert "Click Track.wav -> click (in-ear 3, in-ear 4)" in r.output
    assert "Guide Cues.wav -> cues (in-ear 3, in-ear 4)" in r.output
    assert "bass.wav -> music (FOH 1, FOH 2)" in r.output


def test_click_stem_and_cues_stem_name_the_files(tmp_path):
    _bought(tmp_path / "bought", click_name="tick.wav", cue_name="", extra=("talk.wav",))
    (tmp_path / "set.toml").write_text(
        SETLIST_HEAD + _BOUGHT.format(extra='click_stem = "tick.wav"\ncues_stem = ["talk.wav"]')
    )
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    kinds = {s.path.name: s.kind for s in show.songs[0].sources}
    assert kinds == {"bass.wav": "stem", "tick.wav": "click", "talk.wav": "cues"}
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + _BOUGHT.format(extra='click_stem = "tock.wav"'))
    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    assert show.songs[0] is None
    assert "click_stem = 'tock.wav' is not a file of the stems folder" in show.problems[0].message


def test_a_click_named_stem_routed_to_foh_is_refused(tmp_path):
    _bought(tmp_path / "bought", click_name="01 CLICK.wav")
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + _BOUGHT.format(extra="routing = { click = [1, 2] }"))
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    assert show.songs[0] is None
    text = str(show.problems[0])
    assert "click is routed to front-of-house" in text
    # the title once: "song 1 'Bought': click is routed ...", not "song 1 'Bought': song 'Bought': ..."
    assert text.count("Bought") == 1, text


# --- 2. the combined gain is capped, and no sample leaves past full scale ------------------

_LOUD_HEAD = (
    SETLIST_HEAD
    + """
[routing]
music = { "1" = 12.0, "2" = 12.0 }

[levels.outputs]
"1" = 12.0
"2" = 12.0
"3" = 12.0
"""
)


def _loud_song(tmp_path):
    folder = tmp_path / "loud"
    folder.mkdir()
    sf.write(folder / "mix.wav", tone(4 * BAR, 220.0, 0.9), SR, subtype="FLOAT")
    sf.write(folder / "click.wav", impulses(4 * BAR, BAR // 4, 0.9), SR, subtype="FLOAT")
    return '\n[[songs]]\ntitle = "Loud"\nstems = "loud"\ntempo = 240\nmix = { mix = 12.0, click = 12.0 }\n'


def test_stacked_levels_are_capped_and_the_outputs_never_pass_full_scale(tmp_path):
    from backline.live.routing import MAX_GAIN

    song = _loud_song(tmp_path)
    (tmp_path / "set.toml").write_text(_LOUD_HEAD + song)
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    show = prepare_show(load_setlist(tmp_path / "set.toml"))
    assert not show.problems
    eng = Engine(show)
    # before: mix +12 x route +12 x output +12 = +36 dB (63x) on FOH
    assert float(eng._gains[0].max()) <= MAX_GAIN * 1.0001
    out, eng = render(show, "")
    # before: FOH peaked at 0.9 * 63 = +35 dBFS and the in-ears at +20 dBFS
    assert float(np.abs(out).max()) <= 1.0
    assert eng.overs > 0  # the safety stage held it
    assert eng.snapshot().overs == eng.overs


def test_runtime_levels_obey_the_cap_and_say_so(tmp_path):
    from backline.live.routing import MAX_GAIN

    song = _loud_song(tmp_path)
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + song.replace("mix = 12.0, click = 12.0", "mix = 0.0"))
    from backline.live.setlist import load_setlist
    from backline.live.show import prepare_show

    eng = Engine(prepare_show(load_setlist(tmp_path / "set.toml")))
    assert eng.set_level("mix", 6.0) is None
    assert eng.set_output_level(1, 12.0) is not None  # +6 + 12 = +18 dB: capped
    msg = parse_control_line("output 2 12").apply(eng)
    assert msg is not None and "capped at +12 dB" in msg and "output 2 (front of house)" in msg
    assert float(eng._gains[0].max()) <= MAX_GAIN * 1.0001


def test_the_cap_counts_a_stereo_source_folded_to_one_output_once():
    from types import SimpleNamespace

    from backline.live.routing import MAX_GAIN, MixLevels, effective_gains

    base = np.array([[0.5, 0.5]], dtype=np.float32)  # a stereo source folded to one output
    r = SimpleNamespace(base=base, row_source=("keys", "keys"), row_kind=("stem", "stem"), n_outputs=1)
    g = effective_gains(r, MixLevels({"keys": 12.0}, {0: 12.0}))  # type: ignore[arg-type]
    assert float(g.sum()) == pytest.approx(MAX_GAIN, rel=1e-4)


def test_check_predicts_output_peaks_above_full_scale(tmp_path):
    song = _loud_song(tmp_path)
    head = SETLIST_HEAD + '\n[levels.outputs]\n"1" = 6.0\n"2" = 6.0\n'
    (tmp_path / "set.toml").write_text(head + song.replace("mix = 12.0, click = 12.0", "mix = 0.0"))
    r = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    # before: "all 1 songs ready" and nothing else, while FOH clipped at +5.1 dBFS
    assert "output 1 (front of house) would peak at +5.1 dBFS" in r.output, r.output
    assert "output 2 (front of house) would peak at +5.1 dBFS" in r.output
    assert "output 3" not in r.output.split("would peak")[-1]
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + song.replace("mix = 12.0, click = 12.0", "mix = -3.0"))
    r = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert "would peak" not in r.output, r.output
    (tmp_path / "set.toml").write_text(_LOUD_HEAD + song)
    r = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert "adds up to +36.0 dB (level x route x output level); capped at +12 dB" in r.output, r.output


# --- 3. no wrong cue in a bar before a vamp loop or a jump ---------------------------------


def _cue_part(out, tmp_path, song="a"):
    """(song frame per output sample, the cue part of in-ear output 3)."""
    click = sf.read(tmp_path / song / "click.wav", dtype="float32")[0]
    p = decode_pos(out[4], out[5])
    return p, out[2] - click[np.clip(p, 0, len(click) - 1)]


def _burst(p, cue, bar):
    """Peak of the cue part in each pass over the cue burst at the top of ``bar`` (0-based)."""
    hits = np.flatnonzero(p == bar * BAR + 1200)
    return [float(np.abs(cue[h - 1000 : h + 1000]).max()) for h in hits]


def test_the_cue_is_silent_in_the_last_bar_of_a_vamp_loop(make_show, tmp_path):
    show = make_show(song_toml("One", "a"))
    # song a: A (bars 1-4), B (bars 5-8); a cue burst at the top of every bar
    out, _ = render(show, "bar 2: vamp\nbar 2: release\n")
    p, cue = _cue_part(out, tmp_path)
    # bar 4 (index 3) leads back into A on the first pass: silent (before: the cue each pass);
    # on the second pass it leads on to B: the cue plays
    assert _burst(p, cue, 3)[0] < 1e-6
    assert _burst(p, cue, 3)[1] > 0.25
    assert all(v > 0.25 for v in _burst(p, cue, 2))  # the other bars keep their cues
    # block size changes nothing
    out2, _ = render(make_show(song_toml("One", "a")), "bar 2: vamp\nbar 2: release\n", block=97)
    assert np.array_equal(out, out2)


def test_the_cue_is_silent_in_the_bar_before_a_pending_jump(make_show, tmp_path):
    show = make_show(song_toml("One", "a"))
    out, _ = render(show, "1.5: jump B next bar\n")  # in bar 2: lands on B at 2 s
    p, cue = _cue_part(out, tmp_path)
    assert _burst(p, cue, 1) == [pytest.approx(0.3, abs=0.01)]  # bar 2 began before the jump was asked
    land = int(np.flatnonzero(p == 4 * BAR)[0])
    assert p[land - 1] == 2 * BAR - 1  # jumped from the end of bar 2
    # the cue fades out over 10 ms from the press and stays silent to the jump
    press = int(np.flatnonzero(p == int(1.5 * SR))[0])
    assert float(np.abs(cue[press + 480 : land]).max()) < 1e-6
    # a jump to where the music goes anyway silences nothing
    out, _ = render(make_show(song_toml("One", "a")), "1.5: jump bar 3 next bar\n")
    p, cue = _cue_part(out, tmp_path)
    assert _burst(p, cue, 2) == [pytest.approx(0.3, abs=0.01)]
    # at the end of the section, to the section that follows anyway: nothing silenced
    out, _ = render(make_show(song_toml("One", "a")), "0.5: jump B end of section\n")
    p, cue = _cue_part(out, tmp_path)
    assert _burst(p, cue, 3) == [pytest.approx(0.3, abs=0.01)]
    # a jump set up before its bar: that whole bar is silent (back to A from the end of A)
    out, _ = render(make_show(song_toml("One", "a")), "0.5: jump A end of section\n5.5: end\n")
    p, cue = _cue_part(out, tmp_path)
    assert _burst(p, cue, 3)[0] < 1e-6
    # the landing bar has its cue, faded in
    out, _ = render(make_show(song_toml("One", "a")), "0.5: jump B #1 next bar\n")
    p, cue = _cue_part(out, tmp_path)
    assert _burst(p, cue, 0) == [pytest.approx(0.3, abs=0.01)]
    assert float(np.abs(cue[BAR - 1000 : BAR]).max()) < 1e-6  # silent up to the jump
    ramp = np.abs(cue[BAR : BAR + 480]) / (0.3 * (np.arange(480) + 1) / 480)
    assert float(ramp.max()) <= 1.0 + 1e-4  # the landing fades in over 10 ms


def test_a_vamp_stop_marker_silences_the_cue_before_each_loop(make_show, tmp_path):
    show = make_show(song_toml("One", "a", 'stops = [{ at = "section B", mode = "vamp" }]'))
    out, _ = render(show, "12.5: go\n")  # B vamps from 4 s: passes at 4, 8 and (after go) 12 s
    p, cue = _cue_part(out, tmp_path)
    b8 = _burst(p, cue, 7)
    assert len(b8) == 3
    assert b8[0] < 1e-6 and b8[1] < 1e-6  # bar 8 loops back to B: silent (before: the cue each pass)
    assert b8[2] > 0.25  # after go the song goes on: the cue is right again


# --- 4. songs keep their setlist numbers --------------------------------------------------

_FOUR = song_toml("S1", "a") + song_toml("S2", "b") + song_toml("S3", "missing") + song_toml("S4", "b")


def test_left_out_songs_keep_their_numbers(make_show):
    show = make_show(_FOUR)
    assert show.songs[2] is None
    eng = Engine(show)
    eng.select_song(4)
    eng.settle()
    s = eng.snapshot()
    assert s.title == "S4" and s.number == 4 and s.setlist_count == 4 and s.left_out == (3,)
    # selecting the left-out song says so and stays put (before: "select 3" loaded S4)
    eng.select_song(3)
    eng.settle()
    assert eng.snapshot().title == "S4"
    errs = [n.a for n in eng.notices if n.kind == "error"]
    assert errs and "song 3 'S3' is not playable" in str(errs[-1])
    eng.previous_song()  # previous skips it
    eng.settle()
    assert eng.snapshot().number == 2
    eng.next_song()
    eng.settle()
    assert eng.snapshot().number == 4
    eng.select_song(5)
    eng.settle()
    assert "no song 5 (1..4)" in str([n.a for n in eng.notices if n.kind == "error"][-1])


def test_a_program_change_picks_the_setlist_song(make_show):
    from backline.live.midi_control import MidiControl

    eng = Engine(make_show(_FOUR))
    ctl = MidiControl(eng.setlist.midi, eng)
    ctl.feed(bytes([0xC0, 3]), 0)  # program 3 -> setlist song 4 (S4)
    eng.settle()
    assert eng.snapshot().title == "S4"


def test_the_status_line_counts_setlist_numbers(make_show):
    from backline.cli.live_cmds import _status

    eng = Engine(make_show(_FOUR))
    eng.send(Command(Action.SELECT, 4))
    eng.settle()
    assert _status(eng).startswith("[4/4] S4")


def test_event_scripts_song_k_is_the_setlist_number(make_show):
    from backline.live.offline import parse_events, run_offline

    eng = Engine(make_show(_FOUR))
    evs = parse_events(
        '[{"at": 0, "action": "select 4"}, {"at": 0, "action": "play"},'
        ' {"at": "bar 2", "song": 4, "action": "end"}]',
        "x.json",
    )
    res = run_offline(eng, evs, lambda b: None, max_seconds=60, autoplay=False)
    assert res.log[-1][1:3] == (4, 2) and res.log[-1][4] == "end"


# --- 5. MIDI jump targets no song has -------------------------------------------------------


def test_check_warns_of_a_midi_jump_no_song_can_make(make_show, tmp_path):
    make_show(song_toml("One", "a") + '\n[midi.map]\n"cc 80" = "jump Chorous next bar"\n"cc 81" = "jump B"\n')
    r = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert (
        "MIDI cc 80 -> 'jump Chorous next bar': no song has a section 'Chorous'; sections: A, B" in r.output
    )
    assert "cc 81" not in r.output


def test_learn_warns_before_it_waits(make_show, tmp_path):
    make_show(song_toml("One", "a"))
    r = runner.invoke(
        app,
        [
            "live",
            "learn",
            str(tmp_path / "set.toml"),
            "jump Chorous nxt bar",
            "--jack-server",
            "no-such-server-here",
            "--timeout",
            "0.2",
        ],
    )
    assert "no song has a section 'Chorous nxt bar'; sections: A, B" in r.output, r.output
    assert r.output.index("Chorous") < r.output.index("press the foot-switch")


# --- 11. the action list; 12. the render log -------------------------------------------------


def test_unknown_action_lists_every_action():
    with pytest.raises(LiveError) as exc:
        parse_control_line("levl bass -3", words=("end",))
    msg = str(exc.value)
    for word in ("level SOURCE DB", "mute SOURCE", "unmute", "solo", "unsolo", "output N DB", "end", "jump"):
        assert word in msg, msg


def test_render_prints_a_line_per_event(make_show, tmp_path):
    make_show(song_toml("One", "a"))
    (tmp_path / "ev.txt").write_text("bar 2: vamp\nbar 2: release\nbar 6: level keys -6\n")
    cmd = [
        "live",
        "render",
        str(tmp_path / "set.toml"),
        "-e",
        str(tmp_path / "ev.txt"),
        "-o",
        str(tmp_path / "o.wav"),
    ]
    r = runner.invoke(app, cmd)
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.output.splitlines() if "song 1 'One'" in ln]
    assert len(lines) == 3, r.output
    assert "1.000 s" in lines[0] and "bar 2" in lines[0] and "vamp" in lines[0]
    assert "5.000 s" in lines[1] and "bar 2" in lines[1] and "release" in lines[1]  # the second pass
    assert "bar 6" in lines[2] and "level keys -6" in lines[2]
    r = runner.invoke(app, [*cmd, "--no-log"])
    assert "song 1 'One'" not in r.output
