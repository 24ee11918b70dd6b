"""The offline driver: exact, repeatable transport (vamp, jumps, stop markers, count-in, fades)."""

from __future__ import annotations

import numpy as np
from live_songs import BAR, SR, decode_pos, impulses, pos_stem, render, song_toml, tone

from backline.live.engine import DECLICK_S

FOH = (0, 1)
IEM = (2, 3)
POS = (4, 5)


def positions(out: np.ndarray) -> np.ndarray:
    return decode_pos(out[POS[0]], out[POS[1]])


def breaks(p: np.ndarray) -> list[tuple[int, int, int]]:
    """(output frame, song frame before, song frame after) at every discontinuity."""
    j = np.flatnonzero(np.diff(p) != 1)
    return [(int(i) + 1, int(p[i]), int(p[i + 1])) for i in j]


def test_same_script_same_samples(make_show):
    script = "bar 2: vamp\n1.7: level keys -6\nbar 3: release\n5.2: jump A next bar\nwaiting: play\n"
    a, eng = render(make_show(), script)
    b, _ = render(make_show(), script)
    assert a.shape == b.shape
    assert np.array_equal(a, b)
    assert not [n for n in eng.notices if n.kind == "error"]
    # without level changes (which crossfade over one block) the block size changes nothing
    script = "bar 2: vamp\nbar 3: release\n5.2: jump A next bar\nwaiting: play\n"
    c, _ = render(make_show(), script, block=512)
    d, _ = render(make_show(), script, block=100)
    assert np.array_equal(c, d)


def test_vamp_of_four_bar_section_three_times_is_twelve_bars(make_show):
    # song One: section A = bars 1-4, B = bars 5-8. Vamp in pass 1, release in pass 3.
    script = """
[[events]]
at = "bar 2"
action = "vamp"
[[events]]
at = "bar 2"
times = 2
action = "release"
"""
    out, eng = render(make_show(song_toml("One", "a")), script, fmt="x.toml")
    p = positions(out)
    start_a = int(np.flatnonzero(p == 0)[0])
    start_b = int(np.flatnonzero(p == 4 * BAR)[0])
    assert start_b - start_a == 12 * BAR  # exactly 12 bars, to the sample
    assert breaks(p)[:2] == [(4 * BAR, 4 * BAR - 1, 0), (8 * BAR, 4 * BAR - 1, 0)]
    assert out.shape[1] == 16 * BAR  # 12 bars of A, then 4 of B
    assert [n.a for n in eng.notices if n.kind == "loop"] == [1, 2]


def test_jump_at_next_bar_lands_on_the_bar_line(make_show):
    # at 1.3 s the playhead is in bar 2 (frames 48000..96000): the jump waits for bar 3
    out, _ = render(make_show(song_toml("One", "a")), "1.3: jump B next bar\n")
    assert breaks(positions(out))[0] == (2 * BAR, 2 * BAR - 1, 4 * BAR)


def test_jump_now_and_at_end_of_section(make_show):
    out, _ = render(make_show(song_toml("One", "a")), "0.5: jump bar 7 now\n1.0: jump A end of section\n")
    d = round(DECLICK_S * SR)
    cut = 24000 + d
    p = positions(out)
    # "now" at 0.5 s (song frame 24000): the music fades out over the de-click time and
    # goes on from bar 7, fading back in over as long (the position code fades with it)
    assert np.array_equal(p[:24000], np.arange(24000))
    assert np.array_equal(p[cut + d : cut + d + BAR], 6 * BAR + d + np.arange(BAR))
    keys = tone(8 * BAR, 220.0)[:, 0]
    ramp = np.arange(d, dtype=np.float32) / d
    faded = np.concatenate([keys[24000:cut] * (1 - ramp), keys[6 * BAR : 6 * BAR + d] * (ramp + 1 / d)])
    np.testing.assert_allclose(out[FOH[0], 24000 : cut + d], faded, atol=1e-6)
    # no step on the PA bigger than the tone's own from one sample to the next
    assert np.abs(np.diff(out[FOH[0], 23000 : cut + d + 1000])).max() <= np.abs(np.diff(keys)).max() + 1e-6
    # at 1.0 s the playhead is in section B; at its end (the end of bar 8) back to A, on
    # the bar line (no fade: nothing is cut)
    b = breaks(p[cut + d :])
    assert [(o + cut + d, f, t) for o, f, t in b] == [(cut + 2 * BAR, 8 * BAR - 1, 0)]
    assert out.shape[1] == cut + 2 * BAR + 8 * BAR


