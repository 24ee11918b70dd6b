"""The song model as JSON, with full fidelity: every field of Song, Section, Bar,
ChordEvent, Jump and Note.

Beats are strings (``"3/2"``, ``"2"``) so that no float rounding creeps in; chords
are their symbol (the spelling the chart used) and read back with
:func:`~backline.model.chord.parse_chord`. A chord whose symbol would not read back
to the same chord is written with its structure under ``"quality"`` as well.

``load_bytes(dump_bytes(song), src)[0] == song`` for every song.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from backline.errors import ChartError, ChordSymbolError, Location
from backline.model.checks import check_tempo
from backline.model.chord import Chord, Quality, parse_chord
from backline.model.pitch import Key, NoteName, parse_note_name
from backline.model.song import Bar, ChordEvent, Jump, Note, Section, Song, TimeSignature

__all__ = ["load_bytes", "dump_bytes", "song_to_dict", "song_from_dict", "FORMAT", "VERSION"]

FORMAT = "backline-song"
VERSION = 1


# --------------------------------------------------------------------------- writing


def _beat(f: Fraction) -> str:
    return str(f)


def _key(k: Key | None) -> dict[str, str] | None:
    return None if k is None else {"tonic": str(k.tonic), "mode": k.mode}


def _quality(q: Quality) -> dict[str, Any]:
    return {
        "third": q.third,
        "sus": q.sus,
        "fifth": q.fifth,
        "seventh": q.seventh,
        "ext": q.ext,
        "six": q.six,
        "alterations": sorted(q.alterations),
        "adds": sorted(q.adds),
        "omits": sorted(q.omits),
        "alt": q.alt,
        "power": q.power,
        "bass_only": q.bass_only,
    }


def _chord(c: Chord | None) -> dict[str, Any] | None:
    if c is None:
        return None
    out: dict[str, Any] = {"symbol": str(c)}
    try:
        same = parse_chord(str(c)) == c
    except ChordSymbolError:
        same = False
    if not same:
        out["root"] = str(c.root)
        out["bass"] = None if c.bass is None else str(c.bass)
        out["quality"] = _quality(c.quality)
    return out


def _bar(b: Bar) -> dict[str, Any]:
    return {
        "chords": [
            {
                "beat": _beat(e.beat),
                "chord": _chord(e.chord),
                "push": e.push,
                "hit": e.hit,
                "fermata": e.fermata,
            }
            for e in b.chords
        ],
        "time": str(b.time),
        "tempo": b.tempo,
        "key": _key(b.key),
        "repeat_start": b.repeat_start,
        "repeat_end": b.repeat_end,
        "endings": sorted(b.endings),
        "segno": b.segno,
        "to_coda": b.to_coda,
        "coda": b.coda,
        "fine": b.fine,
        "jump": None if b.jump is None else {"kind": b.jump.kind, "until": b.jump.until},
        "vamp": b.vamp,
        "end": b.end,
        "comment": b.comment,
    }


def song_to_dict(song: Song) -> dict[str, Any]:
    """The song as plain JSON-ready data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "title": song.title,
        "composer": song.composer,
        "key": _key(song.key),
        "style": song.style,
        "source": song.source,
        "sections": [
            {"label": s.label, "intensity": s.intensity, "bars": [_bar(b) for b in s.bars]}
            for s in song.sections
        ],
        "melody": [
            {
                "bar": n.bar,
                "start": _beat(n.start),
                "duration": _beat(n.duration),
                "pitch": n.pitch,
                "lyric": n.lyric,
            }
            for n in song.melody
        ],
    }


