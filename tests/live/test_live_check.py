"""Setlist parsing, `backline live check`, and the show going on without a broken song."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from live_songs import BAR, SETLIST_HEAD, SR, decode_pos, render, song_toml, write_song
from typer.testing import CliRunner

from backline.cli.app import app
from backline.errors import LiveError
from backline.live.setlist import Levels, load_setlist, parse_setlist, save_levels


def _break_files(tmp: Path) -> None:
    """c: a truncated stem; d: a corrupt stem; e: a missing folder; f: stems of different rates."""
    import shutil

    for name in ("c", "d", "f"):
        shutil.copytree(tmp / "a", tmp / name)
    data = (tmp / "c" / "keys.wav").read_bytes()
    (tmp / "c" / "keys.wav").write_bytes(data[: len(data) // 2])
    (tmp / "d" / "keys.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk" + bytes(5000))
    x, _ = sf.read(tmp / "a" / "keys.wav")
    sf.write(tmp / "f" / "keys.wav", x[::2], SR // 2)


BROKEN = (
    song_toml("Good", "a")
    + song_toml("Truncated", "c")
    + song_toml("Corrupt", "d")
    + song_toml("Missing", "e")
    + song_toml("Rates", "f")
    + song_toml("Also good", "b")
)


def test_problems_are_reported_per_song_and_file(make_show, tmp_path):
    _break_files(tmp_path)
    show = make_show(BROKEN, deep=True)
    by_song = {p.title: p for p in show.problems}
    assert set(by_song) == {"Truncated", "Corrupt", "Missing", "Rates"}
    assert (
        by_song["Truncated"].file == tmp_path / "c" / "keys.wav"
        and "truncated" in by_song["Truncated"].message
    )
    assert (
        by_song["Corrupt"].file == tmp_path / "d" / "keys.wav"
        and "not a readable" in by_song["Corrupt"].message
    )
    assert "no such stems folder" in by_song["Missing"].message
    assert (
        "different sample rates" in by_song["Rates"].message
        and "24000 Hz: keys.wav" in by_song["Rates"].message
    )
    assert "song 2 'Truncated'" in str(by_song["Truncated"])
    assert [s.title for s in show.playable] == ["Good", "Also good"]


def test_the_show_goes_on_without_the_broken_songs(make_show, tmp_path):
    _break_files(tmp_path)
    show = make_show(BROKEN)
    out, _eng = render(show, "waiting: play\n")
    p = decode_pos(out[4], out[5])
    assert out.shape[1] == 8 * BAR + 6 * BAR  # "Good" then "Also good"
    assert p[8 * BAR - 1] == 8 * BAR - 1 and p[8 * BAR] == 0 and p[-1] == 6 * BAR - 1


def test_check_command_exit_codes(make_show, tmp_path):
    make_show()
    runner = CliRunner()
    ok = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert ok.exit_code == 0, ok.output
    _break_files(tmp_path)
    make_show(BROKEN)
    bad = runner.invoke(app, ["live", "check", str(tmp_path / "set.toml")])
    assert bad.exit_code == 1
    assert "Truncated" in bad.output and "keys.wav" in bad.output


def test_unknown_sections_and_sources_are_problems(make_show, tmp_path):
    show = make_show(
        song_toml("One", "a", 'stops = [{ at = "section Bridge" }]')
        + song_toml("Two", "b").replace("pos = [5, 6]", "pos = [5, 6], bass = [1]")
        + song_toml("Three", "b", "routing = { click = [1, 2] }").replace("routing = { pos = [5, 6] }\n", "")
    )
    msgs = {p.title: p.message for p in show.problems}
    assert "unknown section 'Bridge'" in msgs["One"] and "A, B" in msgs["One"]
    assert "unknown source 'bass'" in msgs["Two"]
    assert "front-of-house" in msgs["Three"]
    assert show.playable == ()


def test_click_to_front_of_house_only_when_allowed(make_show):
    head = SETLIST_HEAD.replace("in_ear = [3, 4]", "in_ear = [3, 4]\nallow_click_to_foh = true")
    show = make_show(
        song_toml("One", "a", "").replace("pos = [5, 6]", "pos = [5, 6], click = [1, 2, 3, 4]"), head=head
    )
    assert not show.problems
    out, _ = render(show, "")
    assert np.abs(out[0] - out[2]).max() > 0.1  # FOH now carries the click (and the keys; in-ear no keys)


def test_marker_off_the_bar_grid_and_bad_markers(make_show, tmp_path):
    (tmp_path / "a" / "markers.csv").write_text("time,label\n0,A\n4.3,B\n")
    show = make_show(song_toml("One", "a"))
    assert "not on a bar line" in show.problems[0].message and show.problems[0].file.name == "markers.csv"
    (tmp_path / "a" / "markers.csv").write_text("0,A\n3,B\n2,C\n")
    show = make_show(song_toml("One", "a"))
    assert "is not after" in show.problems[0].message


def test_setlist_syntax_errors_name_the_line(tmp_path):
    text = SETLIST_HEAD + '\n[[songs]]\ntitle = "x"\nstems = "a"\nbogus = 1\n'
    with pytest.raises(LiveError, match=r"set.toml:\d+: unknown key\(s\) bogus"):
        parse_setlist(text, tmp_path / "set.toml")
    with pytest.raises(LiveError, match="exactly one of chart, audio or stems"):
        parse_setlist(SETLIST_HEAD + '\n[[songs]]\ntitle = "x"\n', tmp_path / "set.toml")
    with pytest.raises(LiveError, match="between must be one of"):
        parse_setlist(SETLIST_HEAD + '\n[[songs]]\nstems = "a"\nbetween = "jump"\n', tmp_path / "set.toml")


def test_sound_check_levels_are_saved_back(make_show, tmp_path):
    from backline.live.engine import Engine

    show = make_show()
    path = tmp_path / "set.toml"
    original = path.read_text()
    eng = Engine(show)
    eng.set_level("keys", -4.5)
    eng.set_output_level(3, -3.0)
    eng.save_levels()
    text = path.read_text()
    assert text.startswith(original.rstrip("\n"))  # the user's file is kept as written
    sl = load_setlist(path)
    assert sl.levels == Levels({3: -3.0}, {"One": {"keys": -4.5}})
    assert sl.songs[0].mix["keys"] == -4.5
    save_levels(path, Levels({1: 1.0}, {}))  # saving again replaces the block
    assert load_setlist(path).levels == Levels({1: 1.0}, {})
    assert path.read_text().count("[levels.outputs]") == 1
    # only song levels: no empty [levels.outputs] table is left in the user's file
    save_levels(path, Levels({}, {"One": {"keys": -2.0}, "Two": {}}))
    block = path.read_text()[len(original.rstrip("\n")) :]
    assert "[levels.outputs]" not in block and "Two" not in block
    assert load_setlist(path).levels == Levels({}, {"One": {"keys": -2.0}})


# --- malformed setlists: file:line messages, never a traceback ---------------------------

_HEAD4 = """[setlist]
title = "t"
count_in_bars = 0
[outputs]
count = 4
foh = [1, 2]
in_ear = [3, 4]
"""
_SONG = """[[songs]]
title = "One"
stems = "a"
markers = "a/markers.csv"
tempo = 240
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (_HEAD4 + _SONG + "mix = [1, 2]\n", 13, "song 'One': mix must be a table like { bass = -3.0 }"),
        (_HEAD4 + _SONG + "routing = [1, 2]\n", 13, "song 'One': routing must be a table"),
        (_HEAD4 + 'names = "FOH"\n' + _SONG, 8, "outputs.names must be a table like"),
        (_HEAD4 + 'names = { L = "FOH L" }\n' + _SONG, 8, "outputs.names: 'L' is not an output number"),
        ('setlist = "x"\n' + _SONG, 1, "[setlist] must be a table"),
        (_HEAD4 + "foo = 1\n" + _SONG, 8, r"unknown key(s) foo in [outputs]"),
        (_HEAD4.replace("count = 4", "count = 0") + _SONG, 5, "outputs.count 0 is outside 1..256"),
        (_HEAD4.replace("foh = [1, 2]", "foh = [1, 5]") + _SONG, 6, "outputs.foh 5 is outside 1..4"),
        (
            _HEAD4.replace("count_in_bars = 0", "count_in_bars = 17") + _SONG,
            3,
            "count_in_bars 17 is outside 0..16",
        ),
        (
            _HEAD4 + _SONG + 'click_sound = "nosuch"\n',
            13,
            "unknown click_sound 'nosuch'; click sounds: classic, wood",
        ),
        (_HEAD4 + _SONG + 'stops = "bar 3"\n', 13, "song 'One': stops must be a list"),
        (_HEAD4 + _SONG + "style = 5\n", 13, "style must be text in quotes"),
        (_HEAD4 + _SONG + 'intro = "no"\n', 13, "intro must be true or false"),
        (_HEAD4 + "songs = [1, 2]\n" + _SONG, 8, "unknown key(s) songs in [outputs]"),
        ("songs = [1, 2]\n", 1, "song 1 must be a table"),
        (
            _HEAD4.replace("count_in_bars = 0", 'count_in_bars = 0\nbetween = "jump"') + _SONG,
            4,
            "between must be",
        ),
        (_HEAD4 + _SONG + "gap_seconds = -1\n", 13, "gap_seconds -1 is outside 0..3600"),
        (
            _HEAD4 + _SONG + '[levels.songs."Two"]\nbass = -3\n',
            13,
            "[levels.songs] names unknown song(s) 'Two'; songs: 'One'",
        ),
        (
            _HEAD4 + _SONG + '[levels.outputs]\n"3" = 99\n',
            14,
            "level of output 3 99 dB is above the +12 dB limit (-inf mutes)",
        ),
        (
            _HEAD4 + _SONG + '[levels.outputs]\n"3" = nan\n',
            14,
            "level of output 3 must be a number of dB, not nan",
        ),
        (
            _HEAD4 + _SONG + "mix = { keys = 12.5 }\n",
            13,
            "mix level of keys 12.5 dB is above the +12 dB limit",
        ),
    ],
)
def test_malformed_setlists_name_the_line(tmp_path, text, line, message):
    with pytest.raises(LiveError) as exc:
        parse_setlist(text, tmp_path / "set.toml")
    assert str(exc.value).startswith(f"{tmp_path / 'set.toml'}:{line}: {message}"), str(exc.value)


