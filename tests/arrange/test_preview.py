"""The style preview song (``backline styles --preview``): every style gets one, in its
first meter at its default tempo, on changes its family plays."""

from __future__ import annotations

import pytest

from backline.arrange.engine import arrange
from backline.arrange.preview import PREVIEW_B_INTENSITY, preview_song
from backline.arrange.styles import StyleRegistry
from backline.errors import StyleError

STYLES = list(StyleRegistry.default())


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_every_style_has_a_preview_in_its_own_meter_and_tempo(style) -> None:
    song = preview_song(style)
    assert [s.label for s in song.sections] == ["A", "B"]
    assert song.sections[1].intensity == PREVIEW_B_INTENSITY
    assert {str(b.time) for b in song.bars} == {str(style.meters[0])}
    assert song.tempo == style.default_tempo and str(song.key) == "C"
    arr = arrange(song, style.name, seed=0)
    assert arr.style == style.name
    # the style's intro and ending around the song's 20 (blues) or 16 bars
    written = 20 if style.family == "blues" else 16
    assert len(arr.bars) > written


def test_the_changes_follow_the_family() -> None:
    reg = StyleRegistry.default()

    def chords(name: str) -> list[str]:
        return [str(e.chord) for b in preview_song(reg.get(name)).sections[0].bars for e in b.chords]

    assert chords("medium-swing")[:4] == ["Cmaj7", "Am7", "Dm7", "G7"]  # ii-V-I for walking lines
    assert chords("bossa-nova")[:4] == ["Cmaj7", "Am7", "Dm7", "G7"]
    assert chords("blues-shuffle") == ["C7", "F7", "C7", "C7", "F7", "F7", "C7", "C7", "G7", "F7", "C7", "G7"]
    assert chords("rock")[:4] == ["C", "Am", "F", "G"]


def test_another_meter_the_style_plays_and_one_it_does_not() -> None:
    waltz = StyleRegistry.default().get("jazz-waltz")
    assert {str(b.time) for b in preview_song(waltz, time="6/8", tempo=100).bars} == {"6/8"}
    assert preview_song(waltz, tempo=100).tempo == 100
    with pytest.raises(StyleError, match="jazz-waltz plays 3/4, 6/8, not 4/4"):
        preview_song(waltz, time="4/4")
    with pytest.raises(StyleError, match="not a time signature"):
        preview_song(waltz, time="waltz")
