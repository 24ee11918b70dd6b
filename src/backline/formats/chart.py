"""The backline chart text format (``.chart``): read and write.

A chart is plain text that a musician can type from memory::

    title: Blue Harbor
    key: Bb
    tempo: 132
    time: 4/4
    style: medium swing

    [Intro]
    | Bb6 G7 | Cm7 F7 :| x2
    [A 70%]
    |: Bb6 | Eb7 | [1] Cm7 | F7 :| [2] Cm7 F7 | Bb6! End |

See ``docs/chart-format.md`` for the whole language. :func:`load_bytes` reads a file
(several songs separated by a ``---`` line) into :class:`~backline.model.song.Song`
objects; :func:`dump_bytes` writes a song so that reading it back gives an equal song.

Errors point at the exact token: ``song.chart:12:7: unknown chord symbol ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from backline.errors import BacklineError, ChartSyntaxError, ChordSymbolError, Location
from backline.model.checks import check_tempo
from backline.model.chord import Chord, is_no_chord, parse_chord, parse_chord_or_nc
from backline.model.form import expand
from backline.model.pitch import Key, parse_key
from backline.model.song import Bar, ChordEvent, Jump, Section, Song, TimeSignature

__all__ = [
    "ChartChordError",
    "load_bytes",
    "loads",
    "dump_bytes",
    "dumps",
    "default_beats",
]


class ChartChordError(ChartSyntaxError, ChordSymbolError):
    """An unknown chord symbol in a chart, with the line and column of its token.

    Both a :class:`~backline.errors.ChartSyntaxError` and a
    :class:`~backline.errors.ChordSymbolError` (``symbol`` and ``bad_part`` are set).
    """

    def __init__(self, symbol: str, bad_part: str, location: Location | str | None = None) -> None:
        ChordSymbolError.__init__(self, symbol, bad_part, location)


# --------------------------------------------------------------------------- tokens

_END = r"(?=[\s|]|$)"
_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#.*)
  | (?P<quote>"(?:[^"\\]|\\.)*"?)
  | (?P<barline>:?\|\|?:?)
  | (?P<times>[xX×]\s*\d+){_END}
  | (?P<ending>\[[\d\s,.\-]*\d[\d\s,.\-]*\])
  | (?P<close>\]){_END}
  | (?P<jump>(?:(?i:D\.\s?[CS]\.?)|DC|DS)
        (?:\s+(?i:al)\s+(?P<until>(?i:coda|fine|\d(?:st|nd|rd|th)?(?:\s+end(?:ing)?\.?)?)))?){_END}
  | (?P<tocoda>(?i:to\s*coda)){_END}
  | (?P<word>(?i:segno|coda|fine|end|vamp)){_END}
  | (?P<change>(?i:time|tempo|key)\s*[:=]\s*[^\s|]*)
  | (?P<pct>%){_END}
  | (?P<dot>[./]){_END}
  | (?P<chord>(?:[^\s|":]|:(?!\|))+)
    """,
    re.VERBOSE,
)

_CHORD_TOKEN_RE = re.compile(
    r"^(?P<push><)?(?P<sym>[^@!~<]+?)(?P<f1>[!~]*)(?:@(?P<at>[^!~]*))?(?P<f2>[!~]*)$"
)
_AT_RE = re.compile(r"^(?:(\d+)(?:\.(\d+))?|(\d+)\+(\d+)/(\d+)|(\d+)/(\d+))$")
_META_RE = re.compile(r"^\s*([A-Za-z][A-Za-z_-]*)\s*:\s*(.*?)\s*$")
_HEADER_RE = re.compile(r"^\s*\[(?P<body>[^\]]*)\](?P<rest>.*)$")
_ENDING_BODY_RE = re.compile(r"^[\d\s,.\-]*\d[\d\s,.\-]*$")
_LABEL_RE = re.compile(r'^\s*(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<l>.*?))\s*(?:[,;]?\s*(?P<i>[-+]?\d+)\s*%)?\s*$')
_SEPARATOR_RE = re.compile(r"^\s*-{3,}\s*$")
_TIME_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_TEMPO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:bpm)?\s*$", re.IGNORECASE)
_ESCAPE_RE = re.compile(r"\\(.)")
_QUOTE_RE = re.compile(r'"(?:[^"\\]|\\.)*"')

_SONG_KEYS = ("title", "composer", "style", "numerals")
_CHANGE_KEYS = ("key", "tempo", "time")
_TEXT_KEYS = ("title", "composer", "style")


class _Tok(NamedTuple):
    kind: str
    text: str
    line: int
    col: int


@dataclass
class _Draft:
    """A bar being read: its tokens and marks, before beats and chords are resolved."""

    section: int
    content: list[_Tok] = field(default_factory=list)
    repeat_start: bool = False
    start_tok: _Tok | None = None  # the '|:' (for messages)
    double_start: _Tok | None = None  # a second '|:' before the same bar
    repeat_end: bool = False
    count: int | None = None
    ending: tuple[frozenset[int], _Tok] | None = None
    close: _Tok | None = None
    segno: bool = False
    segno_tok: _Tok | None = None
    coda: bool = False
    fine: bool = False
    to_coda: _Tok | None = None
    jump: tuple[Jump, _Tok] | None = None
    vamp: bool = False
    end: bool = False
    comment: str = ""
    changes: dict[str, tuple[str, _Tok]] = field(default_factory=dict)