def test_cli_errors_keep_bracketed_names_and_have_no_traceback(tmp_path):
    write_song(tmp_path / "a")
    runner = CliRunner()
    for body, want in (
        (_HEAD4 + "foo = 1\n" + _SONG, "set.toml:8: unknown key(s) foo in [outputs]; known:"),
        (_HEAD4 + _SONG + "mix = [1, 2]\n", "set.toml:13: song 'One': mix must be a table"),
        (_HEAD4 + _SONG + "routing = [1, 2]\n", "set.toml:13: song 'One': routing must be a table"),
        (_HEAD4 + 'names = "FOH"\n' + _SONG, "set.toml:8: outputs.names must be a table"),
        (_HEAD4 + _SONG + 'click_sound = "nosuch"\n', "set.toml:13: unknown click_sound 'nosuch'"),
    ):
        (tmp_path / "set.toml").write_text(body)
        for cmd in (["check", "--quick"], ["render", "-o", str(tmp_path / "x.wav")]):
            r = runner.invoke(app, ["live", *cmd[:1], str(tmp_path / "set.toml"), *cmd[1:]])
            assert r.exit_code == LiveError.exit_code and isinstance(r.exception, SystemExit), r.output
            assert "Traceback" not in r.output
            assert "error: " in r.output and want in r.output.replace("\n", " "), r.output


