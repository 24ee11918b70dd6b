"""The right spoken cue before a jump or a vamp loop (backline.live.cue_clips).

Song ``r``: 16 bars at 240 BPM (one bar a second), sections A B A B of 4 bars, a
render.json-style marker file listing where the cue stem speaks: "B section" before bar 5
(1500 Hz), "A section" before bar 9 (800 Hz), "Last time, B section" before bar 13
(2000 Hz, longer). Each cue ends 0.15 s before its downbeat, as the renderer places them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from live_songs import BAR, SETLIST_HEAD, SR, decode_pos, impulses, pos_stem, render, song_toml, tone

from backline.live.cue_clips import load_cue_bank
from backline.live.engine import Engine
from backline.live.setlist import load_setlist
from backline.live.show import prepare_show

GAP = 0.15
#: (section named, text, start s, end s, target s, tone Hz)
CUES = (
    ("B", "B section", 3.55, 3.85, 4.0, 1500.0),
    ("A", "A section", 7.55, 7.85, 8.0, 800.0),
    ("B", "Last time, B section", 11.35, 11.85, 12.0, 2000.0),
)
LABELS = ["A"] * 4 + ["B"] * 4 + ["A"] * 4 + ["B"] * 4


def _write(folder, *, listed=True, cues=CUES, shift=0.0):
    """The song; ``cues`` as (section, text, start, end, target, Hz); ``shift``: seconds the
    listed times are off from where the speech is (a stale list)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 16 * BAR
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    sf.write(folder / "keys.wav", tone(n, 220.0), SR, subtype="FLOAT")
    sf.write(folder / "click.wav", impulses(n, BAR // 4), SR, subtype="FLOAT")
    stem = np.zeros(n, dtype=np.float32)
    for _sec, _text, a, b, _t, hz in cues:
        stem[round(a * SR) : round(b * SR)] = tone(round(b * SR) - round(a * SR), hz, 0.3, channels=1)
    sf.write(folder / "cues.wav", stem, SR, subtype="FLOAT")
    report = {
        "bars": [
            {"start_seconds": float(i), "time_signature": [4, 4], "tempo": 240.0, "section": lab}
            for i, lab in enumerate(LABELS)
        ],
        "cues": [
            {"text": "one", "kind": "count", "section": None, "start_seconds": 0.0}  # ignored
        ]
        + [
            {
                "text": text,
                "kind": "section",
                "section": sec,
                "start_seconds": a + shift,
                "end_seconds": b + shift,
                "target_seconds": t,
            }
            for sec, text, a, b, t, _hz in cues
        ]
        if listed
        else [],
    }
    (folder / "render.json").write_text(json.dumps(report))
    return stem


@pytest.fixture
def song(tmp_path):
    cues = _write(tmp_path / "r")
    (tmp_path / "set.toml").write_text(
        SETLIST_HEAD
        + '\n[[songs]]\ntitle = "R"\nstems = "r"\nmarkers = "r/render.json"\nrouting = { pos = [5, 6] }\n'
    )

    def make():
        return prepare_show(load_setlist(tmp_path / "set.toml"))

    return make, cues


def _cue(out):
    """(song frame per output sample, the cue part of in-ear output 3: the click taken out)."""
    p = decode_pos(out[4], out[5])
    click = impulses(16 * BAR, BAR // 4)
    return p, out[2] - click[np.clip(p, 0, len(click) - 1)]


def _at(p, frame):
    """Output sample indices where song frame ``frame`` played."""
    return np.flatnonzero(p == frame)


def _spoken(p, cue, bar, npass=0):
    """The cue part over the song's ``bar`` (0-based), on its ``npass``-th pass."""
    i = int(_at(p, bar * BAR)[npass])
    return cue[i : i + BAR]


def _clip(cues, k):
    _s, _t, a, b, _tg, _hz = CUES[k]
    return cues[round(a * SR) : round(b * SR)]


def _said_alone(bar, start, clip):
    """``clip`` sample for sample at ``start`` of ``bar``, and silence in the rest of it."""
    assert np.allclose(bar[start : start + len(clip)], clip, atol=1e-6)
    assert float(np.abs(np.delete(bar, np.s_[start : start + len(clip)])).max()) < 1e-6


def test_the_render_report_cues_become_clips(song):
    make, _ = song
    s = make().songs[0]
    assert [(c.label, c.text) for c in s.cue_clips] == [(c[0], c[1]) for c in CUES]
    assert s.cue_clips[0].start == round(3.55 * SR) and s.cue_clips[0].target == 4 * SR
    bank, note = load_cue_bank(s, 1)
    assert note is None
    # one clip per label, the plain name preferred to "Last time, B section"
    assert sorted(bank.labels) == ["A", "B"]
    b = bank.clip_for(4 * BAR)
    assert bank.labels[b] == "B" and bank.audio[b].shape == (1, round(0.3 * SR))
    assert bank.leads[b] == round(GAP * SR)
    assert bank.clip_for(12 * BAR) == b and bank.clip_for(0) == bank.clip_for(8 * BAR) != b
    assert bank.clip_for(2 * BAR) == -1  # no section starts there


def test_a_jump_says_the_section_it_goes_to(song):
    make, cues = song
    # in the first A, jump to the second A at the end of the section: bar 4 leads to A
    out, eng = render(make(), "0.5: jump A #2 end of section\n")
    p, cue = _cue(out)
    bar4 = _spoken(p, cue, 3)
    a_clip = _clip(cues, 1)
    start = round((4.0 - GAP - 0.3) * SR) - 3 * BAR
    # the A cue, sample for sample where the B cue was, and nothing else in that bar
    _said_alone(bar4, start, a_clip)
    assert [n.b for n in eng.notices if n.kind == "jump"] == [8 * BAR]
    # the same with another block size
    out2, _ = render(make(), "0.5: jump A #2 end of section\n", block=97)
    assert np.array_equal(out, out2)


def test_the_plain_name_is_said_not_last_time(song):
    make, cues = song
    # from the second A back to the first B: bar 12 leads to B (written: "Last time, B")
    out, _ = render(make(), "8.5: jump B #1 end of section\n14: stop\n")
    p, cue = _cue(out)
    bar12 = _spoken(p, cue, 11)
    b_clip = _clip(cues, 0)
    start = round((12.0 - GAP - 0.3) * SR) - 11 * BAR
    _said_alone(bar12, start, b_clip)


def test_a_vamp_says_its_own_section_each_time_round(song):
    make, cues = song
    # vamp B (bars 5-8) from its first bar; released in the second pass: it goes on to A
    out, _ = render(make(), "4.2: vamp\n9.2: release\n12.5: stop\n")
    p, cue = _cue(out)
    start = round((8.0 - GAP - 0.3) * SR) - 7 * BAR
    b_clip, a_clip = _clip(cues, 0), _clip(cues, 1)
    first = _spoken(p, cue, 7, 0)  # loops back to B: "B section"
    assert np.allclose(first[start : start + len(b_clip)], b_clip, atol=1e-6)
    second = _spoken(p, cue, 7, 1)  # released: goes on to A, the written cue
    assert np.allclose(second[start : start + len(a_clip)], a_clip, atol=1e-6)


def test_a_cue_is_never_cut_in_half(song):
    make, cues = song
    # asked after the A cue would have begun (3.55 s): nothing is said, the B cue fades out
    out, _ = render(make(), "3.7: jump A #2 next bar\n6: stop\n")
    p, cue = _cue(out)
    press = int(_at(p, round(3.7 * SR))[0])
    land = int(_at(p, 8 * BAR)[0])
    assert float(np.abs(cue[press + 480 : land]).max()) < 1e-6
    # released while the vamp's B cue speaks (7.7 s, 0.15 s into it): it fades out in 10 ms
    out, _ = render(make(), "4.2: vamp\n11.7: release\n13: stop\n")
    p, cue = _cue(out)
    rel = int(_at(p, round(7.7 * SR))[1])
    b_clip = _clip(cues, 0)
    k = rel - int(_at(p, round(7.55 * SR))[1])
    assert np.allclose(cue[rel - k : rel], b_clip[:k], atol=1e-6)  # it spoke up to the release
    fade = np.abs(cue[rel : rel + 480]) / np.maximum(np.abs(b_clip[k : k + 480]), 1e-9)
    assert float(fade[b_clip[k : k + 480] != 0].max()) <= 1.0 + 1e-4
    bar_end = int(_at(p, 8 * BAR)[0])  # the loop never plays frame 8 s: it goes round
    assert float(np.abs(cue[rel + 480 : bar_end]).max()) < 1e-6  # and the A cue is not said


def test_without_a_cue_list_the_cues_are_found_in_the_stem(song, tmp_path):
    """A render.json without a cue list (a render from before the list): the cues are
    found in the cue stem, in the bar before each section, and said as with the list."""
    make, _ = song
    script = "0.5: jump A #2 end of section\n6: stop\n"
    listed, _ = render(make(), script)
    _write(tmp_path / "r", listed=False)
    show = make()
    # the bar before each section but the first: B, A, and the "Last time" B (from the
    # first sample that sounds: a sine's first is zero)
    assert [(c.label, c.start, c.end, c.target) for c in show.songs[0].cue_clips] == [
        (sec, round(a * SR) + 1, round(b * SR), round(t * SR)) for sec, _text, a, b, t, _hz in CUES
    ]
    assert any("cues heard before 3 of 3 sections (A, B)" in n for n in show.notes)
    out, _ = render(show, script)
    assert np.array_equal(out, listed)


def _guide_song(tmp_path, guide):
    """A song of the user's own: 16 bars at 240 BPM, sections Intro Verse Chorus Verse
    from markers.csv, and ``guide`` as its Guide.wav."""
    folder = tmp_path / "own"
    folder.mkdir()
    n = 16 * BAR
    sf.write(folder / "pos.wav", pos_stem(n), SR, subtype="FLOAT")
    sf.write(folder / "keys.wav", tone(n, 220.0), SR, subtype="FLOAT")
    sf.write(folder / "click.wav", impulses(n, BAR // 4), SR, subtype="FLOAT")
    sf.write(folder / "Guide.wav", guide, SR, subtype="FLOAT")
    (folder / "markers.csv").write_text("time,label\n0,Intro\n4,Verse\n8,Chorus\n12,Verse\n")
    (tmp_path / "set.toml").write_text(SETLIST_HEAD + song_toml("Own", "own"))
    return prepare_show(load_setlist(tmp_path / "set.toml"))


def _words(stem, bar, hz):
    """A guide's cue in the bar before a section: the name, then "2, 3, 4" on the beats,
    each word ending before the next beat (the last 0.1 s before the downbeat)."""
    for a, b, f in ((0.02, 0.2, hz), (0.27, 0.4, 300.0), (0.52, 0.65, 300.0), (0.77, 0.9, 300.0)):
        stem[round((bar + a) * SR) : round((bar + b) * SR)] = tone(
            round((bar + b) * SR) - round((bar + a) * SR), f, 0.3, 1
        )


def test_a_guide_stem_of_your_own_says_the_section_the_music_goes_to(tmp_path):
    """A bought multitrack's guide says "Verse, 2, 3, 4" in the bar before the verse and
    "Chorus, 2, 3, 4" before the chorus; no cue list comes with it. Jumping from the end
    of the first verse back to the verse, the player says the verse's guide bar where the
    chorus's was, and nothing of the chorus."""
    stem = np.zeros(16 * BAR, dtype=np.float32)
    _words(stem, 3, 700.0)  # "Verse, 2, 3, 4"
    _words(stem, 7, 900.0)  # "Chorus, 2, 3, 4"
    _words(stem, 11, 700.0)  # "Verse, 2, 3, 4"
    show = _guide_song(tmp_path, stem)
    clips = show.songs[0].cue_clips
    assert [(c.label, c.start, c.end, c.target) for c in clips] == [
        (lab, round((bar + 0.02) * SR) + 1, round((bar + 0.9) * SR), (bar + 1) * SR)
        for lab, bar in (("Verse", 3), ("Chorus", 7), ("Verse", 11))
    ]
    assert any("Guide.wav: cues heard before 3 of 3 sections (Chorus, Verse)" in n for n in show.notes)
    out, eng = render(show, "4.5: jump Verse #2 end of section\n10: stop\n")
    assert [n.b for n in eng.notices if n.kind == "jump"] == [12 * BAR]
    p, cue = _cue(out)
    said = _spoken(p, cue, 7)  # the bar before the jump
    verse = stem[3 * BAR : 4 * BAR]
    assert np.allclose(said, verse, atol=1e-6)  # the verse's guide bar, sample for sample
    assert not np.allclose(said, stem[7 * BAR : 8 * BAR], atol=1e-3)


def test_a_guide_that_sings_through_its_bar_lines_gives_no_cues(tmp_path):
    """A guide vocal (sound across the bar lines) or a bar that is silent gives no cue: the
    bar before a jump stays silent, as before."""
    show = _guide_song(tmp_path, tone(16 * BAR, 440.0, 0.2, channels=1))
    assert show.songs[0].cue_clips == ()
    assert not any("cues heard" in n for n in show.notes)


def _setlist(tmp_path):
    (tmp_path / "set.toml").write_text(
        SETLIST_HEAD
        + '\n[[songs]]\ntitle = "R"\nstems = "r"\nmarkers = "r/render.json"\nrouting = { pos = [5, 6] }\n'
    )
    return prepare_show(load_setlist(tmp_path / "set.toml"))


def test_a_cue_longer_than_the_bar_is_silenced_from_its_start(tmp_path):
    """A cue may start before the bar it ends in (long labels, fast tempos): the baked
    wrong cue was cut at the bar line after it had begun, and the clip said instead ran
    over it (two voices at once)."""
    long = (
        ("B", "B section", 2.55, 3.85, 4.0, 1500.0),  # 1.3 s: starts in bar 3
        ("A", "A section", 6.55, 7.85, 8.0, 800.0),
    )
    stem = _write(tmp_path / "r", cues=long)
    out, _ = render(_setlist(tmp_path), "0.5: jump A #2 end of section\n")
    p, cue = _cue(out)
    a_clip = stem[round(6.55 * SR) : round(7.85 * SR)]
    i = int(_at(p, round(2.55 * SR))[0])
    # the A cue where the B cue was, alone: no B in bars 3 and 4
    assert np.allclose(cue[i : i + len(a_clip)], a_clip, atol=1e-6)
    j = int(_at(p, 2 * BAR)[0])
    assert float(np.abs(cue[j : i - 1]).max()) < 1e-6
    assert float(np.abs(cue[i + len(a_clip) : int(_at(p, 8 * BAR)[0])]).max()) < 1e-6


def test_a_vamp_released_before_the_cue_begins_lets_it_play(song):
    make, cues = song
    # vamp B; released on the second pass at 7.2 s, before the A cue (7.55 s) begins:
    # the music goes on to A and the A cue plays whole (it was silenced to the bar's end)
    out, _ = render(make(), "4.2: vamp\n11.2: release\n13: stop\n")
    p, cue = _cue(out)
    start = round((8.0 - GAP - 0.3) * SR) - 7 * BAR
    second = _spoken(p, cue, 7, 1)
    a_clip = _clip(cues, 1)
    assert np.allclose(second[start : start + len(a_clip)], a_clip, atol=1e-6)


def test_a_stale_cue_list_is_not_trusted(tmp_path):
    """A render.json kept after the stems were rendered again: its times point 150 ms off."""
    _write(tmp_path / "r", shift=-0.15)
    show = _setlist(tmp_path)
    eng = Engine(show)
    assert not eng._cue_banks[0].by_start
    errs = [str(n.a) for n in eng.notices if n.kind == "error"]
    assert errs and "the cue list does not match the cue stem" in errs[0] and "'A section'" in errs[0]
    out, _ = render(show, "0.5: jump A #2 end of section\n")
    p, cue = _cue(out)
    assert float(np.abs(_spoken(p, cue, 3)).max()) < 1e-6  # silence, not a cut-off cue


def test_the_clip_fade_does_not_depend_on_the_block_size(song):
    make, _ = song
    script = "4.2: vamp\n11.7: release\n"  # released while the vamp's B cue speaks
    outs = [render(make(), script, block=b)[0] for b in (97, 512, 1920)]
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
