"""The style registry: built-in styles plus a user folder, passed in, never global.

``StyleRegistry.default()`` loads ``backline/arrange/styles/data/*.toml`` and then the
user folder (``$BACKLINE_STYLES``, a list of folders separated by ``os.pathsep``, or
``~/.config/backline/styles``); a user style with the name of a built-in one replaces it.
Names are compared through :func:`normalise_style_name` (``My Groove`` is ``my-groove``).
The styles read are kept while no file of the folders changes (path, size, times and
inode are compared on each load), so an edited or broken file is seen on the next load.
:meth:`StyleRegistry.match` picks the closest style for a chart's style hint
("Medium Swing", "Bossa Nova", "Rock Pop", ...) and meter.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from backline.arrange.styles.loader import read_style_dicts, resolve_styles
from backline.arrange.styles.model import Style, normalise_style_name
from backline.errors import StyleError
from backline.model.song import TimeSignature

__all__ = ["StyleRegistry", "BUILTIN_DIR", "user_style_dirs", "HINT_RULES", "normalise_style_name"]

BUILTIN_DIR = Path(__file__).with_name("data")

#: Chart style hints -> style name, first match wins (words matched on word boundaries).
HINT_RULES: tuple[tuple[str, str], ...] = (
    (r"(pop|rock|country|folk|viennese|musette) waltz", "waltz"),
    (r"jazz ?waltz|waltz.*jazz|jazz.*waltz|^waltz$|swing waltz", "jazz-waltz"),
    (r"slow blues|blues.*12/8|12/8.*blues", "slow-blues"),
    (r"r ?& ?b|rnb|rhythm and blues|r'?n'?b|12/8|doo.?wop|soul ballad", "rnb-12-8"),
    (r"afro|salsa|mambo|cha ?cha|rhumba|rumba|son montuno|songo|cuban|guaracha|timba", "afro-cuban"),
    (r"bossa", "bossa-nova"),
    (r"samba|partido|choro|baiao|baião|frevo|brazil|afox", "samba"),
    (r"latin|bolero|tango|beguine|merengue|cumbia", "latin-jazz"),
    (r"even ?8|even eighths|straight 8|straight eighths|jazz.?rock", "even-8ths"),
    (r"(pop|rock|power|country|folk) ballad|slow rock|soft rock", "pop-ballad"),
    (r"ballad|slow swing", "jazz-ballad"),
    (r"up ?tempo|up-tempo|medium up|fast swing|bebop|bop\b|uptempo", "up-tempo-swing"),
    (r"shuffle|boogie|jump blues", "blues-shuffle"),
    (r"train", "country-train"),
    (r"country|bluegrass|two.?step|boom.?chick|western|polka|march", "country-two-step"),
    (r"reggae|ska|one.?drop|rocksteady|dub", "reggae"),
    (r"gospel|spiritual|praise", "gospel"),
    (r"funk|fusion", "funk"),
    (r"soul|motown|northern", "soul"),
    (r"hard rock|metal|grunge|punk", "hard-rock"),
    (r"disco|dance|house|edm|techno|four on the floor", "dance"),
    (r"folk|acoustic|singer.?songwriter|americana", "folk"),
    (r"waltz", "waltz"),
    (r"rock", "rock"),
    (r"pop", "pop"),
    (r"blues", "blues-shuffle"),
    (r"swing|medium|jazz|standard|two.?feel|slow", "medium-swing"),
)

#: Default style per meter when the chart gives no usable hint (and for meters a style lacks).
METER_DEFAULTS: dict[tuple[int, int], str] = {
    (4, 4): "pop", (2, 2): "rock", (2, 4): "country-two-step", (3, 4): "waltz", (3, 8): "waltz",
    (6, 8): "folk", (9, 8): "folk", (12, 8): "slow-blues", (5, 4): "odd-5", (5, 8): "odd-5",
    (7, 8): "odd-7", (7, 4): "odd-7",
}  # fmt: skip
#: The first choice within a family when the hinted style does not play the chart's meter.
FAMILY_DEFAULTS: dict[str, str] = {
    "jazz": "medium-swing", "latin": "latin-jazz", "brazilian": "bossa-nova", "rock": "rock", "pop": "pop",
    "blues": "blues-shuffle", "soul": "soul", "country": "country-two-step",
}  # fmt: skip
#: A chart marked "Ballad" in a compound meter is a 6/8 (or 12/8) ballad, played by this
#: style in slow triplets, not by the jazz waltz the jazz family would give it.
COMPOUND_BALLAD = "rnb-12-8"
COMPOUND_BALLAD_METERS = ((6, 8), (12, 8))

_JAZZ_METER = {
    (3, 4): "jazz-waltz",
    (6, 8): "jazz-waltz",
    (12, 8): "slow-blues",
    (5, 4): "odd-5",
    (7, 8): "odd-7",
}


def user_style_dirs() -> list[Path]:
    """The user style folders: ``$BACKLINE_STYLES`` (os.pathsep-separated) or ~/.config/backline/styles."""
    env = os.environ.get("BACKLINE_STYLES")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".config" / "backline" / "styles"]


#: What identifies the state of one style file: path, size, mtime, ctime and inode
#: (None for a folder that does not exist or a file that cannot be read).
_FileState = tuple[str, int, int, int, int] | tuple[str, None]


def _folder_states(folders: tuple[str, ...]) -> tuple[_FileState, ...]:
    out: list[_FileState] = []
    for f in folders:
        d = Path(f)
        if not d.is_dir():
            out.append((f, None))
            continue
        for p in sorted(d.glob("*.toml")):
            try:
                st = p.stat()
            except OSError:
                out.append((str(p), None))
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


def _load_folders(folders: tuple[str, ...]) -> tuple[Style, ...]:
    """The styles of ``folders`` (later folders win), read again whenever one of their
    files is added, removed or changed."""
    return _load_states(folders, _folder_states(folders))


@lru_cache(maxsize=8)
def _load_states(folders: tuple[str, ...], states: tuple[_FileState, ...]) -> tuple[Style, ...]:
    del states  # part of the cache key only
    raws: dict[str, tuple[dict[str, object], str]] = {}
    for f in folders:
        raws.update(read_style_dicts(Path(f)))
    return tuple(resolve_styles(raws))


class StyleRegistry:
    """An immutable collection of styles by name (build new registries, never mutate)."""

    def __init__(self, styles: Iterable[Style] = ()) -> None:
        self._styles: dict[str, Style] = {}
        for s in styles:
            self._styles[normalise_style_name(s.name)] = s
        self._aliases: dict[str, Style] = {}
        for s in sorted(self._styles.values(), key=lambda s: s.name):
            for a in s.aliases:
                self._aliases.setdefault(normalise_style_name(a), s)

    @classmethod
    def load(cls, folders: Sequence[str | os.PathLike[str]], *, builtin: bool = True) -> StyleRegistry:
        """Styles from the built-in folder (when ``builtin``) then ``folders`` (later wins).

        A style file may extend a style from any earlier folder.
        """
        paths = ([str(BUILTIN_DIR)] if builtin else []) + [str(Path(f)) for f in folders]
        return cls(_load_folders(tuple(paths)))

    @classmethod
    def default(cls) -> StyleRegistry:
        """Built-in styles plus the user folder (see :func:`user_style_dirs`)."""
        return cls.load([d for d in user_style_dirs() if d.is_dir()])

    def with_styles(self, *styles: Style) -> StyleRegistry:
        """A new registry with ``styles`` added (replacing styles of the same name)."""
        return StyleRegistry([*self._styles.values(), *styles])

    def __len__(self) -> int:
        return len(self._styles)

    def __iter__(self) -> Iterator[Style]:
        return iter(sorted(self._styles.values(), key=lambda s: s.name))

    def __contains__(self, name: object) -> bool:
        """True when ``name`` is a style's name (see :meth:`get`; aliases are not names)."""
        return isinstance(name, str) and normalise_style_name(name) in self._styles

    def names(self) -> list[str]:
        return sorted(self._styles)

    def get(self, name: str) -> Style:
        """The style called ``name`` or with the alias ``name``, both compared through
        :func:`normalise_style_name` (case ignored; spaces, ``_`` and ``-`` alike)."""
        key = normalise_style_name(name)
        found = self._styles.get(key) or self._aliases.get(key)
        if found is not None:
            return found
        close = difflib.get_close_matches(key, list(self._styles), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `backline styles` lists them"
        raise StyleError(f"unknown style {name!r}{hint}")

    def match(
        self, hint: str, time: TimeSignature | None = None, *, names_first: bool = False
    ) -> tuple[Style, str]:
        """The closest style for a chart's style hint and meter, and why it was chosen.
        ``names_first``: a hint that is a style's name or alias picks that style before
        the chart conventions of :data:`HINT_RULES` (for backline's own chart formats,
        where ``style: waltz`` means the ``waltz`` style; iReal's plain "Waltz" is a jazz
        waltz)."""
        meter = (time.numerator, time.denominator) if time is not None else (4, 4)
        text = " ".join(hint.lower().replace("_", " ").replace("-", " ").split())
        chosen: Style | None = None
        reason = ""
        if text and names_first:
            key = normalise_style_name(text)
            if key in self._styles or key in self._aliases:
                chosen, reason = self.get(text), f"style {hint!r} named by the chart"
        if text and chosen is None:
            # chart conventions first (iReal's plain "Waltz" is a jazz waltz), then names and aliases
            for pattern, name in HINT_RULES:
                if re.search(pattern, text) and name in self._styles:
                    chosen, reason = self._styles[name], f"style hint {hint!r}"
                    break
            key = normalise_style_name(text)
            if chosen is None and (key in self._styles or key in self._aliases):
                chosen, reason = self.get(text), f"style hint {hint!r}"
        if chosen is None:
            reason = f"no style matches the hint {hint!r}" if text else "the chart has no style hint"
        if (
            time is not None
            and chosen is not None
            and chosen.name == "jazz-ballad"
            and meter in COMPOUND_BALLAD_METERS
            and COMPOUND_BALLAD in self._styles
            and self._styles[COMPOUND_BALLAD].supports(time)
        ):
            # a ballad in 6/8 or 12/8 rocks in slow triplets; the jazz waltz would play it in 3
            chosen, reason = (
                self._styles[COMPOUND_BALLAD],
                f"{reason}; a ballad in {time}: {COMPOUND_BALLAD} plays it",
            )
        if time is not None and (chosen is None or not chosen.supports(time)):
            family = chosen.family if chosen is not None else ""
            table = _JAZZ_METER if family == "jazz" else METER_DEFAULTS
            same = [s for s in self if s.supports(time) and family and s.family == family]
            same.sort(key=lambda s: s.name != FAMILY_DEFAULTS.get(family))
            alt = table.get(meter)
            if same:
                chosen, reason = same[0], f"{reason}; {same[0].name} plays {time}"
            elif alt in self._styles:
                chosen, reason = self._styles[alt], f"{reason}; {alt} plays {time}"
            elif chosen is None:
                odd = "odd-7" if time.numerator % 2 else "odd-5"
                pick = odd if odd in self._styles else "pop"
                if pick in self._styles:
                    chosen, reason = self._styles[pick], f"{reason}; {pick} adapted to {time}"
        if chosen is None:
            fallback = METER_DEFAULTS[(4, 4)]
            if fallback not in self._styles:
                if not self._styles:
                    raise StyleError("no styles are loaded")
                fallback = self.names()[0]
            chosen, reason = self._styles[fallback], f"{reason}; using {fallback}"
        elif "using" not in reason and chosen.name not in reason:
            reason = f"{reason} -> {chosen.name}"
        return chosen, reason