def test_typos_in_levels_and_routes_are_problems_naming_the_sources(make_show, tmp_path):
    show = make_show(song_toml("One", "a", "mix = { bas = -3 }"))
    assert [str(p) for p in show.problems] == [
        "song 1 'One': mix names unknown source 'bas'; sources: keys, pos, click, cues, pad"
    ]
    assert show.playable  # a level that does nothing: reported, the song still plays
    show = make_show(song_toml("One", "a") + '\n[levels.songs."One"]\nbas = -3\n')
    assert [p.message for p in show.problems] == [
        "[levels.songs.\"One\"] names unknown source 'bas'; sources: keys, pos, click, cues, pad"
    ]
    head = SETLIST_HEAD + "\n[routing]\nclik = [3]\nkeys = [1, 2]\n"
    show = make_show(song_toml("One", "a"), head=head)
    assert [str(p) for p in show.problems] == [
        "setlist: [routing] names unknown source 'clik' (no song has it); "
        "sources: music, click, cues, pad, keys, pos"
    ]
    assert show.problems[0].song is None and show.playable
    # `live check` fails on them (exit 1) and says which names exist
    r = CliRunner().invoke(app, ["live", "check", "--quick", str(tmp_path / "set.toml")])
    assert r.exit_code == 1 and "unknown source 'clik'" in r.output and "sources: music, click" in r.output
    # a setlist-wide route for a stem that only some songs have is fine
    assert not make_show(song_toml("One", "a"), head=SETLIST_HEAD + "\n[routing]\nkeys = [1, 2]\n").problems


