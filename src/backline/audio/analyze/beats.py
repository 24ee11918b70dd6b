"""Tempo, tempo curve, beats, meter and downbeats from the onset envelope.

- **Tempo.** Autocorrelation of the onset envelope (and of the low-band envelope) in
  8-second windows (every 4 s), summed; each candidate period scores its own peak plus
  its subdivision, its half bar and the low band, times a log-normal prior (see
  :func:`_tempo_scores`). The final tempo is ``60 / median(beat interval)`` of the
  tracked beats.
- **Tempo curve.** The same autocorrelation per window, constrained to +-25% of the
  global tempo and median-smoothed; when it moves by more than 3% the beat tracker
  follows it (librosa's dynamic programming with a time-varying tempo).
- **Beats.** librosa's dynamic programming at that tempo (or along the curve); a steady
  song whose beats slip a sixteenth is tracked again more tightly
  (:func:`dynamic_beats`), then phase checks move the grid onto the kick and bass
  (:func:`_fix_phase`, :func:`_local_phase`).
- **Meter.** A "downbeat-ness" per beat (chord change, bass/kick attack, onset
  strength, each z-scored) is folded over 3 and 4 beats; the meter with the strongest
  contrast wins (:func:`find_meter`).
- **Downbeats.** The bar lines are placed together with the chords
  (:func:`backline.audio.analyze.chords.decode_chords_and_bars`, which may re-sync
  after a dropped or extra beat), with only the beat's loudness
  (:func:`downbeat_evidence`) as the attack's say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backline.audio.analyze.features import ONSET_HOP, PITCH_HOP, SR, Features

__all__ = [
    "BeatResult",
    "estimate_tempo_from_onset",
    "track_beats",
    "beat_attacks",
    "beat_chroma",
    "dynamic_beats",
    "find_meter",
    "downbeat_evidence",
    "half_beat_later",
    "offbeat_contrast",
    "slipped",
]

FPS = SR / ONSET_HOP
_WIN = round(8 * FPS)
_STEP = round(4 * FPS)
MIN_BPM, MAX_BPM = 40.0, 240.0
#: Centre of the tempo prior. Chosen on the rendered evaluation set (tempos 64-200):
#: backing tracks are often fast, and a half-time error is the commonest mistake.
PRIOR_BPM = 140.0
PRIOR_OCTAVES = 0.8
#: Weights of the subdivision, the half bar and the low band in the tempo score.
TEMPO_WEIGHTS = (1.5, 0.6, 1.0)
#: Grid shifts (fractions of a beat) tried by the phase check, and how much stronger
#: the low band must be there than on the tracked beats.
PHASE_SHIFTS = (1 / 3, 1 / 2, 2 / 3)
PHASE_RATIO = 1.5
#: Swing check: when the autocorrelation at both a third and a half of the chosen
#: period stands this far above its median (over an eighth to a whole period), the
#: period holds two swung beats (beats at 0 and 1/2, swung eighths at 1/3 and 5/6) and
#: the tempo is doubled. Straight grooves lack the third, triplet (12/8) feels the half.
SWING_HALF = 0.01
#: 2:3 check: when the tempo 1.5 times the chosen one has at least this share of its
#: evidence (the prior left out), the chosen period is a dotted quarter (a clave
#: groove's anticipations fall three eighths apart) and the faster tempo is the beat.
#: On the evaluation sets latin jazz at 176 BPM has 0.83-0.94 (tracked at 117 before),
#: every other song 0.41 or less; a synthetic shuffle 0.36-0.69 from 70 to 96 BPM.
DOTTED_RATIO = 0.75
#: The flux of a centred frame peaks about this much before the attack (measured on clicks).
ONSET_LAG = 0.030
#: Local phase checks (:func:`_local_phase`) judge the grid over this many beats at a time.
PHASE_WINDOW = 16
#: Off-grid check: a stretch of grid is moved onto the onsets when some other phase's
#: onsets are this many times stronger than the grid's own and the low band there is at
#: least as strong (so an open hi-hat between the kicks does not take the beat).
OFF_GRID_RATIO = 2.0
#: Swung off-beat check: a swung eighth comes late in the beat (0.6-0.8 of it), never
#: early. When a stretch of grid has strong onsets between :data:`SWING_EARLY` of a beat
#: after it and none as strong late in the beat or on the half beat (ratio
#: :data:`SWING_RATIO`), and they are at least :data:`SWING_MAIN` of the grid's own,
#: the grid sits on the swung off-beats and moves forward onto the beats.
SWING_EARLY = (0.18, 0.42)
SWING_RATIO = 2.0
SWING_MAIN = 0.3
#: Slip check: on a steady tempo the tracker (librosa's dynamic programming, tightness
#: 100) may take one beat a sixteenth short or long to sit on another
#: subdivision for a while, when every sixteenth is loud (samba) and another one is
#: louder for a few bars. A song whose tracked beats hold an interval in one of
#: :data:`SLIP_RATIOS` (times the median interval) is tracked again with
#: :data:`SLIP_TIGHTNESS`: a band does not move its beat by a sixteenth.
SLIP_RATIOS = ((0.6, 0.88), (1.12, 1.4))
SLIP_TIGHTNESS = 300.0


@dataclass(frozen=True)
class BeatResult:
    tempo: float
    beats: np.ndarray  # seconds
    tempo_curve: list[tuple[float, float]]  # (seconds, bpm) when it drifts, else []
    confidence: float


def _normalise(o: np.ndarray) -> np.ndarray:
    if len(o) == 0:
        return o
    from scipy.ndimage import uniform_filter1d

    x = o - uniform_filter1d(o, size=int(FPS), mode="nearest")
    return np.maximum(x, 0.0)


def _window_acs(o: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, acs): normalised autocorrelations (windows, max_lag + 1)."""
    n = len(o)
    win = min(_WIN, n)
    starts = np.arange(0, max(1, n - win + 1), _STEP) if n > win else np.array([0])
    nfft = 1 << int(np.ceil(np.log2(2 * max(win, max_lag + 1))))
    hann = np.hanning(win)
    acs = np.zeros((len(starts), max_lag + 1))
    for i, s in enumerate(starts):
        seg = o[s : s + win]
        seg = (seg - seg.mean()) * hann[: len(seg)]
        f = np.fft.rfft(seg, nfft)
        ac = np.fft.irfft(np.abs(f) ** 2)[: max_lag + 1]
        if ac[0] > 0:
            acs[i] = ac / ac[0]
    return starts, acs


