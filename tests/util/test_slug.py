"""File-name slugs: one alphabet (ASCII letters and digits joined by one separator) for
stems, playlist files and cue recordings, and distinct names where two would collide."""

from __future__ import annotations

import pytest

from backline.util.slug import slug, unique_slugs


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("Keys 1", {}, "Keys_1"),
        ("Keys_1", {}, "Keys_1"),
        ("E.Piano / Rhodes", {}, "E_Piano_Rhodes"),
        ("  Bella María De Mi Alma  ", {"sep": "-", "lower": True}, "bella-maria-de-mi-alma"),
        ("Robbin's Nest", {"sep": "-", "lower": True}, "robbin-s-nest"),
        ("last time", {"lower": True}, "last_time"),
        ("???", {}, "untitled"),
        ("???", {"fallback": "song"}, "song"),
        ("a" * 50 + " b", {"max_len": 51}, "a" * 50),  # cut, never ending on the separator
        ("日本語", {"fallback": "part"}, "part"),
    ],
)
def test_slug_alphabet(text: str, kwargs: dict[str, object], expected: str) -> None:
    s = slug(text, **kwargs)  # type: ignore[arg-type]
    assert s == expected
    assert s.replace(str(kwargs.get("sep", "_")), "").isalnum() and s.isascii()


def test_slug_refuses_a_separator_from_the_alphabet() -> None:
    with pytest.raises(ValueError, match="separator"):
        slug("x", sep="a")


def test_unique_slugs_never_give_two_names_one_file() -> None:
    # "Keys 1" and "Keys_1" both became stems/Keys_1.wav, and the second overwrote the first
    names = ["Keys 1", "Keys_1", "Keys_1_2", "Bass", "bass", "click"]
    got = unique_slugs(names, reserved=["click", "cues"])
    assert list(got) == names
    assert got["Keys 1"] == "Keys_1" and got["Bass"] == "Bass"
    files = [v.casefold() for v in got.values()]  # one file on a case-insensitive disk
    assert len(set(files)) == len(names) and not {"click", "cues"} & set(files)
    assert unique_slugs(names, reserved=["click", "cues"]) == got  # the same every time
