"""The arranger end to end over 200+ real songs in all 27 styles: musical checks on the final notes.

Songs come from the shared corpora (iReal jazz1350, pop400, latin, brazilian, blues50,
country, and OpenEWLD MusicXML lead sheets), eight per style, sampled deterministically
from the songs whose meters the style was written for (odd-meter styles also get 4/4
charts re-metered to 5/4, 7/8 and 7/4). Each is arranged by the real engine
(:func:`backline.arrange.engine.arrange`) with intro and ending, and the checks read the
final notes, after swing and humanisation: every note time is mapped back to the chord
sounding there through the same swing warp the engine applies (chord boundaries move with
it), minus the part's constant push/lay-back, with a tolerance of the humanise spread
(2.5 SD of the style's ``timing_ms``).

The targets (issue "Arrangement engine", Must show), measured per style family:
- the bass plays the chord's bass note (slash bass, else root) on >= 97% of chord changes
  (walking bass: >= 92%, and >= 99% on the bass note or another chord tone);
- >= 95% of pitched notes sounding on strong beats are chord tones or idiomatic tensions;
- >= 97% of pitched onsets are in the chord or its chord-scale;
- no note outside its part's range; the length equals the plan and the MIDI file;
- the same seed gives byte-identical MIDI, another seed a different one.

Run with ``-s`` to see the measured table.
"""

from __future__ import annotations

import bisect
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pytest
from ctxutil import STRONG, FlatSpan, flat_spans
from strong_yardstick import strong_pcs

from backline.arrange.context import build_layout
from backline.arrange.engine import arrange
from backline.arrange.events import Arrangement
from backline.arrange.feel import swing_array
from backline.arrange.midi_out import arrangement_to_midi_bytes
from backline.arrange.roles._common import chord_facts
from backline.arrange.styles import Style, StyleRegistry
from backline.model.song import Song, TimeSignature
from corpora import corpora_path

PER_STYLE = 8
SEED = 11
REGISTRY = StyleRegistry.load([])
PITCHED = ("bass", "walking", "comping", "guitar", "pad", "hits")

#: Style family as the issue groups them (the style files' own ``family`` is finer).
FAMILY: dict[str, str] = {
    "medium-swing": "swing/jazz",
    "up-tempo-swing": "swing/jazz",
    "jazz-ballad": "swing/jazz",
    "even-8ths": "swing/jazz",
    "bossa-nova": "latin/brazilian",
    "samba": "latin/brazilian",
    "afro-cuban": "latin/brazilian",
    "latin-jazz": "latin/brazilian",
    "rock": "rock/pop/dance/funk/soul",
    "hard-rock": "rock/pop/dance/funk/soul",
    "pop": "rock/pop/dance/funk/soul",
    "pop-ballad": "rock/pop/dance/funk/soul",
    "dance": "rock/pop/dance/funk/soul",
    "funk": "rock/pop/dance/funk/soul",
    "soul": "rock/pop/dance/funk/soul",
    "rnb-12-8": "blues/shuffle/12-8",
    "blues-shuffle": "blues/shuffle/12-8",
    "slow-blues": "blues/shuffle/12-8",
    "country-train": "country/folk/reggae/gospel",
    "country-two-step": "country/folk/reggae/gospel",
    "folk": "country/folk/reggae/gospel",
    "reggae": "country/folk/reggae/gospel",
    "gospel": "country/folk/reggae/gospel",
    "waltz": "waltz",
    "jazz-waltz": "waltz",
    "odd-5": "odd meters",
    "odd-7": "odd meters",
}

