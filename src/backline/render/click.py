"""The click track: a metronome locked to the arrangement's real beat grid.

:func:`click_times` lists every click (pure, no audio: the live player reuses it);
:func:`render_click` synthesises them into a mono float32 track. Every click's attack
starts exactly at sample ``round(seconds * sample_rate)``.

Conventions (documented choices):

- **Time origin.** The click track starts with the count-in; the arrangement's first
  bar starts at ``count_in_seconds``. ``Click.seconds`` is measured from the start
  of the track, ``Click.beat`` in quarter notes from the arrangement's first bar
  (negative during the count-in).
- **Count-in.** ``count_in_bars=None`` means 1 bar, or 2 bars when the counted pulse
  of the first bar is slower than :data:`SLOW_PULSE_BPM` (70 bpm) or at least
  :data:`FAST_PULSE_BPM` (160 bpm: one fast bar is easy to miss after a song change).
  A fast count-in in four (4/4, 12/8) counts its bars before the last in half time, as a
  band leader counts off "one ... two ... one two three four" (:func:`half_time_count`).
  The count-in uses the first bar's tempo and meter (full bars of that meter, even
  before a pickup). ``0`` disables it.
- **Pulses.** Simple meters (x/2, x/4) click every beat of the denominator.
  Compound meters (6/8, 9/8, 12/8, 6/16...) click the dotted pulse (6/8 = 2 clicks,
  12/8 = 4). Other x/8 and x/16 meters are grouped in 2s with one 3 (5/8 = 3+2,
  7/8 = 2+2+3, 11/8 = 2+2+2+2+3): the table the band plays
  (:func:`backline.arrange.meter.pulse_groups`), so the click accents where the band
  does; each group start is a pulse. ``groupings`` overrides this per meter, e.g.
  ``{(7, 8): (3, 2, 2)}`` (the click only: the band keeps its grouping).
- **Levels.** 0 = bar downbeat (accented: louder and higher), 1 = other pulses,
  2 = subdivisions (softer).
- **Subdivisions.** ``"8ths"`` and ``"16ths"`` add the eighth/sixteenth grid, counted
  from each pulse; ``"triplets"`` splits each pulse in three (triplet eighths in 4/4;
  the eighths in 6/8).
- **Tempo.** Seconds come only from :attr:`Arrangement.tempo_map`, so the click follows
  every tempo change exactly as the music does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import lfilter

from backline.arrange.events import Arrangement, PlanBar
from backline.arrange.meter import pulse_groups as meter_groups
from backline.errors import RenderError

__all__ = [
    "Click",
    "ClickTrack",
    "CLICK_SOUNDS",
    "SUBDIVISIONS",
    "SLOW_PULSE_BPM",
    "FAST_PULSE_BPM",
    "half_time_count",
    "click_times",
    "count_in_seconds",
    "default_count_in_bars",
    "meter_quarters",
    "pulse_groups",
    "render_click",
    "click_sound",
]

SLOW_PULSE_BPM = 70.0
FAST_PULSE_BPM = 160.0
SUBDIVISIONS = ("8ths", "16ths", "triplets")
_LEVEL_GAIN_DB = (0.0, -6.0, -12.0)

Groupings = Mapping[tuple[int, int], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Click:
    """One click: when (seconds from the start of the track), where, and how strong.

    ``bar`` is the arrangement's bar index (negative for count-in bars: -1 is the bar
    just before bar 0); ``pulse`` the counted pulse within the bar (0-based; the number
    a drummer would say minus one); ``level`` 0 downbeat, 1 pulse, 2 subdivision.
    """

    seconds: float
    beat: float
    bar: int
    pulse: int
    level: int

    @property
    def accent(self) -> bool:
        """True on a bar's downbeat."""
        return self.level == 0

    @property
    def count_in(self) -> bool:
        return self.bar < 0


