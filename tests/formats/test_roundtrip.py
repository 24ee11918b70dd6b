"""Every writer, read back: the song plays the same, or the writer said what it left out.

For every format backline both writes and reads, a song written and read again has the
same chord timeline (:func:`timeline`), or writing it issued a
:class:`~backline.formats.lost.FormLostWarning` ("a warning, never silence",
``formats/lost.py``). Checked on songs of the shared corpora (iReal Pro, ChordPro,
MusicXML) and on generated songs. Before the iReal writer warned, 62 of 104 songs of a
sample came back from ``.txt`` with chords moved, hits, pushes or sections gone, and said
nothing; ChordPro dropped a repeat count next to a comment, left endings open and restated
the wrong chord after an ending.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_chart import songs as generated_songs

from backline.errors import BacklineError
from backline.formats import READERS, WRITERS, dumps_song, load_songs, loads_songs
from backline.formats.lost import FormLostWarning
from backline.model.form import expand
from backline.model.song import Song
from corpora import CORPORA


def _writer_exts() -> list[str]:
    """One extension per writer module that backline can also read back (MIDI is write-only)."""
    first: dict[str, str] = {}
    for ext, mod in WRITERS.items():
        if READERS.get(ext) == mod:
            first.setdefault(mod, ext)
    return sorted(first.values())


WRITER_EXTS = _writer_exts()

Event = tuple[Fraction, object, bool, bool, bool]


def timeline(song: Song) -> tuple[int, list[float], list[Event]]:
    """The song as played: the number of played bars, their tempos, and each chord with the
    beat it sounds from (pitch classes and bass; a chord restated where it already sounds
    is no change) and its push, hit and fermata."""
    tl = expand(song)
    events: list[Event] = []
    for pb in tl.bars:
        for ev in pb.bar.chords:
            chord = None if ev.chord is None else (ev.chord.pitch_classes, ev.chord.bass_pc)
            flags = (ev.push, ev.hit, ev.fermata)
            if events and events[-1][1] == chord and not any(flags) and not any(events[-1][2:]):
                continue
            events.append((pb.start_beat + ev.beat, chord, *flags))
    return len(tl.bars), [pb.bar.tempo for pb in tl.bars], events


def check_round_trip(song: Song, ext: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = dumps_song(song, ext)
    warned = [str(w.message) for w in caught if issubclass(w.category, FormLostWarning)]
    (back,) = loads_songs(data, "back" + ext)
    if not warned:
        assert timeline(back) == timeline(song), f"{song.title!r} ({song.source}) changed silently in {ext}"


def test_every_readable_writer_is_checked() -> None:
    assert WRITER_EXTS == [".chart", ".cho", ".json", ".musicxml", ".txt"]
    assert {m for e, m in WRITERS.items() if READERS.get(e) != m} == {"backline.formats.midi_chart"}


@cache
def corpus_songs() -> tuple[Song, ...]:
    """A fixed sample of the shared corpora: every 10th iReal song, every ChordPro song and
    every 4th MusicXML score (all 2590 songs were checked once: no silent change)."""
    root = Path(CORPORA)
    out: list[Song] = []

    unreadable: list[str] = []

    def read(files: list[Path]) -> list[Song]:
        songs: list[Song] = []
        for f in files:
            try:
                songs += [s for s in load_songs(f) if s.bars]
            except BacklineError as exc:
                unreadable.append(f"{f.relative_to(root)}: {exc}")
        return songs

    out += read(sorted((root / "ireal").glob("*.txt")))[::10]
    out += read(sorted((root / "chordpro" / "songs").iterdir()))
    out += read(sorted((root / "musicxml").rglob("*.mxl"))[::4])
    # every file of this sample reads (219 files checked when this was written): a reader
    # regression must fail here, not quietly shrink the sample
    assert unreadable == [], unreadable
    return tuple(out)


@pytest.fixture(scope="module")
def corpus() -> tuple[Song, ...]:
    from corpora import corpora_path

    corpora_path("ireal")  # skips without the corpora
    songs = corpus_songs()
    assert len(songs) > 400
    return songs


@pytest.mark.parametrize("ext", WRITER_EXTS)
def test_corpus_songs_read_back_the_same_or_warn(ext: str, corpus: tuple[Song, ...]) -> None:
    for song in corpus:
        check_round_trip(song, ext)


@pytest.mark.parametrize("ext", WRITER_EXTS)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(song=generated_songs())
def test_generated_songs_read_back_the_same_or_warn(ext: str, song: Song) -> None:
    check_round_trip(song, ext)