def _interp_peak(ac: np.ndarray, k: int) -> float:
    """The lag of the peak at ``k``, refined by a parabola through its neighbours; ``k``
    itself when it is not a local maximum (the highest lag of a searched window can sit
    on a slope, where the parabola's vertex lies far away, even at a negative lag)."""
    if 0 < k < len(ac) - 1:
        a, b, c = ac[k - 1], ac[k], ac[k + 1]
        den = a - 2 * b + c
        if den < 0 and b >= a and b >= c:
            return k + 0.5 * (a - c) / den
    return float(k)


def _tempo_evidence(ac: np.ndarray, ac_low: np.ndarray | None = None) -> np.ndarray:
    """Evidence for each lag as a beat period: the autocorrelation at the lag, plus the
    subdivision (half the lag: a beat is split into eighths), the half bar (twice the
    lag) and the low band (kick and bass) at the lag. Weights :data:`TEMPO_WEIGHTS`,
    chosen on half of the rendered evaluation set (the other half is the check)."""
    lags = np.arange(len(ac), dtype=float)
    pos = np.clip(ac, 0, None)
    w_sub, w_bar, w_low = TEMPO_WEIGHTS
    score = pos + w_sub * np.interp(lags / 2, lags, pos) + w_bar * np.interp(lags * 2, lags, pos, right=0.0)
    if ac_low is not None and len(ac_low) == len(ac):
        score = score + w_low * np.clip(ac_low, 0, None)
    return score


