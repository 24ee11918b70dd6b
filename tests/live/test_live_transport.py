"""Transport as a performer meets it: the click never reaches front of house when a song
changes partway through an audio block, play says go, jumps leave vamps, a vamp does not
stop at its own top, a paused count-in resumes, a program change never stops the show,
and stop, pause, next and jump now fade instead of clicking on the PA."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from live_songs import BAR, SR, decode_pos, impulses, render, song_toml, tone

from backline.live.engine import DECLICK_S, Engine

FOH = (0, 1)
IEM = (2, 3)
POS = (4, 5)
D = round(DECLICK_S * SR)


def positions(out: np.ndarray) -> np.ndarray:
    return decode_pos(out[POS[0]], out[POS[1]])


def breaks(p: np.ndarray) -> list[tuple[int, int, int]]:
    j = np.flatnonzero(np.diff(p) != 1)
    return [(int(i) + 1, int(p[i]), int(p[i + 1])) for i in j]


def click_and_cues(bars: int) -> np.ndarray:
    n = bars * BAR
    cues = np.zeros(n, dtype=np.float32)
    for b in range(bars):
        cues[b * BAR : b * BAR + 2400] = tone(2400, 1000.0, 0.3, channels=1)
    return impulses(n, BAR // 4) + cues


def test_song_change_inside_a_block_keeps_the_click_off_front_of_house(make_show, tmp_path):
    # song Two has one stereo stem: its routing matrix reads the source rows differently,
    # so the part of the block before the change must go through song One's routing
    (tmp_path / "c").mkdir()
    sf.write(tmp_path / "c" / "keys.wav", tone(2 * BAR, 330.0), SR, subtype="FLOAT")
    songs = song_toml("One", "a", 'between = "continue"\ngap_seconds = 0.01') + (
        '\n[[songs]]\ntitle = "Two"\nstems = "c"\ntempo = 240\n'
    )
    engine = Engine(make_show(songs))
    engine.sync_prefetch = True
    engine.play()
    block = 441  # 8 bars = 384000 frames: the song ends 330 frames into a block
    out = np.concatenate([engine.process(block).copy() for _ in range(10 * BAR // block)], axis=1)
    assert [n.a for n in engine.notices if n.kind == "song"] == [0, 1]
    assert (8 * BAR) % block != 0
    gap = round(0.01 * SR)
    keys_one, keys_two = tone(8 * BAR, 220.0)[:, 0], tone(2 * BAR, 330.0)[:, 0]
    for o in FOH:  # front of house: song One's keys, silence, song Two's keys, nothing else
        np.testing.assert_allclose(out[o, : 8 * BAR], keys_one, atol=1e-6)
        assert not out[o, 8 * BAR : 8 * BAR + gap].any()
        np.testing.assert_allclose(
            out[o, 8 * BAR + gap :], keys_two[: out.shape[1] - 8 * BAR - gap], atol=1e-6
        )
    for o in IEM:  # in-ears: song One's click and cues to its last sample, then nothing
        np.testing.assert_allclose(out[o, : 8 * BAR], click_and_cues(8), atol=1e-6)
        assert not out[o, 8 * BAR :].any()


def test_play_says_go_at_a_vamp_until_go(make_show):
    songs = song_toml("One", "a", 'stops = [{ at = "section A", mode = "vamp" }]')
    out, _ = render(make_show(songs), "9.5: play\n")  # the sustain pedal's default action
    assert [b[1:] for b in breaks(positions(out))] == [(4 * BAR - 1, 0), (4 * BAR - 1, 0)]
    assert out.shape[1] == 16 * BAR


def test_a_jump_at_the_next_bar_leaves_the_vamp(make_show):
    # vamp B (bars 5-8) in its first bar, then jump back to A at the next bar line: A and B
    # play once more and the song ends (the vamp stayed on and looped B for ever before)
    out, eng = render(make_show(song_toml("One", "a")), "4.5: vamp\n5.5: jump A next bar\n")
    assert [b[1:] for b in breaks(positions(out))] == [(6 * BAR - 1, 0)]
    assert out.shape[1] == 6 * BAR + 8 * BAR
    assert not eng.vamp_on


def test_vamping_a_section_that_starts_at_a_wait_marker_does_not_wait_again(make_show):
    songs = song_toml("One", "a", 'stops = [{ at = "section B", mode = "wait" }]')
    script = (
        '{"at": "waiting", "after": 0.5, "action": "go"}\n'
        '{"at": 6.0, "action": "vamp"}\n'
        '{"at": 10.0, "action": "release"}\n'
    )
    out, eng = render(make_show(songs), script, fmt="x.jsonl")
    # B starts at 4 s and waits for go (0.5 s); it is vamped once round, then released
    assert len([n for n in eng.notices if n.kind == "hold"]) == 1
    assert [n.a for n in eng.notices if n.kind == "loop"] == [1]
    assert out.shape[1] == 4 * BAR + SR // 2 + 8 * BAR


def test_a_paused_count_in_resumes_where_it_stopped(make_show):
    songs = song_toml("One", "a", "count_in_bars = 1")
    out, eng = render(make_show(songs), "0.5: pause\n1.0: play\n3.0: pause\n3.2: pause\n")
    # the pause takes effect after its fade: the count-in had D more frames done
    first = int(np.flatnonzero(positions(out) == 1)[0]) - 1
    assert first == SR + (BAR - SR // 2 - D)
    loud = np.flatnonzero(np.abs(out[IEM[0], :first]) > 0.01)
    onsets = loud[np.r_[True, np.diff(loud) > 2000]]
    # four count-in beats, none skipped or doubled: the third, cut short by the pause, goes
    # on (fading in) where it stopped at 1.0 s
    fourth = SR + (3 * BAR // 4 - (SR // 2 + D))
    assert len(onsets) == 5 and SR <= onsets[3] < SR + D
    np.testing.assert_allclose(onsets[[0, 1, 2, 4]], [0, BAR // 4, BAR // 2, fourth], atol=3)
    # pausing and resuming in the song goes on with the song, not back to the count-in
    back = round(3.2 * SR) + D
    p = positions(out)
    assert np.array_equal(p[back : back + BAR], 3 * SR + 2 * D - first + np.arange(BAR))
    assert eng.count_left == 0


def test_a_program_change_while_playing_cues_the_song_instead_of_stopping(make_show):
    songs = song_toml("One", "a") + song_toml("Two", "b") + song_toml("Three", "a")
    script = (
        '{"at": 1.0, "action": "select 1"}\n'
        '{"at": 2.0, "action": "select 3"}\n'
        '{"at": "waiting", "action": "play"}\n'
    )
    out, eng = render(make_show(songs), script, fmt="x.jsonl")
    p = positions(out)
    assert np.array_equal(p[: 8 * BAR], np.arange(8 * BAR))  # One plays to its end, untouched
    assert [n.a for n in eng.notices if n.kind == "cued"] == [0, 2]
    assert [n.a for n in eng.notices if n.kind == "song"] == [0, 2]  # then Three, not Two
    assert np.array_equal(p[8 * BAR : 16 * BAR], np.arange(8 * BAR))


def test_stop_pause_and_next_fade_instead_of_clicking(make_show):
    keys = tone(8 * BAR, 220.0)[:, 0]
    biggest = float(np.abs(np.diff(keys)).max())  # the tone's own sample-to-sample step
    out, _ = render(make_show(), "1.0: pause\n2.0: pause\n3.0: stop\n")
    foh = out[FOH[0]]
    assert np.abs(np.diff(foh)).max() <= biggest + 1e-6
    # the pause fades out over D frames from 1.0 s, silence, then fades back in at 2.0 s
    ramp = np.arange(D, dtype=np.float32) / D
    np.testing.assert_allclose(foh[SR : SR + D], keys[SR : SR + D] * (1 - ramp), atol=1e-6)
    assert not foh[SR + D : 2 * SR].any()
    np.testing.assert_allclose(
        foh[2 * SR : 2 * SR + D], keys[SR + D : SR + 2 * D] * (ramp + 1 / D), atol=1e-6
    )
    # the stop fades too, and the rest is silence
    assert np.abs(foh[3 * SR - 10 : 3 * SR]).max() > 0.05
    assert not out[:, 3 * SR + D :].any()
    out, _ = render(make_show(), "1.0: next\n")
    assert np.abs(np.diff(out[FOH[0]])).max() <= biggest + 1e-6
    assert not out[:, SR + D :].any()