def test_a_missing_chart_is_named_once(make_show, tmp_path):
    show = make_show('\n[[songs]]\ntitle = "X"\nchart = "nochart.chart"\n')
    (p,) = show.problems
    assert p.file == tmp_path / "nochart.chart" and p.message == "no such chart file"
    assert str(p) == f"song 1 'X': {tmp_path / 'nochart.chart'}: no such chart file"
    # a mistake inside the chart: its file:line:col, once (it was "bad.chart: bad.chart:2:7: ...")
    (tmp_path / "bad.chart").write_text("title: Bad\n| C | Xq7 |\n")
    (p,) = make_show('\n[[songs]]\ntitle = "B"\nchart = "bad.chart"\n').problems
    assert str(p) == f"song 1 'B': {tmp_path / 'bad.chart'}:2:7: unknown chord symbol 'Xq7': cannot read 'X'"


def test_every_routing_level_and_stop_problem_of_a_song_in_one_check(make_show, tmp_path):
    """Review finding 11: four mistakes used to take four runs of `live check`."""
    import soundfile as sf_

    routes = "routing = { pos = [5, 6], click = [1, 2], tuba = [1], keys = [9] }\nmix = { tuba = -3 }"
    show = make_show(song_toml("Routes", "a").replace("routing = { pos = [5, 6] }\n", "") + routes)
    msgs = [p.message for p in show.problems]
    assert len(msgs) == 4, msgs
    for want in (
        "routing names unknown source 'tuba'",
        "output 9 does not exist",
        "click is routed to front-of-house",
    ):
        assert sum(want in m for m in msgs) == 1, (want, msgs)
    assert msgs[3].startswith("mix names unknown source 'tuba'")
    assert show.playable == ()
    # a song that fails on its stops is checked for routing too
    show = make_show(
        song_toml("Stops", "a", 'stops = [{ at = "section Z" }]').replace(
            "pos = [5, 6]", "pos = [5, 6], tuba = [1]"
        )
    )
    msgs = [p.message for p in show.problems]
    assert len(msgs) == 1 + 1 and "unknown section 'Z'" in msgs[0] and "unknown source 'tuba'" in msgs[1]
    # a stem called "pad" and the between-song pad share the name: listed once
    sf_.write(tmp_path / "a" / "pad.wav", np.zeros((8 * BAR, 2), dtype=np.float32), SR, subtype="FLOAT")
    show = make_show(
        song_toml("Pad", "a", "mix = { tuba = -3 }").replace("pos = [5, 6]", "pos = [5, 6], tuba = [1]")
    )
    for p in show.problems:
        names = p.message.rpartition("sources: ")[2].split(", ")
        assert len(names) == len(set(names)) and "pad" in names, p.message


