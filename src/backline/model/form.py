"""Form expansion: the written bars of a song in playback order.

:func:`expand` follows repeats (with counts), first/second/Nth endings, D.C. and
D.S. (al Coda, al Fine, al Nth ending), segno, To Coda, coda, fine and end marks,
and returns a :class:`Timeline`: every played bar with its written index, section,
start beat and pass number. The arranger, the renderer and the live player all
use this one timeline.

Conventions (those of printed charts and iReal Pro):
- a ``:|`` with no ``|:`` before it goes back to the start of the song;
- after a D.C. or D.S. the repeats are not taken again and the last ending is
  played, unless the jump says "al 1st/2nd ending";
- "To Coda" is taken after the jump; in a chart with no D.C./D.S. (iReal Pro's
  convention) it is taken on the last time through, so a single chorus skips to the
  coda; "Fine" ends the song only after the jump;
- "End" (iReal's ``U``) ends the song on the last time through: inside a repeat only
  on its final pass, and in a chart with a D.C./D.S. only after the jump (an End in a
  first ending next to a Fine is where the D.C. al Fine stops, not the first pass).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from backline.errors import FormError
from backline.model.song import Bar, ChordEvent, Song

__all__ = ["PlayedBar", "Timeline", "expand", "MAX_PLAYED_BARS"]

MAX_PLAYED_BARS = 20000


@dataclass(frozen=True, slots=True)
class PlayedBar:
    """One bar of the playback order.

    ``pass_number`` counts the times through the repeat this bar belongs to (1 outside
    repeats); ``section_start`` marks the first bar of a section as played.
    """

    index: int
    written: int
    section: str
    section_index: int
    bar: Bar
    start_beat: Fraction
    pass_number: int = 1
    section_start: bool = False

    @property
    def end_beat(self) -> Fraction:
        return self.start_beat + self.bar.beats


@dataclass(frozen=True)
class Timeline:
    """The playback order of a song, with beat positions and a tempo map."""

    song: Song
    bars: tuple[PlayedBar, ...]

    def __len__(self) -> int:
        return len(self.bars)

    def __iter__(self) -> Iterator[PlayedBar]:
        return iter(self.bars)

    @property
    def total_beats(self) -> Fraction:
        return self.bars[-1].end_beat if self.bars else Fraction(0)

    def chord_spans(self) -> Iterator[tuple[Fraction, Fraction, ChordEvent, PlayedBar]]:
        """(start beat, duration, event, bar) for every chord event in playback order.

        A chord lasts until the next event (crossing bar lines when the next bar
        has no chord at its downbeat).
        """
        flat: list[tuple[Fraction, ChordEvent, PlayedBar]] = []
        for pb in self.bars:
            for ev in pb.bar.chords:
                flat.append((pb.start_beat + ev.beat, ev, pb))
        end = self.total_beats
        for i, (start, ev, pb) in enumerate(flat):
            nxt = flat[i + 1][0] if i + 1 < len(flat) else end
            yield start, nxt - start, ev, pb

    def bar_at(self, beat: Fraction | float) -> PlayedBar:
        """The played bar containing ``beat``."""
        starts = [b.start_beat for b in self.bars]
        i = bisect.bisect_right(starts, beat) - 1
        return self.bars[max(0, min(i, len(self.bars) - 1))]

    def seconds_at(self, beat: Fraction | float) -> float:
        """Seconds from the start of the timeline to ``beat`` (tempo constant per bar)."""
        return self.tempo_map().seconds_at(float(beat))

    def tempo_map(self) -> TempoMap:
        return TempoMap.from_timeline(self)


@dataclass(frozen=True)
class TempoMap:
    """Piecewise-constant tempo: ``beats[i]`` (quarter notes) starts ``bpm[i]``."""

    beats: tuple[float, ...]
    bpm: tuple[float, ...]
    seconds: tuple[float, ...]

    @classmethod
    def from_segments(cls, segments: list[tuple[float, float]]) -> TempoMap:
        beats: list[float] = []
        bpms: list[float] = []
        for b, t in segments:
            if bpms and abs(bpms[-1] - t) < 1e-9:
                continue
            if beats and abs(beats[-1] - b) < 1e-12:
                bpms[-1] = t
                continue
            beats.append(b)
            bpms.append(t)
        if not beats:
            beats, bpms = [0.0], [120.0]
        secs = [0.0]
        for i in range(1, len(beats)):
            secs.append(secs[-1] + (beats[i] - beats[i - 1]) * 60.0 / bpms[i - 1])
        return cls(tuple(beats), tuple(bpms), tuple(secs))

    @classmethod
    def from_timeline(cls, tl: Timeline) -> TempoMap:
        return cls.from_segments([(float(pb.start_beat), pb.bar.tempo) for pb in tl.bars])

    def seconds_at(self, beat: float) -> float:
        i = max(0, bisect.bisect_right(self.beats, beat) - 1)
        return self.seconds[i] + (beat - self.beats[i]) * 60.0 / self.bpm[i]

    def beat_at(self, seconds: float) -> float:
        i = max(0, bisect.bisect_right(self.seconds, seconds) - 1)
        return self.beats[i] + (seconds - self.seconds[i]) * self.bpm[i] / 60.0

    def shifted(self, beats: float, bpm: float | None = None) -> TempoMap:
        """This map with ``beats`` of lead-in prepended (count-in or intro) at ``bpm``."""
        lead = bpm if bpm is not None else self.bpm[0]
        segs = [(0.0, lead)] + [(b + beats, t) for b, t in zip(self.beats, self.bpm, strict=True)]
        return TempoMap.from_segments(segs)


def _repeat_starts(bars: tuple[Bar, ...]) -> list[int]:
    """For every bar, the index of the ``|:`` that governs it (0 when there is none).

    One pass, carrying the last ``|:`` forward (linear in the number of bars).
    """
    out: list[int] = []
    last = 0
    for j, b in enumerate(bars):
        if b.repeat_start:
            last = j
        out.append(last)
    return out


def _inside_repeat(bars: tuple[Bar, ...], pos: int, start: int) -> bool:
    """True when bar ``pos`` lies between the ``|:`` at ``start`` and a ``:|`` that closes it."""
    if not bars[start].repeat_start and start != 0:
        return False
    for k in range(pos, len(bars)):
        if k > pos and bars[k].repeat_start:
            return False
        if bars[k].repeat_end:
            return True
    return False


def _final_pass(bars: tuple[Bar, ...], start: int) -> int:
    """The number of passes through the repeat opened at ``start``."""
    times = 1
    for j in range(start, len(bars)):
        b = bars[j]
        if j > start and b.repeat_start and not b.endings:
            break
        if b.endings:
            times = max(times, max(b.endings))
        if b.repeat_end:
            times = max(times, b.repeat_end)
    return times


def expand(song: Song, choruses: int = 1) -> Timeline:
    """Expand the form of ``song`` into its playback order, ``choruses`` times through.

    In a chart without D.C./D.S., the coda (after "To Coda") is played only on the
    last chorus, as iReal Pro does; earlier choruses go back to the top before it.

    Raises :class:`~backline.errors.FormError` for D.S. without a segno, a To Coda
    without a coda, or a form that does not end.
    """
    if choruses < 1:
        raise FormError("choruses must be at least 1", song.title or song.source)
    flat: list[tuple[int, str, Bar]] = []
    for si, sec in enumerate(song.sections):
        for b in sec.bars:
            flat.append((si, sec.label, b))
    bars = tuple(b for _, _, b in flat)
    out: list[PlayedBar] = []
    if not bars:
        return Timeline(song, ())
    if len(bars) > MAX_PLAYED_BARS:
        raise FormError(
            f"the chart has {len(bars)} bars: at most {MAX_PLAYED_BARS} can be played",
            song.title or song.source,
        )
    repeat_of = _repeat_starts(bars)
    in_repeat = [bool(b.endings) for b in bars]
    marked = 0  # bars before this index are already marked (repeat_of never decreases)
    for k, b in enumerate(bars):
        if b.repeat_end:
            for i in range(max(repeat_of[k], marked), k + 1):
                in_repeat[i] = True
            marked = k + 1
    has_jump = any(b.jump is not None for b in bars)
    has_to_coda = any(b.to_coda for b in bars)
    beat = Fraction(0)
    for chorus in range(choruses):
        last = chorus == choruses - 1
        beat = _play_once(song, flat, bars, repeat_of, in_repeat, has_jump, has_to_coda, last, out, beat)
    return Timeline(song, tuple(out))


def _play_once(
    song: Song,
    flat: list[tuple[int, str, Bar]],
    bars: tuple[Bar, ...],
    repeat_of: list[int],
    in_repeat: list[bool],
    has_jump: bool,
    has_to_coda: bool,
    last: bool,
    out: list[PlayedBar],
    beat: Fraction,
) -> Fraction:
    """Append one chorus of the form to ``out``; return the beat where it ends."""
    n = len(bars)
    where = song.title or song.source
    passes: dict[int, int] = {}
    jumped = False
    until = "end"
    back_jump = False
    pos = 0
    prev_written = -2
    prev_section = -1
    while 0 <= pos < n:
        bar = bars[pos]
        j = repeat_of[pos]
        if bar.coda and has_to_coda and not has_jump and not last:
            break  # iReal convention: the coda is for the last chorus only
        if bar.repeat_start and not back_jump:
            if jumped:
                passes[pos] = int(until) if until.isdigit() else _final_pass(bars, pos)
            else:
                passes[pos] = 1
        back_jump = False
        if j in passes:
            p = passes[j]
        elif jumped:
            p = int(until) if until.isdigit() else _final_pass(bars, j)
        else:
            p = 1
        if bar.endings and p not in bar.endings:
            pos += 1
            continue
        si, label, _ = flat[pos]
        section_start = si != prev_section or (pos != prev_written + 1 and _is_section_head(flat, pos))
        out.append(PlayedBar(len(out), pos, label, si, bar, beat, p if in_repeat[pos] else 1, section_start))
        if len(out) > MAX_PLAYED_BARS:
            raise FormError(f"form does not end after {MAX_PLAYED_BARS} bars", where)
        beat += bar.beats
        prev_written, prev_section = pos, si
        if bar.end and _ends_here(bars, pos, j, p, in_repeat[pos], jumped, has_jump):
            break
        if bar.fine and jumped and until in ("fine", "end"):
            break
        take_coda = jumped and until == "coda"
        if bar.to_coda and not has_jump and last:
            # iReal Pro's convention: with no D.C./D.S., "To Coda" is taken on the last
            # time through (the final pass of a repeat that contains it).
            take_coda = p >= _final_pass(bars, j) if _inside_repeat(bars, pos, j) else True
        if bar.to_coda and take_coda:
            target = next((k for k in range(pos + 1, n) if bars[k].coda), None)
            if target is None:
                raise FormError(f"'To Coda' in bar {pos + 1} but no coda follows", where)
            pos = target
            continue
        if bar.repeat_end and not jumped and p < max(bar.repeat_end, 1):
            passes[j] = p + 1
            pos = j
            back_jump = True
            continue
        if bar.jump is not None and not jumped:
            jumped = True
            until = bar.jump.until
            if bar.jump.kind == "DC":
                pos = 0
            else:
                seg = next((k for k in range(n) if bars[k].segno), None)
                if seg is None:
                    raise FormError(f"D.S. in bar {pos + 1} but the chart has no segno", where)
                pos = seg
            passes = {}
            continue
        pos += 1
    return beat


def _ends_here(
    bars: tuple[Bar, ...], pos: int, start: int, p: int, in_repeat: bool, jumped: bool, has_jump: bool
) -> bool:
    """Whether the End mark on bar ``pos`` stops the song now: after the jump, or, in a
    chart with no D.C./D.S. still to take, on the final pass of the repeat it is in."""
    if jumped:
        return True
    if has_jump:
        return False
    return not in_repeat or p >= _final_pass(bars, start)


def _is_section_head(flat: list[tuple[int, str, Bar]], pos: int) -> bool:
    return pos == 0 or flat[pos - 1][0] != flat[pos][0]
