"""ChordPro charts (``.cho``, ``.crd``, ``.pro``, ``.chopro``, ``.chordpro``) and plain
chords-over-lyrics text, in and out.

Reading
-------
Directives understood: ``title``/``t``, ``subtitle``/``st``, ``artist``, ``composer``
(the song's composer; the artist when no composer is given), ``key`` (also mid-song: a key
change), ``tempo``, ``time``, ``capo``, ``transpose``, ``start_of_chorus``/``soc``,
``end_of_chorus``/``eoc``, ``start_of_verse``/``sov``, ``start_of_bridge``/``sob``, any
``start_of_X`` with a label (``{start_of_verse: Verse 2}``, ``label="..."``), ``chorus``
(plays the last chorus again), ``start_of_grid``/``sog``, ``comment``/``c``/``ci``,
``new_song``/``ns`` (several songs in one file), ``meta`` (``{meta: key C}``), ``define``
and ``chord`` (see below). Tabs, ABC, Lilypond, SVG and text blocks are skipped, and so are
layout directives, ``{+config}`` settings, ``#`` comment lines and directives for other
instruments (``{c-guitar: ...}`` is read like ``{c: ...}``).

Sound, not shapes: with ``{capo: 2}`` the chords are guitar shapes and the band must sound
two semitones higher, so chords and keys are moved up by the capo (``load_text(...,
apply_capo=False)`` keeps the shapes). ``{transpose: N}`` moves the chords that follow by N
semitones (stacked: ``{transpose}`` alone cancels the last one); the key of the bars moves
with them so that the chart stays in tune with itself.

Rhythm of inline chords (the convention backline uses, since ``[C]`` in lyrics says *where*
a chord changes but not *how long* it lasts):

1. Every chord starts a new bar of the current time signature, and every lyric line starts
   a new bar.
2. A chord that comes one word or less after the previous chord (``sweet [G]chari[D]ot``,
   ``[A/G][G]``) shares the bar with it. The bar's beats are shared out in whole beats
   (dotted quarters in 6/8), earlier chords getting the extra beats: two chords in 4/4 take
   2 + 2 beats, three take 2 + 1 + 1, two in 3/4 take 2 + 1. A bar holds at most one chord
   per beat; more start another bar.
3. A line with chords and no lyrics (an intro or riff line) gives one bar per chord, unless
   it has bar lines (``| C G | Am |``), which are then followed exactly.
4. Lyric lines without chords give no bars (their lyrics are not kept in the model).

Grids (``{start_of_grid}`` ... ``| C . . . | G . . . |``) carry real rhythm: each bar's cells
share the bar equally; ``.`` and ``/`` continue the chord (a bar of dots has no chord of
its own: the chord played before it sounds on, which after an ending or a jump need not be
the one written before it), ``~`` splits a cell (``C~G``),
``%`` repeats the previous bar, ``|:``/``:|``/``:|:`` are repeats, ``|1``/``|2`` endings,
``x3`` in the right margin a repeat count; other margin text becomes a bar comment.

Chords-over-lyrics text (``.crd``/``.txt``): a line made only of chord symbols (with
optional ``|``, ``/``, ``%``, ``N.C.``, ``x2``) above a lyric line places each chord at its
column in the lyric; it is then read as if written inline. Lines such as ``CHORUS:`` or
``[Verse 2]`` start a labelled section.

Chord names: everything :func:`~backline.model.chord.parse_chord` reads; fixed-do Latin
roots (``Do Ré Mi Fa Sol La Si``) when the file uses at least one of ``Re Mi Fa Sol La Si``
as a chord (``[Do]`` alone is D diminished in letter names); Nashville numbers and Roman numerals resolved
against the current ``{key}``, ``[N.C.]``, ``[(E)]`` (optional chord: played), ``[*text]``
annotations (skipped) and ``[^]`` (the chord at the same place in the first section of this
kind, ChordPro's chord memory). A name only defined in the file (``{define: Bes base-fret 1
frets 1 1 3 3 3 1}``) is read from its fingering (standard guitar or ukulele tuning), else
from its longest leading part that is a chord (``D'`` is D). Any other name raises
:class:`~backline.errors.ChartSyntaxError` at ``file:line:col``.

Writing
-------
:func:`dump_bytes` writes metadata directives and one ``{start_of_grid}`` per section, four
bars a line, cells of one beat (finer where chords change off the beat), so that the exact
rhythm, repeats, endings and changes of key, time and tempo survive a round trip.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from backline.errors import ChartError, ChartSyntaxError, ChordSymbolError, Location
from backline.model.checks import check_tempo
from backline.model.chord import Chord, is_no_chord, parse_chord
from backline.model.numerals import is_numeral, parse_numeral
from backline.model.pitch import Key, parse_key, pc_name
from backline.model.song import Bar, ChordEvent, Section, Song, TimeSignature
from backline.model.transpose import transpose_chord

__all__ = ["load_bytes", "load_text", "dump_bytes", "dumps", "is_chord_line"]

_SKIP_ENVS = {"tab", "abc", "ly", "svg", "textblock", "image", "musicxml"}
_ENV_ALIASES = {
    "soc": "chorus", "sov": "verse", "sob": "bridge", "sot": "tab", "sog": "grid",
    "eoc": "chorus", "eov": "verse", "eob": "bridge", "eot": "tab", "eog": "grid",
}  # fmt: skip
_DIRECTIVE_RE = re.compile(r"^\s*\{\s*([^}:\s]*)\s*:?\s*(.*?)\s*\}\s*$")
_BRACKET_RE = re.compile(r"\[([^\]]*)\]")
_LABEL_WORDS = (
    "intro|verse|chorus|pre-?chorus|refrain|bridge|solo|instrumental|interlude|outro|coda|tag|"
    "ending|break|hook|riff|vamp|turnaround|middle ?8|breakdown"
)
_LABEL_RE = re.compile(
    rf"^\s*[\[(]?\s*((?:{_LABEL_WORDS})(?:\s*[-#]?\s*\d+|\s+[A-Z]|\s+[IVX]+)?)\s*[\])]?\s*:?\s*"
    r"(?:\(?x\s*\d+\)?)?\s*$",
    re.IGNORECASE,
)
_TAB_RE = re.compile(r"^\s*[A-Ga-g]?\s*[|:]?[-0-9|/hpbx~]{4,}\s*$")
_BARLINE_RE = re.compile(r"^(?:\|\||\|\.|\|:|:\|\|?|:\|:|\||\|\d+>?|\{|\})$")
_REPEAT_COUNT_RE = re.compile(r"^\(?(?:x\s*(\d+)|(\d+)\s*x)\)?$", re.IGNORECASE)
_GUITAR = (40, 45, 50, 55, 59, 64)
_UKULELE = (67, 60, 64, 69)

# Chord shapes tried when a defined chord is read from its fingering.
_SHAPES: tuple[tuple[str, frozenset[int]], ...] = tuple(
    (name, frozenset(ivs))
    for name, ivs in (
        ("", (0, 4, 7)), ("m", (0, 3, 7)), ("7", (0, 4, 7, 10)), ("m7", (0, 3, 7, 10)),
        ("maj7", (0, 4, 7, 11)), ("dim", (0, 3, 6)), ("dim7", (0, 3, 6, 9)),
        ("m7b5", (0, 3, 6, 10)), ("aug", (0, 4, 8)), ("sus4", (0, 5, 7)), ("sus2", (0, 2, 7)),
        ("6", (0, 4, 7, 9)), ("m6", (0, 3, 7, 9)), ("7sus4", (0, 5, 7, 10)), ("9", (0, 2, 4, 7, 10)),
        ("add9", (0, 2, 4, 7)), ("madd9", (0, 2, 3, 7)), ("5", (0, 7)),
    )
)  # fmt: skip


@dataclass
class _Slot:
    """A chord change read from a lyric line: chord (None = N.C.), where, and how close."""

    chord: Chord | None
    tied: bool  # shares the bar with the previous slot
    line: int
    col: int


@dataclass
class _SongState:
    source: str
    title: str = ""
    subtitle: str = ""
    artist: str = ""
    composer: str = ""
    style: str = ""
    key: Key | None = None  # as written
    first_key: Key | None = None
    capo: int = 0
    transpose: list[int] = field(default_factory=list)
    time: TimeSignature = field(default_factory=TimeSignature)
    tempo: float = 120.0
    tempo_given: bool = False
    sections: list[Section] = field(default_factory=list)
    label: str = "Verse"
    kind: str = "verse"
    bars: list[Bar] = field(default_factory=list)
    pending_comment: str = ""
    defined: dict[str, Chord | None] = field(default_factory=dict)
    defined_line: dict[str, int] = field(default_factory=dict)
    memory: dict[str, list[Chord | None]] = field(default_factory=dict)
    memory_pos: int = 0
    recording: list[Chord | None] | None = None
    choruses: list[tuple[Section, int]] = field(default_factory=list)
    any_content: bool = False
    latin: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def shift(self) -> int:
        return self.capo + sum(self.transpose)

    @property
    def sounding_key(self) -> Key | None:
        if self.key is None:
            return None
        return self.key.transpose(self.shift) if self.shift % 12 else self.key


def load_bytes(data: bytes, source: str) -> list[Song]:
    """Read every song of a ChordPro or chords-over-lyrics file."""
    return load_text(_decode(data, source), source)


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load_text(text: str, source: str = "<chordpro>", *, apply_capo: bool = True) -> list[Song]:
    """Read every song of ChordPro text (see the module documentation for the conventions)."""
    lines = _join_continuations(text.splitlines())
    text_mode = not _looks_like_chordpro(lines)
    latin = _uses_latin_names(lines)
    if text_mode:
        lines = [(n, _UG_TAG_RE.sub("", ln)) for n, ln in lines]
    songs: list[Song] = []
    st = _SongState(source, latin=latin)
    _start_memory(st)
    env: str | None = None
    grid_state: _GridState | None = None
    i = 0
    while i < len(lines):
        lineno, raw = lines[i]
        i += 1
        line = raw.rstrip()
        if line.lstrip().startswith("#"):
            continue
        d = _DIRECTIVE_RE.match(line) if line.lstrip().startswith("{") else None
        if d:
            name, value = d.group(1).lower(), d.group(2)
            col = d.start(2) + 1  # the column of the value, for errors
            if name.startswith("+"):
                continue
            if "-" in name:  # a selector: {c-guitar: ...}, {start_of_verse-keyboard}
                name = name.split("-", 1)[0]
            name = name.rstrip("!")
            if name == "meta":
                parts = value.split(None, 1)
                if not parts:
                    continue
                name, value = parts[0].lower(), parts[1] if len(parts) > 1 else ""
                col += d.group(2).find(value, len(parts[0])) if value else 0
            if name in ("new_song", "ns"):
                if st.any_content or st.title:
                    songs.append(_finish(st))
                st = _SongState(source, latin=latin)
                _start_memory(st)
                env = None
                continue
            if name.startswith("start_of_") or name in ("soc", "sov", "sob", "sot", "sog"):
                kind = _ENV_ALIASES.get(name, name[len("start_of_") :])
                env = kind
                if kind in _SKIP_ENVS:
                    continue
                _close_section(st)
                st.kind = "grid" if kind == "grid" else kind
                st.label = _env_label(kind, value)
                if kind == "grid":
                    st.kind = "grid"
                    grid_state = _GridState()
                _start_memory(st)
                continue
            if name.startswith("end_of_") or name in ("eoc", "eov", "eob", "eot", "eog"):
                kind = _ENV_ALIASES.get(name, name[len("end_of_") :])
                if env in _SKIP_ENVS:
                    env = None
                    continue
                if kind == "grid" and grid_state is not None:
                    grid_state.close(st)
                    grid_state = None
                _close_section(st)
                st.label, st.kind = "Verse", "verse"
                env = None
                continue
            if env in _SKIP_ENVS:
                continue
            _directive(st, name, value, lineno, apply_capo, col)
            continue
        if env in _SKIP_ENVS:
            continue
        if env == "grid" and grid_state is not None:
            if line.strip():
                _grid_line(st, grid_state, line, lineno)
            continue
        if not line.strip():
            if env is None and st.bars:
                _close_section(st)
            continue
        label = _LABEL_RE.match(line)
        if label and "[" not in line.strip()[1:-1]:
            _close_section(st)
            st.label = _clean_label(label.group(1))
            st.kind = _kind_of(st.label)
            _start_memory(st)
            continue
        if not text_mode and "[" in line and _BRACKET_RE.search(line):
            _lyric_line(st, _inline_slots(st, line, lineno), lyrics=_has_lyrics(line))
            continue
        chords = _chord_line_tokens(line)
        if chords is None and ":" in line:
            head, _, rest = line.partition(":")
            if 0 < len(head.strip()) <= 40 and _chord_line_tokens(rest) is not None:
                _close_section(st)
                st.label = _clean_label(head)
                st.kind = _kind_of(st.label)
                _start_memory(st)
                _chord_only_line(st, " " * (len(head) + 1) + rest, lineno)
                continue
        if chords is not None:
            nxt = lines[i][1] if i < len(lines) else ""
            if _is_lyric(nxt):
                merged = _merge_over(line, nxt)
                _lyric_line(st, _inline_slots(st, merged, lineno, cols=_col_map(line, nxt)), lyrics=True)
                i += 1
            else:
                _chord_only_line(st, line, lineno)
            continue
        # plain lyrics or text: no bars
    if grid_state is not None:
        grid_state.close(st)
    songs.append(_finish(st))
    return [s for s in songs if s is not None]


_UG_TAG_RE = re.compile(r"\[/?(?:ch|tab)\]")


_LATIN_ROOT_RE = re.compile(r"\[\(?(?:Re|Ré|Mi|Fa|Sol|La|Si)(?:[#b♯♭]|[^a-z]|$)")


def _uses_latin_names(lines: list[tuple[int, str]]) -> bool:
    """Fixed-do names (``[Sol]``, ``[Rem7]``) anywhere switch the file to Latin roots, so that
    ``[Do]`` is C there (and D diminished in a letter-named chart)."""
    return any(_LATIN_ROOT_RE.search(ln) for _, ln in lines)


def _looks_like_chordpro(lines: list[tuple[int, str]]) -> bool:
    """ChordPro has directives or bracketed chords; plain text charts have neither."""
    good = bad = 0
    for _, ln in lines:
        if _DIRECTIVE_RE.match(ln):
            return True
        for m in _BRACKET_RE.finditer(_UG_TAG_RE.sub("", ln)):
            t = m.group(1).strip()
            try:
                parse_chord(t[1:-1] if t.startswith("(") and t.endswith(")") else t)
                good += 1
            except ChordSymbolError:
                bad += 0 if t.startswith("*") or t in ("^", "/") or is_no_chord(t) else 1
    return good > 0 and good >= bad


def _is_lyric(line: str) -> bool:
    return bool(
        line.strip()
        and not line.lstrip().startswith(("{", "#"))
        and "[" not in line
        and not _TAB_RE.match(line)
        and not _LABEL_RE.match(line)
        and _chord_line_tokens(line) is None
    )


def _join_continuations(lines: list[str]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf = ""
    start = 0
    for n, ln in enumerate(lines, 1):
        if not buf:
            start = n
        if ln.endswith("\\") and not ln.endswith("\\\\"):
            buf += ln[:-1]
            continue
        out.append((start, buf + (ln.lstrip() if buf else ln)))
        buf = ""
    if buf:
        out.append((start, buf))
    return out


def _env_label(kind: str, value: str) -> str:
    m = re.search(r"label\s*=\s*(\"[^\"]*\"|'[^']*'|\S+)", value)
    text = m.group(1).strip("\"'") if m else value
    if kind == "grid":
        # shape first (``1+4x4+2``), then an optional label
        text = re.sub(r"^\s*(?:shape\s*=\s*)?[\"']?\d+(?:\+\d+)?x\d+(?:\+\d+)?[\"']?\s*", "", text)
        text = re.sub(r"shape\s*=\s*\S+", "", text).strip()
    text = re.sub(r"<[^>]*>", "", text).strip()
    if not text:
        return {"grid": "Verse", "tab": "Tab"}.get(kind, kind.replace("_", " ").title())
    return _clean_label(text)


def _clean_label(text: str) -> str:
    t = text.strip().strip(":").strip()
    return t.title() if t.isupper() or t.islower() else t


def _kind_of(label: str) -> str:
    low = label.lower()
    for k in ("chorus", "verse", "bridge"):
        if low.startswith(k):
            return k
    return low.split()[0] if low.split() else "verse"


def _start_memory(st: _SongState) -> None:
    st.memory_pos = 0
    mem = st.memory.setdefault(st.kind, [])
    st.recording = None if mem else mem


def _directive(
    st: _SongState, name: str, value: str, lineno: int, apply_capo: bool, col: int | None = None
) -> None:
    loc = Location(st.source, lineno, col)
    v = value.strip()
    if name in ("title", "t"):
        st.title = st.title or v
    elif name in ("subtitle", "st"):
        st.subtitle = st.subtitle or v
    elif name == "artist":
        st.artist = st.artist or v
    elif name == "composer":
        st.composer = st.composer or v
    elif name == "style":  # {meta: style Bossa Nova}: the arranger's style hint
        st.style = st.style or v
    elif name == "key":
        if v:
            try:
                st.key = parse_key(v)
            except ValueError:
                raise ChartSyntaxError(f"not a key: {v!r}", loc) from None
            if st.first_key is None:
                st.first_key = st.key
    elif name == "tempo":
        try:
            bpm = float(v.split()[0]) if v else 0.0
        except ValueError:
            raise ChartSyntaxError(f"tempo must be a number of beats per minute, not {v!r}", loc) from None
        st.tempo = check_tempo(bpm, loc)
        st.tempo_given = True
    elif name == "time":
        m = re.match(r"^(\d+)\s*/\s*(\d+)$", v)
        if not m:
            raise ChartSyntaxError(f"time signature must look like 3/4, not {v!r}", loc)
        try:
            st.time = TimeSignature(int(m.group(1)), int(m.group(2)))
        except ValueError as exc:
            raise ChartSyntaxError(str(exc), loc) from None
    elif name == "capo":
        if apply_capo and v:
            if not v.isdigit() or int(v) > 24:
                raise ChartSyntaxError(f"capo must be a fret number, not {v!r}", loc)
            st.capo = int(v)
    elif name == "transpose":
        if not v:
            if st.transpose:
                st.transpose.pop()
            return
        m = re.match(r"^([+-]?\d+)[sfk]?$", v)
        if not m:
            raise ChartSyntaxError(f"transpose needs a number of semitones, not {v!r}", loc)
        st.transpose.append(int(m.group(1)))
    elif name in ("comment", "c", "ci", "comment_italic", "cb", "comment_box", "highlight"):
        if v:
            label = _LABEL_RE.match(v)
            if label and not st.bars:
                st.label = _clean_label(label.group(1))
                st.kind = _kind_of(st.label)
                _start_memory(st)
            else:
                st.pending_comment = (st.pending_comment + "; " + v) if st.pending_comment else v
    elif name == "chorus":
        if st.choruses:
            _close_section(st)
            sec, shift = st.choruses[-1]
            st.sections.append(_retune(sec, st.shift - shift, st.sounding_key))
            st.any_content = True
    elif name in ("define", "defined", "chord"):
        _define(st, v, lineno)


def _retune(sec: Section, semitones: int, key: Key | None) -> Section:
    """A recalled chorus, moved by the transpositions made since it was written."""
    if semitones % 12 == 0:
        return sec
    target = key or parse_key("C").transpose(semitones)
    bars = tuple(
        replace(
            b,
            key=key,
            chords=tuple(
                ev if ev.chord is None else replace(ev, chord=transpose_chord(ev.chord, semitones, target))
                for ev in b.chords
            ),
        )
        for b in sec.bars
    )
    return replace(sec, bars=bars)


def _define(st: _SongState, value: str, lineno: int) -> None:
    parts = value.replace(":", " ").split()
    if not parts:
        return
    chord_name = parts[0]
    if chord_name in st.defined:
        return
    try:
        parse_chord(chord_name)
        return  # a known chord: only its diagram changes
    except ChordSymbolError:
        pass
    st.defined[chord_name] = _chord_from_fingering(chord_name, parts[1:])
    st.defined_line[chord_name] = lineno


def _chord_from_fingering(name: str, args: list[str]) -> Chord | None:
    base = 1
    frets: list[str] = []
    j = 0
    while j < len(args):
        a = args[j].lower()
        if a in ("base-fret", "base") and j + 1 < len(args) and args[j + 1].isdigit():
            base = int(args[j + 1])
            j += 2
            continue
        if a == "frets":
            j += 1
            while j < len(args) and re.fullmatch(r"\d+|[xXnN-]", args[j]):
                frets.append(args[j])
                j += 1
            continue
        j += 1
    tuning = {6: _GUITAR, 4: _UKULELE}.get(len(frets))
    if tuning is None:
        return None
    notes = []
    for open_note, f in zip(tuning, frets, strict=True):
        if not f.isdigit():
            continue
        fret = int(f)
        notes.append(open_note + (fret + base - 1 if fret > 0 else 0))
    if not notes:
        return None
    pcs = {n % 12 for n in notes}
    lowest = min(notes) % 12
    try:
        hint: int | None = _leading_chord(name).root.pc
    except ChordSymbolError:
        hint = None
    for root in [r for r in (hint, lowest) if r is not None] + sorted(pcs):
        rel = frozenset((p - root) % 12 for p in pcs)
        for suffix, shape in _SHAPES:
            if rel == shape:
                return parse_chord(f"{pc_name(root)}{suffix}")
    return None


def _leading_chord(name: str) -> Chord:
    for end in range(len(name), 0, -1):
        try:
            return parse_chord(name[:end], solfege=False)
        except ChordSymbolError:
            continue
    raise ChordSymbolError(name, name)


def _close_section(st: _SongState) -> None:
    if st.bars:
        sec = Section(st.label, tuple(st.bars))
        st.sections.append(sec)
        if st.kind == "chorus":
            st.choruses.append((sec, st.shift))
        st.any_content = True
    st.bars = []


#: The start of the warning for a song without ``{tempo}`` (a command given a tempo drops it).
NO_TEMPO = "no {tempo} in the song"


def _finish(st: _SongState) -> Song:
    _close_section(st)
    if not st.tempo_given and st.sections:
        st.warnings.append(
            f"{Location(st.source, 1, 1)}: {NO_TEMPO}: it plays at 120 BPM "
            "(write {tempo: N}, or give --tempo)"
        )
    title = st.title or (st.source.rsplit("/", 1)[-1].rsplit(".", 1)[0] if st.source else "Untitled")
    first_key = st.first_key
    sounding = None
    for sec in st.sections:
        for b in sec.bars:
            sounding = b.key
            break
        if sounding is not None:
            break
    if sounding is None and first_key is not None:
        sounding = first_key.transpose(st.capo) if st.capo else first_key
    return Song(
        title=title,
        sections=tuple(st.sections),
        composer=st.composer or st.artist,
        style=st.style,
        key=sounding,
        source=st.source,
        warnings=tuple(st.warnings),
    )


# ----------------------------------------------------------------------------- chords


def _read_chord(st: _SongState, text: str, lineno: int, col: int) -> tuple[str, Chord | None]:
    """('chord', chord) / ('nc', None) / ('skip', None) / ('same', None) / ('label', None)."""
    raw = text.strip()
    loc = Location(st.source, lineno, col)
    if not raw or raw.startswith("*"):
        return "skip", None
    if raw == "/":
        return "same", None
    if raw == "^":
        mem = st.memory.get(st.kind)
        if st.recording is mem or not mem or st.memory_pos >= len(mem):
            raise ChartSyntaxError(
                "[^] recalls a chord, but no earlier section of this kind has one here", loc
            )
        ch = mem[st.memory_pos]
        st.memory_pos += 1
        return ("nc", None) if ch is None else ("chord", _sound(st, ch))
    inner = raw[1:-1].strip() if raw.startswith("(") and raw.endswith(")") else raw
    if is_no_chord(inner):
        _remember(st, None)
        return "nc", None
    try:
        chord = _written_chord(st, inner, loc)
    except ChartSyntaxError as exc:
        if not exc.message.startswith("unknown chord"):
            raise
        # ChordPro prints what it does not know as text (the reference reader's
        # non-strict mode); we do the same, never play it, and say so.
        st.warnings.append(f"{loc}: {exc.message}; shown as text, not played")
        return "skip", None
    if chord is None:
        if _LABEL_RE.match(raw) and raw.endswith(":"):
            return "label", None
        st.warnings.append(f"{loc}: unknown chord {raw!r}; shown as text, not played")
        return "skip", None
    _remember(st, chord)
    return "chord", _sound(st, chord)


def _remember(st: _SongState, chord: Chord | None) -> None:
    if st.recording is not None:
        st.recording.append(chord)


def _written_chord(st: _SongState, text: str, loc: Location) -> Chord | None:
    try:
        return parse_chord(text, solfege=st.latin)
    except ChordSymbolError as exc:
        if text in st.defined:
            d = st.defined[text]
            if d is not None:
                return d
            try:
                return _leading_chord(text)
            except ChordSymbolError:
                pass
        if is_numeral(text):
            if st.key is None:
                raise ChartSyntaxError(
                    f"{text!r} is a scale-degree chord: give the song a {{key}}", loc
                ) from None
            return parse_numeral(text, st.key)
        if _LABEL_RE.match(text):
            return None
        raise ChartSyntaxError(f"unknown chord {text!r}: cannot read {exc.bad_part!r}", loc) from None


def _sound(st: _SongState, chord: Chord) -> Chord:
    shift = st.shift
    if shift % 12 == 0:
        return chord
    target = st.sounding_key
    if target is None:
        target = parse_key(str(pc_name(shift % 12, prefer_flats=shift < 0)))
    return transpose_chord(chord, shift, target)


def _inline_slots(st: _SongState, line: str, lineno: int, cols: dict[int, int] | None = None) -> list[_Slot]:
    slots: list[_Slot] = []
    prev_end: int | None = None
    for m in _BRACKET_RE.finditer(line):
        col = (cols or {}).get(m.start(), m.start() + 2)
        kind, chord = _read_chord(st, m.group(1), lineno, col)
        gap = line[prev_end : m.start()] if prev_end is not None else None
        if kind == "skip":
            continue
        if kind == "label":
            continue
        if kind == "same":
            if not slots:
                continue
            chord = slots[-1].chord
        lyric_between = "" if gap is None else _BRACKET_RE.sub("", gap)
        tied = (
            gap is not None
            and len(lyric_between.split()) <= 1
            and not (lyric_between[:1].isspace() and lyric_between.strip())
        )
        slots.append(_Slot(chord, tied, lineno, col))
        prev_end = m.end()
    return slots


def _has_lyrics(line: str) -> bool:
    return bool(_BRACKET_RE.sub("", line).strip(" \t|–-"))


def _lyric_line(st: _SongState, slots: list[_Slot], *, lyrics: bool) -> None:
    if not slots:
        return
    groups: list[list[_Slot]] = []
    pulses = st.time.pulses
    for s in slots:
        if groups and lyrics and s.tied and len(groups[-1]) < pulses:
            groups[-1].append(s)
        else:
            groups.append([s])
    for g in groups:
        _emit_bar(st, _share_beats(g, st.time))


def _share_beats(group: list[_Slot], time: TimeSignature) -> list[tuple[Fraction, Chord | None]]:
    n = len(group)
    p = time.pulses
    base, extra = divmod(p, n)
    out = []
    pos = 0
    for k, s in enumerate(group):
        out.append((time.pulse * pos, s.chord))
        pos += base + (1 if k < extra else 0)
    return out


def _emit_bar(
    st: _SongState,
    events: list[tuple[Fraction, Chord | None]],
    **flags: object,
) -> None:
    evs: list[ChordEvent] = []
    for beat, chord in events:
        if evs and evs[-1].chord == chord and evs[-1].chord is not None:
            continue
        evs.append(ChordEvent(beat, chord))
    # a bar with no chord (| . . . |) keeps the chord sounding that sounds before it, in
    # the order played: after an ending or a jump that is not the bar written before
    comment = st.pending_comment
    st.pending_comment = ""
    bar = Bar(
        chords=tuple(evs),
        time=st.time,
        tempo=st.tempo,
        key=st.sounding_key,
        comment=comment,
    )
    if flags:
        bar = replace(bar, **flags)  # type: ignore[arg-type]
    st.bars.append(bar)


# ----------------------------------------------------------------------- text charts


def _chord_token(tok: str) -> bool:
    t = tok.strip()
    inner = t[1:-1] if t.startswith("(") and t.endswith(")") and len(t) > 2 else t
    if is_no_chord(inner):
        return True
    try:
        c = parse_chord(inner, lowercase_roots=False)
    except ChordSymbolError:
        return False
    if not inner[:1].isupper():
        return False
    return c is not None


_DECOR = {"|", "||", "|:", ":|", "/", "%", "-", "–", "..."}


def _chord_line_tokens(line: str) -> list[str] | None:
    """The chord tokens of a chords-only line, or None when the line is not one."""
    toks = line.split()
    if not toks:
        return None
    out = []
    letters = False
    for k, t in enumerate(toks):
        if t in _DECOR or _BARLINE_RE.match(t) or _REPEAT_COUNT_RE.match(t):
            continue
        if k == 0 and t.endswith(":") and _LABEL_RE.match(t):
            continue
        if not _chord_token(t):
            return None
        if re.match(r"^\(?[A-G]", t):
            letters = True
        out.append(t)
    if not out or not letters:
        return None  # 'La La La' / 'Do Re Mi' alone are lyrics
    return out


def is_chord_line(line: str) -> bool:
    """True for a line of only chord symbols (chords-over-lyrics text)."""
    return _chord_line_tokens(line) is not None


def _merge_over(chord_line: str, lyric: str) -> str:
    """Insert the chords of ``chord_line`` into ``lyric`` at their columns."""
    width = max(len(chord_line), len(lyric))
    text = lyric.ljust(width)
    out = []
    pos = 0
    for m in re.finditer(r"\S+", chord_line):
        tok = m.group(0)
        if tok in _DECOR or _REPEAT_COUNT_RE.match(tok) or (tok.endswith(":") and _LABEL_RE.match(tok)):
            continue
        out.append(text[pos : m.start()])
        out.append(f"[{tok}]")
        pos = m.start()
    out.append(text[pos:])
    return "".join(out).rstrip()


def _col_map(chord_line: str, lyric: str) -> dict[int, int]:
    """Position of each '[' in the merged line -> column of the chord in the chord line."""
    cols: dict[int, int] = {}
    offset = 0
    for m in re.finditer(r"\S+", chord_line):
        tok = m.group(0)
        if tok in _DECOR or _REPEAT_COUNT_RE.match(tok) or (tok.endswith(":") and _LABEL_RE.match(tok)):
            continue
        cols[m.start() + offset] = m.start() + 1
        offset += len(tok) + 2
    return cols


def _chord_only_line(st: _SongState, line: str, lineno: int) -> None:
    toks = list(re.finditer(r"\S+", line))
    if any(_BARLINE_RE.match(t.group(0)) for t in toks):
        gs = _GridState()
        _grid_line(st, gs, line, lineno)
        gs.close(st)
        return
    slots: list[_Slot] = []
    for t in toks:
        tok = t.group(0)
        if tok in _DECOR or _REPEAT_COUNT_RE.match(tok) or (tok.endswith(":") and _LABEL_RE.match(tok)):
            if tok == "/" and slots:
                continue
            continue
        kind, chord = _read_chord(st, tok, lineno, t.start() + 1)
        if kind == "chord" or kind == "nc":
            slots.append(_Slot(chord, False, lineno, t.start() + 1))
    _lyric_line(st, slots, lyrics=False)


# ----------------------------------------------------------------------------- grids


@dataclass
class _GridState:
    repeat_start_next: bool = False
    ending: frozenset[int] = frozenset()

    def close(self, st: _SongState) -> None:
        self.ending = frozenset()


def _grid_line(st: _SongState, gs: _GridState, line: str, lineno: int) -> None:
    d = _DIRECTIVE_RE.match(line)
    if d:
        _directive(st, d.group(1).lower(), d.group(2), lineno, True, d.start(2) + 1)
        return
    toks = [(m.group(0), m.start() + 1) for m in re.finditer(r"\S+", line)]
    first_bar = next((k for k, (t, _) in enumerate(toks) if _BARLINE_RE.match(t)), None)
    if first_bar is None:
        return  # a text line inside a grid
    last_bar = max(k for k, (t, _) in enumerate(toks) if _BARLINE_RE.match(t))
    left = " ".join(t for t, _ in toks[:first_bar])
    right = " ".join(t for t, _ in toks[last_bar + 1 :])
    body = toks[first_bar : last_bar + 1]
    bars_before = len(st.bars)
    cells: list[tuple[str, int]] = []
    started = False
    for tok, col in body:
        if _BARLINE_RE.match(tok):
            if started:
                _grid_bar(st, gs, cells, lineno)
            if tok.startswith(":") and st.bars:
                st.bars[-1] = replace(st.bars[-1], repeat_end=max(st.bars[-1].repeat_end, 2))
                if gs.ending:
                    gs.ending = frozenset()
            if tok.endswith(":") and tok != ":|":
                gs.repeat_start_next = True
            m = re.match(r"^\|(\d+)>?$", tok)
            if m:
                gs.ending = frozenset({int(m.group(1))})
            elif tok in ("||", "|.", ":||"):
                gs.ending = frozenset()
            cells = []
            started = True
        else:
            cells.append((tok, col))
    new = st.bars[bars_before:]
    if new:
        notes = [x for x in (left, right) if x]
        count = None
        if right:
            m = _REPEAT_COUNT_RE.match(right.replace(" ", ""))
            if m:
                count = int(m.group(1) or m.group(2))
                notes = [left] if left else []
        first = len(st.bars) - len(new)
        if notes:
            c = st.bars[first].comment
            st.bars[first] = replace(st.bars[first], comment="; ".join(([c] if c else []) + notes))
        if count is not None:
            st.bars[-1] = replace(st.bars[-1], repeat_end=count)


def _grid_bar(st: _SongState, gs: _GridState, cells: list[tuple[str, int]], lineno: int) -> None:
    if not cells:
        return
    if len(cells) == 1 and cells[0][0] in ("%", "%%"):
        prev = [b for b in st.bars][-1:] if cells[0][0] == "%" else st.bars[-2:]
        if not prev:
            raise ChartSyntaxError(
                "'%' repeats the previous bar, but there is none", Location(st.source, lineno, cells[0][1])
            )
        for b in prev:
            _emit_bar(st, [(ev.beat, ev.chord) for ev in b.chords], **_grid_flags(gs))
        return
    unit = st.time.bar_beats / len(cells)
    events: list[tuple[Fraction, Chord | None]] = []
    for k, (tok, col) in enumerate(cells):
        if tok in (".", "/", "-", "~"):
            continue
        parts = [p for p in tok.split("~")]
        sub = unit / len(parts)
        for j, p in enumerate(parts):
            if p in ("", ".", "/"):
                continue
            kind, chord = _read_chord(st, p, lineno, col)
            if kind in ("chord", "nc"):
                events.append((unit * k + sub * j, chord))
    _emit_bar(st, events, **_grid_flags(gs))


def _grid_flags(gs: _GridState) -> dict[str, object]:
    flags: dict[str, object] = {}
    if gs.repeat_start_next:
        flags["repeat_start"] = True
        gs.repeat_start_next = False
    if gs.ending:
        flags["endings"] = gs.ending
    return flags


# ----------------------------------------------------------------------------- writing


def _quote(s: str) -> str:
    return s.replace("{", "(").replace("}", ")").replace("\n", " ")


def dumps(song: Song) -> str:
    """The song as ChordPro text: metadata, then one grid per section (exact rhythm)."""
    out: list[str] = [f"{{title: {_quote(song.title)}}}"]
    if song.composer:
        out.append(f"{{composer: {_quote(song.composer)}}}")
    if song.style:
        out.append(f"{{meta: style {_quote(song.style)}}}")
    first = next(iter(song.bars), None)
    key = song.key or (first.key if first else None)
    if key is not None:
        out.append(f"{{key: {key}}}")
    time = first.time if first else TimeSignature()
    tempo = first.tempo if first else 120.0
    out.append(f"{{time: {time}}}")
    out.append(f"{{tempo: {_num(tempo)}}}")
    cur_key, cur_time, cur_tempo = key, time, tempo
    for sec in song.sections:
        out.append("")
        out.append(f'{{start_of_grid: label="{_quote(sec.label)}"}}')
        line: list[str] = []
        for n, bar in enumerate(sec.bars):
            changes = []
            if bar.key is not None and bar.key != cur_key:
                changes.append(f"{{key: {bar.key}}}")
                cur_key = bar.key
            if bar.time != cur_time:
                changes.append(f"{{time: {bar.time}}}")
                cur_time = bar.time
            if bar.tempo != cur_tempo:
                changes.append(f"{{tempo: {_num(bar.tempo)}}}")
                cur_tempo = bar.tempo
            if changes or (line and len(line) >= 4) or bar.comment or bar.repeat_start or bar.endings:
                if line:
                    out.append(_grid_text(line, sec.bars[n - len(line) : n], bar))
                    line = []
                out.extend(changes)
            line.append(_bar_cells(bar))
            if bar.repeat_end or bar.comment:
                nxt = sec.bars[n + 1] if n + 1 < len(sec.bars) else None
                out.append(_grid_text(line, sec.bars[n + 1 - len(line) : n + 1], nxt))
                line = []
        if line:
            out.append(_grid_text(line, sec.bars[len(sec.bars) - len(line) :], None))
        out.append("{end_of_grid}")
    return "\n".join(out) + "\n"


#: What a ChordPro grid cannot hold (reported by :func:`dump_bytes`).
_CHORDPRO_LOST = (
    "segno", "coda", "To Coda", "Fine", "D.C./D.S.", "End", "vamp", "hits (!)", "fermatas (~)",
    "pushes (<)", "endings for several passes ([1,2])",
)  # fmt: skip


def dump_bytes(song: Song) -> bytes:
    """The song as UTF-8 ChordPro (see :func:`dumps`).

    A grid has no segno, coda, jumps, Fine/End, vamps, hits, fermatas, pushes nor endings
    for several passes: a song using them is written without them and a
    :class:`~backline.formats.lost.FormLostWarning` says what was left out. A song with no
    bars is refused.
    """
    from backline.formats.lost import bars_item, lost_marks, warn_lost

    if not song.bars:
        raise ChartError("the song has no bars: nothing to write as ChordPro", Location(song.title or "song"))
    text = dumps(song)
    items = lost_marks(song, _CHORDPRO_LOST)
    off = bars_item(
        "chords between 1/12-beat grid cells or outside the bar (moved or dropped)", _off_grid(song)
    )
    if off:
        items.append(off)
    warn_lost(song, "ChordPro", items)
    return text.encode("utf-8")


def _off_grid(song: Song) -> list[int]:
    """1-based written bars whose chords a grid cannot place exactly."""
    return [i + 1 for i, b in enumerate(song.bars) if _grid_of(b)[1]]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _grid_text(cells: list[str], bars: tuple[Bar, ...], after: Bar | None) -> str:
    """One grid row: ``cells`` of ``bars``, with repeat signs, endings and margin notes.
    ``after`` is the bar that follows the row in its grid (None at the end of the grid)."""
    toks: list[str] = []
    for k, (c, b) in enumerate(zip(cells, bars, strict=True)):
        if b.repeat_start:
            opening = "|:"
        elif b.endings and (k == 0 or bars[k - 1].endings != b.endings):
            opening = "|" + str(min(b.endings))
        else:
            opening = "|"
        if toks and toks[-1] == "|":
            toks[-1] = opening
        elif toks and toks[-1] == ":|" and opening == "|:":
            toks[-1] = ":|:"
        elif not (toks and opening == "|"):
            toks.append(opening)
        toks.append(c)
        nxt = bars[k + 1] if k + 1 < len(bars) else after
        if b.repeat_end:
            toks.append(":|")
        elif b.endings and nxt is not None and nxt.endings != b.endings:
            toks.append("||")  # the ending stops here (only ':|' and '||' close one)
        else:
            toks.append("|")
    # the row's comment goes in the right margin, unless the reader would take it for a
    # repeat count or a count must follow: then in the left one (the reader keeps both)
    comment = " ".join(_quote(bars[0].comment).replace("|", "/").split())
    count = f"x{bars[-1].repeat_end}" if bars[-1].repeat_end not in (0, 2) else ""
    left = ""
    if comment and (count or _REPEAT_COUNT_RE.match(comment.replace(" ", ""))):
        left, comment = comment.lstrip("#").strip() or "-", ""
    return " ".join([*([left] if left else []), *toks, *(x for x in (comment, count) if x)])


#: The most cells a grid bar gets; a bar whose chords need a finer grid is written on
#: the :data:`_FALLBACK_UNIT` grid (chords moved to the nearest cell, with a warning).
_MAX_CELLS = 96
_FALLBACK_UNIT = Fraction(1, 12)  # a quarter note in twelve: 16ths and triplets


def _grid_of(bar: Bar) -> tuple[list[str], bool]:
    """The grid cells of ``bar`` and whether a chord had to be moved or dropped to fit
    (a beat on no reasonable grid, or outside the bar)."""
    unit = Fraction(4, bar.time.denominator)
    inside = all(0 <= ev.beat < bar.beats for ev in bar.chords)
    for ev in bar.chords:
        unit = _gcd(unit, ev.beat)
    if not inside or bar.beats / unit > max(Fraction(_MAX_CELLS), bar.beats / _FALLBACK_UNIT):
        unit = _FALLBACK_UNIT
    n = max(math.ceil(bar.beats / unit), 1)
    cells = ["."] * n
    moved = False
    for ev in bar.chords:
        k = min(max(round(ev.beat / unit), 0), n - 1)
        moved = moved or k * unit != ev.beat or cells[k] != "."
        cells[k] = "N.C." if ev.chord is None else ev.chord.name.replace(" ", "")
    return cells, moved


def _bar_cells(bar: Bar) -> str:
    return " ".join(_grid_of(bar)[0])


def _gcd(a: Fraction, b: Fraction) -> Fraction:
    if b == 0:
        return a
    den = a.denominator * b.denominator // math.gcd(a.denominator, b.denominator)
    return Fraction(math.gcd(int(a * den), int(b * den)), den)