def dump_bytes(song: Song) -> bytes:
    """Write ``song`` as UTF-8 JSON (indented, stable key order)."""
    return (json.dumps(song_to_dict(song), ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to a JSON object that names the path of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, msg: str) -> ChartError:
        return ChartError(f"{path}: {msg}", Location(self.source))

    def obj(self, v: Any, path: str, keys: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.fail(path, f"expected an object, found {type(v).__name__}")
        unknown = set(v) - keys
        if unknown:
            raise self.fail(path, f"unknown field {sorted(unknown)[0]!r}")
        missing = required - set(v)
        if missing:
            raise self.fail(path, f"missing field {sorted(missing)[0]!r}")
        return v

    def str_(self, v: Any, path: str) -> str:
        if not isinstance(v, str):
            raise self.fail(path, f"expected a string, found {v!r}")
        return v

    def bool_(self, v: Any, path: str) -> bool:
        if not isinstance(v, bool):
            raise self.fail(path, f"expected true or false, found {v!r}")
        return v

    def int_(self, v: Any, path: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(path, f"expected an integer, found {v!r}")
        return v

    def list_(self, v: Any, path: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(path, f"expected a list, found {type(v).__name__}")
        return v

    def beat(self, v: Any, path: str) -> Fraction:
        s = self.str_(v, path)
        try:
            f = Fraction(s)
        except (ValueError, ZeroDivisionError):
            raise self.fail(path, f'not a beat: {s!r} (write "3/2")') from None
        if f < 0:
            raise self.fail(path, f"negative beat {s!r}")
        return f

    def note_name(self, v: Any, path: str) -> NoteName:
        s = self.str_(v, path)
        try:
            return parse_note_name(s)
        except ValueError:
            raise self.fail(path, f"not a note name: {s!r}") from None

    def key(self, v: Any, path: str) -> Key | None:
        if v is None:
            return None
        o = self.obj(v, path, {"tonic", "mode"}, {"tonic", "mode"})
        mode = self.str_(o["mode"], f"{path}.mode")
        if mode not in ("major", "minor"):
            raise self.fail(f"{path}.mode", f"mode must be major or minor, not {mode!r}")
        return Key(self.note_name(o["tonic"], f"{path}.tonic"), mode)

    def quality(self, v: Any, path: str) -> Quality:
        fields = {"third", "sus", "fifth", "seventh", "ext", "six", "alterations", "adds", "omits"}
        fields |= {"alt", "power", "bass_only"}
        o = self.obj(v, path, fields, fields)

        def opt_str(name: str) -> str | None:
            x = o[name]
            return None if x is None else self.str_(x, f"{path}.{name}")

        def strset(name: str) -> frozenset[str]:
            return frozenset(self.str_(x, f"{path}.{name}") for x in self.list_(o[name], f"{path}.{name}"))

        ext = o["ext"]
        q = Quality(
            third=opt_str("third"),
            sus=opt_str("sus"),
            fifth=opt_str("fifth"),
            seventh=opt_str("seventh"),
            ext=None if ext is None else self.int_(ext, f"{path}.ext"),
            six=self.bool_(o["six"], f"{path}.six"),
            alterations=strset("alterations"),
            adds=strset("adds"),
            omits=strset("omits"),
            alt=self.bool_(o["alt"], f"{path}.alt"),
            power=self.bool_(o["power"], f"{path}.power"),
            bass_only=self.bool_(o["bass_only"], f"{path}.bass_only"),
        )
        try:
            q.intervals  # noqa: B018 - validates the degrees
        except KeyError as exc:
            raise self.fail(path, f"unknown degree {exc.args[0]!r}") from None
        return q

    def chord(self, v: Any, path: str) -> Chord | None:
        if v is None:
            return None
        o = self.obj(v, path, {"symbol", "root", "bass", "quality"}, {"symbol"})
        symbol = self.str_(o["symbol"], f"{path}.symbol")
        if "quality" in o:
            root = self.note_name(o.get("root"), f"{path}.root")
            bass = None if o.get("bass") is None else self.note_name(o["bass"], f"{path}.bass")
            return Chord(root, self.quality(o["quality"], f"{path}.quality"), bass, symbol)
        try:
            return parse_chord(symbol)
        except ChordSymbolError as exc:
            raise self.fail(f"{path}.symbol", exc.message) from None

    def bar(self, v: Any, path: str) -> Bar:
        keys = {
            "chords", "time", "tempo", "key", "repeat_start", "repeat_end", "endings", "segno",
            "to_coda", "coda", "fine", "jump", "vamp", "end", "comment",
        }  # fmt: skip
        o = self.obj(v, path, keys, {"chords", "time"})
        events = []
        for i, e in enumerate(self.list_(o["chords"], f"{path}.chords")):
            p = f"{path}.chords[{i}]"
            eo = self.obj(e, p, {"beat", "chord", "push", "hit", "fermata"}, {"beat", "chord"})
            events.append(
                ChordEvent(
                    beat=self.beat(eo["beat"], f"{p}.beat"),
                    chord=self.chord(eo["chord"], f"{p}.chord"),
                    push=self.bool_(eo.get("push", False), f"{p}.push"),
                    hit=self.bool_(eo.get("hit", False), f"{p}.hit"),
                    fermata=self.bool_(eo.get("fermata", False), f"{p}.fermata"),
                )
            )
        ts = self.str_(o["time"], f"{path}.time")
        try:
            num, den = ts.split("/")
            time = TimeSignature(int(num), int(den))
        except ValueError:
            raise self.fail(f"{path}.time", f"not a time signature: {ts!r}") from None
        tempo = check_tempo(o.get("tempo", 120.0), f"{self.source}: {path}.tempo")
        jump = None
        if o.get("jump") is not None:
            jo = self.obj(o["jump"], f"{path}.jump", {"kind", "until"}, {"kind"})
            try:
                jump = Jump(
                    self.str_(jo["kind"], f"{path}.jump.kind"),
                    self.str_(jo.get("until", "end"), f"{path}.jump.until"),
                )
            except ValueError as exc:
                raise self.fail(f"{path}.jump", str(exc)) from None
        # the placement checks of the chart reader: each chord inside the bar, in order
        for i, ev in enumerate(events):
            p = f"{path}.chords[{i}].beat"
            shown = _beat(ev.beat) if len(_beat(ev.beat)) <= 20 else _beat(ev.beat)[:16] + "..."
            if ev.beat >= time.bar_beats:
                raise self.fail(
                    p,
                    f"beat {shown} is outside this {time} bar "
                    f"(beats count quarter notes from 0, and the bar lasts {_beat(time.bar_beats)})",
                )
            if i and ev.beat <= events[i - 1].beat:
                raise self.fail(p, f"beat {shown} is not after the chord before it in this bar")
        endings_list = self.list_(o.get("endings", []), f"{path}.endings")
        for i, x in enumerate(endings_list):
            if not 1 <= self.int_(x, f"{path}.endings[{i}]") <= 99:
                raise self.fail(f"{path}.endings[{i}]", f"ending numbers run from 1 to 99, not {x}")
        endings = frozenset(endings_list)
        repeat_end = self.int_(o.get("repeat_end", 0), f"{path}.repeat_end")
        if not 0 <= repeat_end <= 99:
            raise self.fail(f"{path}.repeat_end", f"repeat count must be 0 (none) or 1-99, not {repeat_end}")
        return Bar(
            chords=tuple(events),
            time=time,
            tempo=tempo,
            key=self.key(o.get("key"), f"{path}.key"),
            repeat_start=self.bool_(o.get("repeat_start", False), f"{path}.repeat_start"),
            repeat_end=repeat_end,
            endings=endings,
            segno=self.bool_(o.get("segno", False), f"{path}.segno"),
            to_coda=self.bool_(o.get("to_coda", False), f"{path}.to_coda"),
            coda=self.bool_(o.get("coda", False), f"{path}.coda"),
            fine=self.bool_(o.get("fine", False), f"{path}.fine"),
            jump=jump,
            vamp=self.bool_(o.get("vamp", False), f"{path}.vamp"),
            end=self.bool_(o.get("end", False), f"{path}.end"),
            comment=self.str_(o.get("comment", ""), f"{path}.comment"),
        )

    def song(self, v: Any, path: str) -> Song:
        keys = {"format", "version", "title", "composer", "key", "style", "source", "sections", "melody"}
        o = self.obj(v, path, keys, {"title", "sections"})
        if o.get("format", FORMAT) != FORMAT:
            raise self.fail(f"{path}.format", f"not a backline song ({o.get('format')!r})")
        version = o.get("version", VERSION)
        if version != VERSION:
            raise self.fail(
                f"{path}.version", f"version {version!r} is not supported (this backline reads {VERSION})"
            )
        sections = []
        for i, s in enumerate(self.list_(o["sections"], f"{path}.sections")):
            p = f"{path}.sections[{i}]"
            so = self.obj(s, p, {"label", "intensity", "bars"}, {"label", "bars"})
            inten = so.get("intensity")
            if inten is not None:
                inten = self.int_(inten, f"{p}.intensity")
                if not 0 <= inten <= 100:
                    raise self.fail(f"{p}.intensity", f"intensity must be 0-100, not {inten}")
            bars = tuple(
                self.bar(b, f"{p}.bars[{j}]") for j, b in enumerate(self.list_(so["bars"], f"{p}.bars"))
            )
            sections.append(Section(self.str_(so["label"], f"{p}.label"), bars, inten))
        melody = []
        for i, n in enumerate(self.list_(o.get("melody", []), f"{path}.melody")):
            p = f"{path}.melody[{i}]"
            no = self.obj(
                n, p, {"bar", "start", "duration", "pitch", "lyric"}, {"bar", "start", "duration", "pitch"}
            )
            pitch = no["pitch"]
            if pitch is not None:
                pitch = self.int_(pitch, f"{p}.pitch")
                if not 0 <= pitch <= 127:
                    raise self.fail(f"{p}.pitch", f"MIDI pitch must be 0-127, not {pitch}")
            melody.append(
                Note(
                    bar=self.int_(no["bar"], f"{p}.bar"),
                    start=self.beat(no["start"], f"{p}.start"),
                    duration=self.beat(no["duration"], f"{p}.duration"),
                    pitch=pitch,
                    lyric=self.str_(no.get("lyric", ""), f"{p}.lyric"),
                )
            )
        return Song(
            title=self.str_(o["title"], f"{path}.title"),
            sections=tuple(sections),
            composer=self.str_(o.get("composer", ""), f"{path}.composer"),
            key=self.key(o.get("key"), f"{path}.key"),
            style=self.str_(o.get("style", ""), f"{path}.style"),
            melody=tuple(melody),
            source=self.str_(o.get("source", ""), f"{path}.source") or self.source,
        )


def song_from_dict(data: Any, source: str = "<json>") -> Song:
    """The song described by ``data`` (as made by :func:`song_to_dict`)."""
    return _Reader(source).song(data, "song")


def load_bytes(data: bytes, source: str) -> list[Song]:
    """Read a song (an object) or several (a list of objects) written by :func:`dump_bytes`.

    Raises :class:`ChartError` with ``file:line:col`` for invalid JSON and the field
    path (``song.sections[0].bars[3].time``) for content that is not a song.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChartError(f"not UTF-8 text (byte {exc.start})", Location(source)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChartError(f"invalid JSON: {exc.msg}", Location(source, exc.lineno, exc.colno)) from None
    reader = _Reader(source)
    if isinstance(obj, list):
        return [reader.song(x, f"songs[{i}]") for i, x in enumerate(obj)]
    return [reader.song(obj, "song")]