def _tempo_prior(n: int) -> np.ndarray:
    """A log-normal prior over lags 0..n-1 (centre :data:`PRIOR_BPM`,
    :data:`PRIOR_OCTAVES` wide), 0 outside :data:`MIN_BPM`-:data:`MAX_BPM`."""
    lags = np.arange(n, dtype=float)
    with np.errstate(divide="ignore"):
        bpm = 60.0 * FPS / np.maximum(lags, 1e-9)
    prior = np.exp(-0.5 * ((np.log2(np.maximum(bpm, 1e-9)) - np.log2(PRIOR_BPM)) / PRIOR_OCTAVES) ** 2)
    return np.where((bpm >= MIN_BPM) & (bpm <= MAX_BPM), prior, 0.0)


def _tempo_scores(ac: np.ndarray, ac_low: np.ndarray | None = None) -> np.ndarray:
    """Score of each lag as a beat period: the evidence times the prior."""
    return _tempo_evidence(ac, ac_low) * _tempo_prior(len(ac))


def estimate_tempo_from_onset(o: np.ndarray, o_low: np.ndarray | None = None) -> tuple[float, float]:
    """(global tempo in BPM, strength 0..1) from an onset envelope (and the low-band
    onset envelope, when given); (0, 0) when flat."""
    on = _normalise(o)
    if len(on) < int(2 * FPS) or not np.any(on > 0):
        return 0.0, 0.0
    max_lag = int(60 * FPS / MIN_BPM) * 4 + 2
    _, acs = _window_acs(on, max_lag)
    ac = acs.mean(axis=0)
    ac_low = None
    if o_low is not None and len(o_low) == len(o):
        ac_low = _window_acs(_normalise(o_low), max_lag)[1].mean(axis=0)
    evidence = _tempo_evidence(ac, ac_low)
    scores = evidence * _tempo_prior(len(ac))
    if not np.any(scores > 0):
        return 0.0, 0.0
    k = int(np.argmax(scores))
    lag = _interp_peak(ac, k)
    if 120.0 * FPS / lag <= MAX_BPM and _swung_half_time(ac, lag) > SWING_HALF:
        lag /= 2
        k = round(lag)
    else:
        # 2:3 check: a clave groove (the tumbao's anticipations three eighths apart)
        # makes the dotted quarter look like the beat; when two thirds of the period
        # have nearly as much evidence (the prior left out: it would favour any faster
        # tempo below 140 BPM, a slow shuffle's among them), they are the beat.
        third = 2.0 * lag / 3.0
        lo, hi = max(1, int(np.floor(third - 1))), int(np.ceil(third + 1))
        if 60.0 * FPS / third <= MAX_BPM and evidence[lo : hi + 1].max() >= DOTTED_RATIO * evidence[k]:
            k = lo + int(np.argmax(evidence[lo : hi + 1]))
            lag = _interp_peak(ac, k)
    return 60.0 * FPS / lag, float(np.clip(ac[k], 0.0, 1.0))


def _swung_half_time(ac: np.ndarray, lag: float) -> float:
    """How far the autocorrelation at a third and at a half of ``lag`` (the weaker of
    the two) stands above its median between an eighth of ``lag`` and ``lag``."""
    lags = np.arange(len(ac), dtype=float)
    floor = float(np.median(ac[int(lag / 8) : int(lag) + 1]))
    third = float(np.interp(lag / 3, lags, ac))
    half = float(np.interp(lag / 2, lags, ac))
    return min(third, half) - floor