@dataclass(frozen=True)
class ClickTrack:
    """A rendered click: mono float32 ``audio`` covering count-in + arrangement."""

    audio: np.ndarray
    onsets: tuple[Click, ...]
    count_in_seconds: float
    sample_rate: int

    @property
    def duration_seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def pulse_groups(numerator: int, denominator: int, groupings: Groupings | None = None) -> tuple[int, ...]:
    """The bar's pulses as group lengths in denominator units (7/8 -> (2, 2, 3); 4/4 -> (1, 1, 1, 1))."""
    if groupings and (numerator, denominator) in groupings:
        groups = tuple(groupings[(numerator, denominator)])
        if sum(groups) != numerator or any(g < 1 for g in groups):
            raise RenderError(f"click grouping {groups} does not add up to {numerator}/{denominator}")
        return groups
    return meter_groups(numerator, denominator)


def _pulse_offsets(
    numerator: int, denominator: int, subdivision: str | None, groupings: Groupings | None
) -> list[tuple[Fraction, int, int]]:
    """(offset in quarter notes from the downbeat, pulse index, level) for one bar."""
    unit = Fraction(4, denominator)
    out: list[tuple[Fraction, int, int]] = []
    pos = Fraction(0)
    for i, g in enumerate(pulse_groups(numerator, denominator, groupings)):
        length = unit * g
        out.append((pos, i, 0 if i == 0 else 1))
        if subdivision is not None:
            if subdivision == "triplets":
                subs = [length * k / 3 for k in (1, 2)]
            else:
                step = Fraction(1, 2) if subdivision == "8ths" else Fraction(1, 4)
                subs = []
                k = 1
                while step * k < length:
                    subs.append(step * k)
                    k += 1
            out.extend((pos + s, i, 2) for s in subs)
        pos += length
    return out


def _check_subdivision(subdivision: str | None) -> None:
    if subdivision is not None and subdivision not in SUBDIVISIONS:
        raise RenderError(
            f"unknown click subdivision {subdivision!r}; choose one of {', '.join(SUBDIVISIONS)}"
        )


def meter_quarters(pb: PlanBar) -> float:
    """A full bar of ``pb``'s meter in quarter notes (a pickup bar is shorter than its meter)."""
    return pb.numerator * 4 / pb.denominator


def _pulse_bpm(first: PlanBar) -> float:
    groups = pulse_groups(first.numerator, first.denominator)
    return first.tempo / (meter_quarters(first) / len(groups))


def default_count_in_bars(arr: Arrangement) -> int:
    """1 bar, or 2 when the first bar's counted pulse is slower than :data:`SLOW_PULSE_BPM`
    or at least :data:`FAST_PULSE_BPM`."""
    if not arr.bars:
        return 0
    bpm = _pulse_bpm(arr.bars[0])
    return 2 if bpm < SLOW_PULSE_BPM or bpm >= FAST_PULSE_BPM else 1


def half_time_count(first: PlanBar, n_count: int, k: int) -> bool:
    """Whether count-in bar ``k`` (0-based, of ``n_count``) is counted in half time: a
    bar before the last of a fast count-in (pulse at least :data:`FAST_PULSE_BPM`) in a
    meter of four pulses; only its pulses 1 and 3 sound ("one ... two ...")."""
    return (
        k < n_count - 1
        and len(pulse_groups(first.numerator, first.denominator)) == 4
        and _pulse_bpm(first) >= FAST_PULSE_BPM
    )


def _resolve_count_in(arr: Arrangement, count_in_bars: int | None) -> int:
    if count_in_bars is None:
        return default_count_in_bars(arr)
    if count_in_bars < 0:
        raise RenderError(f"count-in must be 0 or more bars, not {count_in_bars}")
    return count_in_bars


def count_in_seconds(arr: Arrangement, count_in_bars: int | None = None) -> float:
    """Length of the count-in (the offset at which the arrangement starts in click/cue tracks)."""
    n = _resolve_count_in(arr, count_in_bars)
    if n == 0 or not arr.bars:
        return 0.0
    first = arr.bars[0]
    return n * meter_quarters(first) * 60.0 / first.tempo


