"""The pitched roles over real iReal progressions (jazz1350 and pop400), 100+ songs each."""

from __future__ import annotations

import random
from functools import lru_cache

import pytest
from ctxutil import bars_from_song, bass_change_stats, change_voicings, in_scale_stats, strong_beat_stats

from backline.arrange.roles import get_role
from backline.arrange.roles.base import BarContext, PartSpec
from backline.arrange.voicing import mean_voice_movement
from backline.formats import load_songs
from corpora import corpora_path

N_SONGS = 110


@lru_cache(maxsize=4)
def corpus(name: str) -> tuple[list[BarContext], ...]:
    path = corpora_path("ireal", name)
    songs = load_songs(path)
    step = max(1, len(songs) // N_SONGS)
    out = []
    for s in songs[::step][:N_SONGS]:
        out.append(bars_from_song(s))
    return tuple(out)


CASES = [
    ("jazz1350.txt", "walking", "walk", 28, 55),
    ("jazz1350.txt", "walking", "two-then-walk", 28, 55),
    ("jazz1350.txt", "bass", "bossa", 28, 55),
    ("jazz1350.txt", "comping", "jazz", 48, 84),
    ("jazz1350.txt", "guitar", "freddie", 40, 76),
    ("jazz1350.txt", "pad", "sustain", 52, 84),
    ("jazz1350.txt", "hits", "stabs", 55, 84),
    ("pop400.txt", "bass", "syncopated", 28, 55),
    ("pop400.txt", "bass", "eighths", 28, 55),
    ("pop400.txt", "comping", "pop", 48, 84),
    ("pop400.txt", "guitar", "strum", 40, 84),
    ("pop400.txt", "pad", "swell", 52, 84),
]


@pytest.mark.parametrize(("corpus_name", "role", "pattern", "low", "high"), CASES)
def test_roles_meet_the_targets_on_real_charts(
    corpus_name: str, role: str, pattern: str, low: int, high: int
) -> None:
    ctxs = corpus(corpus_name)
    assert len(ctxs) >= 100
    r = get_role(role)
    spec = PartSpec("p", role, low=low, high=high, params={"pattern": pattern})
    on_bass = on_tone = changes = ok = strong = sc = onsets = 0
    vl: list[float] = []
    for k, bars in enumerate(ctxs):
        notes = r.generate(bars, spec, random.Random(k))
        assert all(low <= n.pitch <= high for n in notes)
        a, b, c = bass_change_stats(notes, bars)
        on_bass, on_tone, changes = on_bass + a, on_tone + b, changes + c
        a, b = strong_beat_stats(notes, bars)
        ok, strong = ok + a, strong + b
        a, b = in_scale_stats(notes, bars)
        sc, onsets = sc + a, onsets + b
        if role == "comping":
            vl.append(mean_voice_movement(change_voicings(notes, bars)))
    if role in ("bass", "walking"):
        need = 0.97 if role == "bass" else 0.92
        assert on_bass / changes >= need
        assert (on_bass + on_tone) / changes >= 0.99
    assert ok / strong >= 0.95
    assert sc / onsets >= 0.97
    if vl:
        assert sum(vl) / len(vl) <= 2.0