def _tempo_curve(on: np.ndarray, tempo: float) -> tuple[np.ndarray, np.ndarray]:
    """(window centre seconds, bpm) of the local tempo near ``tempo``."""
    max_lag = int(60 * FPS / (tempo / 1.3)) + 2
    starts, acs = _window_acs(on, max_lag)
    lag0 = 60 * FPS / tempo
    lags = np.arange(max_lag + 1)
    near = np.abs(np.log2(np.maximum(lags, 1e-9) / lag0)) < np.log2(1.25)
    local = np.full(len(starts), tempo)
    for i, ac in enumerate(acs):
        if not ac.any():
            continue
        sc = np.where(near, ac, -np.inf)
        k = int(np.argmax(sc))
        local[i] = 60 * FPS / _interp_peak(ac, k)
    if len(local) >= 5:
        from scipy.signal import medfilt

        local = medfilt(local, 5)
    centres = (starts + min(_WIN, len(on)) / 2) / FPS
    return centres, local


def track_beats(feat: Features) -> BeatResult:
    """Beats of the whole file (seconds), the tempo, the tempo curve and a confidence."""
    o = feat.onset.astype(float)
    tempo, strength = estimate_tempo_from_onset(o, feat.onset_low.astype(float))
    if tempo <= 0:
        return BeatResult(0.0, np.zeros(0), [], 0.0)
    on = _normalise(o)
    centres, local = _tempo_curve(on, tempo)
    drift = len(local) > 2 and (local.max() / local.min() > 1.03)
    if drift:
        t = np.arange(len(o)) / FPS
        bpm_arg: float | np.ndarray = np.interp(t, centres, local)
    else:
        bpm_arg = tempo
    beats = _fix_phase(feat, dynamic_beats(o, bpm_arg))
    beats = _local_phase(feat, beats)
    beats = _refine(o, beats) + ONSET_LAG
    beats = _extend(beats, feat)
    if len(beats) >= 3:
        if drift:
            tempo = 60.0 / float(np.median(np.diff(beats)))
        else:
            tempo = 60.0 / float(np.polyfit(np.arange(len(beats)), beats, 1)[0])
    curve: list[tuple[float, float]] = []
    if drift and len(beats) >= 8:
        ibi = np.diff(beats)
        from scipy.signal import medfilt

        sm = medfilt(60.0 / ibi, 7) if len(ibi) >= 7 else 60.0 / ibi
        step = max(1, len(sm) // 64)
        curve = [(round(float(beats[i]), 3), round(float(sm[i]), 2)) for i in range(0, len(sm), step)]
    conf = _beat_confidence(on, beats, strength)
    return BeatResult(float(tempo), beats, curve, conf)


def slipped(beats: np.ndarray) -> bool:
    """Whether an interval between ``beats`` is about a sixteenth off the median
    (:data:`SLIP_RATIOS`): the tracker moved to another subdivision there."""
    if len(beats) < 8:
        return False
    gaps = np.diff(beats)
    ratio = gaps / float(np.median(gaps))
    return any(bool(np.any((ratio > lo) & (ratio < hi))) for lo, hi in SLIP_RATIOS)


def dynamic_beats(o: np.ndarray, bpm: float | np.ndarray) -> np.ndarray:
    """Beats (seconds) of an onset envelope by librosa's dynamic programming at ``bpm``
    (a tempo, or one per frame when it drifts); a steady song whose beats slip
    (:func:`slipped`) is tracked again with :data:`SLIP_TIGHTNESS`."""
    import librosa

    def track(tightness: float) -> np.ndarray:
        _, beats = librosa.beat.beat_track(
            onset_envelope=o,
            sr=SR,
            hop_length=ONSET_HOP,
            bpm=bpm,
            units="time",
            trim=True,
            tightness=tightness,
        )
        return np.asarray(beats, dtype=float)

    beats = track(100.0)
    if np.ndim(bpm) == 0 and slipped(beats):
        beats = track(SLIP_TIGHTNESS)
    return beats


def _peaks(env: np.ndarray, times: np.ndarray, before: int, after: int) -> np.ndarray:
    """The strongest frame of ``env`` from ``before`` frames before to ``after`` frames
    after each of ``times`` (seconds)."""
    idx = np.clip(np.round(times * FPS).astype(int), 0, len(env) - 1)
    return np.array([env[max(0, i - before) : i + after + 1].max() for i in idx])


def _fix_phase(feat: Features, beats: np.ndarray) -> np.ndarray:
    """Move the grid by a third, a half or two thirds of a beat when the kick and bass
    (the low band) hit there much harder than on the tracked beats: the tracker can lock
    onto loud off-beats (hi-hat, skank) or onto the swung eighth of a shuffle."""
    if len(beats) < 8:
        return beats
    period = float(np.median(np.diff(beats)))

    def strength(times: np.ndarray) -> float:
        return float(np.mean(_peaks(feat.onset_low, times, 1, 1)))

    base = strength(beats[:-1])
    best, best_s = 0.0, base
    for frac in PHASE_SHIFTS:
        s = strength(beats[:-1] + frac * period)
        if s > best_s:
            best, best_s = frac, s
    if best > 0 and best_s > PHASE_RATIO * base:
        shifted = beats + best * period
        return shifted[shifted < feat.duration]
    return beats


def _local_phase(feat: Features, beats: np.ndarray) -> np.ndarray:
    """Stretches of grid moved where they belong, :data:`PHASE_WINDOW` beats at a time.

    The tracker keeps one phase through a song, but a groove can change under it: in a
    swung gospel groove the hi-hat's off-beats are louder than the beats, and the tracker
    sits on them through the verses and finds the beat again in the chorus, where the
    ride plays. Two checks, each on onset strengths averaged over the window:

    - *off the onsets*: the grid lies between the onsets (:data:`OFF_GRID_RATIO`);
      that stretch moves to the strongest phase;
    - *on the swung off-beats*: strong onsets come early after each grid beat and
      nothing comes late (:data:`SWING_EARLY`, :data:`SWING_RATIO`, :data:`SWING_MAIN`);
      that stretch moves forward onto them.

    On the rendered evaluation sets (and three more drawn to check it) this lifted the
    gospel songs' beat F-measure from 0.19-0.77 to 0.96-0.99 and two shuffles' from
    0.73-0.87 to 0.97, and left every other song within 0.02 (the tracker alone)."""
    if len(beats) < 8:
        return beats
    from scipy.ndimage import uniform_filter1d

    period = float(np.median(np.diff(beats)))
    on, low = feat.onset.astype(float), feat.onset_low.astype(float)

    def strength(env: np.ndarray, b: np.ndarray, fracs: np.ndarray) -> np.ndarray:
        """(fracs, beats): onset strength at each grid shift, averaged over the window."""
        s = np.stack([_peaks(env, b + f * period, 1, 1) for f in fracs])
        return uniform_filter1d(s, PHASE_WINDOW, axis=-1, mode="nearest")

    def moved(b: np.ndarray, flag: np.ndarray, by: np.ndarray | float) -> np.ndarray:
        out = np.sort(np.where(flag, b + by * period, b))
        out = out[out < feat.duration]
        keep = np.concatenate([[True], np.diff(out) > period / 2])  # where stretches meet
        return out[keep]

    zero = np.zeros(1)
    own, own_low = strength(on, beats, zero)[0], strength(low, beats, zero)[0]
    fracs = np.arange(5, 44) / 48
    other, other_low = strength(on, beats, fracs), strength(low, beats, fracs)
    k = other.argmax(axis=0)
    off = (other.max(axis=0) > OFF_GRID_RATIO * own) & (other_low[k, np.arange(len(k))] >= own_low)
    if off.any():
        beats = moved(beats, off, fracs[k])
        own = strength(on, beats, zero)[0]
    early = np.arange(SWING_EARLY[0], SWING_EARLY[1], 1 / 96)
    e = strength(on, beats, early)
    late = np.maximum(strength(on, beats, 1 - early).max(axis=0), strength(on, beats, np.array([0.5]))[0])
    swung = (e.max(axis=0) > SWING_RATIO * late) & (e.max(axis=0) > SWING_MAIN * own)
    if swung.any():
        beats = moved(beats, swung, float(np.median(early[e.argmax(axis=0)[swung]])))
    return beats


def offbeat_contrast(feat: Features, beats: np.ndarray) -> float:
    """How loud the off-beats are against the beats: the log ratio of onset strength
    (full band plus low band, the strongest frame within 70 ms) on the grid moved by
    half a beat against the grid itself. Clearly below 0 (about -2 and lower on straight
    grooves, waltzes and shuffles) the onsets name the beat; near 0 (funk, bossa nova)
    the groove is too syncopated for them to tell the beat from the off-beat."""
    if len(beats) < 8:
        return -np.inf
    b = beats - ONSET_LAG
    period = float(np.median(np.diff(b)))

    def strength(env: np.ndarray, times: np.ndarray) -> float:
        return float(np.mean(_peaks(env, times, 3, 3))) + 1e-9

    return float(
        sum(
            np.log(strength(env, b[:-1] + period / 2) / strength(env, b[:-1]))
            for env in (feat.onset, feat.onset_low)
        )
    )


def half_beat_later(beats: np.ndarray, duration: float) -> np.ndarray:
    """The beat grid moved by half a beat (the off-beats), within the file."""
    period = float(np.median(np.diff(beats)))
    later = beats + period / 2
    later = later[later < duration]
    if beats[0] - period / 2 >= 0:
        later = np.concatenate([[beats[0] - period / 2], later])
    return later


def _refine(o: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Move each beat to the sub-frame peak of the onset envelope within one frame."""
    out = beats.copy()
    for i, b in enumerate(beats):
        k = round(b * FPS)
        if k < 1 or k >= len(o) - 1:
            continue
        j = k - 1 + int(np.argmax(o[k - 1 : k + 2]))
        if 0 < j < len(o) - 1:
            a, c, e = o[j - 1], o[j], o[j + 1]
            den = a - 2 * c + e
            shift = 0.5 * (a - e) / den if den < 0 else 0.0
            out[i] = (j + float(np.clip(shift, -0.5, 0.5))) / FPS
    return out


def _extend(beats: np.ndarray, feat: Features) -> np.ndarray:
    """Continue the beat grid to the start and end of the music (the tracker trims weak
    edge beats; a band that starts on beat one should have that beat)."""
    if len(beats) < 4:
        return beats
    rms = feat.rms
    loud = rms > (np.percentile(rms, 90) * 10 ** (-30 / 20)) if len(rms) else np.zeros(0, bool)

    def sounding(t: float) -> bool:
        k = round(t * FPS)
        return 0 <= k < len(loud) and bool(loud[max(0, k - 1) : k + 3].any())

    period = float(np.median(np.diff(beats[:8])))
    head: list[float] = []
    t = beats[0] - period
    while t >= -0.05 and sounding(max(t, 0.0)):
        head.append(max(t, 0.0))
        t -= period
    period = float(np.median(np.diff(beats[-8:])))
    tail: list[float] = []
    t = beats[-1] + period
    while t < feat.duration - 0.05 and sounding(t):
        tail.append(t)
        t += period
    return np.concatenate([head[::-1], beats, tail])


def _beat_confidence(on: np.ndarray, beats: np.ndarray, strength: float) -> float:
    if len(beats) < 4 or not np.any(on > 0):
        return 0.0
    at = _peaks(on, beats, 2, 2).mean()
    off = _peaks(on, (beats[:-1] + beats[1:]) / 2, 2, 2).mean()
    contrast = (at - off) / (at + off + 1e-9)
    periodic = np.clip((strength - 0.2) / 0.4, 0, 1)  # noise stays below 0.2, music above 0.5
    return float(np.clip(0.3 * np.clip(contrast * 2, 0, 1) + 0.7 * periodic, 0, 1))


def beat_chroma(feat: Features, beats: np.ndarray, *, low: int = 0, high: int = 84) -> np.ndarray:
    """(n_pitch_rows, len(beats)) of mean pitch-salience per beat (beat i to beat i+1)."""
    p = feat.pitch[low:high]
    n = p.shape[1]
    if len(beats) == 0 or n == 0:
        return np.zeros((p.shape[0], len(beats)))
    bounds = np.append(beats, beats[-1] + (np.median(np.diff(beats)) if len(beats) > 1 else 0.5))
    fr = np.clip(np.round(bounds * SR / PITCH_HOP).astype(int), 0, n)
    cs = np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(p, axis=1)], axis=1)
    lo, hi = fr[:-1], np.maximum(fr[1:], fr[:-1] + 1)
    hi = np.minimum(hi, n)
    lo = np.minimum(lo, hi - 1).clip(0)
    return (cs[:, hi] - cs[:, lo]) / np.maximum(hi - lo, 1)


def _z(x: np.ndarray, floor: float) -> np.ndarray:
    """z-score, with the spread floored so that noise on a flat feature is not amplified."""
    return (x - x.mean()) / max(float(x.std()), floor)


def downbeat_evidence(feat: Features, beats: np.ndarray) -> np.ndarray:
    """How much each beat sounds like a downbeat from its sound alone: its loudness
    (z-scored; crashes and the band's accents). The kick and the onset strength were
    tried too and left out: a kick on 1 and 3 and a snare on 2 and 4 mislead more than
    they help once chord changes place the bar lines
    (:func:`backline.audio.analyze.chords.decode_chords_and_bars`)."""
    if len(beats) == 0:
        return np.zeros(0)
    loud = _peaks(feat.rms, beats, 1, 2)
    return 0.5 * _z(20 * np.log10(np.maximum(loud, 1e-6)), 1.0)


def beat_attacks(feat: Features, beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low band, full band): each beat's strongest onset (within two frames)."""
    return _peaks(feat.onset_low, beats, 2, 2), _peaks(feat.onset, beats, 2, 2)


def _attack_evidence(feat: Features, beats: np.ndarray) -> np.ndarray:
    """Downbeat evidence for the meter: the low band, the onset strength and the loudness."""
    low, ons = beat_attacks(feat, beats)
    return 0.6 * _z(low, 0.5) + 0.3 * _z(ons, 0.2 * float(ons.mean()) + 1e-9) + downbeat_evidence(feat, beats)


def _downbeat_feature(feat: Features, beats: np.ndarray, chord_change: np.ndarray) -> np.ndarray:
    """Downbeat-ness per beat: the chord change plus the attack (:func:`_attack_evidence`)."""
    return 1.0 * _z(chord_change, 0.05) + _attack_evidence(feat, beats)


def _meter_of(f: np.ndarray) -> int:
    """3 or 4: the fold of the downbeat feature with the strongest contrast."""
    best: tuple[float, int] = (-np.inf, 4)
    for m in (4, 3):
        means = [f[p::m].mean() for p in range(m)]
        contrast = max(means) - float(np.mean(means))
        contrast *= 1.0 if m == 4 else 0.9  # 4/4 is more common: it needs less evidence
        if contrast > best[0]:
            best = (contrast, m)
    return best[1]


def find_meter(feat: Features, beats: np.ndarray, chord_change: np.ndarray) -> int:
    """Beats per bar (3 or 4; 4 when there are too few beats to tell), from the chord
    change on each beat (:func:`backline.audio.analyze.chords.chord_change_curve`) and
    its attack."""
    if len(beats) < 6:
        return 4
    return _meter_of(_downbeat_feature(feat, beats, chord_change))
