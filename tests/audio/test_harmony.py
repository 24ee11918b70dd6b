"""The harmony model learned from charts: counts, chord prior, chord changes, key classifier."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from backline.audio.analyze.chords import CHORD_STATES, decode_chords_and_bars
from backline.errors import BacklineError
from backline.formats import load_songs
from backline.formats.chart import loads as parse_chart
from backline.model.chord import parse_quality
from backline.model.harmony import (
    FAMILY_OF_QUALITY,
    HarmonyCounts,
    HarmonyModel,
    chord_family,
    count_songs,
    default_model,
    fit_key_weights,
    function_index,
    key_index,
    song_examples,
    title_key,
)
from corpora import corpora_path

C_MAJOR = key_index(0, "major")


def state(root: int, quality: str) -> int:
    return CHORD_STATES.index((root, quality))


@pytest.mark.parametrize(
    ("suffix", "family"),
    [("", "M"), ("maj7", "M"), ("6", "M"), ("7", "D"), ("9", "D"), ("13", "D"), ("m", "m"), ("m7", "m")]
    + [("m6", "m"), ("dim", "o"), ("m7b5", "o"), ("dim7", "o"), ("sus4", None), ("aug", None), ("5", None)],
)
def test_chord_families(suffix: str, family: str | None) -> None:
    assert chord_family(parse_quality(suffix)) == family


def test_counts_by_function_in_any_key() -> None:
    """ii-V-I in C and in Eb count as the same functions."""
    text = "title: A\nkey: C\n| Dm7 | G7 | C | C |\n---\ntitle: B\nkey: Eb\n| Fm7 | Bb7 | Eb | Eb |\n"
    songs = parse_chart(text)
    examples, excluded = song_examples(songs)
    assert excluded == ()
    counts = count_songs(examples)
    assert counts.songs == 2
    one = counts.unigram[0, function_index(0, "M")]
    assert one == pytest.approx(2 * 8.0)  # two bars of I in each song, 4 beats a bar
    assert counts.bigram[0, function_index(7, "D"), function_index(0, "M")] == 2
    assert counts.bigram[0, function_index(2, "m"), function_index(7, "D")] == 2
    assert counts.unigram[1].sum() == 0  # no minor-key song
    held, excluded = song_examples(songs, exclude_titles={"B"})
    assert len(held) == 1 and excluded == ("B",)


def test_json_round_trip_and_bad_files() -> None:
    m = default_model()
    counts = HarmonyCounts.from_json(
        Path(__file__).resolve().parents[2].joinpath("src", "backline", "data", "harmony.json").read_text()
    )
    again = HarmonyCounts.from_json(counts.to_json())
    assert np.allclose(again.unigram, counts.unigram) and np.array_equal(again.bigram, counts.bigram)
    assert again.key_weights is not None and m.key_weights is not None
    assert np.allclose(again.key_weights, m.key_weights, atol=1e-5)
    with pytest.raises(BacklineError):
        HarmonyCounts.from_json('{"format": "something else"}')
    with pytest.raises(BacklineError):
        HarmonyCounts.from_json(counts.to_json().replace('"unigram":[[', '"unigram":[[1,'))


def test_shipped_prior_prefers_the_keys_own_chords() -> None:
    m = default_model()
    prior = m.chord_prior(C_MAJOR, CHORD_STATES)
    assert prior[state(0, "maj")] == 0.0  # the tonic is the likeliest chord
    diatonic = [state(2, "min7"), state(5, "maj"), state(7, "7"), state(9, "min")]
    outside = [state(1, "7"), state(6, "maj"), state(8, "min"), state(3, "min")]
    assert min(prior[diatonic]) > max(prior[outside])
    assert prior[-1] == 0.0  # "no chord" is left to the audio
    # In C minor the minor tonic and Ab major lead instead.
    minor = m.chord_prior(key_index(0, "minor"), CHORD_STATES)
    assert minor[state(0, "min")] > minor[state(0, "maj")]
    assert minor[state(8, "maj")] > prior[state(8, "maj")]


def test_an_uncertain_key_mixes_the_priors() -> None:
    m = default_model()
    both = np.zeros(24)
    both[C_MAJOR] = both[key_index(0, "minor")] = 0.5
    mixed = m.chord_prior(both, CHORD_STATES)
    major = m.chord_prior(C_MAJOR, CHORD_STATES)
    # Eb major (bIII) is unlikely in C major, likely in C minor: the mixture keeps it.
    assert major[state(3, "maj")] < mixed[state(3, "maj")]
    assert mixed[state(0, "maj")] > -1.0 and mixed[state(0, "min")] > -1.0


def test_shipped_transitions_resolve_the_dominant() -> None:
    m = default_model()
    t = m.transitions(C_MAJOR, CHORD_STATES)
    g7 = state(7, "7")
    assert t[g7, state(0, "maj")] > t[g7, state(1, "maj")]
    assert t[g7, state(0, "maj")] > t[g7, state(2, "min")]
    assert t[state(2, "min7"), g7] > t[state(2, "min7"), state(8, "7")]
    assert t[state(0, "maj"), state(0, "maj7")] == 0.0  # same family: no opinion


def test_transitions_decide_an_ambiguous_chord() -> None:
    """G7 for four beats, then a chord the audio cannot tell from C and Db (Db a hair
    ahead): without the model Db wins, with it the dominant resolves to C."""
    n = 8
    full = np.full((len(CHORD_STATES), n), 0.1)
    full[state(7, "7"), :4] = 0.6
    full[state(0, "maj"), 4:] = 0.5
    full[state(1, "maj"), 4:] = 0.502
    flat = np.zeros(n)
    plain, _ = decode_chords_and_bars(full, 4, flat)
    moves = 0.5 * default_model().transitions(C_MAJOR, CHORD_STATES)
    led, _ = decode_chords_and_bars(full, 4, flat, transitions=moves)
    assert CHORD_STATES[plain[-1]] == (1, "maj")
    assert CHORD_STATES[led[-1]] == (0, "maj")
    assert [CHORD_STATES[i] for i in led[:4]] == [(7, "7")] * 4


def test_key_classifier_learns_keys_from_charts() -> None:
    """Trained on 700 jazz standards, it names the key of 250 others from their chords
    alone (the shipped model, trained on about 2,000 charts, reaches about 85% in
    cross-validation; chart keys are themselves sometimes the relative major)."""
    songs = load_songs(corpora_path("ireal", "jazz1350.txt"))
    examples, _ = song_examples(songs)
    train, test = examples[:700], examples[700:950]
    counts = count_songs(train)
    model = HarmonyModel.from_counts(counts)
    w = fit_key_weights(model, train, iterations=200)
    model = HarmonyModel(model.log_unigram, model.log_bigram, w)
    hits = sum(int(np.argmax(model.key_scores(runs))) == key for runs, key in test)
    assert hits / len(test) >= 0.75


def test_shipped_model_never_saw_the_evaluation_songs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every song the analysis benchmark renders is in the model's held-out list (so
    the benchmark's key and chord figures are on unseen songs), under any spelling of
    its title ("Desafinado (Original)" is "Desafinado")."""
    corpora_path("ireal", "jazz1350.txt")
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setattr(sys, "path", [str(root / "benchmarks"), *sys.path])  # restored after the test
    from build_eval_set import select

    counts = HarmonyCounts.from_json((root / "src" / "backline" / "data" / "harmony.json").read_text())
    titles = {arr.song.title for v in (0, 1, 2, 3) for _, _, arr in select(variant=v)}
    assert len(titles) >= 80
    assert titles <= set(counts.excluded)
    held = {title_key(t) for t in titles}
    songs = [s for pl in ("jazz1350", "brazilian") for s in load_songs(corpora_path("ireal", f"{pl}.txt"))]
    variants = {s.title for s in songs if title_key(s.title) in held}
    assert "Desafinado (Original)" in variants
    assert variants <= set(counts.excluded)


def test_title_key_matches_spellings() -> None:
    assert title_key("Desafinado (Original)") == title_key("desafinado")
    assert title_key("Jóga") == title_key("JÓGA") != title_key("Joga")
    assert title_key("Living For The City Page 1") != title_key("Living For The City")


def test_priors_of_no_chords_and_odd_key_distributions() -> None:
    m = default_model()
    assert list(m.chord_prior(C_MAJOR, ((-1, "N"),))) == [0.0]
    assert m.transitions(C_MAJOR, ((-1, "N"),)).tolist() == [[0.0]]
    # A flat or empty distribution mixes all keys; a wrong length is an error.
    flat = m.chord_prior(np.zeros(24), CHORD_STATES)
    assert np.all(np.isfinite(flat)) and flat.max() == 0.0
    with pytest.raises(BacklineError):
        m.chord_prior(np.ones(12), CHORD_STATES)
    # Two states of one family: no opinion on the change, and no warning.
    with np.errstate(all="raise"):
        t = m.transitions(C_MAJOR, ((0, "maj"), (0, "maj7")))
    assert t.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_every_analyser_quality_has_a_family() -> None:
    assert {q for _, q in CHORD_STATES[:-1]} <= set(FAMILY_OF_QUALITY)