def test_a_render_folder_as_stems_folder_plays_only_its_mix(make_show, tmp_path):
    """Review finding 2: `stems = "audio/finale/"` (a render folder) plays only mix.wav. Its
    split.wav (left: the click and the spoken count) was played as a music stem to front
    of house, and the song twice over (a gig review found it)."""
    import shutil

    (tmp_path / "r").mkdir()
    shutil.copy(tmp_path / "a" / "keys.wav", tmp_path / "r" / "mix.wav")
    shutil.copy(tmp_path / "a" / "click.wav", tmp_path / "r" / "split.wav")
    shutil.copy(tmp_path / "a" / "keys.wav", tmp_path / "r" / "multichannel.wav")
    shutil.copy(tmp_path / "a" / "markers.csv", tmp_path / "r" / "markers.csv")
    shutil.copytree(tmp_path / "a", tmp_path / "r" / "stems")
    show = make_show(song_toml("Finale", "r").replace("routing = { pos = [5, 6] }\n", ""))
    assert not show.problems and show.playable  # it still plays (the mix)
    assert [(s.name, s.kind) for s in show.songs[0].sources] == [("mix", "stem")]
    warned = [n for n in show.notes if "only mix.wav plays (not multichannel.wav, split.wav)" in n]
    assert len(warned) == 1 and f'stems = "{(tmp_path / "r" / "stems").as_posix()}/"' in warned[0]
    r = CliRunner().invoke(app, ["live", "check", "--quick", str(tmp_path / "set.toml")])
    said = " ".join(r.output.split())
    assert r.exit_code == 0 and "only mix.wav plays" in said and "split.wav ->" not in said
    # the stems/ folder itself: no warning
    show = make_show(song_toml("Finale", "r/stems").replace("routing = { pos = [5, 6] }\n", ""))
    assert not [n for n in show.notes if "render folder" in n]


def test_a_wav_written_to_a_pipe_is_whole(make_show, tmp_path):
    """A WAV written to a pipe (ffmpeg ... -f wav -) gives its sizes as unknown
    (0xFFFFFFFF): it holds what runs to the end of the file, and is not 'truncated'."""
    import shutil

    shutil.copytree(tmp_path / "a", tmp_path / "p")
    for wav in (tmp_path / "p").glob("*.wav"):
        data = bytearray(wav.read_bytes())
        at = data.find(b"data")
        data[4:8] = data[at + 4 : at + 8] = b"\xff\xff\xff\xff"
        wav.write_bytes(bytes(data))
    show = make_show(song_toml("Piped", "p"), deep=True)
    assert not show.problems, show.problems
    good = make_show(song_toml("Good", "a"), deep=True)
    assert show.playable[0].frames == good.playable[0].frames


def test_render_stems_with_their_count_in_are_counted_in_once(make_show, tmp_path):
    """A gig review found two bars of count-in where the setlist asks for one: the stems
    of a `backline render --stems` carry the render's count-in bar (click and spoken
    numbers) before bar 1, and the player counted in again before it. With the render's
    render.json as the marker file the player plays the render's count-in only."""
    import json

    folder = tmp_path / "r" / "stems"
    write_song(folder, bars=9)  # bar 0: the render's count-in; bars 1-8: the song
    report = {
        "count_in_seconds": 1.0,
        "bars": [
            {"start_seconds": 1.0 + i, "time_signature": [4, 4], "tempo": 240.0, "section": lab}
            for i, lab in enumerate("AAAABBBB")
        ],
    }
    (tmp_path / "r" / "render.json").write_text(json.dumps(report))
    toml = song_toml("R", "r/stems").replace("r/stems/markers.csv", "r/render.json")
    show = make_show(toml.replace('key = "E"\n', 'key = "E"\ncount_in_bars = 1\n'))
    assert not show.problems
    assert any("the stems carry the render's count-in (1.00 s" in n for n in show.notes)
    out, _ = render(show, "")
    p = decode_pos(out[4], out[5])
    # the song's frame 1 s (its bar 1) plays 1 s after play, not 2 s
    assert int(np.flatnonzero(p == BAR)[0]) == BAR