def click_times(
    arr: Arrangement,
    *,
    count_in_bars: int | None = None,
    subdivision: str | None = None,
    groupings: Groupings | None = None,
) -> list[Click]:
    """Every click of the count-in and the arrangement, in time order (no audio).

    Raises :class:`~backline.errors.RenderError` for an unknown subdivision or a
    negative count-in.
    """
    _check_subdivision(subdivision)
    n_count = _resolve_count_in(arr, count_in_bars)
    if not arr.bars:
        return []
    offset = count_in_seconds(arr, n_count)
    first = arr.bars[0]
    clicks: list[Click] = []
    spq = 60.0 / first.tempo
    pattern = _pulse_offsets(first.numerator, first.denominator, subdivision, groupings)
    for k in range(n_count):
        bar_start = -(n_count - k) * meter_quarters(first)
        half = half_time_count(first, n_count, k)
        for off, pulse, level in pattern:
            if half and (pulse % 2 or level == 2):
                continue  # "one ... two ...": pulses 1 and 3, no subdivisions
            beat = bar_start + float(off)
            clicks.append(Click(offset + beat * spq, beat, k - n_count, pulse, level))
    tm = arr.tempo_map
    cache: dict[tuple[int, int], list[tuple[Fraction, int, int]]] = {}
    for pb in arr.bars:
        key = (pb.numerator, pb.denominator)
        if key not in cache:
            cache[key] = _pulse_offsets(pb.numerator, pb.denominator, subdivision, groupings)
        for off, pulse, level in cache[key]:
            if float(off) >= pb.beats - 1e-9:  # a short (pickup) bar: only the clicks inside it
                break
            beat = pb.start_beat + float(off)
            clicks.append(Click(offset + tm.seconds_at(beat), beat, pb.index, pulse, level))
    return clicks


# --- sounds ---------------------------------------------------------------------------


def _env(n: int, sr: int, decay_s: float, attack_s: float = 0.0004) -> np.ndarray:
    t = np.arange(n) / sr
    env = np.exp(-t / decay_s)
    na = max(1, int(attack_s * sr))
    env[:na] *= np.linspace(0.0, 1.0, na + 1)[1:]
    return env


def _sine_blip(sr: int, level: int) -> np.ndarray:
    freq = (1760.0, 1320.0, 1320.0)[level]
    n = int(0.045 * sr)
    t = np.arange(n) / sr
    return np.sin(2 * np.pi * freq * t) * _env(n, sr, 0.012)


def _wood(sr: int, level: int) -> np.ndarray:
    base = (1250.0, 950.0, 950.0)[level]
    n = int(0.040 * sr)
    t = np.arange(n) / sr
    tone = (
        np.sin(2 * np.pi * base * t) * np.exp(-t / 0.010)
        + 0.5 * np.sin(2 * np.pi * base * 2.76 * t) * np.exp(-t / 0.005)
        + 0.25 * np.sin(2 * np.pi * base * 5.4 * t) * np.exp(-t / 0.003)
    )
    rng = np.random.default_rng(7 + level)
    tone += 0.3 * rng.standard_normal(n) * np.exp(-t / 0.0015)
    return tone * _env(n, sr, 1e9, attack_s=0.0002)


def _beep(sr: int, level: int) -> np.ndarray:
    freq = (1000.0, 800.0, 800.0)[level]
    n = int(0.050 * sr)
    t = np.arange(n) / sr
    wave = sum(np.sin(2 * np.pi * freq * h * t) / h for h in (1, 3, 5))
    env = np.ones(n)
    na, nr = max(1, int(0.0005 * sr)), int(0.010 * sr)
    env[:na] = np.linspace(0.0, 1.0, na + 1)[1:]
    env[-nr:] = np.linspace(1.0, 0.0, nr)
    return np.asarray(wave) * env