def test_stop_marker_waits_for_go(make_show):
    songs = song_toml("One", "a", 'stops = [{ at = "section B", mode = "wait" }]')
    script = '{"at": "waiting", "after": 1.5, "action": "go"}\n'
    out, eng = render(make_show(songs), script, fmt="x.jsonl")
    holds = [n for n in eng.notices if n.kind == "hold"]
    goes = [n for n in eng.notices if n.kind == "go"]
    assert holds[0].frame == 4 * BAR and holds[0].a == 4 * BAR
    assert goes[0].frame - holds[0].frame == round(1.5 * SR)
    gap = out[:, 4 * BAR : 4 * BAR + round(1.5 * SR)]
    assert not gap.any()  # silence on every output while waiting
    p = positions(out[:, 4 * BAR + round(1.5 * SR) :])
    assert p[0] == 4 * BAR and breaks(p) == []  # continues exactly where it stopped
    assert out.shape[1] == 8 * BAR + round(1.5 * SR)


def test_vamp_until_go(make_show):
    songs = song_toml("One", "a", 'stops = [{ at = "section A", mode = "vamp" }]')
    out, _ = render(make_show(songs), "9.5: go\n")
    p = positions(out)
    # A loops until go at 9.5 s (in its third pass), leaving at the end of that loop
    assert [b[1:] for b in breaks(p)] == [(4 * BAR - 1, 0), (4 * BAR - 1, 0)]
    assert out.shape[1] == 16 * BAR


