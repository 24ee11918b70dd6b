"""MusicXML lead sheets: read ``.musicxml``/``.xml``/``.mxl`` into songs, write a song back.

Reading (:func:`load_bytes`) keeps what a backing track needs: ``<harmony>`` chord
symbols at their time positions, the form (repeats, endings, segno, coda, D.C./D.S.,
Fine), rehearsal marks as sections, key, time and tempo changes, and the melody
(voice 1 of the first part, with lyrics). Writing (:func:`dump_bytes`) produces a
MusicXML 4.0 partwise lead sheet that notation programs open.

Conventions, chosen once and applied everywhere:

- A ``<degree>`` with value 7 and alter 0 is the minor (dominant) seventh, as written
  by MuseScore and music21 (``suspended-fourth`` + add 7 = ``7sus4``); alter +1 is
  the major seventh. Other degree values are relative to the major scale.
- ``dominant-13th`` and ``major-13th`` are read as jazz players voice them (no 11th);
  ``minor-13th`` keeps its 11th.
- Functional kinds name their chord from the given root taken as the tonic:
  ``Neapolitan`` on C is ``Db/F``, ``Italian`` on C is ``Ab7no5``, ``French`` is
  ``Ab7b5``, ``German`` is ``Ab7``; ``Tristan`` on F is ``Fm7b5`` (F B D# G#);
  ``pedal`` is the root alone (``/C``); ``none`` is N.C.
- A first measure shorter than its time signature is a pickup: it becomes a full
  bar, its chords and melody shifted to the end of the bar. A short last measure is
  padded at the end. A short (or long) measure elsewhere keeps its real length
  through a time signature of that length (2 beats in 4/4 become a 2/4 bar); a
  measure with no time signature at all gets the time signature of its length.
- A kind/degree combination that no chord symbol can spell is a
  :class:`~backline.errors.ChartError` naming the file and the measure.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field, replace
from fractions import Fraction

from backline.errors import ChartError, ChordSymbolError, Location, TempoError
from backline.model.checks import check_tempo
from backline.model.chord import Chord, Quality, parse_chord
from backline.model.pitch import Key, NoteName, pc_name
from backline.model.song import Bar, ChordEvent, Jump, Note, Section, Song, TimeSignature

__all__ = ["load_bytes", "dump_bytes", "KIND_DEGREES", "harmony_symbol"]

_MAX_UNZIPPED = 64 * 1024 * 1024
_MAJOR_SEMIS = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 9: 2, 11: 5, 13: 9}
_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Degrees of each MusicXML ``<kind>``: degree number -> alteration from the major
#: scale (the seventh of ``dominant`` is 7: -1).
KIND_DEGREES: dict[str, dict[int, int]] = {
    "major": {3: 0, 5: 0},
    "minor": {3: -1, 5: 0},
    "augmented": {3: 0, 5: 1},
    "diminished": {3: -1, 5: -1},
    "dominant": {3: 0, 5: 0, 7: -1},
    "major-seventh": {3: 0, 5: 0, 7: 0},
    "minor-seventh": {3: -1, 5: 0, 7: -1},
    "diminished-seventh": {3: -1, 5: -1, 7: -2},
    "augmented-seventh": {3: 0, 5: 1, 7: -1},
    "half-diminished": {3: -1, 5: -1, 7: -1},
    "major-minor": {3: -1, 5: 0, 7: 0},
    "major-sixth": {3: 0, 5: 0, 6: 0},
    "minor-sixth": {3: -1, 5: 0, 6: 0},
    "dominant-ninth": {3: 0, 5: 0, 7: -1, 9: 0},
    "major-ninth": {3: 0, 5: 0, 7: 0, 9: 0},
    "minor-ninth": {3: -1, 5: 0, 7: -1, 9: 0},
    "dominant-11th": {3: 0, 5: 0, 7: -1, 9: 0, 11: 0},
    "major-11th": {3: 0, 5: 0, 7: 0, 9: 0, 11: 0},
    "minor-11th": {3: -1, 5: 0, 7: -1, 9: 0, 11: 0},
    "dominant-13th": {3: 0, 5: 0, 7: -1, 9: 0, 13: 0},
    "major-13th": {3: 0, 5: 0, 7: 0, 9: 0, 13: 0},
    "minor-13th": {3: -1, 5: 0, 7: -1, 9: 0, 11: 0, 13: 0},
    "suspended-second": {2: 0, 5: 0},
    "suspended-fourth": {4: 0, 5: 0},
    "power": {5: 0},
}
_FUNCTIONAL = ("neapolitan", "italian", "french", "german", "tristan", "pedal")
# Kind values outside the MusicXML list that known writers produce (music21, old Finale).
_KIND_ALIASES: dict[str, dict[int, int]] = {
    "minor-major": KIND_DEGREES["major-minor"],
    "augmented-ninth": {3: 0, 5: 1, 7: -1, 9: 0},
    "maj69": {3: 0, 5: 0, 6: 0, 9: 0},
    "major-6/9": {3: 0, 5: 0, 6: 0, 9: 0},
}
_KIND_LOOKUP = {k.lower(): v for k, v in {**KIND_DEGREES, **_KIND_ALIASES}.items()}

_SECTION_WORDS = {
    "intro", "verse", "verses", "chorus", "refrain", "bridge", "interlude", "trio",
    "outro", "solo", "solos", "head", "tag", "ending",
}  # fmt: skip
_SCORE_ATTRS = {"version"}


class _Unspellable(ValueError):
    """A degree set that no chord symbol spells (turned into a ChartError by the caller)."""


# --------------------------------------------------------------------------- chord symbols


_Degrees = dict[int, tuple[int, ...]]


def _suffix_for(degrees: _Degrees) -> str:
    """A chord-symbol suffix that :func:`parse_chord` reads as exactly ``degrees``
    (degree number -> its alterations from the major scale; a 9th may be both b9 and #9)."""
    d = {k: tuple(sorted(set(v))) for k, v in degrees.items() if v}
    d.pop(1, None)

    def one(num: int) -> int | None:
        v = d.pop(num, ())
        if len(v) > 1:
            raise _Unspellable(f"degree {num} twice")
        return v[0] if v else None

    third, seventh, two, four, six = one(3), one(7), one(2), one(4), one(6)
    fifths = d.pop(5, ())
    nine, eleven, thirteen = list(d.pop(9, ())), list(d.pop(11, ())), list(d.pop(13, ()))
    if d:
        raise _Unspellable(f"degree {min(d)} is not a chord degree")
    extra_fifth = ""
    if len(fifths) == 2 and set(fifths) == {-1, 1}:
        fifth: int | None = -1
        extra_fifth = "#5"
    elif len(fifths) > 1:
        raise _Unspellable(f"fifths altered by {fifths}")
    else:
        fifth = fifths[0] if fifths else None
    if third is not None:
        if two is not None:
            nine.append(two)
            two = None
        if four is not None:
            eleven.append(four)
            four = None
    if six is not None and (seventh is not None or six != 0):
        thirteen.append(six)
        six = None
    if third not in (None, 0, -1):
        raise _Unspellable(f"a third altered by {third}")
    if seventh not in (None, 0, -1, -2):
        raise _Unspellable(f"a seventh altered by {seventh}")
    parts: list[str] = []
    fifth_done = False
    if third == -1 and fifth == -1 and seventh == -2 and six is None:
        parts.append("dim7")
        fifth_done = True
    elif third == -1 and fifth == -1 and seventh is None and six is None:
        parts.append("dim")
        fifth_done = True
    elif third == 0 and fifth == 1 and seventh is None and six is None:
        parts.append("aug")
        fifth_done = True
    else:
        if third == -1:
            parts.append("m")
        if seventh == -2:
            raise _Unspellable("a diminished seventh without a diminished triad")
        if seventh is not None:
            ext: int | None = None
            if nine == [0]:
                ext, nine = 9, []
                if eleven == [0]:
                    ext, eleven = 11, []
                if thirteen == [0] and (third != -1 or ext == 11):
                    if third != -1 and ext == 11:
                        eleven = [0]  # a major-third 13 chord leaves the 11th out
                    ext, thirteen = 13, []
            parts.append(("maj" if seventh == 0 else "") + str(ext or 7))
        elif six == 0:
            if nine == [0]:
                parts.append("69")
                nine = []
            else:
                parts.append("6")
    if third is None:
        if two not in (None, 0) or four not in (None, 0):
            raise _Unspellable("an altered suspension")
        if two is not None and four is not None:
            parts.append("sus24")
        elif four is not None:
            parts.append("sus4")
        elif two is not None:
            parts.append("sus2")
        else:
            parts.append("no3")
    if not fifth_done:
        if fifth is None:
            parts.append("no5")
        elif fifth in (-1, 1):
            parts.append("b5" if fifth == -1 else "#5")
        elif fifth != 0:
            raise _Unspellable(f"a fifth altered by {fifth}")
    parts.append(extra_fifth)
    for num, alters in ((9, nine), (11, eleven), (13, thirteen)):
        for alter in sorted(set(alters)):
            if alter == 0:
                parts.append(f"add{num}")
            elif (num, alter) in ((9, -1), (9, 1), (11, 1), (13, -1)):
                parts.append(("b" if alter < 0 else "#") + str(num))
            else:
                raise _Unspellable(f"degree {num} altered by {alter}")
    suffix = "".join(parts)
    if suffix[:1] in ("b", "#"):
        suffix = f"({suffix})"  # 'C(b5)', never 'Cb5'
    return suffix


def _expected_tones(root_pc: int, degrees: _Degrees) -> tuple[int, ...]:
    pcs = {root_pc % 12}
    for num, alters in degrees.items():
        for alter in alters:
            pcs.add((root_pc + _MAJOR_SEMIS[num] + alter) % 12)
    return tuple(sorted(pcs))


def _functional_symbol(kind: str, root: NoteName) -> str:
    if kind == "neapolitan":
        return f"{root.transpose(1, 1)}/{root.transpose(5, 3)}"
    if kind in ("italian", "french", "german"):
        six = root.transpose(8, 5)
        return f"{six}{ {'italian': '7no5', 'french': '7b5', 'german': '7'}[kind] }"
    if kind == "tristan":
        return f"{root}m7b5"
    return f"/{root}"  # pedal


def harmony_symbol(
    root: NoteName,
    kind: str,
    degrees: list[tuple[int, int, str]] = [],  # noqa: B006 - read only
    bass: NoteName | None = None,
    text: str | None = None,
) -> Chord | None:
    """The chord of a MusicXML harmony: ``kind`` value, ``degrees`` as
    ``(value, alter, "add"|"alter"|"subtract")``, optional bass and ``text`` attribute.

    Returns None for ``none`` (N.C.). Raises ``ValueError`` (``_Unspellable``) or
    :class:`ChordSymbolError` when no chord symbol spells the combination; the
    reader turns those into :class:`ChartError` with the file and measure.
    """
    k = kind.strip()
    low = k.lower()
    if low == "none":
        return None
    if low in _FUNCTIONAL:
        if degrees:
            raise _Unspellable(f"degrees on a {k} chord")
        sym = _functional_symbol(low, root)
        if bass is not None and low != "pedal":
            sym = sym.split("/")[0] + f"/{bass}"
        return parse_chord(sym)
    if low == "" and not (text and text.strip()):
        low = "major"  # an empty <kind/> shows the root alone: a major triad
    if low in ("other", ""):
        if not text:
            raise _Unspellable(f"kind {k!r} without a text attribute")
        return parse_chord(f"{root}{text}" + (f"/{bass}" if bass is not None else ""))
    base = _KIND_LOOKUP.get(low)
    if base is None:
        raise _Unspellable(f"unknown harmony kind {k!r}")
    want: _Degrees = {k: (v,) for k, v in base.items()}
    for value, alter, dtype in degrees:
        if value not in _MAJOR_SEMIS:
            raise _Unspellable(f"degree value {value}")
        a = alter - 1 if value == 7 else alter
        if dtype == "subtract":
            want.pop(value, None)
            if value == 3:
                want.pop(2, None), want.pop(4, None)
        elif dtype in ("add", "alter"):
            want[value] = (*want.get(value, ()), a) if dtype == "add" else (a,)
        else:
            raise _Unspellable(f"degree type {dtype!r}")
    tones = _expected_tones(root.pc, want)
    slash = f"/{bass}" if bass is not None else ""
    candidates: list[str] = []
    if text and text.strip():
        t = text.strip()
        candidates.append(f"{root}{'(' + t + ')' if t[:1] in 'b#' else t}{slash}")
    candidates.append(f"{root}{_suffix_for(want)}{slash}")
    for sym in candidates:
        try:
            chord = parse_chord(sym)
        except (ChordSymbolError, ValueError, KeyError):
            continue
        if (
            chord.root == root
            and chord.tones == tones
            and chord.bass == (bass if bass is None or bass != root else None)
        ):
            return chord
    raise _Unspellable(f"kind {k!r} with degrees {degrees} gives no chord symbol")


# --------------------------------------------------------------------------- reading


def _text(el: ET.Element | None, default: str = "") -> str:
    if el is None or el.text is None:
        return default
    return el.text.strip()


def _num(text: str, what: str, where: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ChartError(f"{what} is not a number: {text!r}", where) from None


def _unpack(data: bytes, source: str) -> bytes:
    if not data.startswith(b"PK"):
        return data
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        target = None
        if "META-INF/container.xml" in names:
            raw = zf.read("META-INF/container.xml")
            try:
                rf = ET.fromstring(raw).find(".//rootfile")
                target = rf.get("full-path") if rf is not None else None
            except ET.ParseError:
                # Some exporters write the path unescaped (full-path='Bernie's Tune.xml').
                m = re.search(rb"full-path=(['\"])(.*?)\1\s*/?>", raw)
                target = m.group(2).decode("utf-8", "replace") if m else None
            if target is not None and target not in names:
                raise ChartError(f"the archive names {target!r} as its score but lacks it", Location(source))
        if target is None:
            xmls = [n for n in names if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF")]
            if not xmls:
                raise ChartError("compressed MusicXML without a score file", Location(source))
            target = xmls[0]
        info = zf.getinfo(target)
        if info.file_size > _MAX_UNZIPPED:
            raise ChartError(
                f"score inside the archive is too large ({info.file_size} bytes)", Location(source)
            )
        return zf.read(target)
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
        raise ChartError(f"not a valid compressed MusicXML (.mxl) file: {exc}", Location(source)) from None


def _parse_xml(data: bytes, source: str) -> ET.Element:
    if b"<!ENTITY" in data[:100_000]:
        raise ChartError("MusicXML with entity declarations is refused", Location(source))
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        raise ChartError(f"not well-formed XML: {exc}", Location(source, line, col + 1)) from None
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        raise ChartError(f"not readable XML: {exc}", Location(source, 1, 1)) from None
    tag = root.tag
    if tag == "score-timewise":
        root = _timewise_to_partwise(root)
    elif tag != "score-partwise":
        raise ChartError(f"not a MusicXML score (root element <{tag}>)", Location(source))
    for name in root.attrib:
        if name not in _SCORE_ATTRS and not name.startswith("{"):
            raise ChartError(
                f"<{tag}> has an attribute {name!r} that MusicXML does not define", Location(source)
            )
    return root


def _timewise_to_partwise(root: ET.Element) -> ET.Element:
    out = ET.Element("score-partwise", dict(root.attrib))
    parts: dict[str, ET.Element] = {}
    for child in root:
        if child.tag != "measure":
            out.append(child)
    for m in root.findall("measure"):
        for p in m.findall("part"):
            pid = p.get("id", "")
            if pid not in parts:
                parts[pid] = ET.SubElement(out, "part", {"id": pid})
            pm = ET.SubElement(parts[pid], "measure", dict(m.attrib))
            pm.extend(list(p))
    return out


@dataclass
class _Measure:
    number: str
    length: Fraction = Fraction(0)
    divisions: Fraction = Fraction(1)
    time: TimeSignature | None = None
    key: Key | None = None
    tempo: float | None = None
    harmonies: list[tuple[Fraction, ET.Element]] = field(default_factory=list)
    notes: list[tuple[Fraction, ET.Element]] = field(default_factory=list)
    directions: list[ET.Element] = field(default_factory=list)
    barlines: list[ET.Element] = field(default_factory=list)
    sounds: list[ET.Element] = field(default_factory=list)


def _key_of(el: ET.Element) -> Key | None:
    fifths_el = el.find("fifths")
    if fifths_el is None:
        return None
    try:
        f = int(_text(fifths_el))
    except ValueError:
        return None
    if not -7 <= f <= 7:
        return None
    major = NoteName("C").transpose(7 * f, 4 * f)
    if _text(el.find("mode")).lower() == "minor":
        return Key(major.transpose(-3, -2), "minor")
    return Key(major, "major")


def _time_of(el: ET.Element, where: str) -> TimeSignature | None:
    beats = el.findall("beats")
    types = el.findall("beat-type")
    if not beats or not types:
        return None  # senza-misura: the measure length decides
    total = Fraction(0)
    for b, t in zip(beats, types, strict=False):
        den = int(_num(_text(t), "beat-type", where))
        num = sum(int(_num(x, "beats", where)) for x in _text(b).split("+") if x.strip())
        if den not in (1, 2, 4, 8, 16, 32):
            raise ChartError(f"time signature denominator must be a power of two (1-32): {den}", where)
        if num < 1:
            raise ChartError(f"time signature numerator must be at least 1: {num}", where)
        total += Fraction(num * 4, den)
    if len(beats) == 1:
        den = int(_num(_text(types[0]), "beat-type", where))
        num = sum(int(_num(x, "beats", where)) for x in _text(beats[0]).split("+") if x.strip())
        try:
            return TimeSignature(num, den)
        except ValueError as exc:
            raise ChartError(str(exc), where) from None
    return _time_for_length(total, None)


def _time_for_length(length: Fraction, like: TimeSignature | None) -> TimeSignature | None:
    """A time signature whose bar lasts ``length`` quarter notes (None if none fits)."""
    dens = [like.denominator] if like is not None else []
    dens += [4, 8, 16, 32, 2, 1]
    for den in dens:
        num = length * den / 4
        if num.denominator == 1 and 1 <= num <= 64:
            return TimeSignature(int(num), den)
    return None


def _dur(el: ET.Element, divisions: Fraction, here: str) -> Fraction:
    d = el.find("duration")
    if d is None:
        return Fraction(0)
    return _num(_text(d, "0"), "duration", here) / divisions


def _scan_part(part: ET.Element, where: str) -> list[_Measure]:
    out: list[_Measure] = []
    divisions = Fraction(1)
    for m in part.findall("measure"):
        num = m.get("number", str(len(out) + 1))
        here = f"{where}: measure {num}"
        meas = _Measure(num, divisions=divisions)
        pos = Fraction(0)
        last_start = Fraction(0)
        top = Fraction(0)

        for el in m:
            tag = el.tag
            if tag == "note":
                if el.find("grace") is not None:
                    continue
                if el.find("chord") is not None:
                    meas.notes.append((last_start, el))
                    continue
                last_start = pos
                meas.notes.append((pos, el))
                pos += _dur(el, divisions, here)
            elif tag == "backup":
                pos = max(Fraction(0), pos - _dur(el, divisions, here))
            elif tag == "forward":
                pos += _dur(el, divisions, here)
            elif tag == "attributes":
                dv = el.find("divisions")
                if dv is not None:
                    divisions = _num(_text(dv), "divisions", here)
                    if divisions <= 0:
                        raise ChartError("divisions must be positive", here)
                    meas.divisions = divisions
                k = el.find("key")
                if k is not None:
                    meas.key = _key_of(k) or meas.key
                t = el.find("time")
                if t is not None:
                    meas.time = _time_of(t, here) or meas.time
            elif tag in ("harmony", "direction"):
                off = Fraction(0)
                o = el.find("offset")
                if o is not None and (tag == "direction" or o.get("sound") == "yes"):
                    off = _num(_text(o, "0"), "offset", here) / divisions
                if tag == "harmony":
                    meas.harmonies.append((pos + off, el))
                else:
                    meas.directions.append(el)
                    s = el.find("sound")
                    if s is not None:
                        meas.sounds.append(s)
            elif tag == "barline":
                meas.barlines.append(el)
            elif tag == "sound":
                meas.sounds.append(el)
            top = max(top, pos)
        meas.length = top
        out.append(meas)
    return out


def _tempo_of(meas: _Measure, where: str) -> float | None:
    """The measure's tempo in quarter notes per minute: a ``<sound tempo>`` (which must be
    a number within 10-400), else a metronome mark, else None."""
    for s in meas.sounds:
        t = s.get("tempo")
        if t:
            try:
                v = float(t)
            except ValueError:
                raise TempoError(f"<sound tempo={t!r}>: tempo must be a number", where) from None
            return check_tempo(v, where)
    for d in meas.directions:
        mt = d.find("direction-type/metronome")
        if mt is None:
            continue
        unit = _text(mt.find("beat-unit"))
        pm = _text(mt.find("per-minute"))
        m = re.match(r"\s*(\d+(?:\.\d+)?)", pm)
        if not m or unit not in _TYPE_BEATS:
            continue
        q = _TYPE_BEATS[unit] * (Fraction(3, 2) if mt.find("beat-unit-dot") is not None else 1)
        return check_tempo(float(m.group(1)) * float(q), where)
    return None


_TYPE_BEATS: dict[str, Fraction] = {
    "breve": Fraction(8), "whole": Fraction(4), "half": Fraction(2), "quarter": Fraction(1),
    "eighth": Fraction(1, 2), "16th": Fraction(1, 4), "32nd": Fraction(1, 8), "64th": Fraction(1, 16),
}  # fmt: skip


def _note_name(step_el: ET.Element | None, alter_el: ET.Element | None, here: str) -> NoteName:
    step = _text(step_el).upper()
    if step not in _STEP_PC:
        raise ChartError(f"not a note step: {step!r}", here)
    alter = _num(_text(alter_el, "0") or "0", "alter", here)
    if alter.denominator != 1 or not -2 <= alter <= 2:
        raise ChartError(f"chord root or bass altered by {alter} semitones", here)
    return NoteName(step, int(alter))


def _read_harmony(h: ET.Element, here: str) -> Chord | None:
    root_el = h.find("root")
    kind_el = h.find("kind")
    if kind_el is None:
        raise ChartError("<harmony> without <kind>", here)
    kind = _text(kind_el)
    if root_el is None:
        if kind.lower() == "none":
            return None
        raise ChartError("<harmony> without <root> (function or numeral harmony is not read)", here)
    root = _note_name(root_el.find("root-step"), root_el.find("root-alter"), here)
    bass: NoteName | None = None
    bass_el = h.find("bass")
    if bass_el is not None:
        bass = _note_name(bass_el.find("bass-step"), bass_el.find("bass-alter"), here)
    degrees: list[tuple[int, int, str]] = []
    for deg in h.findall("degree"):
        # Some writers put several value/alter/type triples in one <degree>.
        value: int | None = None
        alter = 0
        for child in deg:
            if child.tag == "degree-value":
                value = int(_num(_text(child), "degree-value", here))
                alter = 0
            elif child.tag == "degree-alter":
                a = _num(_text(child, "0") or "0", "degree-alter", here)
                alter = int(a)
            elif child.tag == "degree-type":
                if value is None:
                    raise ChartError("<degree-type> without <degree-value>", here)
                degrees.append((value, alter, _text(child)))
                value = None
    inv = h.find("inversion")
    try:
        chord = harmony_symbol(root, kind, degrees, bass, kind_el.get("text"))
    except (_Unspellable, ChordSymbolError, ValueError) as exc:
        msg = str(exc) if isinstance(exc, _Unspellable) else f"cannot spell the chord: {exc}"
        raise ChartError(msg, here) from None
    if chord is not None and bass is None and inv is not None and _text(inv) not in ("", "0"):
        chord = _invert(chord, int(_num(_text(inv), "inversion", here)), here)
    return chord


def _invert(chord: Chord, inversion: int, here: str) -> Chord:
    """The chord with its ``inversion``-th chord tone (stacked in thirds) in the bass."""
    stack = [d for d in chord.quality.degrees if d != "1"]
    order = [
        "3",
        "b3",
        "2",
        "4",
        "5",
        "b5",
        "#5",
        "6",
        "7",
        "b7",
        "bb7",
        "9",
        "b9",
        "#9",
        "11",
        "#11",
        "13",
        "b13",
    ]
    stack.sort(key=lambda d: order.index(d) if d in order else 99)
    if not 1 <= inversion <= len(stack):
        raise ChartError(f"inversion {inversion} of a chord with {len(stack) + 1} tones", here)
    deg = stack[inversion - 1]
    num = int(deg.lstrip("b#"))
    semis = _MAJOR_SEMIS[num] + deg.count("#") - deg.count("b")
    steps = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6, 9: 1, 11: 3, 13: 5}[num]
    return chord.with_bass(chord.root.transpose(semis, steps))


def _ending_numbers(text: str, here: str) -> frozenset[int]:
    nums = re.findall(r"\d+", text or "")
    if not nums:
        raise ChartError(f"ending without a number ({text!r})", here)
    return frozenset(int(n) for n in nums)


_DC_RE = re.compile(r"\b(d\.?\s*c\.?|da\s+capo)", re.IGNORECASE)
_DS_RE = re.compile(r"\b(d\.?\s*s\.?|dal\s+segno)", re.IGNORECASE)


def _jump_until(words: str) -> str | None:
    w = words.lower().replace(" ", "")
    if "alfine" in w:
        return "fine"
    if "alcoda" in w:
        return "coda"
    m = re.search(r"al(\d)", w)
    if m:
        return m.group(1)
    return None


@dataclass
class _Marks:
    segno: bool = False
    coda_sign: bool = False
    coda: bool = False
    to_coda: bool = False
    fine: bool = False
    jump_kind: str | None = None
    jump_until: str | None = None
    rehearsal: str | None = None
    vamp: bool = False


def _marks_of(meas: _Measure) -> _Marks:
    mk = _Marks()
    for s in meas.sounds:
        if s.get("segno"):
            mk.segno = True
        if s.get("coda"):
            mk.coda = True
        if s.get("tocoda"):
            mk.to_coda = True
        if s.get("fine"):
            mk.fine = True
        if (s.get("dacapo") or "").lower() == "yes":
            mk.jump_kind = "DC"
        if s.get("dalsegno"):
            mk.jump_kind = "DS"
    for b in meas.barlines:
        if b.find("segno") is not None:
            mk.segno = True
        if b.find("coda") is not None:
            mk.coda_sign = True
    for d in meas.directions:
        for dt in d.findall("direction-type"):
            if dt.find("segno") is not None:
                mk.segno = True
            if dt.find("coda") is not None:
                mk.coda_sign = True
            r = dt.find("rehearsal")
            if r is not None and _text(r) and mk.rehearsal is None:
                mk.rehearsal = _text(r)
            for w in dt.findall("words"):
                words = _text(w)
                low = words.lower().strip(" .:")
                if not low:
                    continue
                if re.search(r"\bto\s*coda\b", low):
                    mk.to_coda = True
                elif _DS_RE.match(words.strip()):
                    mk.jump_kind = "DS"
                    mk.jump_until = _jump_until(words)
                elif _DC_RE.match(words.strip()):
                    mk.jump_kind = "DC"
                    mk.jump_until = _jump_until(words)
                elif low == "fine":
                    mk.fine = True
                elif low == "coda":
                    mk.coda = True
                elif low in ("vamp", "vamp till cue", "vamp until cue"):
                    mk.vamp = True
                elif low in _SECTION_WORDS and mk.rehearsal is None:
                    mk.rehearsal = words.strip().rstrip(":")
    if mk.jump_kind is not None and mk.jump_until is None:
        for d in meas.directions:
            for w in d.findall("direction-type/words"):
                u = _jump_until(_text(w))
                if u:
                    mk.jump_until = u
    return mk


def _title_of(root: ET.Element, source: str) -> str:
    for path in ("work/work-title", "movement-title"):
        t = _text(root.find(path))
        if t:
            return t
    for c in root.findall("credit"):
        if _text(c.find("credit-type")) == "title":
            t = " ".join(_text(w) for w in c.findall("credit-words")).strip()
            if t:
                return t
    for c in root.findall("credit"):
        t = _text(c.find("credit-words"))
        if t:
            return t
    stem = re.split(r"[\\/]", source)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def load_bytes(data: bytes, source: str) -> list[Song]:
    """Read a MusicXML lead sheet (``.musicxml``, ``.xml`` or compressed ``.mxl``).

    Returns one :class:`Song`. Raises :class:`ChartError` (with the file and, where it
    applies, the measure) for a file that is not MusicXML or a chord that cannot be spelled.
    """
    root = _parse_xml(_unpack(data, source), source)
    parts = root.findall("part")
    if not parts:
        raise ChartError("MusicXML score without a <part>", Location(source))
    scanned = [_scan_part(p, source) for p in parts]
    first = scanned[0]
    if not first:
        raise ChartError("MusicXML part without measures", Location(source))
    harm_part = next((s for s in scanned if any(m.harmonies for m in s)), first)

    # Resolve time, key and tempo per measure.
    n = len(first)
    times: list[TimeSignature] = []
    keys: list[Key | None] = []
    tempos: list[float] = []
    shifts: list[Fraction] = []
    cur_time: TimeSignature | None = None
    cur_key: Key | None = None
    cur_tempo = 120.0
    first_tempo = next(
        (t for t in (_tempo_of(m, f"{source}: measure {m.number}") for m in first) if t is not None), None
    )
    if first_tempo is not None:
        cur_tempo = first_tempo
    for i, meas in enumerate(first):
        if meas.time is not None:
            cur_time = meas.time
        if meas.key is not None:
            cur_key = meas.key
        t = _tempo_of(meas, f"{source}: measure {meas.number}")
        if t is not None:
            cur_tempo = t
        length = meas.length
        shift = Fraction(0)
        nominal = cur_time
        if nominal is None:
            if length <= 0:
                raise ChartError(f"measure {meas.number}: no time signature and no notes", Location(source))
            bar_time = _time_for_length(length, None)
            if bar_time is None:
                raise ChartError(
                    f"measure {meas.number}: length {length} beats has no time signature", Location(source)
                )
        elif length <= 0 or length == nominal.bar_beats:
            bar_time = nominal
        elif length < nominal.bar_beats and i == 0:
            bar_time, shift = nominal, nominal.bar_beats - length
        elif length < nominal.bar_beats and i == n - 1:
            bar_time = nominal
        else:
            bar_time = _time_for_length(length, nominal) or nominal
        times.append(bar_time)
        keys.append(cur_key)
        tempos.append(cur_tempo)
        shifts.append(shift)

    # Chords.
    chords_per_bar: list[list[ChordEvent]] = [[] for _ in range(n)]
    for i, meas in enumerate(harm_part[:n]):
        here = f"{source}: measure {meas.number}"
        for pos, h in meas.harmonies:
            chord = _read_harmony(h, here)
            beat = pos + shifts[i]
            target = i
            if beat >= times[i].bar_beats and i + 1 < n:
                target, beat = i + 1, beat - times[i].bar_beats + shifts[i + 1]
            beat = min(max(beat, Fraction(0)), times[target].bar_beats - Fraction(1, 64))
            evs = chords_per_bar[target]
            evs[:] = [e for e in evs if e.beat != beat]  # a later harmony at the same time replaces
            evs.append(ChordEvent(beat, chord))
    for evs in chords_per_bar:
        evs.sort(key=lambda e: e.beat)

    # Form marks.
    marks = [_marks_of(m) for m in first]
    n_tocoda = sum(1 for m in marks if m.to_coda)
    signs = [i for i, m in enumerate(marks) if m.coda_sign and not m.to_coda and not m.coda]
    if signs:
        if n_tocoda == 0 and len(signs) >= 2:
            marks[signs[0]].to_coda = True
            for i in signs[1:]:
                marks[i].coda = True
        else:
            for i in signs:
                if any(marks[j].to_coda for j in range(i)) or n_tocoda == 0:
                    marks[i].coda = True
                else:
                    marks[i].to_coda = True
    has_fine = any(m.fine for m in marks)
    has_tocoda = any(m.to_coda for m in marks)

    bars: list[Bar] = []
    ending_open: frozenset[int] = frozenset()
    for i, meas in enumerate(first):
        here = f"measure {meas.number}"
        repeat_start = False
        repeat_end = 0
        endings = ending_open
        close_after = False
        for b in meas.barlines:
            loc = b.get("location", "right")
            rep = b.find("repeat")
            if rep is not None:
                if rep.get("direction") == "forward":
                    repeat_start = True
                elif rep.get("direction") == "backward":
                    times_attr = rep.get("times")
                    repeat_end = int(times_attr) if times_attr and times_attr.isdigit() else 2
                    repeat_end = max(repeat_end, 2)
            end_el = b.find("ending")
            if end_el is not None:
                etype = end_el.get("type", "")
                if etype == "start":
                    endings = _ending_numbers(end_el.get("number", ""), f"{source}: {here}")
                    ending_open = endings
                elif etype in ("stop", "discontinue"):
                    if not endings:
                        endings = _ending_numbers(end_el.get("number", ""), f"{source}: {here}")
                    close_after = True
            del loc
        if close_after:
            ending_open = frozenset()
        mk = marks[i]
        jump: Jump | None = None
        if mk.jump_kind is not None:
            until = mk.jump_until or ("fine" if has_fine else "coda" if has_tocoda else "end")
            jump = Jump(mk.jump_kind, until)
        bars.append(
            Bar(
                chords=tuple(chords_per_bar[i]),
                time=times[i],
                tempo=tempos[i],
                key=keys[i],
                repeat_start=repeat_start,
                repeat_end=repeat_end,
                endings=endings,
                segno=mk.segno,
                to_coda=mk.to_coda,
                coda=mk.coda,
                fine=mk.fine,
                jump=jump,
                vamp=mk.vamp,
            )
        )

    bars = _imply_missing_repeats(bars)

    # Sections from rehearsal marks.
    starts = [(i, m.rehearsal) for i, m in enumerate(marks) if m.rehearsal]
    sections: list[Section] = []
    if not starts:
        sections.append(Section("A", tuple(bars)))
    else:
        if starts[0][0] > 0:
            if starts[0][0] == 1 and shifts[0] > 0:
                starts[0] = (0, starts[0][1])  # the pickup belongs to the first phrase
            else:
                sections.append(Section("Intro", tuple(bars[: starts[0][0]])))
        for k, (i, label) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else len(bars)
            if end > i:
                sections.append(Section(label or "A", tuple(bars[i:end])))

    melody = _read_melody(first, shifts, source)
    composer = ""
    for c in root.findall("identification/creator"):
        if c.get("type") == "composer" and _text(c):
            composer = _text(c)
            break
    style = ""
    for mf in root.findall("identification/miscellaneous/miscellaneous-field"):
        if mf.get("name") == "backline-style":
            style = _text(mf)
    return [
        Song(
            title=_title_of(root, source),
            sections=tuple(sections),
            composer=composer,
            key=bars[0].key if bars else None,
            style=style,
            melody=melody,
            source=source,
        )
    ]


def _imply_missing_repeats(bars: list[Bar]) -> list[Bar]:
    """A non-final ending followed by another ending with no backward repeat in it is a
    common engraving slip (e.g. OpenEWLD 'I Got Rhythm'): the player goes back all the
    same, so the last bar of that ending gets the implied ``:|``."""
    out = list(bars)
    for i, b in enumerate(out[:-1]):
        nxt = out[i + 1]
        if b.endings and nxt.endings and not (b.endings & nxt.endings) and not b.repeat_end:
            run = i
            while run > 0 and out[run - 1].endings == b.endings:
                run -= 1
            if not any(out[k].repeat_end for k in range(run, i + 1)):
                times = max(max(b.endings), max(nxt.endings))
                out[i] = replace(b, repeat_end=max(2, times))
    return out


def _misread_form(song: Song) -> list[str]:
    """Form marks a MusicXML score holds but that this reader (like other programs) takes
    otherwise: a plain D.C./D.S. in a song with a Fine or To Coda reads as al Fine/al Coda,
    a repeat "played once" as a plain repeat, and a non-final ending without a repeat sign
    gets the repeat engravers forget."""
    from backline.formats.lost import bars_item

    bars = list(song.bars)
    out = []
    if any(b.fine or b.to_coda for b in bars):
        plain = [i + 1 for i, b in enumerate(bars) if b.jump is not None and b.jump.until == "end"]
        out.append(bars_item("D.C./D.S. to the end past a Fine or To Coda", plain))
    out.append(
        bars_item("a repeat played once (x1)", [i + 1 for i, b in enumerate(bars) if b.repeat_end == 1])
    )
    implied = _imply_missing_repeats(bars)
    out.append(
        bars_item(
            "an ending without a repeat sign before the next ending",
            [i + 1 for i, (a, b) in enumerate(zip(bars, implied, strict=True)) if a != b],
        )
    )
    return [x for x in out if x]


def _midi_of(pitch: ET.Element, here: str) -> int:
    step = _text(pitch.find("step")).upper()
    if step not in _STEP_PC:
        raise ChartError(f"not a note step: {step!r}", here)
    alter = float(_num(_text(pitch.find("alter"), "0") or "0", "alter", here))
    octave = int(_num(_text(pitch.find("octave"), "4"), "octave", here))
    midi = (octave + 1) * 12 + _STEP_PC[step] + round(alter)
    if not 0 <= midi <= 127:
        raise ChartError(f"note {step}{octave} is outside the MIDI range", here)
    return midi


def _lyric_of(note: ET.Element) -> str:
    lyrics = note.findall("lyric")
    if not lyrics:
        return ""
    ly = next((x for x in lyrics if x.get("number", "1") == "1"), lyrics[0])
    text = "".join(_text(t) for t in ly.findall("text"))
    if _text(ly.find("syllabic")) in ("begin", "middle") and text:
        text += "-"
    return text


def _read_melody(measures: list[_Measure], shifts: list[Fraction], source: str) -> tuple[Note, ...]:
    notes: list[Note] = []
    tie_open = False
    for i, meas in enumerate(measures):
        here = f"{source}: measure {meas.number}"
        for pos, el in meas.notes:
            if (
                _text(el.find("voice"), "1") != "1"
                or el.find("chord") is not None
                or el.find("cue") is not None
            ):
                continue
            d = el.find("duration")
            if d is None:
                continue
            dur = _num(_text(d, "0"), "duration", here) / meas.divisions
            if dur <= 0:
                continue
            start = pos + shifts[i]
            pitch_el = el.find("pitch")
            if pitch_el is None:
                pitch_el = el.find("unpitched")
                if pitch_el is not None:
                    pitch_el = _unpitched_as_pitch(pitch_el)
            pitch = None if pitch_el is None else _midi_of(pitch_el, here)
            ties = {t.get("type") for t in el.findall("tie")} | {
                t.get("type") for t in el.findall("notations/tied")
            }
            if pitch is None:
                tie_open = False
                prev = notes[-1] if notes else None
                if (
                    prev is not None
                    and prev.pitch is None
                    and prev.bar == i
                    and prev.start + prev.duration == start
                ):
                    notes[-1] = Note(i, prev.start, prev.duration + dur, None, prev.lyric)
                else:
                    notes.append(Note(i, start, dur, None, ""))
                continue
            if "stop" in ties and tie_open and notes and notes[-1].pitch == pitch:
                prev = notes[-1]
                notes[-1] = Note(prev.bar, prev.start, prev.duration + dur, pitch, prev.lyric)
            else:
                notes.append(Note(i, start, dur, pitch, _lyric_of(el)))
            tie_open = "start" in ties
    if not any(n.pitch is not None for n in notes):
        return ()
    return tuple(notes)


def _unpitched_as_pitch(el: ET.Element) -> ET.Element:
    p = ET.Element("pitch")
    ET.SubElement(p, "step").text = _text(el.find("display-step"), "B")
    ET.SubElement(p, "octave").text = _text(el.find("display-octave"), "4")
    return p


# --------------------------------------------------------------------------- writing


def _degrees_of(q: Quality) -> _Degrees:
    """The chord's degrees as number -> alterations from the major scale."""
    out: dict[int, list[int]] = {}
    for d in q.degrees:
        if d == "1":
            continue
        out.setdefault(int(d.lstrip("b#")), []).append(d.count("#") - d.count("b"))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _kind_and_degrees(q: Quality) -> tuple[str, list[tuple[int, int, str]]]:
    if q.bass_only:
        return "pedal", []
    want = _degrees_of(q)
    best: tuple[int, str, list[tuple[int, int, str]]] | None = None
    for kind, base in KIND_DEGREES.items():
        degs: list[tuple[int, int, str]] = []
        for num in sorted(set(base) | set(want)):
            w = want.get(num, ())
            if num not in base:
                degs += [(num, a, "add") for a in w]
            elif not w:
                degs.append((num, 0, "subtract"))
            elif w != (base[num],):
                # alter replaces the kind's degree; a second alteration (b9 and #9) is added
                degs.append((num, w[0], "alter"))
                degs += [(num, a, "add") for a in w[1:]]
        if best is None or len(degs) < best[0]:
            best = (len(degs), kind, degs)
    assert best is not None
    # A <degree-alter> of 7 counts from the minor seventh (see the module docstring).
    return best[1], [(n, a + 1 if n == 7 and t != "subtract" else a, t) for n, a, t in best[2]]


#: Characters XML 1.0 cannot hold at all (C0 controls other than tab, line feed and
#: carriage return; U+FFFE and U+FFFF; lone surrogates): the writer leaves them out.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML_RE.sub("", text)


def _sub(parent: ET.Element, tag: str, content: str | None = None, /, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k.replace("_", "-"): _xml_safe(v) for k, v in attrs.items()})
    if content is not None:
        el.text = _xml_safe(content)
    return el


def _warn_not_xml(song: Song) -> None:
    """Warn when texts of ``song`` hold characters that XML cannot (the writer drops them)."""
    import warnings

    from backline.formats.lost import FormLostWarning

    fields = [("title", song.title), ("composer", song.composer), ("style", song.style)]
    fields += [(f"section label {s.label!r}", s.label) for s in song.sections]
    fields += [(f"comment in bar {i + 1}", b.comment) for i, b in enumerate(song.bars)]
    bad = [name for name, text in fields if _NOT_XML_RE.search(text)]
    if bad:
        more = f" and {len(bad) - 6} more" if len(bad) > 6 else ""
        warnings.warn(
            f"{_xml_safe(song.title or song.source or 'song')}: MusicXML cannot hold control characters: "
            f"removed from the {', '.join(bad[:6])}{more}",
            FormLostWarning,
            stacklevel=3,
        )


def _harmony_el(parent: ET.Element, chord: Chord | None, last_root: NoteName) -> None:
    h = _sub(parent, "harmony")
    root = chord.root if chord is not None else last_root
    r = _sub(h, "root")
    _sub(r, "root-step", root.letter)
    if root.alter:
        _sub(r, "root-alter", str(root.alter))
    if chord is None:
        _sub(h, "kind", "none", text="N.C.")
        return
    kind, degrees = _kind_and_degrees(chord.quality)
    _sub(h, "kind", kind, text=chord.quality.name if kind != "pedal" else "")
    if chord.bass is not None:
        b = _sub(h, "bass")
        _sub(b, "bass-step", chord.bass.letter)
        if chord.bass.alter:
            _sub(b, "bass-alter", str(chord.bass.alter))
    for num, alter, dtype in degrees:
        d = _sub(h, "degree")
        _sub(d, "degree-value", str(num))
        _sub(d, "degree-alter", str(alter))
        _sub(d, "degree-type", dtype)


_NOTE_TYPES: list[tuple[Fraction, str, int]] = []
for _name, _beats in _TYPE_BEATS.items():
    for _dots in (0, 1, 2):
        _NOTE_TYPES.append((_beats * (2 - Fraction(1, 2**_dots)), _name, _dots))
_NOTE_TYPES.sort(key=lambda x: (-x[0], x[2]))


def _split_value(d: Fraction) -> list[tuple[Fraction, str | None, int, bool]]:
    """Split a duration into written note values: (beats, type, dots, triplet).

    Durations in powers of two are split greedily into tied values; a triplet value
    stays one note with a 3:2 time modification; anything else is one note without
    a ``<type>`` (its ``<duration>`` stays exact).
    """
    exact = {beats: (name, dots) for beats, name, dots in _NOTE_TYPES}
    if d in exact:
        return [(d, *exact[d], False)]
    if d * Fraction(3, 2) in exact and exact[d * Fraction(3, 2)][1] == 0:
        return [(d, exact[d * Fraction(3, 2)][0], 0, True)]
    if d.denominator & (d.denominator - 1):
        return [(d, None, 0, False)]
    out: list[tuple[Fraction, str | None, int, bool]] = []
    rest = d
    while rest > 0:
        for beats, name, dots in _NOTE_TYPES:
            if beats <= rest:
                out.append((beats, name, dots, False))
                rest -= beats
                break
        else:
            out.append((rest, None, 0, False))
            break
    return out


@dataclass
class _Seg:
    start: Fraction
    dur: Fraction
    pitch: int | None
    tie_stop: bool = False
    tie_start: bool = False
    lyric: str = ""


def _bar_segments(song: Song, starts: list[Fraction], lengths: list[Fraction]) -> list[list[_Seg]]:
    segs: list[list[_Seg]] = [[] for _ in lengths]
    notes = sorted((n for n in song.melody if n.pitch is not None), key=lambda n: starts[n.bar] + n.start)
    for k, note in enumerate(notes):
        if not 0 <= note.bar < len(lengths):
            continue
        a = starts[note.bar] + note.start
        b = a + note.duration
        if k + 1 < len(notes):
            nxt = notes[k + 1]
            b = min(b, starts[nxt.bar] + nxt.start)
        bi = note.bar
        first = True
        while a < b and bi < len(lengths):
            bar_end = starts[bi] + lengths[bi]
            if a >= bar_end:
                bi += 1
                continue
            e = min(b, bar_end)
            segs[bi].append(
                _Seg(a - starts[bi], e - a, note.pitch, not first, e < b, note.lyric if first else "")
            )
            first = False
            a = e
    # fill gaps with rests
    for bi, length in enumerate(lengths):
        filled: list[_Seg] = []
        t = Fraction(0)
        for s in sorted(segs[bi], key=lambda s: s.start):
            if s.start > t:
                filled.append(_Seg(t, s.start - t, None))
            filled.append(s)
            t = s.start + s.dur
        if t < length:
            filled.append(_Seg(t, length - t, None))
        segs[bi] = filled
    return segs


def _cut(segs: list[_Seg], at: Fraction) -> list[_Seg]:
    out: list[_Seg] = []
    for s in segs:
        if s.start < at < s.start + s.dur:
            left = _Seg(s.start, at - s.start, s.pitch, s.tie_stop, s.pitch is not None, s.lyric)
            right = _Seg(at, s.start + s.dur - at, s.pitch, s.pitch is not None, s.tie_start, "")
            out += [left, right]
        else:
            out.append(s)
    return out


def _lyric_parts(text: str, prev_hyphen: bool) -> tuple[str, str, bool]:
    hyphen = text.endswith("-") and len(text) > 1
    word = text[:-1] if hyphen else text
    if hyphen:
        syl = "middle" if prev_hyphen else "begin"
    else:
        syl = "end" if prev_hyphen else "single"
    return word, syl, hyphen


def _pitch_el(parent: ET.Element, midi: int, key: Key | None) -> None:
    name = key.spell(midi % 12) if key is not None else pc_name(midi % 12, prefer_flats=True)
    octave = (midi - name.alter) // 12 - 1
    p = _sub(parent, "pitch")
    _sub(p, "step", name.letter)
    if name.alter:
        _sub(p, "alter", str(name.alter))
    _sub(p, "octave", str(octave))


def _lcm_divisions(values: list[Fraction]) -> int:
    div = 1
    for v in values:
        div = div * v.denominator // math.gcd(div, v.denominator)
    return min(div, 1_000_000)


def dump_bytes(song: Song) -> bytes:
    """Write ``song`` as a MusicXML 4.0 partwise lead sheet (UTF-8 bytes).

    Hits, fermatas, pushes, vamps and End marks before the last bar are not written: a
    song using them gets a :class:`~backline.formats.lost.FormLostWarning`. A song with
    no bars is refused (MusicXML needs a measure).
    """
    from backline.formats.lost import lost_marks, warn_lost

    if not song.bars:
        raise ChartError("the song has no bars: nothing to write as MusicXML", Location(song.title or "song"))
    lost = lost_marks(song, ("vamp", "hits (!)", "fermatas (~)", "pushes (<)"))
    early_end = [str(i + 1) for i, b in enumerate(song.bars[:-1]) if b.end]
    if early_end:
        lost.insert(0, f"End ({'bar' if len(early_end) == 1 else 'bars'} {', '.join(early_end)})")
    lost += _misread_form(song)
    warn_lost(song, "MusicXML", lost)
    _warn_not_xml(song)
    bars = list(song.bars)
    lengths = [b.beats for b in bars]
    starts: list[Fraction] = []
    t = Fraction(0)
    for length in lengths:
        starts.append(t)
        t += length
    segs = (
        _bar_segments(song, starts, lengths)
        if song.melody
        else [[_Seg(Fraction(0), ln, None)] for ln in lengths]
    )
    values: list[Fraction] = [*lengths]
    for b in bars:
        values += [e.beat for e in b.chords]
    for bs in segs:
        for s in bs:
            values += [s.start, s.dur]
    divisions = _lcm_divisions(values)

    root = ET.Element("score-partwise", {"version": "4.0"})
    work = _sub(root, "work")
    _sub(work, "work-title", song.title or "Untitled")
    ident = _sub(root, "identification")
    if song.composer:
        _sub(ident, "creator", song.composer, type="composer")
    enc = _sub(ident, "encoding")
    _sub(enc, "software", "backline")
    if song.style:
        misc = _sub(ident, "miscellaneous")
        _sub(misc, "miscellaneous-field", song.style, name="backline-style")
    pl = _sub(root, "part-list")
    sp = _sub(pl, "score-part", id="P1")
    _sub(sp, "part-name", "Lead sheet")
    part = _sub(root, "part", id="P1")

    section_starts: dict[int, str] = {}
    i = 0
    for sec in song.sections:
        if sec.bars:
            section_starts[i] = sec.label
        i += len(sec.bars)

    prev: Bar | None = None
    last_root = NoteName("C")
    prev_hyphen = False
    for bi, bar in enumerate(bars):
        m = _sub(part, "measure", number=str(bi + 1))
        # left barline
        ending_start = bool(bar.endings) and (prev is None or prev.endings != bar.endings)
        if bar.repeat_start or ending_start:
            bl = _sub(m, "barline", location="left")
            if bar.repeat_start:
                _sub(bl, "bar-style", "heavy-light")
            if ending_start:
                _sub(bl, "ending", number=", ".join(str(x) for x in sorted(bar.endings)), type="start")
            if bar.repeat_start:
                _sub(bl, "repeat", direction="forward")
        # attributes
        key_changed = bar.key is not None and (prev is None or prev.key != bar.key)
        time_changed = prev is None or prev.time != bar.time
        if prev is None or key_changed or time_changed:
            at = _sub(m, "attributes")
            if prev is None:
                _sub(at, "divisions", str(divisions))
            if key_changed and bar.key is not None:
                k = _sub(at, "key")
                _sub(k, "fifths", str(max(-7, min(7, bar.key.fifths))))
                _sub(k, "mode", bar.key.mode)
            if time_changed:
                tm = _sub(at, "time")
                _sub(tm, "beats", str(bar.time.numerator))
                _sub(tm, "beat-type", str(bar.time.denominator))
            if prev is None:
                c = _sub(at, "clef")
                _sub(c, "sign", "G")
                _sub(c, "line", "2")
        # directions at the start of the bar
        if bi in section_starts:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "rehearsal", section_starts[bi])
        if prev is None or abs(prev.tempo - bar.tempo) > 1e-9:
            d = _sub(m, "direction", placement="above")
            mt = _sub(_sub(d, "direction-type"), "metronome")
            _sub(mt, "beat-unit", "quarter")
            _sub(mt, "per-minute", f"{bar.tempo:g}")
            _sub(d, "sound", tempo=f"{bar.tempo:g}")
        if bar.segno:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "segno")
            _sub(d, "sound", segno="segno")
        if bar.coda:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "coda")
            _sub(d, "sound", coda="coda")
        if bar.vamp:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "words", "Vamp")
        # notes and harmonies
        bar_segs = segs[bi]
        for cev in bar.chords:
            bar_segs = _cut(bar_segs, cev.beat)
        chords_at = {cev.beat: cev for cev in bar.chords}
        for s in bar_segs:
            ev = chords_at.get(s.start)
            if ev is not None:
                _harmony_el(m, ev.chord, last_root)
                if ev.chord is not None:
                    last_root = ev.chord.root
            pieces = _split_value(s.dur)
            for pi, (pdur, ptype, pdots, triplet) in enumerate(pieces):
                note = _sub(m, "note")
                if s.pitch is None:
                    if len(bar_segs) == 1 and s.dur == bar.beats:
                        _sub(note, "rest", measure="yes")
                    else:
                        _sub(note, "rest")
                else:
                    _pitch_el(note, s.pitch, bar.key or song.key)
                _sub(note, "duration", str(int(pdur * divisions)))
                stop = s.pitch is not None and (s.tie_stop or pi > 0)
                start = s.pitch is not None and (s.tie_start or pi + 1 < len(pieces))
                if stop:
                    _sub(note, "tie", type="stop")
                if start:
                    _sub(note, "tie", type="start")
                _sub(note, "voice", "1")
                if ptype is not None and not (s.pitch is None and len(bar_segs) == 1 and s.dur == bar.beats):
                    _sub(note, "type", ptype)
                    for _ in range(pdots):
                        _sub(note, "dot")
                    if triplet:
                        tmod = _sub(note, "time-modification")
                        _sub(tmod, "actual-notes", "3")
                        _sub(tmod, "normal-notes", "2")
                if stop or start:
                    nt = _sub(note, "notations")
                    if stop:
                        _sub(nt, "tied", type="stop")
                    if start:
                        _sub(nt, "tied", type="start")
                if s.lyric and pi == 0:
                    word, syl, prev_hyphen = _lyric_parts(s.lyric, prev_hyphen)
                    ly = _sub(note, "lyric", number="1")
                    _sub(ly, "syllabic", syl)
                    _sub(ly, "text", word)
        # directions at the end of the bar
        if bar.to_coda:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "words", "To Coda")
            _sub(d, "sound", tocoda="coda")
        if bar.fine:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "words", "Fine")
            _sub(d, "sound", fine="yes")
        if bar.jump is not None:
            d = _sub(m, "direction", placement="above")
            _sub(_sub(d, "direction-type"), "words", str(bar.jump))
            if bar.jump.kind == "DC":
                _sub(d, "sound", dacapo="yes")
            else:
                _sub(d, "sound", dalsegno="segno")
        # right barline
        nxt = bars[bi + 1] if bi + 1 < len(bars) else None
        ending_stop = bool(bar.endings) and (nxt is None or nxt.endings != bar.endings)
        last = nxt is None
        if bar.repeat_end or ending_stop or last or bar.end:
            bl = _sub(m, "barline", location="right")
            _sub(bl, "bar-style", "light-heavy" if (bar.repeat_end or last or bar.end) else "light-light")
            if ending_stop:
                etype = "stop" if bar.repeat_end else "discontinue"
                _sub(bl, "ending", number=", ".join(str(x) for x in sorted(bar.endings)), type=etype)
            if bar.repeat_end:
                attrs = {"direction": "backward"}
                if bar.repeat_end != 2:
                    attrs["times"] = str(bar.repeat_end)
                _sub(bl, "repeat", **attrs)
        prev = bar
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
        '"http://www.musicxml.org/dtds/partwise.dtd">\n'
    )
    return (head + body + "\n").encode("utf-8")
