"""Chord symbols: parsing every spelling musicians write, pitch classes and chord-scales.

``parse_chord("C7(b9,#11)")`` gives a :class:`Chord` with a root, an optional slash
bass, a :class:`Quality` (built from degrees, not from a lookup of whole strings),
its pitch classes and a default chord-scale for the arranger.

Nothing is guessed: a suffix with a part that is not understood raises
:class:`~backline.errors.ChordSymbolError` naming that part. So do broken symbols that
could otherwise be half-read: an unclosed ``(`` (``C7(b9``: names ``(b9``) or a stray ``)``
(``C7)``), a quality or a tension written twice (``Cmaj7maj7``, ``C7#9b9#9``: names the
second one) and a slash with no bass note (``C/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from backline.errors import ChordSymbolError
from backline.model.pitch import SOLFEGE, NoteName, parse_note_name

__all__ = [
    "Chord",
    "Quality",
    "parse_chord",
    "parse_chord_or_nc",
    "parse_quality",
    "is_no_chord",
    "DEGREE_SEMITONES",
]

# Degree name -> semitones above the root.
DEGREE_SEMITONES: dict[str, int] = {
    "1": 0, "b9": 1, "2": 2, "9": 2, "#9": 3, "b3": 3, "3": 4, "4": 5, "11": 5,
    "#11": 6, "b5": 6, "5": 7, "#5": 8, "b13": 8, "6": 9, "13": 9, "bb7": 9,
    "b7": 10, "7": 11,
}  # fmt: skip

_NC_RE = re.compile(r"^\s*(N\.?\s*C\.?|n\.?c\.?|NC|N\.C|no ?chord)\s*$", re.IGNORECASE)


def is_no_chord(text: str) -> bool:
    """True for ``N.C.``, ``NC``, ``N.C`` and the like."""
    return bool(_NC_RE.match(text))


@dataclass(frozen=True)
class Quality:
    """A chord quality described by its structure.

    ``third`` is ``"3"``, ``"b3"`` or ``None`` (sus or power chord); ``sus`` is
    ``None``, ``"4"``, ``"2"`` or ``"24"``; ``fifth`` is ``"5"``, ``"b5"``, ``"#5"`` or
    ``None``; ``seventh`` is ``None``, ``"b7"``, ``"7"`` (major seventh) or ``"bb7"``;
    ``ext`` is the highest stacked extension (9, 11, 13) or ``None``; ``six`` marks
    a sixth chord; ``alterations`` holds altered tensions (``b9``, ``#9``, ``#11``,
    ``b13``, and ``b5``/``#5`` next to a natural fifth); ``adds`` added tones;
    ``omits`` removed degrees; ``alt`` the altered dominant.
    """

    third: str | None = "3"
    sus: str | None = None
    fifth: str | None = "5"
    seventh: str | None = None
    ext: int | None = None
    six: bool = False
    alterations: frozenset[str] = frozenset()
    adds: frozenset[str] = frozenset()
    omits: frozenset[str] = frozenset()
    alt: bool = False
    power: bool = False
    bass_only: bool = False

    @cached_property
    def degrees(self) -> tuple[str, ...]:
        """The chord's degrees, root first, in ascending order of semitones."""
        if self.bass_only:
            return ("1",)
        if self.power:
            return ("1", "5")
        ds: set[str] = {"1"}
        if self.third:
            ds.add(self.third)
        if self.sus:
            if "4" in self.sus:
                ds.add("4")
            if "2" in self.sus:
                ds.add("2")
        if self.fifth:
            ds.add(self.fifth)
        if self.seventh:
            ds.add(self.seventh)
        if self.six:
            ds.add("6")
        altered = set(self.alterations)
        if self.alt:
            altered |= {"b9", "#9", "#11", "b13"}
        if self.seventh is None and self.ext == 9:
            ds.add("9")  # 6/9 chord
        elif self.ext is not None:
            if not altered & {"b9", "#9"}:
                ds.add("9")
            if self.ext in (11, 13) and (self.ext == 11 or self.third == "b3"):
                if "#11" not in altered:
                    ds.add("11")
            if self.ext == 13 and "b13" not in altered:
                ds.add("13")
        ds |= altered
        for a in self.adds:
            ds.add(a)
        for o in self.omits:
            ds.discard(o)
            if o == "5":
                ds.discard("b5")
                ds.discard("#5")
        return tuple(sorted(ds, key=lambda d: (DEGREE_SEMITONES[d], d)))

    @cached_property
    def intervals(self) -> tuple[int, ...]:
        """Semitones above the root of every chord tone (sorted, unique, 0-11)."""
        return tuple(sorted({DEGREE_SEMITONES[d] % 12 for d in self.degrees}))

    @cached_property
    def family(self) -> str:
        """Broad family used by the arranger: major, minor, dominant, half-diminished,
        diminished, augmented, sus, power."""
        if self.bass_only:
            return "bass"
        if self.power:
            return "power"
        if self.third is None:
            return "sus"
        if self.third == "b3":
            if self.fifth == "b5" and self.seventh != "b7":
                return "diminished"
            if self.fifth == "b5" and self.seventh == "b7":
                return "half-diminished"
            return "minor"
        if self.seventh == "b7":
            return "dominant"
        if self.fifth == "#5" and self.seventh is None:
            return "augmented"
        return "major"

    @cached_property
    def name(self) -> str:
        """The canonical suffix (``""``, ``m7``, ``7b9#11``, ``maj9``, ``m7b5``, ...).

        ``parse_chord("C" + q.name).quality`` has the same pitch classes as ``q``.
        """
        if self.bass_only:
            return "bass"
        if self.power:
            return "5" + _suffix_tail(self, self.adds)
        head = ""
        skip: set[str] = set()
        if self.third == "b3" and self.fifth == "b5" and self.seventh == "bb7":
            head, skip = "dim7", {"b5"}
            if self.ext:
                head = f"dim{self.ext}"
        elif self.third == "b3" and self.fifth == "b5" and self.seventh is None and not self.six:
            head, skip = "dim", {"b5"}
        elif self.third == "3" and self.fifth == "#5" and self.seventh is None and not self.six:
            head, skip = "aug", {"#5"}
        else:
            if self.third == "b3":
                head = "m"
            if self.seventh == "b7":
                head += str(self.ext or 7)
            elif self.seventh == "7":
                head += f"maj{self.ext or 7}"
            elif self.seventh == "bb7":
                head += f"dim{self.ext or 7}"
            elif self.six:
                head += "69" if self.ext == 9 or "9" in self.adds else "6"
            elif self.ext == 9:
                head += "add9"
        alts: list[str] = []
        if self.alt:
            alts.append("alt")
        fifth_alt = self.fifth if self.fifth in ("b5", "#5") and self.fifth not in skip else None
        for a in ("b5", "#5", "b9", "#9", "#11", "b13"):
            if a == fifth_alt or (a in self.alterations and a not in skip):
                alts.append(a)
        if self.fifth is None and "5" not in self.omits:
            pass  # fifth removed only through omits
        if alts and not head and alts[0][0] in "b#":
            alts = ["(" + "".join(alts) + ")"]
        adds = set(self.adds)
        if self.six and (self.seventh is not None or head in ("dim", "aug", "dim7")):
            adds.add("13")
        if head.endswith("69"):
            adds.discard("9")
        return head + "".join(alts) + _suffix_tail(self, frozenset(adds))

    @property
    def is_minor(self) -> bool:
        return self.third == "b3"


def _suffix_tail(q: Quality, adds: frozenset[str]) -> str:
    tail = ""
    if q.sus:
        tail += {"4": "sus4", "2": "sus2", "24": "sus2sus4"}[q.sus]
    for a in sorted(adds, key=lambda d: (DEGREE_SEMITONES[d], d)):
        tail += "add" + a
    for o in sorted(q.omits):
        tail += "no" + o
    return tail


# Chord-scales: mode intervals and how to pick one from the chord's tones.
_MODES: dict[str, tuple[int, ...]] = {
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "lydian dominant": (0, 2, 4, 6, 7, 9, 10),
    "mixolydian b13": (0, 2, 4, 5, 7, 8, 10),
    "altered": (0, 1, 3, 4, 6, 8, 10),
    "half-whole diminished": (0, 1, 3, 4, 6, 7, 9, 10),
    "whole-half diminished": (0, 2, 3, 5, 6, 8, 9, 11),
    "whole tone": (0, 2, 4, 6, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "melodic minor": (0, 2, 3, 5, 7, 9, 11),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "locrian #2": (0, 2, 3, 5, 6, 8, 10),
    "lydian augmented": (0, 2, 4, 6, 8, 9, 11),
    "phrygian dominant": (0, 1, 4, 5, 7, 8, 10),
    "mixolydian sus": (0, 2, 5, 7, 9, 10),
    "major pentatonic": (0, 2, 4, 7, 9),
}


def _scale_for(q: Quality) -> tuple[str, tuple[int, ...]]:
    iv = set(q.intervals)
    fam = q.family
    if fam == "bass":
        return "ionian", _MODES["ionian"]
    if fam == "power":
        return "mixolydian", _MODES["mixolydian"]
    if fam == "dominant" or (fam == "sus" and q.seventh == "b7"):
        if q.alt or ({1, 3} <= iv and 8 in iv):
            name = "altered"
        elif 1 in iv and 8 in iv:
            name = "phrygian dominant"
        elif 1 in iv or 3 in iv:
            name = "half-whole diminished"
        elif 8 in iv and 7 not in iv:
            name = "whole tone"
        elif 8 in iv:
            name = "mixolydian b13"
        elif 6 in iv:
            name = "lydian dominant"
        else:
            name = "mixolydian"
    elif fam == "sus":
        name = "mixolydian" if q.seventh != "7" else "ionian"
    elif fam == "major":
        if 8 in iv:
            name = "lydian augmented"
        elif 6 in iv:
            name = "lydian"
        else:
            name = "ionian"
    elif fam == "augmented":
        name = "whole tone"
    elif fam == "minor":
        if 11 in iv:
            name = "melodic minor"
        elif 1 in iv:  # m7b9: dorian has a natural 9
            name = "phrygian"
        elif 8 in iv and 9 not in iv:
            name = "aeolian"
        else:
            name = "dorian"
    elif fam == "half-diminished":
        name = "locrian #2" if 2 in iv else "locrian"
    else:  # diminished
        name = "whole-half diminished"
    # Force every chord tone into the scale (replace the neighbour it collides with).
    scale = set(_MODES[name])
    for t in iv:
        if t not in scale:
            for nb in ((t - 1) % 12, (t + 1) % 12):
                if nb in scale and nb not in iv and nb != 0:
                    scale.discard(nb)
                    break
            scale.add(t)
    return name, tuple(sorted(scale))


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol: root, quality and optional slash bass.

    ``symbol`` keeps the spelling the chart used.
    """

    root: NoteName
    quality: Quality
    bass: NoteName | None = None
    symbol: str = field(default="", compare=False)

    @property
    def root_pc(self) -> int:
        return self.root.pc

    @property
    def bass_pc(self) -> int:
        """Pitch class of the lowest note: the slash bass, else the root."""
        return (self.bass or self.root).pc

    @property
    def bass_note(self) -> NoteName:
        return self.bass or self.root

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Sorted pitch classes of the chord (with the slash bass)."""
        return _pcs(self.root.pc, self.quality, None if self.bass is None else self.bass.pc)

    @property
    def tones(self) -> tuple[int, ...]:
        """Pitch classes of the chord tones above the root, without the slash bass."""
        return _pcs(self.root.pc, self.quality, None)

    @property
    def scale(self) -> tuple[int, ...]:
        """The default chord-scale as sorted pitch classes (includes every chord tone)."""
        _, ivs = _scale_for(self.quality)
        pcs = {(self.root.pc + i) % 12 for i in ivs}
        if self.bass is not None:
            pcs.add(self.bass.pc)
        return tuple(sorted(pcs))

    @property
    def scale_name(self) -> str:
        return _scale_for(self.quality)[0]

    @property
    def name(self) -> str:
        """The canonical spelling, e.g. ``Bbm7b5/E``."""
        if self.quality.bass_only:
            return f"/{self.root}"
        s = f"{self.root}{self.quality.name}"
        if self.bass is not None:
            s += f"/{self.bass}"
        return s

    def __str__(self) -> str:
        return self.symbol or self.name

    def with_bass(self, bass: NoteName | None) -> Chord:
        """This chord over another bass note (``None`` removes the slash)."""
        if bass is not None and bass.pc == self.root.pc and bass == self.root:
            bass = None
        new = Chord(self.root, self.quality, bass)
        return Chord(new.root, new.quality, new.bass, new.name)

    def transpose(self, semitones: int, letter_steps: int) -> Chord:
        """Transpose keeping letter names consistent (see :meth:`NoteName.transpose`)."""
        root = self.root.transpose(semitones, letter_steps).simplified()
        bass = None if self.bass is None else self.bass.transpose(semitones, letter_steps).simplified()
        c = Chord(root, self.quality, bass)
        return Chord(c.root, c.quality, c.bass, c.name)


@lru_cache(maxsize=4096)
def _pcs(root: int, q: Quality, bass: int | None) -> tuple[int, ...]:
    pcs = {(root + i) % 12 for i in q.intervals}
    if bass is not None:
        pcs.add(bass)
    return tuple(sorted(pcs))


# --------------------------------------------------------------------------- parser

_ROOT_RE = re.compile(r"^([A-Ga-g])(##|bb|&&|♭♭|[#♯b♭&]?)")
_SOLFEGE_RE = re.compile(r"^(do|ré|re|mi|fa|sol|la|si|ti)(##|bb|[#♯b♭&]?)", re.IGNORECASE)
_BASS_RE = re.compile(r"/\s*([A-Ga-g](?:##|bb|[#♯b♭&])?)\s*\)?\s*$")
_BASS_SOLFEGE_RE = re.compile(r"/\s*((?:do|ré|re|mi|fa|sol|la|si|ti)(?:##|bb|[#♯b♭&])?)\s*$", re.IGNORECASE)

_UNICODE = str.maketrans(
    {
        "Δ": "^",
        "∆": "^",
        "△": "^",
        "°": "o",
        "º": "o",
        "ø": "h",
        "Ø": "h",
        "♭": "b",
        "♯": "#",
        "−": "-",
        "–": "-",
        "⁺": "+",
    }
)

# Head tokens (only at the very start of the suffix).
_HEADS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:m|mi|min|-)(?:\(?\s*(?:maj|Maj|MAJ|ma|Ma|MA|M|\^|j)(?=\d|\)|$|[#b+]|\s))"), "minmaj"),
    (re.compile(r"(?:maj|Maj|MAJ|ma|Ma|MA|M)(?=\d)"), "majseven"),
    (re.compile(r"(?:maj|Maj|MAJ|ma|Ma|MA|M|j)(?![a-z])"), "majtriad"),
    (re.compile(r"\^"), "majseven_caret"),
    (re.compile(r"(?:min|mi|m(?!aj|a\b)|-)"), "min"),
    (re.compile(r"(?:dim|o)"), "dim"),
    (re.compile(r"h"), "halfdim"),
    (re.compile(r"(?:aug|\+(?![59]|1[13]))"), "aug"),
]

_TOKEN_RE = re.compile(
    r"""
    (?P<sep>[\s(),/])
  | (?P<sixnine>6/9|69|6-9|6add9)
  | (?P<maj>(?:maj|Maj|MAJ|ma|Ma|MA|M|\^|j)(?:7|9|11|13)?|\#7)
  | (?P<alt>alt|alt\.)
  | (?P<sus>sus(?:2|4|24|42)?(?:sus4)?)
  | (?P<add>add(?:[#b+-]?(?:2|4|6|9|11|13)|3))
  | (?P<omit>(?:omit|no)(?:3|5|1))
  | (?P<alter>[#b+-](?:5|9|11|13|6))
  | (?P<num>13|11|9|7|6|5|4|2)
  | (?P<dim>dim|o)
  | (?P<aug>aug|\+)
  | (?P<half>h|m7b5)
    """,
    re.VERBOSE,
)


_ALTERATIONS = frozenset({"b5", "#5", "b9", "#9", "#11", "b13"})


def _alter_norm(tok: str) -> str:
    sign = {"+": "#", "-": "b"}.get(tok[0], tok[0])
    deg = tok[1:]
    if deg == "6":
        deg = "13"
    return sign + deg


def _check_parens(s: str, symbol: str) -> None:
    """Raise for a ``)`` that closes nothing or a ``(`` never closed (naming the open group)."""
    opened: list[int] = []
    for i, c in enumerate(s):
        if c == "(":
            opened.append(i)
        elif c == ")":
            if not opened:
                raise ChordSymbolError(symbol, ")")
            opened.pop()
    if opened:
        raise ChordSymbolError(symbol, s[opened[0] :].strip())


@lru_cache(maxsize=8192)
def _parse_suffix(suffix: str, symbol: str) -> Quality:
    s = suffix.translate(_UNICODE)
    third: str | None = "3"
    fifth: str | None = "5"
    seventh_flag = False  # a 7/9/11/13 number asks for a seventh
    maj7 = False
    dim = False
    halfdim = False
    aug = False
    ext: int | None = None
    six = False
    sus: set[str] = set()
    alterations: set[str] = set()
    adds: set[str] = set()
    omits: set[str] = set()
    alt = False
    power = False
    caret_alone = False
    numbers_seen = 0

    _check_parens(s, symbol)
    if s.rstrip().endswith("/"):
        raise ChordSymbolError(symbol, "/")
    seen: set[str] = set()  # alterations, adds, omits and sus written so far

    def once(what: str, tok: str) -> None:
        """A quality part written twice ('Cmaj7maj7', 'C7#9b9#9') is a broken symbol."""
        if what in seen:
            raise ChordSymbolError(symbol, tok)
        seen.add(what)

    pos = 0
    # head
    for pat, kind in _HEADS:
        m = pat.match(s, pos)
        if m and m.end() > pos:
            pos = m.end()
            if kind == "minmaj":
                third, maj7 = "b3", True
                seventh_flag = True
            elif kind == "majseven":
                maj7 = True
            elif kind == "majtriad":
                pass
            elif kind == "majseven_caret":
                maj7, caret_alone = True, True
            elif kind == "min":
                third = "b3"
            elif kind == "dim":
                third, fifth, dim = "b3", "b5", True
            elif kind == "halfdim":
                third, fifth, halfdim, seventh_flag = "b3", "b5", True, True
            elif kind == "aug":
                fifth, aug = "#5", True
            break
    # A second head after 'm' such as 'm7b5' is handled by tokens.
    while pos < len(s):
        m = _TOKEN_RE.match(s, pos)
        if not m or m.end() == pos:
            raise ChordSymbolError(symbol, s[pos:])
        kind = m.lastgroup or ""
        tok = m.group(0)
        pos = m.end()
        if kind == "sep":
            continue
        if kind == "sixnine":
            six, ext = True, 9
            numbers_seen += 1
        elif kind == "maj":
            if maj7:  # 'Cmaj7maj7', 'C^7maj7'
                raise ChordSymbolError(symbol, tok)
            maj7 = True
            seventh_flag = True
            digits = tok.lstrip("majMAJ^j#")  # noqa: B005 - strip any of these ('#7': Am#7 = Am(maj7))
            if digits and digits != "7":
                ext = max(ext or 0, int(digits))
            if not digits:
                caret_alone = tok == "^"
        elif kind == "alt":
            alt, seventh_flag = True, True
        elif kind == "sus":
            body = tok[3:].replace("sus", "")
            if tok.count("sus") > 1 and body not in ("24", "42"):  # 'sus4sus4', 'sussus4'
                raise ChordSymbolError(symbol, tok)
            once("sus" + ("" if body in ("", "4") else body), tok)
            if body in ("", "4"):
                sus.add("4")
            elif body == "2":
                sus.add("2")
            else:
                sus |= {"2", "4"}
        elif kind == "add":
            a = tok[3:]
            if a[0] in "#b+-":
                a = _alter_norm(a)
                if a not in _ALTERATIONS:
                    raise ChordSymbolError(symbol, tok)
            else:
                a = {"2": "9", "4": "11", "6": "13", "9": "9", "11": "11", "13": "13", "3": "3"}[a]
            once("add" + a, tok)
            adds.add(a)
        elif kind == "omit":
            once("no" + tok[-1], tok)
            omits.add(tok[-1])
        elif kind == "alter":
            a = _alter_norm(tok)
            if a not in _ALTERATIONS:
                raise ChordSymbolError(symbol, tok)
            once(a, tok)
            if a in ("b5", "#5"):
                if fifth == "5" or fifth is None:
                    fifth = a
                else:
                    alterations.add(a)
            elif a == "b13" and not seventh_flag and numbers_seen == 0 and third == "b3":
                # -b6: minor with a flat sixth, no seventh
                alterations.add("b13")
            else:
                alterations.add(a)
        elif kind == "num":
            num = int(tok)
            if numbers_seen == 0:
                if num == 7:
                    seventh_flag = True
                elif num in (9, 11, 13):
                    seventh_flag, ext = True, num
                elif num == 6:
                    six = True
                elif num == 5:
                    if pos == len(s) and third == "3" and not (dim or aug):
                        power = True
                    else:
                        raise ChordSymbolError(symbol, tok)
                elif num == 4:
                    sus.add("4")
                elif num == 2:
                    adds.add("9")
            else:
                # a later bare number is an added tension: 7(9), 7(13), 6(9)
                if num == 9 and six and not seventh_flag:
                    ext = 9
                elif num == 9 and seventh_flag:
                    ext = max(ext or 0, 9)
                elif num in (9, 11, 13):
                    adds.add(str(num))
                elif num == 7:
                    seventh_flag = True
                elif num == 6:
                    if seventh_flag:
                        adds.add("13")
                    else:
                        six = True
                elif num == 4:
                    sus.add("4")
                elif num == 2:
                    adds.add("9")
                else:
                    raise ChordSymbolError(symbol, tok)
            numbers_seen += 1
        elif kind == "dim":
            # 'Cm7dim' is nonsense; 'C7dim' rarely used: dim after a head means b5
            if third == "b3" and not dim:
                fifth, dim = "b5", True
            else:
                raise ChordSymbolError(symbol, tok)
        elif kind == "aug":
            # 'Caugaug', 'C+#5+'; 'Ch+', 'Co+': a diminished fifth and an augmented one at once
            if aug or fifth == "#5" or halfdim or dim:
                raise ChordSymbolError(symbol, tok)
            fifth, aug = "#5", True
        elif kind == "half":
            if halfdim:  # 'Chh', 'Chm7b5' ('-h' is the reference tables' minor half-dim)
                raise ChordSymbolError(symbol, tok)
            if aug:  # 'C+h7', Nashville '3+h7': augmented and half-diminished at once
                raise ChordSymbolError(symbol, tok)
            third, fifth, seventh_flag, halfdim = "b3", "b5", True, True
    if caret_alone and not seventh_flag:
        seventh_flag = True
    if maj7 and not seventh_flag and not caret_alone:
        seventh_flag = True
    seventh: str | None = None
    if seventh_flag:
        if maj7:
            seventh = "7"
        elif dim and not halfdim:
            seventh = "bb7"
        else:
            seventh = "b7"
    if halfdim:
        seventh = "b7" if not maj7 else "7"
    if sus:
        third = None
        if "3" in adds:
            pass
    if power:
        return Quality(third=None, fifth="5", power=True)
    if fifth == "#5" and "b5" in alterations:  # both fifths: one canonical form
        fifth = "b5"
        alterations = (alterations - {"b5"}) | {"#5"}
    if alt:
        if third != "3" or maj7:
            raise ChordSymbolError(symbol, "alt")
        fifth = None
        alterations -= {"b5", "#5", "b9", "#9", "#11", "b13"}
    return Quality(
        third=third,
        sus="".join(sorted(sus)) if sus else None,
        fifth=fifth,
        seventh=seventh,
        ext=ext,
        six=six,
        alterations=frozenset(alterations),
        adds=frozenset(adds),
        omits=frozenset(omits),
        alt=alt,
    )


@lru_cache(maxsize=8192)
def parse_chord(symbol: str, *, lowercase_roots: bool = True, solfege: bool = False) -> Chord:
    """Parse a chord symbol.

    Accepts the common spellings (``Cmaj7``, ``C^7``, ``CΔ7``, ``C-7``, ``Cø``, ``Ch7``,
    ``C°7``, ``C7(b9,#11)``, ``C6/9``, ``C7susadd3``, ``CmMaj7``, ``C/E``, ``/E`` (bass
    only), ``B&7`` with ``&`` as a flat, lower-case roots; with ``solfege=True`` the
    latin/solfège roots ``Do``, ``Ré``, ``Sib``... (off by default: ``Do7`` is D°7 in
    letter notation).
    ``N.C.`` is not a chord: use :func:`parse_chord_or_nc`.

    Raises :class:`~backline.errors.ChordSymbolError` naming the part not understood.
    """
    text = symbol.strip()
    if not text:
        raise ChordSymbolError(symbol, symbol)
    if text.startswith("/"):
        try:
            b = _parse_root_text(text[1:].strip(), solfege)
        except ValueError:
            raise ChordSymbolError(symbol, text[1:]) from None
        return Chord(b, Quality(bass_only=True), None, symbol)
    root, rest = _split_root(text, symbol, lowercase_roots, solfege)
    bass: NoteName | None = None
    mb = _BASS_RE.search(rest)
    if mb and not re.search(r"6\s*/\s*9\s*$", rest[: mb.end()]):
        bass = parse_note_name(mb.group(1))
        # a ')' after the bass closes a group opened before the slash ('C7(b9/E)'); with
        # no group open it is a stray ')' that the suffix check reports
        closes = mb.group(0).rstrip().endswith(")")
        rest = rest[: mb.start()] + (")" if closes else "")
    elif solfege:
        ms = _BASS_SOLFEGE_RE.search(rest)
        if ms:
            bass = _parse_root_text(ms.group(1), True)
            rest = rest[: ms.start()]
    if rest.rstrip().endswith("/"):
        raise ChordSymbolError(symbol, "/")  # 'C/': a slash with no bass note
    quality = _parse_suffix(rest.strip(), symbol)
    if bass is not None and bass == root:
        bass = None
    return Chord(root, quality, bass, symbol)


def _parse_root_text(text: str, solfege: bool) -> NoteName:
    m = _ROOT_RE.match(text)
    if m and m.end() == len(text):
        return parse_note_name(text)
    if solfege:
        ms = _SOLFEGE_RE.match(text)
        if ms and ms.end() == len(text):
            return _solfege_note(ms.group(1), ms.group(2))
    raise ValueError(text)


def _solfege_note(syl: str, acc: str) -> NoteName:
    return parse_note_name(SOLFEGE[syl.lower()] + acc)


def _split_root(text: str, symbol: str, lowercase: bool, solfege: bool) -> tuple[NoteName, str]:
    if solfege:
        ms = _SOLFEGE_RE.match(text)
        if ms and (ms.group(1)[0].isupper() or lowercase) and len(ms.group(1)) > 1:
            return _solfege_note(ms.group(1), ms.group(2)), text[ms.end() :]
    m = _ROOT_RE.match(text)
    if not m or (not lowercase and m.group(1).islower()):
        raise ChordSymbolError(symbol, text[:1] or symbol)
    letter, acc = m.group(1), m.group(2)
    rest = text[m.end() :]
    # 'Cb' is C-flat but 'Cb9' is C flat-nine? Musicians write 'Cb9' for C(b9) only rarely;
    # a flat right after the letter is the root's accidental (as in iReal 'Cb^7').
    return parse_note_name(letter + acc), rest


def parse_chord_or_nc(symbol: str) -> Chord | None:
    """Like :func:`parse_chord` but returns ``None`` for ``N.C.`` (no chord)."""
    if is_no_chord(symbol):
        return None
    return parse_chord(symbol)


def parse_quality(suffix: str, symbol: str = "") -> Quality:
    """Parse a chord suffix alone (``"m7b5"``, ``"7(#9)"``, ``""``) into a :class:`Quality`.

    Used by notations whose root is not a letter (Nashville numbers, Roman numerals).
    Raises :class:`~backline.errors.ChordSymbolError` naming ``symbol`` (default: the suffix).
    """
    return _parse_suffix(suffix.strip(), symbol or suffix)
