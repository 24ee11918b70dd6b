"""Styles as data: the built-in set, the file format, user folders, hint matching."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from arrange_helpers import REGISTRY

from backline.arrange.styles import StyleRegistry, normalise_style_name, style_from_dict
from backline.errors import StyleError
from backline.model.song import TimeSignature

REQUIRED = [
    "medium-swing", "up-tempo-swing", "jazz-ballad", "jazz-waltz", "bossa-nova", "samba", "afro-cuban",
    "latin-jazz", "even-8ths", "rock", "hard-rock", "pop", "pop-ballad", "dance", "funk", "soul", "rnb-12-8",
    "blues-shuffle", "slow-blues", "country-train", "country-two-step", "reggae", "gospel", "folk", "odd-5",
    "odd-7",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def test_builtin_styles_are_complete() -> None:
    assert len(REGISTRY) >= 24
    assert set(REQUIRED) <= set(REGISTRY.names())
    for st in REGISTRY:
        assert {"A", "B", "fill", "intro", "ending"} <= set(st.drums), st.name
        assert len(st.parts) >= 5, st.name
        assert st.parts[0].role == "drums" and st.parts[0].channel == 9
        channels = [p.channel for p in st.parts]
        assert len(set(channels)) == len(channels)
        assert st.tempo_range[0] <= st.default_tempo <= st.tempo_range[1]
        for p in st.parts[1:]:
            assert "pattern" in p.params, (st.name, p.name)
            assert 0 <= p.low < p.high <= 127
        assert st.intro.kind != "none" and st.ending.kind != "none"


def test_extends_merges_parts_by_name() -> None:
    up, med = REGISTRY.get("up-tempo-swing"), REGISTRY.get("medium-swing")
    assert up.part("bass").params["pattern"] == "walk"
    assert med.part("bass").params["pattern"] == "two-then-walk"
    assert up.part("guitar") == med.part("guitar")
    assert up.drums["intro"] == med.drums["intro"] and up.drums["A"] != med.drums["A"]


def test_user_folder_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my-rock.toml").write_text(
        'name = "my-rock"\nextends = "rock"\ntitle = "My Rock"\n[intensity]\nA = 90\n'
        '[drums.A]\nhat = "XX XX XX XX"\nkick = "X. X. X. X."\n'
    )
    (tmp_path / "pop.toml").write_text('name = "pop"\nextends = "rock"\ntitle = "Pop (mine)"\n')
    monkeypatch.setenv("BACKLINE_STYLES", str(tmp_path))
    reg = StyleRegistry.default()
    mine = reg.get("My Rock")
    assert mine.intensity["A"] == 90 and mine.family == "rock"
    assert [h.offset for h in mine.drums["A"].hits if h.pitch == 36] == [0.0, 1.0, 2.0, 3.0]
    assert reg.get("pop").title == "Pop (mine)"
    assert "my-rock" not in REGISTRY  # the registry passed around is never mutated


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[parts]]\nrole = "drums"\n[drums.A]\ncowbel = "x..."\n', "unknown drum voice 'cowbel'"),
        ('[[parts]]\nrole = "drums"\n[drums.A]\nkick = "x.x"\n', "3 steps, but a 4/4 bar at 2 steps"),
        ('[[parts]]\nrole = "drums"\n[drums.A]\nkick = "x.x?x.x."\n', "step 4 is '?'"),
        ('feel = "lilt"\n[[parts]]\nrole = "bass"\n', "'feel' is 'lilt'"),
        ('tempo = [200, 100]\n[[parts]]\nrole = "bass"\n', "'tempo' range"),
        ('[[parts]]\nrole = "drums"\nkit = "tin"\n[drums.A]\nkick = "x. x. x. x."\n', "kit 'tin'"),
        ("parts = []\n", "at least one [[parts]]"),
        # wrong param types gave tracebacks in the roles; unknown names played some default
        (
            '[[parts]]\nname = "bass"\nrole = "bass"\nparams = { density = "lots" }\n',
            "part 'bass': params.density must be a number from 0 to 1, not 'lots'",
        ),
        (
            '[[parts]]\nrole = "bass"\nparams = { density = 50 }\n',
            "params.density must be from 0 to 1, not 50",
        ),
        (
            '[[parts]]\nrole = "walking"\nparams = { chromatic = [1, 2] }\n',
            "params.chromatic must be a number",
        ),
        (
            '[[parts]]\nrole = "bass"\nparams = { pattern = "nonexistent" }\n',
            "params.pattern: unknown pattern 'nonexistent' for a bass part; choose one of root, root5,",
        ),
        (
            '[[parts]]\nrole = "comping"\nparams = { voicing = "weird" }\n',
            "params.voicing: unknown voicing 'weird' for a comping part; choose one of rootless,",
        ),
        (
            '[[parts]]\nrole = "pad"\n[parts.variations.B]\npattern = "loud"\n',
            "part 'pad': variations.B.pattern: unknown pattern 'loud'",
        ),
        (
            '[[parts]]\nrole = "hits"\nparams = { downbeats = "yes" }\n',
            "params.downbeats must be true or false",
        ),
    ],
)
def test_style_file_errors_name_the_file_and_key(text: str, message: str) -> None:
    with pytest.raises(StyleError) as info:
        style_from_dict(tomllib.loads(text), "bad.toml")
    assert "bad.toml" in str(info.value) and message in str(info.value)


def test_docs_example_is_a_valid_style() -> None:
    doc = (ROOT / "docs" / "styles.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", doc, re.S)
    assert blocks
    st = style_from_dict(tomllib.loads(blocks[0]), "docs/styles.md")
    assert st.name and len(st.parts) >= 5 and {"A", "B", "fill", "intro", "ending"} <= set(st.drums)


@pytest.mark.parametrize(
    ("hint", "meter", "expected"),
    [
        ("Medium Swing", (4, 4), "medium-swing"),
        ("Up Tempo Swing", (4, 4), "up-tempo-swing"),
        ("Medium Up Swing", (4, 4), "up-tempo-swing"),
        ("Ballad", (4, 4), "jazz-ballad"),
        ("Bossa Nova", (4, 4), "bossa-nova"),
        ("Latin", (4, 4), "latin-jazz"),
        ("Afro", (4, 4), "afro-cuban"),
        ("Samba", (4, 4), "samba"),
        ("Rock Pop", (4, 4), "rock"),
        ("Even 8ths", (4, 4), "even-8ths"),
        ("Funk", (4, 4), "funk"),
        ("Soul", (4, 4), "soul"),
        ("R&B", (4, 4), "rnb-12-8"),
        ("Blues", (4, 4), "blues-shuffle"),
        ("Slow Blues", (12, 8), "slow-blues"),
        ("Shuffle", (4, 4), "blues-shuffle"),
        ("Waltz", (3, 4), "jazz-waltz"),
        ("Pop Waltz", (3, 4), "waltz"),
        ("Country", (4, 4), "country-two-step"),
        ("Reggae", (4, 4), "reggae"),
        ("Gospel", (4, 4), "gospel"),
        ("Folk", (6, 8), "folk"),
        ("Pop", (4, 4), "pop"),
        ("Pop Ballad", (4, 4), "pop-ballad"),
        ("Medium Swing", (3, 4), "jazz-waltz"),
        ("Medium Swing", (5, 4), "odd-5"),
        ("Even 8ths", (7, 8), "odd-7"),
        ("", (3, 4), "waltz"),
        ("", (4, 4), "pop"),
    ],
)
def test_hint_and_meter_pick_the_closest_style(hint: str, meter: tuple[int, int], expected: str) -> None:
    st, reason = REGISTRY.match(hint, TimeSignature(*meter))
    assert st.name == expected, reason


def test_unknown_hint_says_why() -> None:
    st, reason = REGISTRY.match("Klezmer Hora", TimeSignature(4, 4))
    assert st.name == "pop" and "no style matches" in reason
    with pytest.raises(StyleError, match="did you mean"):
        REGISTRY.get("medium swingg")


# ------------------------------------------------------------------ names, duplicates, reloading


def test_a_style_named_with_capitals_and_spaces_can_be_chosen(tmp_path: Path) -> None:
    # was stored as 'my groove' but looked up as 'my-groove': loaded, never found
    (tmp_path / "groove.toml").write_text('name = "My Groove"\nextends = "pop"\naliases = ["Groovy_Thing"]\n')
    reg = StyleRegistry.load([tmp_path])
    assert "my-groove" in reg.names() and "my groove" not in reg.names()
    for typed in ("My Groove", "my groove", "my-groove", "MY_GROOVE", " my  groove ", "groovy thing"):
        assert reg.get(typed).name == "my-groove", typed
    assert "My Groove" in reg and "my-groove" in reg
    assert reg.get("my-groove").title == "My Groove"
    assert reg.match("My Groove")[0].name == "my-groove"
    assert normalise_style_name("Up_Tempo -- Swing") == "up-tempo-swing"


def test_two_styles_whose_names_match_are_refused_naming_both_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('name = "My Groove"\nextends = "pop"\n')
    (tmp_path / "my_groove.toml").write_text('extends = "rock"\n')  # named after the file
    with pytest.raises(StyleError) as info:
        StyleRegistry.load([tmp_path])
    msg = str(info.value)
    assert str(tmp_path / "a.toml") in msg and str(tmp_path / "my_groove.toml") in msg
    assert "'my-groove'" in msg


def test_a_style_without_a_name_is_named_after_its_file_even_when_it_extends(tmp_path: Path) -> None:
    # took the name of the style it extended ('pop') and vanished behind the built-in one
    (tmp_path / "house.toml").write_text('extends = "pop"\ndefault_tempo = 100\n')
    reg = StyleRegistry.load([tmp_path])
    assert reg.get("house").default_tempo == 100 and reg.get("house").source == str(tmp_path / "house.toml")
    assert reg.get("pop") == REGISTRY.get("pop")


def test_an_edited_or_broken_style_file_is_seen_on_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the registry was cached for the life of the process: edits and breakage never seen
    f = tmp_path / "house.toml"
    f.write_text('name = "house"\nextends = "pop"\ndefault_tempo = 100\n')
    monkeypatch.setenv("BACKLINE_STYLES", str(tmp_path))
    first = StyleRegistry.default().get("house")
    assert first.default_tempo == 100
    assert StyleRegistry.default().get("house") is first  # unchanged files: read once
    f.write_text('name = "house"\nextends = "pop"\ndefault_tempo = 131\n')  # same size
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # saved two seconds later
    assert StyleRegistry.default().get("house").default_tempo == 131
    f.write_text("this is not toml = = =")
    with pytest.raises(StyleError, match=r"house\.toml: not valid TOML"):
        StyleRegistry.default()
    f.unlink()
    assert "house" not in StyleRegistry.default()
    (tmp_path / "other.toml").write_text('name = "other"\nextends = "rock"\n')
    assert "other" in StyleRegistry.default()


# ------------------------------------------------------------------ reverb and parts


def test_a_part_reverb_is_none_unless_the_style_sets_it_even_to_0_2() -> None:
    st = style_from_dict(
        tomllib.loads(
            '[[parts]]\nname = "bass"\nrole = "bass"\nreverb = 0.2\n'
            '[[parts]]\nname = "keys"\nrole = "comping"\n'
            '[[parts]]\nname = "pad"\nrole = "pad"\nreverb = 0.0\n'
        ),
        "r.toml",
    )
    assert [p.reverb for p in st.parts] == [0.2, None, 0.0]  # 0.2 was the "not set" sentinel


def test_an_unknown_part_is_a_style_error_that_is_also_a_key_error() -> None:
    with pytest.raises(StyleError, match=r"style pop has no part 'tuba'; its parts: drums, bass") as info:
        REGISTRY.get("pop").part("tuba")  # was a raw KeyError
    assert isinstance(info.value, KeyError) and str(info.value).startswith("style pop")


def test_a_part_with_an_unknown_role_names_the_style_file(tmp_path: Path) -> None:
    """'unknown role' gave no file: a user with ten style files could not tell which."""
    from arrange_helpers import bar, song

    from backline.arrange.engine import arrange

    (tmp_path / "kz.toml").write_text(
        'name = "kz"\nmeters = ["4/4"]\ntempo = [60, 200]\n'
        '[[parts]]\nname = "kazoo"\nrole = "kazoo"\nprogram = 1\n'
    )
    reg = StyleRegistry.load([tmp_path])
    with pytest.raises(
        StyleError, match=r"style 'kz' \(.*kz\.toml\): part 'kazoo' has an unknown role 'kazoo'"
    ):
        arrange(song(("A", [bar("C"), bar("F")])), "kz", registry=reg)


@pytest.mark.parametrize(
    ("hint", "meter", "style"),
    [
        ("Ballad", (6, 8), "rnb-12-8"),
        ("Ballad", (12, 8), "rnb-12-8"),
        ("Ballad", (4, 4), "jazz-ballad"),
        ("Medium Swing", (6, 8), "jazz-waltz"),
        ("Pop Ballad", (6, 8), "folk"),
    ],
)
def test_a_ballad_in_a_compound_meter_rocks_in_triplets(
    hint: str, meter: tuple[int, int], style: str
) -> None:
    """Musician's review: 6/8 'Ballad' charts (Can't Help Falling in Love) were sent to the
    jazz waltz; a 6/8 or 12/8 ballad gets the slow triplet feel of rnb-12-8."""
    chosen, why = REGISTRY.match(hint, TimeSignature(*meter))
    assert chosen.name == style, why