def test_click_and_cues_only_in_ears_music_only_front_of_house(make_show):
    out, _ = render(make_show(song_toml("One", "a")), "")
    n = 8 * BAR
    assert out.shape == (6, n)
    keys = tone(n, 220.0)[:, 0]
    np.testing.assert_allclose(out[0], keys, atol=1e-6)  # FOH: the music only
    np.testing.assert_allclose(out[1], keys, atol=1e-6)
    click = impulses(n, BAR // 4)
    cues = np.zeros(n, dtype=np.float32)
    for b in range(8):
        cues[b * BAR : b * BAR + 2400] = tone(2400, 1000.0, 0.3, channels=1)
    np.testing.assert_allclose(out[2], click + cues, atol=1e-6)  # in-ears: click + cues only
    np.testing.assert_allclose(out[3], click + cues, atol=1e-6)


def test_count_in_clicks_in_ears_before_bar_one(make_show):
    head_songs = song_toml("One", "a", "count_in_bars = 1")
    out, _ = render(make_show(head_songs), "")
    assert out.shape[1] == 9 * BAR
    lead = out[:, :BAR]
    assert not lead[[0, 1, 4, 5]].any()  # FOH and pos silent during the count-in
    loud = np.flatnonzero(np.abs(lead[2]) > 0.01)
    onsets = loud[np.r_[True, np.diff(loud) > 2000]]
    np.testing.assert_allclose(onsets, [0, BAR // 4, BAR // 2, 3 * BAR // 4], atol=3)  # 4 beats, first at 0
    assert positions(out[:, BAR:])[0] == 0


def _lead_in_song(folder, lead_s: float) -> str:
    """A stems folder (position code and keys only, no click stem) whose first downbeat is
    ``lead_s`` into the files; its setlist entry (one bar of count-in at 240 BPM)."""
    import soundfile as sf

    folder.mkdir()
    n = round(lead_s * SR) + 4 * BAR
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    sf.write(folder / "keys.wav", tone(n, 220.0), SR, subtype="FLOAT")
    return (
        f'\n[[songs]]\ntitle = "Lead"\nstems = "{folder.name}"\ntempo = 240\n'
        f"first_downbeat = {lead_s}\ncount_in_bars = 1\nrouting = {{ pos = [5, 6] }}\n"
    )


def _onsets(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return loud[np.r_[True, np.diff(loud) > 2000]]


def test_the_count_in_ends_on_the_first_downbeat_over_the_lead_in(make_show, tmp_path):
    # a file whose bar 1 starts 0.25 s in: the band's pickup plays under the last beat of
    # the count-in, and bar 1 lands on the downbeat after the count (not 0.25 s late)
    out, eng = render(make_show(_lead_in_song(tmp_path / "lead", 0.25)), "")
    lead = BAR // 4
    assert out.shape[1] == BAR - lead + lead + 4 * BAR
    p = positions(out)
    assert not out[list(FOH), : BAR - lead].any()  # the count alone
    assert p[BAR - lead] == 0 and p[BAR] == lead  # the file's top, then its first downbeat
    assert breaks(p[BAR - lead :]) == []
    # four clicks a beat apart, the last one over the pickup; none after the downbeat
    np.testing.assert_allclose(_onsets(out[2, : 2 * BAR]), [0, BAR // 4, BAR // 2, 3 * BAR // 4], atol=3)
    assert eng.snapshot().count_in_left == 0


def test_a_lead_in_longer_than_the_count_in_plays_first_and_is_counted_over(make_show, tmp_path):
    out, _ = render(make_show(_lead_in_song(tmp_path / "lead", 1.5)), "")
    lead = round(1.5 * SR)
    p = positions(out)
    assert p[0] == 0 and breaks(p) == []  # the file from its top, at once
    assert out.shape[1] == lead + 4 * BAR
    # the count-in is the bar before the first downbeat: 0.5 s .. 1.5 s into the file
    np.testing.assert_allclose(
        _onsets(out[2, : lead + BAR]), [lead - BAR + k * BAR // 4 for k in range(4)], atol=3
    )


def test_the_count_in_left_counts_to_the_first_downbeat(make_show, tmp_path):
    from backline.live.engine import Engine

    eng = Engine(make_show(_lead_in_song(tmp_path / "lead", 0.25)))
    eng.sync_prefetch = True
    eng.play()
    eng.process(256)
    assert abs(eng.snapshot().count_in_left - (1.0 - 256 / SR)) < 1e-9
    while eng.state != "playing":
        eng.process(256)
    eng.process(256)  # the pickup: the count still sounds
    left = eng.snapshot().count_in_left
    assert 0 < left <= 0.25 and abs(left - (1.0 - eng.frames_out / SR)) < 1e-9
    while eng.frames_out < BAR + 256:
        eng.process(256)
    assert eng.snapshot().count_in_left == 0


def test_level_change_while_playing_and_fade(make_show):
    out, _ = render(make_show(song_toml("One", "a")), "2.0: level keys -6.0206\n4.0: fade 2\n")
    keys = tone(8 * BAR, 220.0)[:, 0]
    np.testing.assert_allclose(out[0, BAR : 2 * BAR], keys[BAR : 2 * BAR], atol=1e-6)
    np.testing.assert_allclose(
        out[0, 2 * BAR + 512 : 4 * BAR], 0.5 * keys[2 * BAR + 512 : 4 * BAR], atol=1e-5
    )
    # the fade: 2 s from 4 s, then the song ends (the show is over: one song)
    assert out.shape[1] == 6 * BAR
    assert np.abs(out[:, -256:]).max() < 0.01
    # half-way through the fade the gain is one half (keys: 0.25 peak, at -6 dB: 0.125)
    assert 0.45 < np.abs(out[0, 5 * BAR - 2400 : 5 * BAR + 2400]).max() / 0.125 < 0.55


def test_between_songs_continue_and_pad(make_show):
    songs = song_toml("One", "a", 'between = "continue"\ngap_seconds = 0.5') + song_toml("Two", "b")
    out, _ = render(make_show(songs), "")
    p = positions(out)
    assert out.shape[1] == 8 * BAR + SR // 2 + 6 * BAR
    assert not out[:, 8 * BAR : 8 * BAR + SR // 2].any()
    assert p[8 * BAR + SR // 2] == 0
    songs = song_toml("One", "a", 'between = "pad"\npad_seconds = 0.5') + song_toml("Two", "b")
    # the band talks for 3 s before play
    out, _eng = render(make_show(songs), '{"at": "waiting", "after": 3, "action": "play"}\n', fmt="x.jsonl")
    talk = out[0, 8 * BAR + SR : 8 * BAR + 3 * SR]
    assert np.abs(talk).max() > 0.05  # the pad sounds under the talk
    assert not out[2:4, 8 * BAR : 8 * BAR + 3 * SR].any()  # not in the click outputs
    spec = np.abs(np.fft.rfft(talk * np.hanning(len(talk))))
    freqs = np.fft.rfftfreq(len(talk), 1 / SR)
    peak = freqs[np.argmax(spec)]
    e_pcs = {4, 8, 11}  # E major: E G# B
    pc = round(12 * np.log2(peak / 440.0) + 69) % 12
    assert pc in e_pcs
    tail = out[0, 8 * BAR + 3 * SR + SR : 8 * BAR + 3 * SR + 2 * SR]
    np.testing.assert_allclose(tail, tone(20 * BAR, 220.0)[SR : 2 * SR, 0], atol=1e-6)  # pad gone after 0.5 s


def test_next_previous_and_select(make_show):
    _out, eng = render(make_show(), "0.5: next\n0.6: play\n1.0: previous\n1.1: select 2\n1.2: play\n")
    songs = [n.a for n in eng.notices if n.kind == "song"]
    assert songs == [0, 1, 0, 1]
    assert eng.snapshot().show_over


def test_between_song_pad_with_a_stem_called_pad(make_show, tmp_path):
    """Arranged songs have a part called "pad": the between-song pad must not mix them up
    (it crashed the engine once: three 'pad' rows for a two-channel pad)."""
    import soundfile as sf

    sf.write(tmp_path / "b" / "pad.wav", tone(6 * BAR, 330.0), SR, subtype="FLOAT")
    songs = song_toml("One", "a", 'between = "pad"\npad_seconds = 0.5') + song_toml("Two", "b")
    out, _ = render(make_show(songs), '{"at": "waiting", "after": 2, "action": "play"}\n', fmt="x.jsonl")
    talk = out[0, 8 * BAR + SR // 2 : 8 * BAR + 2 * SR]
    assert np.abs(talk).max() > 0.05  # the between-song pad sounds
    assert not out[2:4, 8 * BAR : 8 * BAR + 2 * SR].any()  # and stays off the in-ear click outputs


def test_a_jump_without_a_time_waits_for_the_next_bar(make_show):
    from backline.live.commands import When, parse_action

    assert parse_action("jump Chorus").when is When.NEXT_BAR  # as the UI's keys and Engine.jump
    assert parse_action("jump bar 9").when is When.NEXT_BAR
    assert parse_action("jump Chorus now").when is When.NOW
    out, _ = render(make_show(song_toml("One", "a")), "1.3: jump B\n")
    assert breaks(positions(out))[0] == (2 * BAR, 2 * BAR - 1, 4 * BAR)


def test_a_jump_to_no_section_is_reported_not_counted(make_show, tmp_path):
    from typer.testing import CliRunner

    from backline.cli.app import app
    from backline.live.engine import Engine
    from backline.live.offline import parse_events, run_offline

    show = make_show(song_toml("One", "a"))
    engine = Engine(show)
    res = run_offline(
        engine, parse_events("0.5: jump Chorus\n1.0: vamp\nbar 3: release\n", "s.txt"), lambda b: None
    )
    assert [a for _, a in res.fired] == ["jump Chorus", "vamp", "release"]
    assert res.failed == [(SR // 2, "jump Chorus", "s.txt:1: no jump target 'Chorus'")]
    # the CLI says so, and counts only the events that did something
    (tmp_path / "s.txt").write_text("0.5: jump Chorus\n1.0: vamp\nbar 3: release\n")
    r = CliRunner().invoke(
        app,
        [
            "live",
            "render",
            str(tmp_path / "set.toml"),
            "-e",
            str(tmp_path / "s.txt"),
            "-o",
            str(tmp_path / "o.wav"),
        ],
    )
    assert r.exit_code == 1, r.output  # the file is written, the script did not run as written
    assert (tmp_path / "o.wav").stat().st_size > 0
    assert "2 event(s) fired, 1 failed" in r.output
    assert f"failed: {tmp_path / 's.txt'}:1: no jump target 'Chorus' (at 0.50 s)" in r.output.replace(
        "\n", " "
    )


def test_notice_reader_gives_each_notice_once(make_show):
    from backline.live.engine import Engine, Notice
    from backline.live.notices import NoticeReader, error_messages

    engine = Engine(make_show(song_toml("One", "a")))
    reader = NoticeReader(engine)
    assert reader.new() == []  # what was there before the reader: not new
    same = Notice(5, "error", "x")
    engine.notices.extend([same, Notice(5, "error", "x")])  # equal, yet two notices
    assert error_messages(reader.new()) == ["x", "x"] and reader.new() == []
    engine.notices.extend(Notice(i, "loop", i) for i in range(engine.notices.maxlen))  # the deque rolls over
    assert len(reader.new()) == engine.notices.maxlen


def test_yaml_script_without_pyyaml_is_a_missing_dependency(make_show, tmp_path, monkeypatch):
    """README: exit 3 when an optional dependency is missing (review finding 8: it was 2)."""
    import sys

    import pytest
    from typer.testing import CliRunner

    from backline.cli.app import app
    from backline.errors import DependencyMissingError
    from backline.live.offline import parse_events

    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` raises ImportError
    with pytest.raises(DependencyMissingError, match="need PyYAML"):
        parse_events('- {"at": 1, "action": "end"}\n', "ev.yaml")
    make_show(song_toml("One", "a"))
    (tmp_path / "ev.yaml").write_text('- {"at": 1, "action": "end"}\n')
    r = CliRunner().invoke(
        app,
        ["live", "render", str(tmp_path / "set.toml"), "-e", str(tmp_path / "ev.yaml")]
        + ["-o", str(tmp_path / "y.wav")],
    )
    assert r.exit_code == 3, r.output
    assert "need PyYAML" in r.output


def test_a_failed_jump_now_while_playing_is_reported_not_counted(make_show):
    """Review finding 10: a `jump ... now` applies after the 5 ms declick; its error used to be
    missed, and the event counted as fired."""
    from backline.live.engine import Engine
    from backline.live.offline import parse_events, run_offline

    engine = Engine(make_show(song_toml("One", "a")))
    script = "1.0: jump Nowhere\n1.2: jump Nowhere now\n1.4: jump bar 999 now\n1.6: select 9\n2.0: end\n"
    res = run_offline(engine, parse_events(script, "j.txt"), lambda b: None)
    assert [a for _, a in res.fired] == [
        "jump Nowhere",
        "jump Nowhere now",
        "jump bar 999 now",
        "select 9",
        "end",
    ]
    assert [m for _, _, m in res.failed] == [
        "j.txt:1: no jump target 'Nowhere'",
        "j.txt:2: no jump target 'Nowhere'",
        "j.txt:3: no jump target 'bar 999'",
        "j.txt:4: no song 9 (1..1)",
    ]
    assert [f for f, _, _ in res.failed] == [SR, round(1.2 * SR), round(1.4 * SR), round(1.6 * SR)]


def test_waiting_fires_when_the_engine_vamps_at_a_vamp_stop(make_show):
    """Review finding 9: `waiting: go` never fired at a `mode = "vamp"` stop marker."""
    from backline.live.engine import Engine
    from backline.live.offline import parse_events, run_offline

    songs = song_toml("One", "a", 'stops = [{ at = "section B", mode = "vamp" }]')
    engine = Engine(make_show(songs))
    res = run_offline(engine, parse_events("waiting: go\n", "w.txt"), lambda b: None, max_seconds=30)
    assert res.fired == [(4 * BAR, "go")]  # at the marker (bar 5), the top of the vamped B
    assert not res.truncated and res.truncation() is None
    assert res.frames == 8 * BAR  # B played once more: left at the end of the loop


def test_max_seconds_warning_says_what_was_going_on(make_show, tmp_path):
    from typer.testing import CliRunner

    from backline.cli.app import app
    from backline.live.engine import Engine
    from backline.live.offline import parse_events, run_offline

    def run(songs: str, script: str, seconds: float):
        engine = Engine(make_show(songs))
        return run_offline(engine, parse_events(script, "s.txt"), lambda b: None, max_seconds=seconds)

    # no script at all: not "before the script finished"
    res = run(song_toml("One", "a"), "", 1.0)
    assert (
        res.truncation()
        == "stopped at --max-seconds (1.00 s): every event fired, but the song was still playing"
    )
    # events left
    res = run(song_toml("One", "a"), "5: stop\n6: end\n", 1.0)
    assert res.truncation() == "stopped at --max-seconds (1.00 s) with 2 event(s) of the script not fired"
    # a vamp-until-go and no go
    res = run(song_toml("One", "a", 'stops = [{ at = "section B", mode = "vamp" }]'), "", 8.0)
    assert "vamping at a stop marker until go" in (res.truncation() or "")
    # every event fired and the between-song pad waits for play: the render ends (idle)
    songs = song_toml("One", "a", 'between = "pad"\npad_seconds = 0.5') + song_toml("Two", "b")
    res = run(songs, "0.5: fade 0.5\n", 60.0)
    assert not res.truncated and res.seconds < 3.0
    # the CLI prints it
    make_show(song_toml("One", "a"))
    r = CliRunner().invoke(
        app,
        ["live", "render", str(tmp_path / "set.toml"), "-o", str(tmp_path / "n.wav"), "--max-seconds", "1"],
    )
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "before the script finished" not in flat and "the song was still playing" in flat
    # events left unfired: the render is written, and the exit code says the script did not finish
    (tmp_path / "left.txt").write_text("5: stop\n6: end\n")
    r = CliRunner().invoke(
        app,
        ["live", "render", str(tmp_path / "set.toml"), "-e", str(tmp_path / "left.txt"), "-o",
         str(tmp_path / "l.wav"), "--max-seconds", "1"],
    )  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "2 event(s) of the script not fired" in " ".join(r.output.split())
    assert (tmp_path / "l.wav").stat().st_size > 0


def test_max_seconds_is_checked_before_any_work(make_show, tmp_path):
    """--max-seconds NaN gave a traceback, a negative value an empty file with exit 0, and
    1e9 a render that could fill the disk: each is now refused (exit 2), nothing written."""
    import pytest
    from typer.testing import CliRunner

    from backline.cli.app import app
    from backline.errors import LiveError
    from backline.live.engine import Engine
    from backline.live.offline import MAX_RENDER_SECONDS, run_offline

    make_show(song_toml("One", "a"))
    for bad in ("nan", "-5", "0", "1e9"):
        out = tmp_path / f"x{bad}.wav"
        r = CliRunner().invoke(
            app, ["live", "render", str(tmp_path / "set.toml"), "-o", str(out), "--max-seconds", bad]
        )
        assert r.exit_code == 2, (bad, r.output)
        assert "--max-seconds must be above 0" in r.output and not out.exists()
    engine = Engine(make_show(song_toml("One", "a")))
    with pytest.raises(LiveError, match="six hours"):
        run_offline(engine, [], lambda b: None, max_seconds=MAX_RENDER_SECONDS + 1)
    res = run_offline(engine, [], lambda b: None, max_seconds=0.5)
    assert res.seconds == pytest.approx(0.5, abs=0.05)


def test_an_mp3_of_more_than_two_outputs_is_refused_before_the_show_is_played(make_show, tmp_path):
    """A gig review found `live render -o x.mp3` played the whole show and then failed with
    the encoder's own words: an MP3 holds one or two channels, the show has six."""
    from typer.testing import CliRunner

    from backline.cli.app import app

    make_show(song_toml("One", "a"))
    out = tmp_path / "x.mp3"
    r = CliRunner().invoke(app, ["live", "render", str(tmp_path / "set.toml"), "-o", str(out)])
    assert r.exit_code != 0 and "Traceback" not in r.output
    flat = " ".join(r.output.split())
    assert "an MP3 holds one or two channels and this has 6; write .wav, .flac or .ogg" in flat
    assert "wrote" not in flat and not out.exists()
