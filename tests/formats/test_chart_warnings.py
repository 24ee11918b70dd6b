"""Charts that read but do not play as a musician may think get a warning with the
place: a first bar of '.' only (no chord to keep sounding), a D.C./D.S. al Fine with no
Fine in the chart (stage review)."""

from __future__ import annotations

from backline.formats.chart import loads


def _warnings(text: str) -> tuple[str, ...]:
    return loads("title: W\nkey: G\n" + text, "w.chart")[0].warnings


def test_a_first_bar_of_dots_is_read_with_a_warning() -> None:
    (w,) = _warnings("| . | D | C | G |\n")
    assert w.startswith("w.chart:3:3:") and "first bar" in w and "N.C." in w
    song = loads("title: W\n| . | D |\n", "w.chart")[0]
    assert song.bars[0].chords == ()
    # a chord later in the first bar is a late start, not a mistake
    assert _warnings("| . . C . | D |\n") == ()
    assert _warnings("| N.C. | D |\n") == ()


def test_al_fine_without_a_fine_is_warned() -> None:
    (w,) = _warnings("| Segno G | D | C | D.S. al Fine |\n")
    assert w.startswith("w.chart:3:") and "D.S. al Fine" in w and "no Fine" in w
    assert _warnings("| G | D Fine | C | D.C. al Fine |\n") == ()


def test_a_mistyped_song_title_suggests_the_close_ones() -> None:
    import pytest

    from backline.errors import ChartError
    from backline.formats import select_song

    songs = [loads(f"title: {t}\n| C |\n", "b.chart")[0] for t in ("Blue Bossa", "Blue Monk", "Solar")]
    with pytest.raises(ChartError, match=r"no song titled 'Blue Bosa'; did you mean 'Blue Bossa'"):
        select_song(songs, "Blue Bosa", "book.txt")
    with pytest.raises(ChartError, match=r"no song titled 'Giant Steps'$"):
        select_song(songs, "Giant Steps", "book.txt")


def test_an_unclosed_section_label_is_named_as_such() -> None:
    import pytest

    from backline.errors import ChartSyntaxError

    with pytest.raises(
        ChartSyntaxError, match=r"^w\.chart:2:1: '\[Chorus': a section label needs its closing"
    ):
        loads("title: W\n[Chorus\n| C | D |\n", "w.chart")