#: Where each style's songs come from (corpus names; ``mxl`` is OpenEWLD MusicXML;
#: ``remeter:N/D`` is a 4/4 iReal chart re-metered to N/D).
POOLS: dict[str, tuple[str, ...]] = {
    "medium-swing": ("jazz1350", "mxl"),
    "up-tempo-swing": ("jazz1350",),
    "jazz-ballad": ("jazz1350", "mxl"),
    "even-8ths": ("jazz1350",),
    "jazz-waltz": ("jazz1350",),
    "bossa-nova": ("brazilian",),
    "samba": ("brazilian",),
    "afro-cuban": ("latin",),
    "latin-jazz": ("latin", "jazz1350"),
    "rock": ("pop400",),
    "hard-rock": ("pop400",),
    "pop": ("pop400", "mxl"),
    "pop-ballad": ("pop400", "mxl"),
    "dance": ("pop400",),
    "funk": ("pop400", "brazilian"),
    "soul": ("pop400",),
    "rnb-12-8": ("blues50", "pop400", "mxl"),
    "blues-shuffle": ("blues50",),
    "slow-blues": ("blues50",),
    "country-train": ("country",),
    "country-two-step": ("country",),
    "folk": ("country", "mxl", "pop400"),
    "reggae": ("pop400",),
    "gospel": ("blues50", "pop400"),
    "waltz": ("pop400", "country", "latin", "brazilian", "mxl"),
    "odd-5": ("jazz1350", "pop400", "brazilian", "remeter:5/4"),
    "odd-7": ("remeter:7/8", "remeter:7/4"),
}


# ----------------------------------------------------------------------------- songs


@cache
def _ireal(name: str) -> tuple[Song, ...]:
    from backline.formats import load_songs

    return tuple(load_songs(corpora_path("ireal", f"{name}.txt")))


@lru_cache(maxsize=1)
def _mxl() -> tuple[Song, ...]:
    from backline.formats import load_songs

    root = corpora_path("musicxml", "openewld")
    files = sorted(Path(root).rglob("*.mxl"))
    out: list[Song] = []
    for f in files[::6]:  # 67 lead sheets, evenly over the collection
        out.extend(load_songs(f))
    return tuple(out)


def _remeter(song: Song, ts: TimeSignature) -> Song | None:
    """``song`` with every bar in ``ts`` (None when a chord would fall outside the bar)."""
    beats = ts.bar_beats
    if any(ev.beat >= beats for b in song.bars for ev in b.chords):
        return None
    secs = tuple(replace(s, bars=tuple(replace(b, time=ts) for b in s.bars)) for s in song.sections)
    return replace(song, sections=secs)


def _pool(src: str) -> Iterator[tuple[str, Song]]:
    if src == "mxl":
        for i, s in enumerate(_mxl()):
            yield f"mxl#{i}", s
    elif src.startswith("remeter:"):
        n, d = src.split(":")[1].split("/")
        ts = TimeSignature(int(n), int(d))
        songs = _ireal("jazz1350")
        for i, s in enumerate(songs[5::41]):
            if all(b.time == TimeSignature(4, 4) for b in s.bars):
                r = _remeter(s, ts)
                if r is not None:
                    yield f"jazz1350#{5 + 41 * i}@{ts}", r
    else:
        for i, s in enumerate(_ireal(src)):
            yield f"{src}#{i}", s


def _fits(song: Song, style: Style) -> bool:
    meters = set(style.meters)
    return bool(song.bars) and all(b.time in meters for b in song.bars)


@dataclass(frozen=True)
class Case:
    style: str
    song_id: str
    song: Song


