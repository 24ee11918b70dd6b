"""iReal Pro charts: ``irealb://`` (scrambled) and ``irealbook://`` URLs, songs and playlists.

A playlist is one percent-encoded URL; songs are separated by ``===`` and the last
part names the playlist. Each song is ``=``-separated fields:

``irealb://``: title, composer, (unused), style, key, transpose, music, groove, bpm,
repeats; the music starts with ``1r34LbKcu7`` and is scrambled in 50-character
blocks. ``irealbook://``: title, composer, style, key, (unused), music (plain).

The music is a string of cells (16 per row): barlines ``| [ ] { } Z``, annotations
(``*A`` section, ``T44`` meter, ``N1`` ending, ``S`` segno, ``Q`` coda, ``U`` end,
``f`` fermata, ``s``/``l`` small/large chords), comments ``<...>``, chords, and the
cell fillers ``' '`` (empty), ``p`` (slash), ``x``/``r`` (bar repeats), ``n`` (N.C.),
``W`` (invisible root, only a bass note). Chord placement in a bar follows the
rule of the ireal-musicxml converter (see :func:`_place`).

Tempo: iReal stores 0 when the chart leaves the tempo to the player; we then use
:func:`default_tempo` of the style (ballads 70, slow 85, medium swing 120, medium up
160, up tempo 220, bossa 130, samba 180, waltz 130, everything else 120). Any other
tempo must lie within 10-400 (:func:`~backline.model.checks.check_tempo`).

Coda: the first ``Q`` is the "To Coda" jump point, the last ``Q`` the coda; a
``Q`` written on the first cell of a bar (before any of its cells) jumps before
that bar, i.e. after the previous one. A single ``Q`` marks the coda.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from urllib.parse import quote

from backline.errors import BacklineError, ChartError, Location
from backline.model.checks import check_tempo
from backline.model.chord import Chord, Quality, parse_chord
from backline.model.pitch import Key, NoteName, parse_key, parse_note_name
from backline.model.song import Bar, ChordEvent, Jump, Section, Song, TimeSignature, song_key

__all__ = [
    "load_bytes",
    "parse_url",
    "parse_song",
    "dump_bytes",
    "dump_url",
    "unscramble",
    "scramble",
    "default_tempo",
    "ireal_chord_name",
    "lost_in_ireal",
]

_MARKER = "1r34LbKcu7"
#: Written for an empty composer or style (iReal needs every field; two empty fields in a
#: row would read as the ``===`` song separator); read back as empty.
COMPOSER_PLACEHOLDER = "Composer Unknown"
STYLE_PLACEHOLDER = "Unspecified"
_URL_RE = re.compile(r"irealb(?:ook)?://[^\s\"<>]*")

_TOKEN_RE = re.compile(
    r"""
    \*(?P<sec>[a-zA-Z])
  | T(?P<time>\d\d)
  | N(?P<end>.)
  | <(?P<com>[^>]*)>
  | (?P<chord>[A-G][b\#]?(?:sus|alt|add|[-+^\dhob\#])*(?:\*[^*\s|\[\]{}<>,]{1,12}\*)?
    (?:/[A-G][b\#]?)?(?:\([^)]*\))?)
  | (?P<sp>\ +(?![/(]))
  | (?P<cell>[ Wp](?:/[A-G][b\#]?)?(?:\([^)]*\))?)
  | (?P<alt>\([^)]*\))
  | (?P<ch>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SEC, _TIME, _END, _COM, _CHORD, _SP, _CELL, _ALT, _CH = range(1, 10)
assert _TOKEN_RE.groupindex["ch"] == _CH

_SECTION_NAMES = {"i": "Intro", "I": "Intro", "v": "Verse", "V": "Verse"}

_COMMENT_POS_RE = re.compile(r"^\*\d\d")
_COUNT_RE = re.compile(r"^(?:repeat\s+)?\(?(\d{1,2})\s*x(?:s)?\b", re.IGNORECASE)
_JUMP_RE = re.compile(
    r"\bD\.?\s*([CS])\.?(?:\s+al\s+(coda|fine|(\d)\s*(?:st|nd|rd|th)\s+end))?", re.IGNORECASE
)
_VAMP_RE = re.compile(r"\b(?:fade|vamp)\b", re.IGNORECASE)

_STYLE_TEMPOS: tuple[tuple[str, float], ...] = (
    ("slow ballad", 60.0),
    ("ballad", 70.0),
    ("up tempo", 220.0),
    ("fast", 220.0),
    ("bright", 200.0),
    ("medium up", 160.0),
    ("slow", 85.0),
    ("bossa", 130.0),
    ("samba", 180.0),
    ("waltz", 130.0),
)


def default_tempo(style: str) -> float:
    """The tempo (quarter notes per minute) used when an iReal chart stores 0."""
    low = style.lower()
    for word, bpm in _STYLE_TEMPOS:
        if word in low:
            return bpm
    return 120.0


# --------------------------------------------------------------------- scrambling


def _obfusc50(s: str) -> str:
    c = list(s)
    for i in range(5):
        c[i], c[49 - i] = s[49 - i], s[i]
    for i in range(10, 24):
        c[i], c[49 - i] = s[49 - i], s[i]
    return "".join(c)


def _blocks(s: str) -> str:
    out: list[str] = []
    while len(s) > 51:
        out.append(_obfusc50(s[:50]))
        s = s[50:]
    out.append(s)
    return "".join(out)


def unscramble(music: str) -> str:
    """The plain cell string of a scrambled ``irealb://`` music field (without the marker)."""
    return _blocks(music).replace("Kcl", "| x").replace("LZ", " |").replace("XyQ", "   ")


def scramble(plain: str) -> str:
    """Inverse of :func:`unscramble` (the block permutation is its own inverse)."""
    if "Kcl" in plain or "LZ" in plain or "XyQ" in plain:
        raise ChartError("cannot scramble a chart containing 'Kcl', 'LZ' or 'XyQ'")
    return _blocks(plain)


# --------------------------------------------------------------------- reading


def load_bytes(data: bytes, source: str) -> list[Song]:
    """Read every song of every iReal URL found in ``data`` (a .txt or .html file)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    urls = _URL_RE.findall(text)
    if not urls:
        raise ChartError("no irealb:// or irealbook:// URL found", Location(source))
    if "href" not in text.lower():
        whole = _whole_urls(text)
        if len(whole) == len(urls):
            # a plain-text file: a URL may hold literal spaces or be wrapped over lines
            # (e-mail); try the whole text of each URL first, then the URL up to a space
            try:
                return [s for url in whole for s in parse_url(url, source)]
            except ChartError:
                pass
    songs: list[Song] = []
    for url in urls:
        songs.extend(parse_url(url.replace("&amp;", "&"), source))
    return songs


_URL_START_RE = re.compile(r"irealb(?:ook)?://")


def _whole_urls(text: str) -> list[str]:
    """Each URL of a plain-text file with everything after it up to the next URL or a
    blank line (lines joined without their breaks, as e-mail wraps long lines)."""
    urls: list[str] = []
    cur: list[str] | None = None
    for line in text.splitlines():
        m = _URL_START_RE.search(line)
        if m is not None:
            if cur is not None:
                urls.append("".join(cur))
            cur = [line[m.start() :].strip()]
        elif cur is not None and line.strip():
            cur.append(line.strip())
        elif cur is not None:
            urls.append("".join(cur))
            cur = None
    if cur is not None:
        urls.append("".join(cur))
    return urls


def parse_url(url: str, source: str = "") -> list[Song]:
    """Read the songs of one ``irealb://`` or ``irealbook://`` URL (percent-encoded or not)."""
    scheme, sep, body = url.strip().partition("://")
    if not sep or scheme not in ("irealb", "irealbook"):
        raise ChartError("not an iReal Pro URL (irealb:// or irealbook://)", Location(source or url[:40]))
    text = _unquote(body)
    parts = text.split("===")
    if len(parts) > 1:
        parts.pop()  # the playlist name
    songs = []
    for part in parts:
        if not part.strip():
            continue
        songs.append(parse_song(part, source, old_format=scheme == "irealbook"))
    if not songs:
        raise ChartError("the URL holds no song", Location(source or "iReal URL"))
    return songs


_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unquote(body: str) -> str:
    """Percent-decode as UTF-8 (latin-1 when that fails), at C speed.

    Every ``%XX`` becomes ``\\xXX`` for the ``unicode_escape`` codec (backslashes
    escaped first); a stray ``%`` is kept as is, like :func:`urllib.parse.unquote`.
    """
    raw = body.encode("utf-8")
    if _BAD_ESCAPE_RE.search(body):
        raw = raw.replace(b"%", b"%25")
        raw = re.sub(rb"%25([0-9A-Fa-f]{2})", rb"%\1", raw)
    raw = raw.replace(b"\\", b"\\\\").replace(b"%", b"\\x")
    raw = raw.decode("unicode_escape").encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _title(raw: str) -> str:
    m = re.match(r"^(.*), (A|The|An)$", raw)
    return f"{m.group(2)} {m.group(1)}" if m else raw


def _composer(raw: str) -> str:
    names = raw.split()
    return f"{names[1]} {names[0]}" if len(names) == 2 else raw


def parse_song(text: str, source: str = "", *, old_format: bool = False) -> Song:
    """Read one song (the ``=``-separated fields of a decoded URL part)."""
    f = text.split("=")
    title = _title(f[0].strip()) if f else ""
    where = f"{source}: {title!r}" if source else repr(title)
    try:
        if old_format:
            if len(f) < 6:
                raise ChartError("truncated song (fewer than 6 fields)", Location(where))
            composer, style, key_text, music = f[1], f[2], f[3], f[5]
            bpm = 0.0
        else:
            if len(f) < 7:
                raise ChartError("truncated song (fewer than 7 fields)", Location(where))
            composer, style, key_text = f[1], f[3], f[4]
            _head, marker, scrambled = f[6].partition(_MARKER)
            if not marker:
                raise ChartError("the music field lacks the irealb marker (truncated URL?)", Location(where))
            music = unscramble(scrambled)
            try:
                bpm = float(f[8]) if len(f) > 8 and f[8].strip() else 0.0
            except ValueError:
                raise ChartError(f"tempo is not a number: {f[8]!r}", Location(where)) from None
        style = style.strip()
        key: Key | None = None
        if key_text.strip():
            try:
                key = parse_key(key_text.strip())
            except ValueError:
                raise ChartError(f"unknown key {key_text!r}", Location(where)) from None
        # 0: the chart leaves the tempo to the player
        tempo = default_tempo(style) if bpm == 0 else check_tempo(bpm, Location(where))
        sections = _Parser(music, where, tempo, key).parse()
    except BacklineError:
        raise
    except (ValueError, IndexError, KeyError) as exc:  # defensive: never leak another type
        raise ChartError(f"cannot read chart: {exc}", Location(where)) from None
    composer = composer.strip()
    return Song(
        title=title,
        sections=sections,
        composer="" if composer == COMPOSER_PLACEHOLDER else _composer(composer),
        key=key,
        style="" if style == STYLE_PLACEHOLDER else style,
        source=source,
    )


class _Ev:
    __slots__ = ("chord", "ckey", "fermata", "short", "spaces")

    def __init__(self, chord: Chord | None, ckey: str, short: bool) -> None:
        self.chord = chord
        self.ckey = ckey
        self.spaces = 0
        self.short = short
        self.fermata = False


class _Bar:
    __slots__ = (
        "cells",
        "close",
        "comments",
        "copied",
        "count",
        "end",
        "ending",
        "events",
        "fine",
        "jump",
        "q",
        "q_first",
        "repeat_start",
        "section",
        "segno",
        "time",
        "vamp",
    )  # fmt: skip

    def __init__(self, time: TimeSignature, repeat_start: bool) -> None:
        self.events: list[_Ev] = []
        self.copied: tuple[ChordEvent, ...] | None = None
        self.cells = 0
        self.time = time
        self.section: str | None = None
        self.repeat_start = repeat_start
        self.close = ""
        self.ending = -1
        self.segno = False
        self.q = False
        self.q_first = False
        self.end = False
        self.comments: list[str] = []
        self.jump: Jump | None = None
        self.fine = False
        self.count = 0
        self.vamp = False


_CHORD_CACHE: dict[str, Chord] = {}
_EVENT_CACHE: dict[tuple[int, int, str, bool], ChordEvent] = {}
_PLACE_CACHE: dict[tuple[object, ...], tuple[ChordEvent, ...]] = {}
_TIME_CACHE: dict[str, TimeSignature] = {}
_BASS_CACHE: dict[str, NoteName] = {}


def _chord(text: str, where: str) -> Chord:
    c = _CHORD_CACHE.get(text)
    if c is None:
        spelled = text.replace("*", "")
        try:
            c = parse_chord(spelled, lowercase_roots=False, solfege=False)
        except BacklineError as exc:
            raise ChartError(f"chord {text!r} not understood: {exc}", Location(where)) from None
        _CHORD_CACHE[text] = c
    return c


def _time(code: str, where: str) -> TimeSignature:
    ts = _TIME_CACHE.get(code)
    if ts is None:
        if code == "12":
            ts = TimeSignature(12, 8)
        else:
            try:
                ts = TimeSignature(int(code[0]), int(code[1]))
            except ValueError:
                raise ChartError(f"unknown time signature T{code}", Location(where)) from None
        _TIME_CACHE[code] = ts
    return ts


def _event(num: int, den: int, ckey: str, chord: Chord | None, fermata: bool) -> ChordEvent:
    k = (num, den, ckey, fermata)
    ev = _EVENT_CACHE.get(k)
    if ev is None:
        ev = ChordEvent(Fraction(num, den), chord, fermata=fermata)
        if len(_EVENT_CACHE) < 100_000:
            _EVENT_CACHE[k] = ev
    return ev


def _place(evs: list[_Ev], time: TimeSignature) -> tuple[ChordEvent, ...]:
    """Beat positions of a bar's chords (the ireal-musicxml converter's rule).

    Each chord lasts one slot plus the empty cells after it (a small chord one
    slot); if they overflow the bar, empty cells are taken back round-robin from
    the first chord; if they underfill it, free slots are handed out round-robin
    from the first (non-small) chord. A slot is the meter's note value (a dotted
    quarter in 12/8); when there are more chords than slots the slot is halved
    until every chord has at least one.
    """
    sig = (time, *[(e.ckey, e.spaces, e.short, e.fermata) for e in evs])
    done = _PLACE_CACHE.get(sig)
    if done is not None:
        return done
    n = len(evs)
    num, den = time.numerator, time.denominator
    if num == 12 and den == 8 and n <= 4:
        unit_num, unit_den, slots = 3, 2, 4
    else:
        unit_num, unit_den, slots = 4, den, num
    while slots < n:
        unit_den *= 2
        slots *= 2
    lens = [1 if e.short else 1 + e.spaces for e in evs]
    total = sum(lens)
    i = 0
    while total > slots:
        if lens[i] > 1:
            lens[i] -= 1
            total -= 1
        i = (i + 1) % n
    if total < slots and not all(e.short for e in evs):
        while total < slots:
            if not evs[i].short:
                lens[i] += 1
                total += 1
            i = (i + 1) % n
    out = []
    pos = 0
    for e, ln in zip(evs, lens, strict=True):
        out.append(_event(unit_num * pos, unit_den, e.ckey, e.chord, e.fermata))
        pos += ln
    res = tuple(out)
    if len(_PLACE_CACHE) < 50_000:
        _PLACE_CACHE[sig] = res
    return res


class _Parser:
    """Turns one song's cell string into sections of bars."""

    def __init__(self, music: str, where: str, tempo: float, key: Key | None) -> None:
        self.music = music
        self.where = where
        self.tempo = tempo
        self.key = key

    def err(self, msg: str, bar: int) -> ChartError:
        return ChartError(msg, Location(f"{self.where} bar {bar}"))

    def parse(self) -> tuple[Section, ...]:
        bars: list[_Bar] = []
        resolved: list[tuple[ChordEvent, ...]] = []
        time = TimeSignature(4, 4)
        cur: _Bar | None = None
        # annotations waiting for the cell they belong to
        p_sec: str | None = None
        p_time: TimeSignature | None = None
        p_end = -1
        p_segno = p_q = p_end_mark = p_fermata = False
        p_comments: list[str] = []
        small = False
        r_next: tuple[ChordEvent, ...] | None = None
        last_chord: Chord | None = None
        last_key = ""
        where = self.where

        def finish(b: _Bar, close: str) -> None:
            nonlocal r_next
            b.close = close
            if b.events:
                evs = _place(b.events, b.time)
                r_next = None
            elif b.copied is not None:
                lim = b.time.bar_beats
                evs = tuple(e for e in b.copied if e.beat < lim)
            elif r_next is not None:
                evs = r_next
                r_next = None
            else:
                evs = ()
                if b.cells == 0 and not (b.section or b.comments or b.ending >= 0 or b.q or b.segno):
                    return  # nothing but barlines: not a bar
            bars.append(b)
            resolved.append(evs)

        def open_bar(repeat_start: bool) -> _Bar:
            nonlocal p_sec, p_time, p_end, p_segno, p_q, p_end_mark, time
            if p_time is not None:
                time = p_time
            b = _Bar(time, repeat_start)
            return b

        def flush(b: _Bar, first: bool) -> None:
            nonlocal p_sec, p_time, p_end, p_segno, p_q, p_end_mark, time
            if p_time is not None:
                if b.cells == 0 and not b.events:
                    b.time = p_time
                time = p_time
                p_time = None
            if p_sec is not None:
                b.section = p_sec
                p_sec = None
            if p_end >= 0:
                b.ending = p_end
                p_end = -1
            if p_segno:
                b.segno, p_segno = True, False
            if p_q:
                b.q, p_q = True, False
                b.q_first = first
            if p_end_mark:
                b.end, p_end_mark = True, False
            if p_comments:
                b.comments.extend(p_comments)
                p_comments.clear()

        for m in _TOKEN_RE.finditer(self.music):
            g = m.lastindex
            bar_no = len(bars) + 1
            if g == _CH:
                c = m.group(g)
                if c == "|" or c == "[" or c == "{":
                    if cur is not None:
                        finish(cur, "|" if c == "|" else "")
                    cur = open_bar(c == "{")
                    flush(cur, True)
                elif c == "]" or c == "}" or c == "Z":
                    if cur is not None:
                        finish(cur, c)
                        cur = None
                    elif c == "}" and bars and bars[-1].close != "}":
                        bars[-1].close = "}"
                elif c == "," or c == "Y" or c == "\n" or c == "\r":
                    pass
                elif c == "S":
                    p_segno = True
                elif c == "Q":
                    p_q = True
                elif c == "U":
                    p_end_mark = True
                elif c == "f":
                    p_fermata = True
                elif c == "s":
                    small = True
                elif c == "l":
                    small = False
                elif c == "n" or c == "x" or c == "r":
                    if cur is None:
                        cur = open_bar(False)
                    flush(cur, cur.cells == 0)
                    cur.cells += 1
                    if c == "n":
                        ev = _Ev(None, "n", small)
                        if p_fermata:
                            ev.fermata, p_fermata = True, False
                        cur.events.append(ev)
                    elif c == "x":
                        if not resolved:
                            raise self.err("'x' (repeat the previous bar) in the first bar", bar_no)
                        cur.copied = resolved[-1]
                    else:
                        if len(resolved) < 2:
                            raise self.err(
                                "'r' (repeat the previous two bars) without two bars before", bar_no
                            )
                        cur.copied = resolved[-2]
                        r_next = resolved[-1]
                else:
                    raise self.err(f"unexpected character {c!r} in the chart", bar_no)
            elif g == _SP:
                if cur is None:
                    if p_q or p_segno or p_end_mark or p_comments or p_sec or p_end >= 0:
                        cur = open_bar(False)
                    else:
                        continue  # empty cells between bars
                k = m.end() - m.start()
                if p_sec or p_q or p_segno or p_end_mark or p_comments or p_end >= 0 or p_time:
                    flush(cur, cur.cells == 0)
                cur.cells += k
                if cur.events and cur.copied is None:
                    last = cur.events[-1]
                    last.spaces += k
                    if p_fermata:
                        last.fermata, p_fermata = True, False
            elif g in (_CHORD, _CELL):
                c = m.group(g)
                if c[-1] == ")":
                    c = c[: c.index("(")]
                c, _, bass = c.partition("/")
                if g == _CELL and c[0] == " " and cur is None:
                    if p_q or p_segno or p_end_mark or p_comments or p_sec or p_end >= 0:
                        cur = open_bar(False)
                    else:
                        continue  # an empty cell between bars
                if cur is None:
                    cur = open_bar(False)
                flush(cur, cur.cells == 0)
                cur.cells += 1
                if g == _CHORD:
                    text = c + "/" + bass if bass else c
                    ch = _CHORD_CACHE.get(text) or _chord(text, f"{where} bar {bar_no}")
                    last_chord, last_key = ch, text
                    ev = _Ev(ch, text, small)
                elif c == " " or (c == "p" and cur.events):
                    if cur.events and cur.copied is None:
                        cur.events[-1].spaces += 1
                        if p_fermata:
                            cur.events[-1].fermata, p_fermata = True, False
                    continue
                else:  # W, or p opening a bar: the previous chord, maybe over a new bass
                    if last_chord is None:
                        raise self.err(f"'{c}' repeats a chord but no chord comes before", bar_no)
                    ch = last_chord
                    ckey = last_key
                    if bass:
                        nb = _BASS_CACHE.get(bass)
                        if nb is None:
                            nb = _BASS_CACHE[bass] = parse_note_name(bass)
                        ch = _with_bass(ch, nb)
                        ckey = f"{last_key}|{bass}"
                    ev = _Ev(ch, ckey, small)
                if p_fermata:
                    ev.fermata, p_fermata = True, False
                cur.events.append(ev)
            elif g == _SEC:
                s = m.group(g)
                p_sec = _SECTION_NAMES.get(s, s.upper())
            elif g == _TIME:
                p_time = _time(m.group(g), f"{where} bar {bar_no}")
                if cur is not None and cur.cells == 0:
                    cur.time = p_time
                    time = p_time
            elif g == _END:
                d = m.group(g)
                if not d.isdigit():
                    raise self.err(f"unknown ending mark 'N{d}'", bar_no)
                p_end = int(d)
            elif g == _COM:
                p_comments.append(_COMMENT_POS_RE.sub("", m.group(g)).strip())
            # _ALT: an alternate chord in parentheses, shown small above: ignored
        if cur is not None:
            flush(cur, cur.cells == 0)
            if cur.events or cur.copied is not None:
                finish(cur, "")
        if bars and (p_q or p_segno or p_end_mark or p_comments):
            flush(bars[-1], False)
        if not bars:
            raise ChartError("the chart has no bars", Location(where))
        return self._build(bars, resolved)

    def _build(self, bars: list[_Bar], resolved: list[tuple[ChordEvent, ...]]) -> tuple[Section, ...]:
        for b in bars:
            for text in b.comments:
                _read_comment(b, text)
            if b.repeat_start and b.ending >= 2:
                b.repeat_start = False  # '{' drawn on a 2nd ending: not a new repeat
        for i, b in enumerate(bars):
            # A D.C./D.S. comment is often written a bar early (its text runs on):
            # the jump is taken at the next closing barline of the same line.
            if b.jump is not None and b.close not in ("]", "}", "Z"):
                j = i
                while (
                    j + 1 < len(bars)
                    and j - i < 3
                    and bars[j].close not in ("]", "}", "Z")
                    and bars[j + 1].section is None
                    and not bars[j + 1].q
                    and bars[j + 1].jump is None
                    and not bars[j + 1].repeat_start
                ):
                    j += 1
                if j != i and bars[j].close in ("]", "}", "Z"):
                    bars[j].jump, b.jump = b.jump, None
        if not any(b.segno for b in bars):
            # D.S. without a segno: iReal Pro goes back to the top, as a D.C.
            for b in bars:
                if b.jump is not None and b.jump.kind == "DS":
                    b.jump = Jump("DC", b.jump.until)
        # coda marks
        qs = [i for i, b in enumerate(bars) if b.q]
        to_coda: set[int] = set()
        coda: set[int] = set()
        if len(qs) == 1:
            coda.add(qs[0])
        elif len(qs) > 1:
            coda.add(qs[-1])
            for i in qs[:-1]:
                to_coda.add(i - 1 if bars[i].q_first and i > 0 else i)
        endings, repeat_end = _resolve_repeats(bars)
        # sections
        first_mark = next((b.section for b in bars if b.section), None)
        label = "Intro" if first_mark == "A" and bars[0].section is None else "A"
        out: list[Section] = []
        run: list[Bar] = []
        key, tempo = self.key, self.tempo
        bar_cache: dict[tuple[object, ...], Bar] = {}
        for i, b in enumerate(bars):
            new = b.section
            if new is None and i in coda and len(qs) > 1:
                new = "Coda"
            if new is not None:
                if run:
                    out.append(Section(label, tuple(run)))
                run = []
                label = new
            comment = "; ".join(c for c in b.comments if c)
            fields = (
                id(resolved[i]), b.time, b.repeat_start, repeat_end[i], endings[i], b.segno,
                i in to_coda, i in coda, b.fine, b.jump, b.vamp, b.end, comment,
            )  # fmt: skip
            bar = bar_cache.get(fields)
            if bar is None:
                bar = Bar(
                    chords=resolved[i],
                    time=b.time,
                    tempo=tempo,
                    key=key,
                    repeat_start=b.repeat_start,
                    repeat_end=repeat_end[i],
                    endings=endings[i],
                    segno=b.segno,
                    to_coda=i in to_coda,
                    coda=i in coda,
                    fine=b.fine,
                    jump=b.jump,
                    vamp=b.vamp,
                    end=b.end,
                    comment=comment,
                )
                bar_cache[fields] = bar
            run.append(bar)
        if run or not out:
            out.append(Section(label, tuple(run)))
        return tuple(out)


def _with_bass(ch: Chord, bass: NoteName) -> Chord:
    key = f"{ch.name}|{bass}"
    c = _CHORD_CACHE.get(key)
    if c is None:
        if ch.quality.bass_only:
            c = Chord(bass, ch.quality, None, f"/{bass}")
        else:
            c = ch.with_bass(bass)
        _CHORD_CACHE[key] = c
    return c


def _read_comment(b: _Bar, raw: str) -> None:
    text = raw
    if not text:
        return
    m = _COUNT_RE.match(text)
    if m:
        b.count = int(m.group(1))
    jm = _JUMP_RE.search(text)
    if jm:
        until = (jm.group(2) or "end").lower()
        if jm.group(3):
            until = jm.group(3)
        b.jump = Jump("DC" if jm.group(1).upper() == "C" else "DS", until)
    elif text.lower().startswith("fine"):
        b.fine = True
    if _VAMP_RE.search(text):
        b.vamp = True


def _resolve_repeats(bars: list[_Bar]) -> tuple[list[frozenset[int]], list[int]]:
    """Endings (passes each bar plays on) and ``repeat_end`` counts, group by group.

    A group runs from a ``{`` (or the start) to the next ``{``. With ``k`` endings and
    ``T`` passes (``<Nx>`` count, at least ``k``, default 2): ending 1 plays on passes
    1..T-k+1, ending ``i`` on pass T-k+i; a non-final ending runs to its ``}``, the
    final one to the next double bar, section or ``{``.
    """
    n = len(bars)
    endings: list[frozenset[int]] = [frozenset()] * n
    repeat_end = [0] * n
    starts = [0] + [i for i, b in enumerate(bars) if b.repeat_start and i > 0]
    starts.append(n)
    for gs, ge in itertools.pairwise(starts):
        marks: list[tuple[int, int]] = []
        closes: list[int] = []
        count = 0
        for i in range(gs, ge):
            b = bars[i]
            if b.ending >= 0:
                num = b.ending
                if marks and num <= marks[-1][1]:
                    num = marks[-1][1] + 1  # 'N0', or a repeated number: the next ending
                num = max(num, 1)
                marks.append((i, num))
            if b.count and (not closes or marks):
                count = b.count
            if b.close == "}":
                closes.append(i)
        if not closes:
            continue
        k = max((num for _, num in marks), default=0)
        total = max(count or 2, k)
        for c in closes:
            repeat_end[c] = total
        for j, (i, num) in enumerate(marks):
            nxt = marks[j + 1][0] if j + 1 < len(marks) else ge
            if num < k:
                passes = frozenset(range(1, total - k + 2)) if num == 1 else frozenset({total - k + num})
                stop = next((c for c in closes if i <= c < nxt), nxt - 1)
            else:
                passes = frozenset({total})
                stop = i
                while (
                    stop + 1 < nxt
                    and bars[stop].close not in ("]", "Z", "}")
                    and bars[stop + 1].section is None
                ):
                    stop += 1
            for t in range(i, stop + 1):
                endings[t] = passes
    return endings, repeat_end


# --------------------------------------------------------------------- writing

_IREAL_SUFFIX_RE = re.compile(r"^(?:sus|alt|add|[-+^\dhob#])*$")
_SUFFIX_MAP: tuple[tuple[str, str], ...] = (
    ("maj", "^"),
    ("dim", "o"),
    ("aug", "+"),
    ("m", "-"),
    ("sus4", "sus"),
)


def ireal_chord_name(chord: Chord | None) -> str:
    """The chord as iReal writes it (``C^7``, ``D-7``, ``Bh7``, ``W/E``; ``n`` for N.C.).

    A suffix iReal cannot spell is written as a chord comment ``C*no5*``, which
    iReal shows as text and this reader reads back.
    """
    if chord is None:
        return "n"
    if chord.quality.bass_only:
        return f"W/{_note(chord.root)}"
    root = _note(chord.root)
    bass = "" if chord.bass is None else "/" + _note(chord.bass)
    sym = chord.symbol
    if sym.startswith(str(chord.root)):
        suffix = sym[len(str(chord.root)) :]
        if chord.bass is not None and suffix.endswith("/" + str(chord.bass)):
            suffix = suffix[: -len(str(chord.bass)) - 1]
        if _IREAL_SUFFIX_RE.match(suffix) and _same(root + suffix, chord.quality):
            return root + suffix + bass
    name = chord.quality.name
    if name == "m7b5":
        cand = "h7"
    elif name == "dim7":
        cand = "o7"
    else:
        cand = name
        for a, b in _SUFFIX_MAP:
            cand = cand.replace(a, b)
    if _IREAL_SUFFIX_RE.match(cand) and _same(root + cand, chord.quality):
        return root + cand + bass
    return f"{root}*{name}*{bass}"


def _same(text: str, quality: Quality) -> bool:
    try:
        got = parse_chord(text, lowercase_roots=False, solfege=False).quality
        return got.intervals == quality.intervals
    except BacklineError:
        return False


def _note(n: NoteName) -> str:
    s = str(n)
    if s.endswith("##") or s.endswith("bb"):
        return str(n.simplified())
    return s


_HALF = TimeSignature(1, 2)


def _time_code(ts: TimeSignature) -> str:
    if ts.numerator == 12 and ts.denominator == 8:
        return "T12"
    if ts == _HALF:  # "T12" is 12/8: the bar of the same length (the writer warns)
        return "T24"
    if ts.numerator > 9 or ts.denominator > 9:
        raise ChartError(f"iReal Pro cannot write the time signature {ts}")
    return f"T{ts.numerator}{ts.denominator}"


def _slot_lengths(bar: Bar) -> list[int] | None:
    """How many cells each chord of ``bar`` takes so that :func:`_place` reads back its
    beats, or None when iReal's grid cannot place them (a chord off the bar's slots, or
    no chord on the first beat)."""
    evs = bar.chords
    n = len(evs)
    num, den = bar.time.numerator, bar.time.denominator
    if num == 12 and den == 8 and n <= 4:
        unit, slots = Fraction(3, 2), 4
    else:
        unit, slots = Fraction(4, den), num
    while slots < n:
        unit /= 2
        slots *= 2
    starts = [ev.beat / unit for ev in evs]
    if not all(s.denominator == 1 for s in starts) or starts[0] != 0:
        return None
    pos = [int(s) for s in starts] + [slots]
    return [max(1, pos[i + 1] - pos[i]) for i in range(n)]


def _cells(bar: Bar) -> list[str]:
    """Cell strings for one bar so that :func:`_place` reads back the same beats."""
    evs = bar.chords
    if not evs:
        return [" "] * 4
    # not on the grid: spread evenly (chords and their order are kept; the writer warns)
    lens = _slot_lengths(bar) or [1] * len(evs)
    out = []
    for ev, ln in zip(evs, lens, strict=True):
        name = ireal_chord_name(ev.chord)
        out.append(("f" if ev.fermata else "") + name)
        out.extend([" "] * (ln - 1))
    return out


def _music(song: Song) -> str:
    parts: list[str] = []
    time: TimeSignature | None = None
    flat = [(si, bi, sec, bar) for si, sec in enumerate(song.sections) for bi, bar in enumerate(sec.bars)]
    ending_sets: list[frozenset[int]] = []
    for k, (_si, bi, sec, bar) in enumerate(flat):
        prev = flat[k - 1][3] if k else None
        nxt = flat[k + 1][3] if k + 1 < len(flat) else None
        if bar.repeat_start:
            ending_sets = []
        opener = "{" if bar.repeat_start else ("[" if bi == 0 else "|")
        head = ""
        if bi == 0:
            head = _SECTION_CODES.get(sec.label, "")
        if bar.time != time:
            head += _time_code(bar.time)
            time = bar.time
        if bar.endings and (prev is None or prev.endings != bar.endings):
            if bar.endings not in ending_sets:
                ending_sets.append(bar.endings)
            head += f"N{ending_sets.index(bar.endings) + 1}"
        if bar.segno:
            head += "S"
        if bar.coda:
            head += "Q"
        comments = ""
        if bar.repeat_end > 2:
            comments += f"<{bar.repeat_end}x>"
        if bar.jump is not None:
            comments += f"<{bar.jump}>"
        if bar.fine:
            comments += "<Fine>"
        if bar.comment and _comment_kept(bar.comment):
            comments += "<" + bar.comment.replace("<", "(").replace(">", ")").replace("=", "-") + ">"
        cells = _cells(bar)
        marks = ("Q" if bar.to_coda else "") + ("U" if bar.end else "")
        if marks:
            if len(cells) > 1:
                cells[-1] = marks + cells[-1]
            else:
                cells.append(marks + " ")
        parts.append(opener + head + comments + _join_cells(cells))
        if bar.repeat_end:
            parts.append("}")
        elif nxt is None:
            parts.append("Z")
        elif bi == len(sec.bars) - 1 or bar.jump is not None or (bar.endings and nxt.endings != bar.endings):
            parts.append("]")
    return "".join(parts)


_SECTION_CODES = {"Intro": "*i", "Verse": "*v"}
_SECTION_CODES.update({c: "*" + c for c in "ABCDEFGHJKLMNOPQRSTUWXYZ"})


def lost_in_ireal(song: Song, music: str | None = None) -> list[str]:
    """What an iReal chart of ``song`` cannot hold, each as ``"what (bars ...)"`` (the
    items of the :class:`~backline.formats.lost.FormLostWarning` that :func:`dump_url` issues).

    iReal has no hits nor pushes; one tempo (a whole number) and one key for the whole
    song; no section intensities; section marks only for A-Z, Intro and Verse; and chords
    only on the bar's slots (beats, or half beats when a bar has more chords than beats)
    with one on the first. (The melody is not part of a chart, as in ``.chart`` files.)
    Repeats, endings and form marks that the cell string (``music``, the song's own when
    None) reads back otherwise are named too.
    """
    from backline.formats.lost import bars_item, lost_marks

    bars = song.bars
    items = [
        bars_item("chord positions off its beat grid", [i + 1 for i, b in enumerate(bars) if _off_grid(b)]),
        bars_item("the meter 1/2 (written as 2/4)", [i + 1 for i, b in enumerate(bars) if b.time == _HALF]),
        bars_item("the form as written", _misread_form(song, _music(song) if music is None else music)),
        _lost_sections(song),
        bars_item("vamp", [i + 1 for i, b in enumerate(bars) if b.vamp and not _VAMP_RE.search(b.comment)]),
        *lost_marks(song, ("hits (!)", "pushes (<)")),
        bars_item(
            "tempo changes", [i + 1 for i in range(1, len(bars)) if bars[i].tempo != bars[i - 1].tempo]
        ),
        bars_item("key changes", [i + 1 for i in range(1, len(bars)) if bars[i].key != bars[i - 1].key]),
    ]
    if bars and round(bars[0].tempo) != bars[0].tempo:
        items.append(f"tempo {bars[0].tempo:g} (written as {round(bars[0].tempo)})")
    intense = [f"{s.label or 'unlabelled'} {s.intensity}%" for s in song.sections if s.intensity is not None]
    if intense:
        items.append(f"section intensities ({', '.join(intense)})")
    return [x for x in items if x]


def _form(bar: Bar) -> tuple[object, ...]:
    return (bar.repeat_start, bar.repeat_end, bar.endings, bar.segno, bar.to_coda, bar.coda,
            bar.fine, bar.jump, bar.end)  # fmt: skip


def _misread_form(song: Song, music: str) -> list[int]:
    """The bars (1-based) whose repeats, endings or marks read back otherwise from ``music``
    (e.g. an ending that stops before its repeat sign: iReal's endings run to the ``}``)."""
    try:
        back = [b for sec in _Parser(music, song.title, 120.0, None).parse() for b in sec.bars]
    except BacklineError:  # pragma: no cover - the writer writes what the reader reads
        back = []
    bars = song.bars
    if len(back) != len(bars):  # pragma: no cover - one bar is written per bar
        return list(range(1, len(bars) + 1))
    return [i + 1 for i, (a, b) in enumerate(zip(bars, back, strict=True)) if _form(a) != _form(b)]


def _off_grid(bar: Bar) -> bool:
    return bool(bar.chords) and _slot_lengths(bar) is None


def _lost_sections(song: Song) -> str:
    """The sections whose label or start an iReal chart does not keep (the reader's rule,
    see :meth:`_Parser.parse`: a mark starts a section, a second Q a "Coda"; bars before
    the first mark are "A", or "Intro" when that mark is A). An empty label counts as "A"."""
    marks: list[str | None] = []
    wanted: list[tuple[int, str]] = []
    for sec in song.sections:
        if sec.bars:
            wanted.append((len(marks), sec.label))
        marks.extend([sec.label if sec.label in _SECTION_CODES else None] + [None] * (len(sec.bars) - 1))
    if not marks:
        return ""
    bars = song.bars
    qs = [i for i, b in enumerate(bars) if b.coda or b.to_coda]
    coda = qs[-1] if len(qs) > 1 else None
    first = next((m for m in marks if m), None)
    initial = "Intro" if first == "A" and marks[0] is None else "A"
    got: set[tuple[int, str]] = set()
    for i, m in enumerate(marks):
        if m is None and i == coda:
            m = "Coda"
        if m is not None or i == 0:
            got.add((i, m or initial))
    lost = [f"{label!r} (bar {i + 1})" for i, label in wanted if (i, label or "A") not in got]
    return f"section labels {', '.join(lost)}" if lost else ""


def _comment_kept(text: str) -> bool:
    """Free comments survive; those the reader turned into form flags are rewritten."""
    return not (_COUNT_RE.match(text) or _JUMP_RE.search(text) or text.lower().startswith("fine"))


def _join_cells(cells: list[str]) -> str:
    out = []
    for i, c in enumerate(cells):
        out.append(c)
        nxt = cells[i + 1] if i + 1 < len(cells) else None
        if not c.endswith(" ") and nxt is not None and not nxt.startswith(" "):
            out.append(",")
    return "".join(out)


def dump_url(song: Song, *, scrambled: bool = True) -> str:
    """``song`` as an ``irealb://`` (scrambled, default) or ``irealbook://`` URL.

    iReal separates fields with ``=`` and songs with ``===``, so no field may be empty
    next to another empty one: an empty title is written ``Untitled``, an empty composer
    :data:`COMPOSER_PLACEHOLDER`, an empty style :data:`STYLE_PLACEHOLDER` (both read back
    as empty) and a song without a key gets the key the arranger hears (see
    :func:`_written_key`).
    """
    from backline.formats.lost import warn_lost

    if not song.bars:
        raise ChartError(
            "the song has no bars: nothing to write as an iReal chart", Location(song.title or "song")
        )
    title = song.title.strip() or "Untitled"
    m = re.match(r"^(The|A|An) (.*)$", title)
    if m:
        title = f"{m.group(2)}, {m.group(1)}"
    composer = _composer(song.composer.strip()) or COMPOSER_PLACEHOLDER
    wkey = song_key(song)
    key = _note(wkey.tonic) + ("-" if wkey.mode == "minor" else "")
    music = _music(song)
    lost = lost_in_ireal(song, music)
    if not scrambled and song.tempo != default_tempo(song.style):
        lost.append(
            f"the tempo {song.tempo:g} (irealbook:// has none: read as {default_tempo(song.style):g})"
        )
    warn_lost(song, "iReal Pro", lost)
    title = title.replace("=", "-")
    composer = composer.replace("=", "-")
    style = song.style.strip().replace("=", "-") or STYLE_PLACEHOLDER
    if scrambled:
        bpm = round(song.tempo)
        fields = [title, composer, "", style, key, "", _MARKER + scramble(music), "", str(bpm), "0"]
        return "irealb://" + quote("=".join(fields), safe="")
    fields = [title, composer, style, key, "n", music]
    return "irealbook://" + quote("=".join(fields), safe="")


def dump_bytes(song: Song) -> bytes:
    """The song as one ``irealb://`` URL (UTF-8 text, one line)."""
    return (dump_url(song) + "\n").encode("utf-8")
