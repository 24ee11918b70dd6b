"""MIDI output: type 1, named tracks, GM programs, drums on channel 10, tempo map, meters, markers."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest
from arrange_helpers import REGISTRY, aaba, bar, song, still

import backline.arrange.roles.comping  # noqa: F401  (required, not optional: an import bug fails)
from backline.arrange.engine import arrange
from backline.arrange.midi_out import PPQ, arrangement_to_midi, arrangement_to_midi_bytes, write_midi
from backline.model.song import TimeSignature


def test_tracks_programs_channels_markers() -> None:
    arr = arrange(aaba(), "medium-swing", registry=REGISTRY, seed=2)
    mid = arrangement_to_midi(arr)
    assert mid.type == 1 and mid.ticks_per_beat == PPQ == 480
    assert [t.name for t in mid.tracks] == ["Test"] + [p.name for p in arr.parts]
    for part, track in zip(arr.parts, mid.tracks[1:], strict=True):
        pcs = [m for m in track if m.type == "program_change"]
        assert len(pcs) == 1 and pcs[0].program == part.program and pcs[0].channel == part.channel
        ons = [m for m in track if m.type == "note_on" and m.velocity > 0]
        offs = [m for m in track if m.type == "note_off"]
        assert len(ons) == len(offs) == len(part.notes)
        assert {m.channel for m in ons} == {part.channel}
    drums = mid.tracks[1]
    assert {m.channel for m in drums if m.type == "note_on"} == {9}
    markers = [(m.text) for m in mid.tracks[0] if m.type == "marker"]
    assert markers == ["Intro", "A", "A", "B", "A", "Ending"]
    # total length equals the plan (last note-off at or before the end)
    end_ticks = max(sum(m.time for m in t) for t in mid.tracks[1:])
    assert end_ticks <= round(arr.total_beats * PPQ)
    assert mid.length == pytest.approx(arr.duration_seconds, abs=0.3)


def test_tempo_and_time_signature_changes() -> None:
    s = song(
        (
            "A",
            [
                bar("C"),
                bar("F", time=TimeSignature(3, 4), tempo=90),
                bar("G", time=TimeSignature(7, 8), tempo=90),
            ],
        )
    )
    arr = arrange(s, "folk", registry=REGISTRY, parts=["drums"], intro=False, ending=False)
    mid = arrangement_to_midi(arr)
    now, tempos, sigs = 0, [], []
    for m in mid.tracks[0]:
        now += m.time
        if m.type == "set_tempo":
            tempos.append((now, round(mido.tempo2bpm(m.tempo), 3)))
        if m.type == "time_signature":
            sigs.append((now, m.numerator, m.denominator))
    assert tempos == [(0, 120.0), (4 * PPQ, 90.0)]
    assert sigs == [(0, 4, 4), (4 * PPQ, 3, 4), (7 * PPQ, 7, 8)]


def test_notes_round_trip_and_bytes_identical(tmp_path: Path) -> None:
    arr = arrange(aaba(), still("rock"), registry=REGISTRY, parts=["drums"], intro=False, ending=False)
    data = arrangement_to_midi_bytes(arr)
    out = write_midi(arr, tmp_path / "x.mid")
    assert out.read_bytes() == data == arrangement_to_midi_bytes(arr)
    assert not list(tmp_path.glob(".*part*"))  # atomic: no temporary left behind
    mid = mido.MidiFile(out)
    now, starts = 0, []
    for m in mid.tracks[1]:
        now += m.time
        if m.type == "note_on" and m.velocity > 0:
            starts.append((now, m.note))
    expect = sorted((round(n.start * PPQ), n.pitch) for n in arr.part("drums").notes)
    assert sorted(starts) == expect


def test_reverb_send_is_the_styles_or_the_default_when_it_sets_none() -> None:
    from dataclasses import replace

    arr = arrange(aaba(), "pop", registry=REGISTRY, seed=1)
    assert [p.reverb for p in arr.parts] == [None] * len(arr.parts)  # pop sets no reverb
    parts = (
        replace(arr.parts[0], reverb=None),
        replace(arr.parts[1], reverb=0.5),
        replace(arr.parts[2], reverb=0.2),
    )
    mid = arrangement_to_midi(replace(arr, parts=parts))
    sends = [[m.value for m in t if m.type == "control_change" and m.control == 91] for t in mid.tracks[1:]]
    assert sends == [[25], [64], [25]]  # None: 0.2 of 127, as before the sentinel went


def _key_signatures(arr) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    now, out = 0, []
    for m in arrangement_to_midi(arr).tracks[0]:
        now += m.time
        if m.type == "key_signature":
            out.append((now, m.key))
    return out


def test_the_key_signature_follows_the_key_and_its_changes() -> None:
    """song.mid had no key signature: a DAW or notation program opened it in C."""
    from backline.formats.chart import loads

    text = (
        "title: K\nkey: Bb\ntempo: 120\n[A]\n| Bb | Eb |\n[B]\nkey: Gm\n| Gm | D7 |\n[C]\nkey: D\n| D | A |\n"
    )
    arr = arrange(loads(text)[0], "rock", registry=REGISTRY, seed=0)
    starts = {b.written_bar: round(b.start_beat * PPQ) for b in arr.bars}
    # the intro is in the first key (from tick 0), each change at its bar, the ending in the last
    assert _key_signatures(arr) == [(0, "Bb"), (starts[2], "Gm"), (starts[4], "D")]
    assert arr.bars[-1].written_bar is None  # the ending played on in D
    moved = arrange(loads(text)[0], "rock", registry=REGISTRY, seed=0, key="F#")
    assert [k for _, k in _key_signatures(moved)] == ["F#", "Ebm", "Bb"]  # down a major third throughout
    # read back, the key is the chart's
    from backline.formats.midi_in import load_bytes

    assert str(load_bytes(arrangement_to_midi_bytes(arr), "k.mid")[0].key) == "Bb"
    keyless = song(("A", [bar("C"), bar("F")]))
    assert keyless.key is None and _key_signatures(arrange(keyless, "rock", registry=REGISTRY)) == []