@lru_cache(maxsize=1)
def cases() -> tuple[Case, ...]:
    """PER_STYLE songs per style, evenly spread over each style's pools, no song used twice."""
    used: set[str] = set()
    out: list[Case] = []
    for name in REGISTRY.names():
        style = REGISTRY.get(name)
        cands = [(sid, s) for src in POOLS[name] for sid, s in _pool(src) if _fits(s, style)]
        # native odd-meter charts first, then the re-metered ones
        picked: list[tuple[str, Song]] = []
        if cands:
            step = max(1, len(cands) // (PER_STYLE * 2))
            order = cands[::step] + cands
            for sid, s in order:
                if sid not in used and len(picked) < PER_STYLE:
                    used.add(sid)
                    picked.append((sid, s))
        out.extend(Case(name, sid, s) for sid, s in picked)
    return tuple(out)


# ----------------------------------------------------------------------------- measurement


@dataclass
class Stats:
    changes: int = 0
    on_bass: int = 0
    on_tone: int = 0
    strong: int = 0
    strong_ok: int = 0
    onsets: int = 0
    in_scale: int = 0
    out_of_range: int = 0
    songs: int = 0
    walking: bool = False
    fails: list[str] = field(default_factory=list)

    def add(self, o: Stats) -> None:
        for k in ("changes", "on_bass", "on_tone", "strong", "strong_ok", "onsets", "in_scale", "out_of_range",
                  "songs"):  # fmt: skip
            setattr(self, k, getattr(self, k) + getattr(o, k))
        self.fails += o.fails

    @property
    def bass_pct(self) -> float:
        return 100.0 * self.on_bass / max(1, self.changes)

    @property
    def tone_pct(self) -> float:
        return 100.0 * (self.on_bass + self.on_tone) / max(1, self.changes)

    @property
    def strong_pct(self) -> float:
        return 100.0 * self.strong_ok / max(1, self.strong)

    @property
    def scale_pct(self) -> float:
        return 100.0 * self.in_scale / max(1, self.onsets)


def _warp(times: np.ndarray, style: Style, grid: object) -> np.ndarray:
    """The engine's swing time warp applied to grid times (identity for straight styles)."""
    if style.feel == "straight" or len(times) == 0:
        return times
    ratio = 2.0 if style.feel == "shuffle" else style.swing
    a = np.zeros((len(times), 4))
    a[:, 0] = times
    return swing_array(a, grid, ratio, sixteenths=style.feel == "swing16")[:, 0]  # type: ignore[arg-type]


class _Harmony:
    """The chord spans of one arrangement on the swung time axis."""

    def __init__(self, spans: Sequence[FlatSpan], style: Style, grid: object) -> None:
        self.spans = list(spans)
        st = _warp(np.array([s.start for s in spans], dtype=float), style, grid)
        en = _warp(np.array([s.end for s in spans], dtype=float), style, grid)
        self.starts = st.tolist()
        self.ends = en.tolist()

    def at(self, t: float, tol: float) -> FlatSpan | None:
        """The span sounding at ``t``; an onset within ``tol`` of a span start belongs to that span."""
        i = bisect.bisect_right(self.starts, t + tol) - 1
        if i < 0:
            return None
        return self.spans[i] if t < self.ends[i] + tol else None


def _measure(arr: Arrangement, style: Style) -> Stats:
    layout = build_layout(arr.song, style)
    assert [b.start_beat for b in layout.plan] == [b.start_beat for b in arr.bars]
    spans = flat_spans(layout.bars)
    harm = _Harmony(spans, style, layout.grid)
    gstarts, _, gtempos, _ = layout.grid.arrays
    hum = style.humanise
    out = Stats(songs=1)
    # strong beats: downbeats and the mid-bar beat of 4/4, 6/8, 12/8, 5/4 ... (never moved by swing)
    strong_beats: list[float] = []
    strong_ok: list[frozenset[int] | None] = []
    for bar in layout.bars:
        for off in STRONG.get((bar.time.numerator, bar.time.denominator), (0.0,)):
            if off < float(bar.beats):
                b = float(bar.start) + off
                sp = harm.at(b, 0.0)
                strong_beats.append(b)
                strong_ok.append(None if sp is None or sp.chord is None else strong_pcs(sp.chord))
    for part in arr.parts:
        if part.role not in PITCHED or not part.notes:
            if part.notes:
                p = np.array([n.pitch for n in part.notes])
                out.out_of_range += int(((p < part.low_note) | (p > part.high_note)).sum())
            continue
        a = np.array([(n.start, n.duration, n.pitch) for n in part.notes], dtype=float)
        out.out_of_range += int(((a[:, 2] < part.low_note) | (a[:, 2] > part.high_note)).sum())
        bar_i = np.clip(np.searchsorted(gstarts, a[:, 0] + 1e-6, side="right") - 1, 0, len(gstarts) - 1)
        beat_ms = 60000.0 / gtempos[bar_i]
        # undo the part's constant push/lay-back; the random spread stays within 2.5 SD
        onset = a[:, 0] - hum.offset_ms(part.name, part.role) / beat_ms
        tol = (2.5 * hum.timing_ms + 1.0) / beat_ms
        end = onset + a[:, 1]
        pcs = (a[:, 2].astype(int) % 12).tolist()
        for t, pc, tl in zip(onset.tolist(), pcs, tol.tolist(), strict=True):
            sp = harm.at(t, tl)
            out.onsets += 1
            if sp is not None and sp.chord is not None and pc in chord_facts(sp.chord).scale:
                out.in_scale += 1
            elif len(out.fails) < 3:
                out.fails.append(f"{part.name} pc {pc} at {t:.3f} over {sp.chord if sp else None}")
        if part.role in ("bass", "walking"):
            out.walking = out.walking or part.role == "walking"
            order = np.argsort(onset, kind="stable")
            on_sorted = onset[order].tolist()
            pcs_sorted = [pcs[j] for j in order.tolist()]
            tol_max = float(tol.max())
            for sp, s in zip(spans, harm.starts, strict=True):
                if not sp.change or sp.chord is None:
                    continue
                lo = bisect.bisect_left(on_sorted, s - tol_max)
                hi = bisect.bisect_right(on_sorted, s + tol_max)
                near = pcs_sorted[lo:hi]
                if not near:
                    # an anticipation (the tumbao's beat 4) tied over the change
                    a0 = bisect.bisect_left(on_sorted, s - 1.0 - tol_max)
                    near = [pcs_sorted[q] for q in range(a0, lo) if end[order[q]] > s + tol_max]
                out.changes += 1
                if sp.chord.bass_pc in near:
                    out.on_bass += 1
                elif any(pc in chord_facts(sp.chord).tones for pc in near):
                    out.on_tone += 1
                elif len(out.fails) < 6:
                    out.fails.append(f"bass {near} at change {s:.3f} to {sp.chord}")
        for k, (t, e, tl) in enumerate(zip(onset.tolist(), end.tolist(), tol.tolist(), strict=True)):
            # the note sounds at a strong beat b when it starts by b (+ tolerance) and lasts past it
            i = bisect.bisect_left(strong_beats, t - tl)
            while i < len(strong_beats) and strong_beats[i] < e - tl:
                ok_pcs = strong_ok[i]
                i += 1
                if ok_pcs is None:
                    continue
                out.strong += 1
                out.strong_ok += pcs[k] in ok_pcs
    return out


def _check_lengths(arr: Arrangement, data: bytes, *, parse: bool) -> None:
    """The plan, the notes and (``parse``: read back with mido, slow) the MIDI file agree."""
    import mido

    last = arr.bars[-1]
    assert arr.total_beats == pytest.approx(last.start_beat + last.beats)
    assert arr.total_beats == pytest.approx(sum(b.beats for b in arr.bars))
    for p in arr.parts:
        assert all(n.start >= 0 and n.start + n.duration <= arr.total_beats + 1e-6 for n in p.notes), p.name
    if not parse:
        return
    mid = mido.MidiFile(file=io.BytesIO(data))
    assert mid.length == pytest.approx(arr.duration_seconds, abs=2e-3)


@lru_cache(maxsize=1)
def results() -> dict[str, Stats]:
    per_style: dict[str, Stats] = {}
    for case in cases():
        style = REGISTRY.get(case.style)
        arr = arrange(case.song, style, registry=REGISTRY, seed=SEED)
        # reading MIDI back with mido is slow: the first song of each style
        _check_lengths(arr, arrangement_to_midi_bytes(arr), parse=case.style not in per_style)
        st = _measure(arr, style)
        st.fails = [f"{case.song_id} {case.song.title}: {f}" for f in st.fails]
        per_style.setdefault(case.style, Stats()).add(st)
        per_style[case.style].walking |= st.walking
    return per_style


def _families(per_style: dict[str, Stats]) -> dict[str, tuple[Stats, Stats]]:
    """family -> (stats of its walking-bass styles, stats of its other styles)."""
    out: dict[str, tuple[Stats, Stats]] = {}
    for name, st in per_style.items():
        walk, other = out.setdefault(FAMILY[name], (Stats(walking=True), Stats()))
        (walk if st.walking else other).add(st)
    return out


def _table(per_style: dict[str, Stats]) -> str:
    rows = ["| style family | songs | changes | bass on bass note % | bass on chord tone % | strong-beat notes | "
            "strong beats ok % | onsets | onsets in scale % |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for fam, (walk, other) in sorted(_families(per_style).items()):
        for label, st in ((fam + " (walking bass)", walk), (fam, other)):
            if st.songs:
                rows.append(f"| {label} | {st.songs} | {st.changes} | {st.bass_pct:.2f} | {st.tone_pct:.2f} | "
                            f"{st.strong} | {st.strong_pct:.2f} | {st.onsets} | {st.scale_pct:.2f} |")  # fmt: skip
    return "\n".join(rows)


# ----------------------------------------------------------------------------- tests


def test_the_sample_covers_200_songs_in_every_style() -> None:
    cs = cases()
    assert len(cs) >= 200
    by_style: dict[str, int] = defaultdict(int)
    for c in cs:
        by_style[c.style] += 1
    assert set(by_style) == set(REGISTRY.names()) and len(by_style) == 27
    assert min(by_style.values()) >= 6
    assert set(FAMILY.values()) == {FAMILY[c.style] for c in cs}


def test_musical_targets_per_style_family() -> None:
    per_style = results()
    print("\n" + _table(per_style))
    for name, st in sorted(per_style.items()):
        print(f"{name:18s} songs {st.songs:2d}  bass {st.bass_pct:6.2f}  tone {st.tone_pct:6.2f}  "
              f"strong {st.strong_pct:6.2f}  scale {st.scale_pct:6.2f}")  # fmt: skip
    for fam, (walk, other) in _families(per_style).items():
        if walk.songs:
            assert walk.bass_pct >= 92.0, (fam, walk.bass_pct)
            assert walk.tone_pct >= 99.0, (fam, walk.tone_pct)
        if other.songs:
            assert other.bass_pct >= 97.0, (fam, other.bass_pct)
        both = Stats()
        both.add(walk)
        both.add(other)
        assert both.strong_pct >= 95.0, (fam, both.strong_pct)
        assert both.scale_pct >= 97.0, (fam, both.scale_pct, both.fails[:5])
        assert both.out_of_range == 0, fam


def test_same_seed_same_bytes_other_seed_differs() -> None:
    seen: set[str] = set()
    for case in cases():
        if case.style in seen:
            continue
        seen.add(case.style)
        a = arrangement_to_midi_bytes(arrange(case.song, case.style, registry=REGISTRY, seed=5))
        b = arrangement_to_midi_bytes(arrange(case.song, case.style, registry=REGISTRY, seed=5))
        c = arrangement_to_midi_bytes(arrange(case.song, case.style, registry=REGISTRY, seed=6))
        assert a == b, case.style
        assert a != c, case.style
    assert len(seen) == 27


def test_chart_bars_follow_the_plan_in_seconds() -> None:
    case = cases()[0]
    arr = arrange(case.song, case.style, registry=REGISTRY, seed=SEED)
    for x, y in zip(arr.bars, arr.bars[1:], strict=False):
        assert y.start_beat == pytest.approx(x.start_beat + x.beats)
        assert y.start_seconds == pytest.approx(x.start_seconds + x.beats * 60.0 / x.tempo)
