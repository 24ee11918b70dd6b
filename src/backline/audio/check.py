"""Mix check: loudness, true peak, clipping, DC offset, mono compatibility, plain-language warnings.

Streams the file in blocks, so any length is checked in constant memory.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backline.audio.io import clock, iter_blocks, probe
from backline.audio.loudness import LoudnessMeter

__all__ = ["CheckReport", "ClipEvent", "check_audio", "CLIP_LEVEL", "STREAMING_TARGET_LUFS"]

CLIP_LEVEL = 0.999  # |sample| at or above this counts as clipped (full scale)
STREAMING_TARGET_LUFS = -14.0
TRUE_PEAK_LIMIT = -1.0
#: Correlation below this is a mono problem. Unrelated channels (two mono mics, wide
#: reverb, ping-pong delays) sit around 0 and fold to mono fine; only a clear negative
#: correlation means a polarity or phase error that cancels in mono.
PHASE_WARNING_CORRELATION = -0.3
#: A channel whose RMS stays below this (-100 dBFS) while another has sound is dead.
SILENT_CHANNEL_RMS = 1e-5


@dataclass
class ClipEvent:
    """A run of clipped samples; events closer than 50 ms are merged."""

    start: float
    end: float
    samples: int


@dataclass
class CheckReport:
    path: str
    duration: float
    sample_rate: int
    channels: int
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    clipped_samples: int
    clip_events: list[ClipEvent]
    dc_offset: list[float]
    correlation: float | None
    warnings: list[str] = field(default_factory=list)
    #: seconds the WAV header promises beyond the end of the file (cut off); 0 when whole
    missing_seconds: float = 0.0
    #: channels (0-based) that are silent while another has sound
    silent_channels: list[int] = field(default_factory=list)
    #: not-a-number or infinite sample values (a damaged float file), measured as silence
    nonfinite_samples: int = 0
    #: seconds into the file of the first of them (``None`` when there are none)
    nonfinite_first: float | None = None

    @property
    def would_distort(self) -> bool:
        """True when playback would distort: clipped samples, inter-sample peaks above
        0 dBTP, or not-a-number/infinite samples (a damaged file)."""
        return self.clipped_samples > 0 or self.true_peak_dbtp > 0.0 or self.nonfinite_samples > 0

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("integrated_lufs", "true_peak_dbtp", "sample_peak_dbfs"):
            v = d[k]
            d[k] = None if not np.isfinite(v) else round(v, 2)
        d["loudness_range_lu"] = round(d["loudness_range_lu"], 2)
        d["would_distort"] = self.would_distort
        return _finite_json(d)


def _finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float as ``None`` (JSON has no NaN)."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_json(v) for v in value]
    return value


def _clock(t: float) -> str:
    m, s = divmod(round(t), 60)
    return f"{m}:{s:02d}"


def check_audio(path: str | os.PathLike[str]) -> CheckReport:
    """Measure a file and explain what a mix engineer would warn about."""
    info = probe(path)
    sr, ch = info.sample_rate, info.channels
    meter = LoudnessMeter(sr, ch)
    clipped = 0
    events: list[ClipEvent] = []
    sums = np.zeros(ch)
    squares = np.zeros(ch)
    n_total = 0
    sxy = sxx = syy = sx = sy = 0.0
    pos = 0
    nonfinite = 0
    nonfinite_first: float | None = None
    for block in iter_blocks(path, finite=False):
        bad = ~np.isfinite(block)
        if bad.any():
            # counted and reported; measured as silence so the rest of the file is measured
            nonfinite += int(np.count_nonzero(bad))
            if nonfinite_first is None:
                nonfinite_first = (pos + int(np.flatnonzero(bad.any(axis=0))[0])) / sr
            block = np.where(bad, np.float32(0.0), block)
        meter.add(block)
        sums += block.sum(axis=1, dtype=np.float64)
        squares += (block.astype(np.float64) ** 2).sum(axis=1)
        if ch >= 2:
            left = block[0].astype(np.float64)
            right = block[1].astype(np.float64)
            sxy += float(left @ right)
            sxx += float(left @ left)
            syy += float(right @ right)
            sx += float(left.sum())
            sy += float(right.sum())
        hot = np.any(np.abs(block) >= CLIP_LEVEL, axis=0)
        idx = np.flatnonzero(hot)
        if idx.size:
            clipped += int(idx.size)
            times = (idx + pos) / sr
            for t in times:
                if events and t - events[-1].end <= 0.05:
                    events[-1].end = float(t)
                    events[-1].samples += 1
                else:
                    events.append(ClipEvent(float(t), float(t), 1))
        n_total += block.shape[1]
        pos += block.shape[1]
    loud = meter.result()
    dc = (sums / max(n_total, 1)).tolist()
    rms = np.sqrt(squares / max(n_total, 1))
    silent = [
        i for i in range(ch) if ch >= 2 and rms[i] < SILENT_CHANNEL_RMS and rms.max() >= SILENT_CHANNEL_RMS
    ]
    corr: float | None = None
    if ch >= 2 and n_total > 1 and not silent:
        cov = sxy / n_total - (sx / n_total) * (sy / n_total)
        vx = sxx / n_total - (sx / n_total) ** 2
        vy = syy / n_total - (sy / n_total) ** 2
        corr = float(cov / np.sqrt(vx * vy)) if vx > 1e-12 and vy > 1e-12 else 1.0
    report = CheckReport(
        path=str(Path(path)),
        duration=n_total / sr,
        sample_rate=sr,
        channels=ch,
        integrated_lufs=loud.integrated_lufs,
        loudness_range_lu=loud.loudness_range_lu,
        true_peak_dbtp=loud.true_peak_dbtp,
        sample_peak_dbfs=loud.sample_peak_dbfs,
        clipped_samples=clipped,
        clip_events=events,
        dc_offset=[float(x) for x in dc],
        correlation=corr,
        missing_seconds=info.missing_seconds,
        silent_channels=silent,
        nonfinite_samples=nonfinite,
        nonfinite_first=nonfinite_first,
    )
    report.warnings = _warnings(report)
    return report


def _channel_name(i: int, channels: int) -> str:
    if channels == 2:
        return ("left", "right")[i] + " channel"
    return f"channel {i + 1}"


def _warnings(r: CheckReport) -> list[str]:
    w: list[str] = []
    if r.missing_seconds > 0:
        w.append(
            f"the file is truncated: {r.missing_seconds:.1f} s of the length in its header are missing "
            f"(only {r.duration:.1f} s of audio are there)"
        )
    if r.nonfinite_samples:
        at = clock(r.nonfinite_first or 0.0)
        w.append(
            f"the file is damaged: {r.nonfinite_samples} not-a-number/infinite sample"
            f"{'s' if r.nonfinite_samples != 1 else ''}, the first near {at} "
            "(measured here as silence; analyze, click and transcribe refuse the file)"
        )
    if not np.isfinite(r.integrated_lufs):
        if not r.nonfinite_samples:
            w.append("the file is silent (no audio above -70 LUFS)")
        return w
    for i in r.silent_channels:
        w.append(
            f"the {_channel_name(i, r.channels)} is silent: a dead cable or a mono file saved as stereo?"
        )
    if r.clip_events:
        first, last = r.clip_events[0].start, r.clip_events[-1].end
        span = (
            _clock(first) if _clock(first) == _clock(last) else f"between {_clock(first)} and {_clock(last)}"
        )
        n = len(r.clip_events)
        w.append(
            f"clips {n} time{'s' if n != 1 else ''} {('at ' + span) if 'between' not in span else span} ({r.clipped_samples} samples at full scale)"
        )
    if r.true_peak_dbtp > TRUE_PEAK_LIMIT:
        w.append(
            f"true peak {r.true_peak_dbtp:+.1f} dBTP: inter-sample peaks may clip on playback and after "
            f"encoding; keep it at or below {TRUE_PEAK_LIMIT:.0f} dBTP"
        )
    if r.integrated_lufs > STREAMING_TARGET_LUFS + 5:
        w.append(
            f"{r.integrated_lufs:.1f} LUFS: far louder than streaming targets ({STREAMING_TARGET_LUFS:.0f} LUFS)"
        )
    elif r.integrated_lufs < -23:
        w.append(
            f"{r.integrated_lufs:.1f} LUFS: quiet; streaming targets are around {STREAMING_TARGET_LUFS:.0f} LUFS"
        )
    if r.loudness_range_lu < 3 and r.duration > 30:
        w.append(f"loudness range {r.loudness_range_lu:.1f} LU: heavily compressed, little dynamics")
    for i, d in enumerate(r.dc_offset):
        if abs(d) > 0.001:
            w.append(
                f"DC offset on channel {i + 1}: {d:+.4f} ({20 * np.log10(abs(d)):.0f} dBFS); high-pass it"
            )
    if r.correlation is not None and r.correlation < PHASE_WARNING_CORRELATION:
        w.append(
            f"stereo correlation {r.correlation:+.2f}: channels partly out of phase, poor mono compatibility"
        )
    return w