@dataclass
class _SongDraft:
    meta: dict[str, str] = field(default_factory=dict)
    sections: list[tuple[str, int | None]] = field(default_factory=list)
    section_at: list[Location] = field(default_factory=list)  # where each header is
    bars: list[_Draft] = field(default_factory=list)
    # marks waiting for the next bar
    pending: _Draft | None = None
    pending_tok: _Tok | None = None
    last_repeat_end: _Draft | None = None


_START_MARKS = ("ending", "word:segno", "word:coda", "change", "quote", "word:vamp")
_END_MARKS = ("close", "jump", "tocoda", "word:fine", "word:end")


# --------------------------------------------------------------------------- reader


def load_bytes(data: bytes, source: str) -> list[Song]:
    """Read every song of a ``.chart`` file (songs separated by a ``---`` line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChartSyntaxError(f"not UTF-8 text (byte {exc.start})", Location(source)) from None
    return loads(text, source)


def loads(text: str, source: str = "<chart>") -> list[Song]:
    """Read every song of chart ``text``; ``source`` names it in error messages."""
    songs: list[Song] = []
    chunk: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if _SEPARATOR_RE.match(line):
            song = _read_song(chunk, source)
            if song is not None:
                songs.append(song)
            chunk = []
        else:
            chunk.append((lineno, line))
    song = _read_song(chunk, source)
    if song is not None:
        songs.append(song)
    return songs


def _loc(source: str, tok: _Tok) -> Location:
    return Location(source, tok.line, tok.col)


def _err(source: str, tok: _Tok, message: str) -> ChartSyntaxError:
    return ChartSyntaxError(message, _loc(source, tok))


def _read_song(lines: list[tuple[int, str]], source: str) -> Song | None:
    sd = _SongDraft()
    anything = False
    for lineno, line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        anything = True
        mh = _HEADER_RE.match(line)
        if mh and not _ENDING_BODY_RE.match(mh.group("body")):
            _read_header(sd, mh.group("body"), lineno, line.index("[") + 2, source)
            rest = mh.group("rest")
            if rest.strip():
                _read_bars(sd, line, lineno, mh.start("rest"), source)
            continue
        mm = _META_RE.match(line)
        # a text setting (title, composer, style) is read as one even when its value
        # holds a '|'; any other line with a '|' is bars
        if mm and ("|" not in line or mm.group(1).lower() in _TEXT_KEYS):
            _read_meta(sd, mm.group(1).lower(), mm.group(2), lineno, mm.start(1) + 1, mm.start(2) + 1, source)
            continue
        _read_bars(sd, line, lineno, 0, source)
    if not anything:
        return None
    if not sd.bars and sd.pending is None:
        first = next(n for n, line in lines if line.strip() and not line.strip().startswith("#"))
        raise ChartSyntaxError(
            "the chart has no bars (write them as '| C | F |')", Location(source, first, 1)
        )
    return _finish(sd, source)


def _read_header(sd: _SongDraft, body: str, lineno: int, col: int, source: str) -> None:
    m = _LABEL_RE.match(body)
    assert m is not None  # the pattern matches any text
    label = _unescape(m.group("q")) if m.group("q") is not None else (m.group("l") or "")
    intensity = None
    if m.group("i") is not None:
        intensity = int(m.group("i"))
        if not 0 <= intensity <= 100:
            raise ChartSyntaxError(
                f"section intensity {intensity}% is out of range (0-100)",
                Location(source, lineno, col + m.start("i")),
            )
    sd.sections.append((label, intensity))
    sd.section_at.append(Location(source, lineno, col - 1))


def _read_meta(
    sd: _SongDraft, key: str, value: str, lineno: int, key_col: int, col: int, source: str
) -> None:
    tok = _Tok("change", value, lineno, col)
    if key in _CHANGE_KEYS:
        if not sd.bars and sd.pending is None:
            _check_change(key, value, tok, source)
            sd.meta[key] = value
        else:
            _check_change(key, value, tok, source)
            d = _pending(sd, tok)
            if key in d.changes:
                raise _err(source, tok, f"two {key} changes before the same bar")
            d.changes[key] = (value, tok)
        return
    if key in _SONG_KEYS:
        if sd.bars:
            raise _err(source, tok, f"'{key}:' must come before the first bar of the song")
        if key == "numerals" and value.lower() not in ("nashville", "roman", "letters", "none", ""):
            raise _err(source, tok, f"numerals must be 'nashville' or 'roman', not {value!r}")
        sd.meta[key] = value
        return
    raise ChartSyntaxError(
        f"unknown setting {key!r} (known: title, composer, key, tempo, time, style, numerals)",
        Location(source, lineno, key_col),
    )


def _check_change(key: str, value: str, tok: _Tok, source: str) -> None:
    _parse_change(key, value, tok, source)


def _parse_change(key: str, value: str, tok: _Tok, source: str) -> TimeSignature | float | Key | None:
    if key == "time":
        m = _TIME_RE.match(value)
        if value.strip().upper() == "C":
            return TimeSignature(4, 4)
        if not m:
            raise _err(source, tok, f"time signature must look like 3/4 or 6/8, not {value!r}")
        try:
            return TimeSignature(int(m.group(1)), int(m.group(2)))
        except ValueError as exc:
            raise _err(source, tok, str(exc)) from None
    if key == "tempo":
        m = _TEMPO_RE.match(value)
        if not m:
            raise _err(source, tok, f"tempo must be beats per minute such as 120, not {value!r}")
        return check_tempo(float(m.group(1)), _loc(source, tok))
    if value.strip().lower() in ("none", "-"):
        return None
    try:
        return parse_key(value)
    except ValueError:
        raise _err(source, tok, f"not a key: {value!r} (write e.g. Bb, F#m, G minor)") from None


def _pending(sd: _SongDraft, tok: _Tok) -> _Draft:
    if sd.pending is None:
        sd.pending = _Draft(section=-1)
        sd.pending_tok = tok
    return sd.pending


def _tokens(text: str, lineno: int, offset: int, source: str) -> Iterator[_Tok]:
    pos = offset
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:  # pragma: no cover - the chord group takes anything
            raise ChartSyntaxError(f"cannot read {text[pos:]!r}", Location(source, lineno, pos + 1))
        kind = m.lastgroup or "chord"
        if kind != "ws":
            yield _Tok(kind, m.group(0), lineno, pos + 1)
        if kind == "comment":
            return
        pos = m.end()


def _read_bars(sd: _SongDraft, line: str, lineno: int, offset: int, source: str) -> None:
    segment: list[_Tok] = []
    prev: _Tok | None = None
    for tok in _tokens(line, lineno, offset, source):
        kind = tok.kind
        if kind == "comment":
            break
        if kind == "barline":
            if (
                not segment
                and prev is not None
                and prev.kind == "barline"
                and not prev.text.startswith(":")
                and not tok.text.startswith(":")
                and not tok.text.endswith(":")
            ):
                raise _err(
                    source,
                    tok,
                    "empty bar: write '.' to keep the chord sounding, '%' to repeat the bar "
                    "before or 'N.C.' for silence",
                )
            _flush(sd, segment, source)
            segment = []
            if tok.text.startswith(":"):
                last = sd.bars[-1] if sd.bars else None
                if last is None or (sd.pending is not None and sd.pending.repeat_start):
                    raise _err(source, tok, "':|' with no bars to repeat")
                if last.repeat_end:
                    raise _err(source, tok, "two ':|' after the same bar")
                last.repeat_end = True
                sd.last_repeat_end = last
            if tok.text.endswith(":") and len(tok.text) > 1:
                d = _pending(sd, tok)
                if d.repeat_start and d.start_tok is not None:
                    d.double_start = tok
                d.repeat_start = True
                d.start_tok = d.start_tok or tok
        elif kind == "times":
            if (
                prev is None
                or prev.kind != "barline"
                or not prev.text.startswith(":")
                or sd.last_repeat_end is None
                or sd.last_repeat_end.count is not None
            ):
                raise _err(source, tok, f"{tok.text!r}: a repeat count must follow ':|' (as in ':| x3')")
            count = int(tok.text.lstrip("xX×").strip())
            if not 1 <= count <= 99:
                raise _err(source, tok, f"repeat count {count} is out of range (1-99)")
            sd.last_repeat_end.count = count
        else:
            segment.append(tok)
        prev = tok
    _flush(sd, segment, source)


def _mark_class(tok: _Tok) -> str:
    if tok.kind == "word":
        return "word:" + tok.text.lower()
    return tok.kind


def _flush(sd: _SongDraft, segment: list[_Tok], source: str) -> None:
    if not segment:
        return
    has_content = any(t.kind in ("chord", "dot", "pct") for t in segment)
    if has_content:
        if not sd.sections:
            sd.sections.append(("", None))
        d = sd.pending if sd.pending is not None else _Draft(section=len(sd.sections) - 1)
        d.section = len(sd.sections) - 1
        sd.pending = None
        sd.bars.append(d)
        for tok in segment:
            if tok.kind in ("chord", "dot", "pct"):
                d.content.append(tok)
            else:
                _apply_mark(d, tok, source)
        return
    for tok in segment:
        cls = _mark_class(tok)
        if cls in _END_MARKS:
            if not sd.bars:
                raise _err(source, tok, f"{tok.text!r} must follow a bar")
            _apply_mark(sd.bars[-1], tok, source)
        else:
            _apply_mark(_pending(sd, tok), tok, source)


def _apply_mark(d: _Draft, tok: _Tok, source: str) -> None:
    kind = tok.kind
    if kind == "quote":
        if not _QUOTE_RE.fullmatch(tok.text):
            raise _err(source, tok, 'text in quotes is not closed (missing ")')
        body = _unescape(tok.text[1:-1])
        d.comment = f"{d.comment} {body}" if d.comment else body
    elif kind == "ending":
        if d.ending is not None:
            raise _err(source, tok, "two ending marks on the same bar")
        d.ending = (_parse_ending(tok, source), tok)
    elif kind == "close":
        d.close = tok
    elif kind == "jump":
        if d.jump is not None:
            raise _err(source, tok, "two D.C./D.S. marks on the same bar")
        d.jump = (_parse_jump(tok), tok)
    elif kind == "tocoda":
        d.to_coda = tok
    elif kind == "word":
        w = tok.text.lower()
        if w == "segno":
            d.segno = True
            d.segno_tok = tok
        elif w == "coda":
            d.coda = True
        elif w == "fine":
            d.fine = True
        elif w == "end":
            d.end = True
        else:
            d.vamp = True
    elif kind == "change":
        name, _, value = re.split(r"\s*([:=])\s*", tok.text, maxsplit=1)
        name = name.lower()
        _check_change(name, value, tok, source)
        if name in d.changes:
            raise _err(source, tok, f"two {name} changes on the same bar")
        d.changes[name] = (value, tok)
    else:  # pragma: no cover - every mark kind is handled above
        raise _err(source, tok, f"unexpected {tok.text!r}")


def _unescape(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _parse_ending(tok: _Tok, source: str) -> frozenset[int]:
    body = tok.text[1:-1].replace(".", " ")
    out: set[int] = set()
    for part in body.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, _, b = part.partition("-")
            if not a.strip().isdigit() or not b.strip().isdigit() or int(a) > int(b):
                raise _err(source, tok, f"ending {tok.text!r}: write endings as [1], [2] or [1,2]")
            out.update(range(int(a), int(b) + 1))
        elif part.isdigit():
            out.add(int(part))
        else:
            raise _err(source, tok, f"ending {tok.text!r}: write endings as [1], [2] or [1,2]")
    if not out or min(out) < 1 or max(out) > 99:
        raise _err(source, tok, f"ending {tok.text!r}: ending numbers run from 1 to 99")
    return frozenset(out)


def _parse_jump(tok: _Tok) -> Jump:
    text = tok.text
    kind = "DC" if text.replace(".", "").replace(" ", "").upper().startswith("DC") else "DS"
    m = re.search(r"\s(?i:al)\s+(.*)$", text)
    until = "end"
    if m:
        word = m.group(1).lower()
        if word.startswith("coda"):
            until = "coda"
        elif word.startswith("fine"):
            until = "fine"
        else:
            until = word[0]
    return Jump(kind, until)


# --------------------------------------------------------------------------- finishing


def default_beats(n: int, time: TimeSignature) -> list[Fraction]:
    """Where ``n`` chords written without dots or ``@`` fall in a bar (quarter-note beats).

    The bar's counted beats are shared as evenly as whole beats allow, earlier chords
    taking the extra beat (three chords in 4/4: 2 + 1 + 1; two in 3/4: 2 + 1; two in
    6/8: a dotted quarter each; three in 6/8: a quarter each). With more chords than
    written beats the bar is split exactly evenly.
    """
    if n <= 0:
        return []
    for count, unit in ((time.pulses, time.pulse), (time.numerator, Fraction(4, time.denominator))):
        if n <= count:
            base, extra = divmod(count, n)
            out: list[Fraction] = []
            pos = Fraction(0)
            for i in range(n):
                out.append(pos)
                pos += unit * (base + (1 if i < extra else 0))
            return out
    step = time.bar_beats / n
    return [step * i for i in range(n)]


def _plain_fits(n: int, time: TimeSignature) -> bool:
    """Whether ``n`` chords written without dots or ``@`` fit a bar: one per beat at most,
    or exactly as many as a slot count (eight eighths in 4/4)."""
    return n <= max(time.numerator, time.pulses) or n in _slot_counts(time)


def _slot_counts(time: TimeSignature) -> tuple[int, ...]:
    return tuple(dict.fromkeys((time.numerator, 2 * time.numerator, time.pulses)))


def _finish(sd: _SongDraft, source: str) -> Song:
    meta = sd.meta
    if sd.pending is not None:
        tok = sd.pending_tok
        assert tok is not None
        raise _err(source, tok, f"{tok.text!r} is not followed by any bar")
    start_tok = _Tok("change", "", 1, 1)
    time = TimeSignature()
    tempo = 120.0
    key: Key | None = None
    if "time" in meta:
        t = _parse_change("time", meta["time"], start_tok, source)
        assert isinstance(t, TimeSignature)
        time = t
    if "tempo" in meta:
        t2 = _parse_change("tempo", meta["tempo"], start_tok, source)
        assert isinstance(t2, float)
        tempo = t2
    if "key" in meta:
        k = _parse_change("key", meta["key"], start_tok, source)
        assert k is None or isinstance(k, Key)
        key = k
    song_key = key
    numerals = meta.get("numerals", "").lower()
    if numerals in ("letters", "none"):
        numerals = ""

    # endings: which bars each [N] covers
    endings: list[frozenset[int]] = []
    current: frozenset[int] = frozenset()
    prev_section = -1
    for d in sd.bars:
        if d.section != prev_section or d.repeat_start:
            current = frozenset()
        prev_section = d.section
        if d.ending is not None:
            current = d.ending[0]
        if d.close is not None and not current:
            raise _err(source, d.close, "']' closes an ending, but no ending ([1], [2]...) is open")
        endings.append(current)
        if d.repeat_end or d.close is not None:
            current = frozenset()
    _check_endings(sd.bars, endings, source)
    warnings = _check_ending_numbers(sd.bars, source)
    if not any(d.jump for d in sd.bars):
        tc = next((d.to_coda for d in sd.bars if d.to_coda is not None), None)
        if tc is not None:
            warnings.append(
                f"{_loc(source, tc)}: 'To Coda' with no D.C. or D.S. in the chart: it is taken the "
                "last time through (the coda follows the final pass); add 'D.S. al Coda' or 'D.C. al Coda' "
                "where the band goes back"
            )

    has_segno = any(d.segno for d in sd.bars)
    bars: list[Bar] = []
    for i, d in enumerate(sd.bars):
        for name, (value, tok) in d.changes.items():
            v = _parse_change(name, value, tok, source)
            if name == "time":
                assert isinstance(v, TimeSignature)
                time = v
            elif name == "tempo":
                assert isinstance(v, float)
                tempo = v
            else:
                assert v is None or isinstance(v, Key)
                key = v
        if d.jump is not None and d.jump[0].kind == "DS" and not has_segno:
            raise _err(source, d.jump[1], f"{d.jump[1].text!r} but the song has no Segno")
        if d.to_coda is not None and not any(x.coda for x in sd.bars[i + 1 :]):
            raise _err(source, d.to_coda, "'To Coda' but no bar after it is marked 'Coda'")
        chords = _bar_chords(d, time, key, numerals, bars[-1] if bars else None, source)
        if not bars and not chords and d.content:
            warnings.append(
                f"{_loc(source, d.content[0])}: '.' keeps the chord sounding, but this is the first "
                "bar: the band rests until the first chord (write N.C. to say so, or the chord)"
            )
        count = 0
        if d.repeat_end:
            count = d.count if d.count is not None else _default_count(endings[i])
        bars.append(
            Bar(
                chords=chords,
                time=time,
                tempo=tempo,
                key=key,
                repeat_start=d.repeat_start,
                repeat_end=count,
                endings=endings[i],
                segno=d.segno,
                to_coda=d.to_coda is not None,
                coda=d.coda,
                fine=d.fine,
                jump=None if d.jump is None else d.jump[0],
                vamp=d.vamp,
                end=d.end,
                comment=d.comment,
            )
        )
    sections: list[Section] = []
    pos = 0
    for si, (label, intensity) in enumerate(sd.sections):
        start = pos
        while pos < len(sd.bars) and sd.bars[pos].section == si:
            pos += 1
        if pos == start and si < len(sd.section_at):
            warnings.append(
                f"{sd.section_at[si]}: section [{label}] has no bars: it is left out "
                "(write its bars under the header, or remove the header)"
            )
        sections.append(Section(label, tuple(bars[start:pos]), intensity))
    return Song(
        title=meta.get("title", ""),
        sections=tuple(sections),
        composer=meta.get("composer", ""),
        key=song_key,
        style=meta.get("style", ""),
        source=source,
        warnings=tuple(warnings),
    )


def _default_count(endings: frozenset[int]) -> int:
    return max(endings) + 1 if endings else 2


def _check_endings(drafts: list[_Draft], endings: list[frozenset[int]], source: str) -> None:
    i = 0
    n = len(drafts)
    while i < n:
        if not endings[i]:
            i += 1
            continue
        j = i
        while j < n and endings[j]:
            j += 1
        # a repeat sign in the run, just before it (a 3rd ending after ':| x3') or after
        # it (an ending bracket closed with ']' before its ':|'), before the next '|:' or ending
        if not any(d.repeat_end for d in drafts[max(0, i - 1) : j + 1]) and not _repeat_follows(
            drafts, endings, j
        ):
            first = next(d.ending for d in drafts[i:j] if d.ending is not None)
            raise _err(source, first[1], f"ending {first[1].text} without a repeat sign (':|') to go back")
        i = j


def _check_ending_numbers(drafts: list[_Draft], source: str) -> list[str]:
    """Warnings (returned) for the endings of one repeat that skip a number (``[1] ...
    [3]`` with no ``[2]``, or a lone ``[2]``): such charts come from real scores and iReal
    playlists, so they are read as written, but the player is told."""
    warnings: list[str] = []
    group: list[tuple[frozenset[int], _Tok]] = []

    def check() -> None:
        if not group:
            return
        seen: set[int] = set()
        low = min(min(numbers) for numbers, _ in group)
        for numbers, tok in group:
            missing = [k for k in range(low, min(numbers)) if k not in seen]
            if missing:
                warnings.append(
                    f"{_loc(source, tok)}: ending {tok.text} but no ending [{missing[0]}] before it "
                    "(a pass that has no ending skips these bars)"
                )
            again = sorted(numbers & seen)
            if again:
                warnings.append(
                    f"{_loc(source, tok)}: ending {tok.text} repeats ending [{again[0]}] of the same "
                    f"repeat: pass {again[0]} plays the first one, so these bars are never played"
                )
            seen |= numbers
        if low > 1:
            tok = group[0][1]
            warnings.append(f"{_loc(source, tok)}: ending {tok.text} with no ending [1] before it")

    open_start: _Tok | None = None
    segnos: list[_Tok] = []
    for d in drafts:
        if d.repeat_start:
            check()
            group = []
            if open_start is not None and d.start_tok is not None:
                warnings.append(
                    f"{_loc(source, d.start_tok)}: '|:' while the repeat opened at "
                    f"{open_start.line}:{open_start.col} has no ':|' yet: repeats do not nest, "
                    "so that earlier '|:' is ignored"
                )
            open_start = d.start_tok
            if d.double_start is not None:
                warnings.append(
                    f"{_loc(source, d.double_start)}: '|:' right after another '|:': repeats do not "
                    "nest, so they make one repeat"
                )
        if d.ending is not None:
            group.append(d.ending)
        if d.repeat_end:
            open_start = None
        if d.segno and d.segno_tok is not None:
            segnos.append(d.segno_tok)
    check()
    if not any(d.fine for d in drafts):
        for d in drafts:
            if d.jump is not None and d.jump[0].until == "fine":
                jump, tok = d.jump
                warnings.append(
                    f"{_loc(source, tok)}: {jump} but the chart has no Fine: "
                    "the song plays on to the end after the jump"
                )
    if len(segnos) > 1:
        first = segnos[0]
        warnings.append(
            f"{_loc(source, segnos[1])}: a second Segno (the first is at {first.line}:{first.col}): "
            "D.S. goes back to the first one"
        )
    return warnings


def _repeat_follows(drafts: list[_Draft], endings: list[frozenset[int]], j: int) -> bool:
    """A ':|' at or after bar ``j``, before the next '|:' or ending."""
    for k in range(j, len(drafts)):
        if endings[k] or (drafts[k].repeat_start and k > j):
            return False
        if drafts[k].repeat_end:
            return True
    return False


def _parse_at(text: str) -> Fraction | None:
    m = _AT_RE.match(text)
    if not m:
        return None
    if m.group(1) is not None:
        return Fraction(f"{m.group(1)}.{m.group(2) or '0'}")
    if m.group(3) is not None:
        if int(m.group(5)) == 0:
            return None
        return int(m.group(3)) + Fraction(int(m.group(4)), int(m.group(5)))
    if int(m.group(7)) == 0:
        return None
    return Fraction(int(m.group(6)), int(m.group(7)))


def _resolve_chord(sym: str, key: Key | None, numerals: str, tok: _Tok, source: str) -> Chord | None:
    col = tok.col + (1 if tok.text.startswith("<") else 0)
    loc = Location(source, tok.line, col)
    try:
        if not numerals:
            return parse_chord_or_nc(sym)
        if is_no_chord(sym):
            return None
        try:
            from backline.model import numerals as num  # another engineer's module
        except ImportError:  # pragma: no cover - present in this tree
            raise ChartSyntaxError(
                "numeral charts need backline.model.numerals, which is not installed", loc
            ) from None
        if key is None:
            raise ChartSyntaxError(f"numeral chord {sym!r} needs a key (add 'key:' to the chart)", loc)
        try:
            if numerals == "nashville":
                return num.parse_nashville(sym, key)
            return num.parse_roman(sym, key)
        except ChordSymbolError as first:
            try:
                return parse_chord(sym)  # a letter chord in a numeral chart is not ambiguous
            except ChordSymbolError:
                raise first from None
    except ChartSyntaxError:
        raise
    except ChordSymbolError as exc:
        if sym.lower() in _SONG_KEYS + _CHANGE_KEYS:  # `tempo 140`: a setting without its colon
            raise ChartSyntaxError(
                f"{sym!r} is not a chord: a setting takes a colon ({sym.lower()}: ...)", loc
            ) from None
        raise ChartChordError(exc.symbol, exc.bad_part, loc) from None
    except ValueError:
        raise ChartChordError(sym, sym, loc) from None


def _bar_chords(
    d: _Draft, time: TimeSignature, key: Key | None, numerals: str, prev: Bar | None, source: str
) -> tuple[ChordEvent, ...]:
    content = d.content
    first = content[0]
    pcts = [t for t in content if t.kind == "pct"]
    if pcts:
        if len(content) > 1:
            raise _err(source, pcts[0], "'%' repeats the previous bar and must stand alone in its bar")
        if prev is None:
            raise _err(source, pcts[0], "'%' repeats the previous bar, but this is the first bar")
        for ev in prev.chords:
            if ev.beat >= time.bar_beats:
                raise _err(source, pcts[0], f"'%' repeats a bar whose chords do not fit in {time}")
        return prev.chords
    parsed: list[tuple[_Tok, ChordEvent | None, Fraction | None]] = []
    for tok in content:
        if tok.kind == "dot":
            parsed.append((tok, None, None))
            continue
        if tok.text.startswith("[") and "]" not in tok.text:
            raise _err(source, tok, f"{tok.text!r}: a section label needs its closing ']' ([Chorus])")
        m = _CHORD_TOKEN_RE.match(tok.text)
        if m is None:
            raise _err(source, tok, f"cannot read {tok.text!r} as a chord")
        flags = (m.group("f1") or "") + (m.group("f2") or "")
        at: Fraction | None = None
        if m.group("at") is not None:
            at = _parse_at(m.group("at"))
            if at is None:
                raise _err(
                    source,
                    tok,
                    f"beat {m.group('at')!r} in {tok.text!r}: write a beat like @3, @2.5 or @1+1/3",
                )
        chord = _resolve_chord(m.group("sym"), key, numerals, tok, source)
        ev = ChordEvent(
            Fraction(0), chord, push=bool(m.group("push")), hit="!" in flags, fermata="~" in flags
        )
        parsed.append((tok, ev, at))
    chords = [p for p in parsed if p[1] is not None]
    if not chords:
        return ()
    unit = Fraction(4, time.denominator)
    timed = [p for p in chords if p[2] is not None]
    out: list[ChordEvent] = []
    if timed:
        if len(timed) != len(chords) or len(chords) != len(parsed):
            bad = next(p[0] for p in parsed if p[1] is None or p[2] is None)
            raise _err(
                source, bad, "when one chord in a bar has a beat (@), every chord needs one (and no dots)"
            )
        last: Fraction | None = None
        for tok, cev, at in chords:
            assert cev is not None and at is not None
            beat = (at - 1) * unit
            if at < 1 or beat >= time.bar_beats:
                raise _err(
                    source,
                    tok,
                    f"beat {_fmt_at(at)} is outside this {time} bar (it has beats 1 to {time.numerator})",
                )
            if last is not None and beat <= last:
                raise _err(source, tok, f"{tok.text!r} is not after the chord before it in this bar")
            last = beat
            out.append(ChordEvent(beat, cev.chord, cev.push, cev.hit, cev.fermata))
        return tuple(out)
    if len(chords) == len(parsed):
        if not _plain_fits(len(chords), time):
            allowed = " or ".join(str(s) for s in sorted(_slot_counts(time)))
            raise _err(
                source,
                first,
                f"{len(chords)} chords written in a bar of {time}: it has {time.numerator} beats; "
                f"write {allowed} slots (chords and dots), or give beats with @",
            )
        beats = default_beats(len(chords), time)
    else:
        slots = len(parsed)
        if slots not in _slot_counts(time):
            allowed = " or ".join(str(s) for s in sorted(_slot_counts(time)))
            raise _err(
                source,
                first,
                f"{slots} beats written in a bar of {time}: write {allowed} (chords and dots), "
                "or give beats with @",
            )
        step = time.bar_beats / slots
        beats = [step * i for i, p in enumerate(parsed) if p[1] is not None]
    for (_, cev, _), beat in zip(chords, beats, strict=True):
        assert cev is not None
        out.append(ChordEvent(beat, cev.chord, cev.push, cev.hit, cev.fermata))
    return tuple(out)


# --------------------------------------------------------------------------- writer


def dump_bytes(song: Song) -> bytes:
    """Write ``song`` as a ``.chart`` file (UTF-8). Reading it back gives an equal song
    (the melody, which charts do not carry, is left out)."""
    return dumps(song).encode("utf-8")


def dumps(song: Song, *, bars_per_line: int = 4) -> str:
    """Write ``song`` as chart text, ``bars_per_line`` bars to a line."""
    if not song.bars:
        raise ChartSyntaxError(
            "the song has no bars: nothing to write as a chart", Location(song.title or song.source or "song")
        )
    song = _without_idle_endings(song)
    out: list[str] = []
    out.append(f"title: {_one_line(song.title)}")
    if song.composer:
        out.append(f"composer: {_one_line(song.composer)}")
    if song.style:
        out.append(f"style: {_one_line(song.style)}")
    if song.key is not None:
        out.append(f"key: {song.key}")
    all_bars = song.bars
    first = all_bars[0] if all_bars else None
    if first is not None:
        out.append(f"tempo: {_fmt_tempo(first.tempo)}")
        out.append(f"time: {first.time}")
    prev: Bar | None = None
    state_key: Key | None = song.key
    flat: list[tuple[int, Bar]] = [(si, b) for si, s in enumerate(song.sections) for b in s.bars]
    idx = 0
    for si, section in enumerate(song.sections):
        out.append("")
        out.append(_header(section))
        cells: list[tuple[Bar, str]] = []
        for bi, bar in enumerate(section.bars):
            nxt = flat[idx + 1][1] if idx + 1 < len(flat) and flat[idx + 1][0] == si else None
            prev_in_section = section.bars[bi - 1] if bi > 0 else None
            cells.append((bar, _cell(bar, prev, prev_in_section, nxt, state_key, bi == 0)))
            if bar.key != state_key:
                state_key = bar.key
            prev = bar
            idx += 1
        for start in range(0, len(cells), bars_per_line):
            out.append(_line(cells[start : start + bars_per_line]))
    return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def _fmt_tempo(t: float) -> str:
    return str(int(t)) if t == int(t) else repr(t)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _header(section: Section) -> str:
    label = section.label
    if "]" in label or "\n" in label:
        raise ChartSyntaxError(f"section label {label!r} cannot be written in a chart (']' or a line break)")
    body = label
    m = _LABEL_RE.match(label)
    plain_ok = (
        m is not None
        and m.group("i") is None
        and m.group("q") is None
        and label == label.strip()
        and not _ENDING_BODY_RE.match(label)
    )
    if not plain_ok:
        body = f'"{_escape(label)}"'
    if section.intensity is not None:
        body = f"{body} {section.intensity}%"
    return f"[{body}]"


def _without_idle_endings(song: Song) -> Song:
    """``song`` without the ending marks that have no repeat sign to go back to (a first
    ending bracket with no ``:|``, as some MusicXML files have), when dropping them does
    not change what is played: a chart refuses an ending with no repeat sign."""
    flat = song.bars
    idle: set[int] = set()
    i = 0
    n = len(flat)
    while i < n:
        if not flat[i].endings:
            i += 1
            continue
        j = i
        while j < n and flat[j].endings:  # the run the reader checks (see _check_endings)
            j += 1
        if not any(b.repeat_end for b in flat[max(0, i - 1) : j + 1]) and not any(
            b.repeat_end for b in _until_next_repeat(flat, j)
        ):
            idle.update(range(i, j))
        i = j
    if not idle:
        return song
    k = 0
    sections = []
    for sec in song.sections:
        bars = []
        for b in sec.bars:
            bars.append(replace(b, endings=frozenset()) if k in idle else b)
            k += 1
        sections.append(replace(sec, bars=tuple(bars)))
    plain = replace(song, sections=tuple(sections))
    try:
        same = [p.written for p in expand(plain)] == [p.written for p in expand(song)]
    except BacklineError:
        same = False
    return plain if same else song


def _until_next_repeat(flat: tuple[Bar, ...], j: int) -> Iterator[Bar]:
    for k in range(j, len(flat)):
        if flat[k].endings or (k > j and flat[k].repeat_start):
            return
        yield flat[k]


def _line(cells: list[tuple[Bar, str]]) -> str:
    parts: list[str] = []
    for i, (bar, text) in enumerate(cells):
        left = cells[i - 1][0] if i > 0 else None
        parts.append(_barline(left, bar))
        parts.append(f" {text} ")
    parts.append(_barline(cells[-1][0], None))
    return "".join(parts).strip()


def _barline(left: Bar | None, right: Bar | None) -> str:
    txt = ""
    if left is not None and left.repeat_end:
        txt = ":|"
        if left.repeat_end != _default_count(left.endings):
            txt += f" x{left.repeat_end}"
        if right is not None and right.repeat_start:
            txt = txt + " |:" if " x" in txt else ":|:"
        return txt
    return "|:" if right is not None and right.repeat_start else "|"


def _cell(
    bar: Bar, prev: Bar | None, prev_in_section: Bar | None, nxt: Bar | None, key: Key | None, first: bool
) -> str:
    words: list[str] = []
    if bar.endings:
        opened = (
            prev_in_section is None
            or prev_in_section.endings != bar.endings
            or bool(prev_in_section.repeat_end)
            or bar.repeat_start
        )
        if opened:
            words.append("[" + ",".join(str(e) for e in sorted(bar.endings)) + "]")
    if bar.segno:
        words.append("Segno")
    if bar.coda:
        words.append("Coda")
    if prev is not None and prev.time != bar.time:
        words.append(f"time:{bar.time}")
    if prev is not None and prev.tempo != bar.tempo:
        words.append(f"tempo:{_fmt_tempo(bar.tempo)}")
    if bar.key != key:
        words.append(f"key:{bar.key if bar.key is not None else 'none'}")
    if bar.comment:
        words.append(f'"{_escape(bar.comment)}"')
    if bar.vamp:
        words.append("vamp")
    words.append(_chords_text(bar, prev_in_section))
    if bar.fine:
        words.append("Fine")
    if bar.to_coda:
        words.append("To Coda")
    if bar.jump is not None:
        words.append(str(bar.jump))
    if bar.end:
        words.append("End")
    if bar.endings and not bar.repeat_end and nxt is not None and not nxt.repeat_start and not nxt.endings:
        words.append("]")
    return " ".join(words)


def _chords_text(bar: Bar, prev: Bar | None) -> str:
    evs = bar.chords
    if not evs:
        return "."
    if (
        prev is not None
        and prev.chords == evs
        and all(_same_spelling(a, b) for a, b in zip(prev.chords, evs, strict=True))
    ):
        return "%"
    time = bar.time
    beats = [e.beat for e in evs]
    if beats == default_beats(len(evs), time) and _plain_fits(len(evs), time):
        return " ".join(_event_text(e, None) for e in evs)
    for slots in sorted({time.pulses, time.numerator}):
        step = time.bar_beats / slots
        if all((b / step).denominator == 1 and 0 <= b < time.bar_beats for b in beats):
            cells = ["."] * slots
            for e in evs:
                cells[int(e.beat / step)] = _event_text(e, None)
            return " ".join(cells)
    unit = Fraction(4, time.denominator)
    return " ".join(_event_text(e, e.beat / unit + 1) for e in evs)


def _same_spelling(a: ChordEvent, b: ChordEvent) -> bool:
    if a.chord is None or b.chord is None:
        return a.chord is b.chord
    return _chord_text(a.chord) == _chord_text(b.chord)


def _event_text(ev: ChordEvent, at: Fraction | None) -> str:
    text = "N.C." if ev.chord is None else _chord_text(ev.chord)
    if ev.push:
        text = "<" + text
    if ev.hit:
        text += "!"
    if ev.fermata:
        text += "~"
    if at is not None:
        text += "@" + _fmt_at(at)
    return text


def _fmt_at(at: Fraction) -> str:
    whole, frac = divmod(at, 1)
    if frac == 0:
        return str(int(whole))
    den = frac.denominator
    d = den
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1 and den <= 1000:
        s = f"{float(at):.3f}".rstrip("0")
        if Fraction(s) == at:
            return s
    return f"{int(whole)}+{frac.numerator}/{frac.denominator}"


def _chord_text(chord: Chord) -> str:
    """The spelling to write: the chart's own when it reads back as the same chord."""
    return _spelling(chord, chord.symbol)


@lru_cache(maxsize=8192)
def _spelling(chord: Chord, symbol: str) -> str:
    for cand in (symbol.strip(), chord.name):
        if cand and _reads_as(cand, chord):
            return cand
    return chord.name


def _reads_as(text: str, chord: Chord) -> bool:
    m = _TOKEN_RE.match(text)
    if m is None or m.lastgroup != "chord" or m.end() != len(text):
        return False
    mc = _CHORD_TOKEN_RE.match(text)
    if mc is None or mc.group("push") or mc.group("f1") or mc.group("f2") or mc.group("at") is not None:
        return False
    try:
        parsed = parse_chord_or_nc(text)
    except ChordSymbolError:
        return False
    return parsed == chord