def _cowbell(sr: int, level: int) -> np.ndarray:
    scale = (1.0, 0.84, 0.84)[level]
    n = int(0.080 * sr)
    t = np.arange(n) / sr
    f1, f2 = 587.0 * scale, 845.0 * scale
    sq = np.sign(np.sin(2 * np.pi * f1 * t)) + np.sign(np.sin(2 * np.pi * f2 * t))
    # Soften the squares (one-pole low-pass), then a fast-then-slow decay.
    a = math.exp(-2 * math.pi * 4000.0 / sr)
    y = np.asarray(lfilter([1 - a], [1.0, -a], sq))
    env = 0.7 * np.exp(-t / 0.008) + 0.3 * np.exp(-t / 0.040)
    return y * env * _env(n, sr, 1e9, attack_s=0.0003)


def _rim(sr: int, level: int) -> np.ndarray:
    freq = (1900.0, 1600.0, 1600.0)[level]
    n = int(0.030 * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(11 + level)
    y = 0.6 * np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.006)
    y += 0.5 * rng.standard_normal(n) * np.exp(-t / 0.002)
    y += 0.3 * np.sin(2 * np.pi * 480.0 * t) * np.exp(-t / 0.004)
    return y * _env(n, sr, 1e9, attack_s=0.0002)


CLICK_SOUNDS: dict[str, Callable[[int, int], np.ndarray]] = {
    "classic": _sine_blip,
    "wood": _wood,
    "beep": _beep,
    "cowbell": _cowbell,
    "rim": _rim,
}

_SOUND_CACHE: dict[tuple[str, int, int], np.ndarray] = {}


def click_sound(sound: str, sample_rate: int, level: int) -> np.ndarray:
    """One click (float32, peak = 1.0 * the level's gain) of ``sound``; attack at sample 0."""
    if sound not in CLICK_SOUNDS:
        raise RenderError(f"unknown click sound {sound!r}; choose one of {', '.join(CLICK_SOUNDS)}")
    key = (sound, sample_rate, level)
    if key not in _SOUND_CACHE:
        y = CLICK_SOUNDS[sound](sample_rate, level)
        y = y / float(np.max(np.abs(y)))
        y *= 10 ** (_LEVEL_GAIN_DB[level] / 20)
        out = y.astype(np.float32)
        out.setflags(write=False)
        _SOUND_CACHE[key] = out
    return _SOUND_CACHE[key]


def render_click(
    arr: Arrangement,
    sample_rate: int,
    *,
    count_in_bars: int | None = None,
    subdivision: str | None = None,
    sound: str = "classic",
    level_db: float = -6.0,
    groupings: Groupings | None = None,
) -> ClickTrack:
    """Render the click of ``arr`` (count-in first) as mono float32 audio.

    ``level_db`` is the peak of an accented click in dBFS; pulses are 6 dB and
    subdivisions 12 dB below it. Each click is cut off (with a 1 ms fade) where the
    next one starts, so clicks never pile up. The audio lasts exactly
    ``round((count_in_seconds + arr.duration_seconds) * sample_rate)`` samples.
    """
    if sample_rate <= 0:
        raise RenderError(f"sample rate must be positive, not {sample_rate}")
    click_sound(sound, sample_rate, 0)  # validate the sound name early
    clicks = click_times(arr, count_in_bars=count_in_bars, subdivision=subdivision, groupings=groupings)
    offset = count_in_seconds(arr, count_in_bars)
    total = round((offset + arr.duration_seconds) * sample_rate)
    audio = np.zeros(total, dtype=np.float32)
    gain = np.float32(10 ** (level_db / 20))
    starts = [round(c.seconds * sample_rate) for c in clicks]
    fade = max(1, sample_rate // 1000)
    for i, (c, s) in enumerate(zip(clicks, starts, strict=True)):
        if s >= total:
            break
        shot = click_sound(sound, sample_rate, c.level)
        end = min(total, s + len(shot))
        if i + 1 < len(starts):
            end = min(end, starts[i + 1])
        n = end - s
        if n <= 0:
            continue
        seg = shot[:n] * gain
        if n < len(shot):
            f = min(fade, n)
            seg[n - f :] *= np.linspace(1.0, 0.0, f, dtype=np.float32)
        audio[s:end] += seg
    return ClickTrack(audio, tuple(clicks), offset, sample_rate)
