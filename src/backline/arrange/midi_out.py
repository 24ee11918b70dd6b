"""Standard MIDI File output of an arrangement.

Type 1, 480 ticks per quarter note. Track 0 (the conductor) holds the song title,
the tempo map, every time signature change, the key signature (at the start and at every
key change; the style's intro in the first key, its ending in the last), a marker at each
section start, and
ends at the end of the last played bar (so the file lasts exactly as the plan);
then one named track per part with its GM program (drum kits on channel 10, i.e.
channel index 9), volume/pan/reverb from the style's mix, and its notes.
The bytes are written directly (fast, byte-identical for the same arrangement);
:func:`arrangement_to_midi` gives the same file as a :class:`mido.MidiFile`.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from backline.arrange.events import Arrangement, NoteSeq, Part
from backline.model.pitch import Key
from backline.util.atomic import write_bytes_atomic

if TYPE_CHECKING:
    import mido

__all__ = ["PPQ", "arrangement_to_midi_bytes", "arrangement_to_midi", "write_midi"]

PPQ = 480
#: The reverb send (CC 91, as a fraction of 127) of a part whose style does not set one.
DEFAULT_REVERB = 0.2


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def _text(kind: int, text: str) -> bytes:
    data = text.encode("latin-1", errors="replace")
    return bytes((0xFF, kind)) + _vlq(len(data)) + data


def _track(events: list[tuple[int, int, bytes]], end: int = 0) -> bytes:
    """``events``: (tick, order, message bytes) -> an MTrk chunk (sorted, end of track added
    at tick ``end`` or right after the last event, whichever is later)."""
    events.sort(key=lambda e: (e[0], e[1]))
    body = bytearray()
    now = 0
    for tick, _, msg in events:
        body += _vlq(tick - now)
        body += msg
        now = tick
    body += _vlq(max(0, end - now)) + b"\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _tick(beat: float) -> int:
    return max(0, round(beat * PPQ))


def _conductor(arr: Arrangement) -> bytes:
    ev: list[tuple[int, int, bytes]] = [(0, 0, _text(0x03, arr.song.title or "backline"))]
    tm = arr.tempo_map
    for beat, bpm in zip(tm.beats, tm.bpm, strict=True):
        us = max(1, min(0xFFFFFF, round(60_000_000 / bpm)))
        ev.append((_tick(beat), 2, b"\xff\x51\x03" + us.to_bytes(3, "big")))
    prev: tuple[int, int] | None = None
    for b in arr.bars:
        sig = (b.numerator, b.denominator)
        if sig != prev:
            compound = b.denominator == 8 and b.numerator % 3 == 0 and b.numerator > 3
            clocks = max(1, min(255, int(24 * 4 / b.denominator * (3 if compound else 1))))
            dd = int(math.log2(b.denominator))
            ev.append((_tick(b.start_beat), 1, bytes((0xFF, 0x58, 4, b.numerator, dd, clocks, 8))))
            prev = sig
    last: Key | None = None
    for b, key in zip(arr.bars, _bar_keys(arr), strict=True):
        if key is not None and key != last:
            sf, minor = key.fifths, key.mode == "minor"
            ev.append((_tick(b.start_beat), 1, bytes((0xFF, 0x59, 2, sf & 0xFF, int(minor)))))
            last = key
    for m in arr.markers:
        ev.append((_tick(m.beat), 3, _text(0x06, m.text)))
    # the conductor ends exactly at the end of the last played bar: the file lasts as the plan
    return _track(ev, _tick(arr.total_beats))


def _bar_keys(arr: Arrangement) -> list[Key | None]:
    """The key of every played bar: its written bar's key (or the song's); the intro's bars
    take the first written bar's, the ending's the last one's; all None for a song with no key."""
    written = arr.song.bars
    keys: list[Key | None] = []
    for b in arr.bars:
        w = b.written_bar
        keys.append(written[w].key or arr.song.key if w is not None and 0 <= w < len(written) else None)
    first = next((k for k in keys if k is not None), None)
    prev = first
    out: list[Key | None] = []
    for k in keys:
        prev = k if k is not None else prev
        out.append(prev)
    return out


def _vlq_array(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VLQ bytes of every delta: (lengths, flat uint8 bytes)."""
    d = d.astype(np.int64)
    lens = np.ones(len(d), dtype=np.int64)
    lens += d >= 1 << 7
    lens += d >= 1 << 14
    lens += d >= 1 << 21
    total = int(lens.sum())
    out = np.zeros(total, dtype=np.uint8)
    ends = np.cumsum(lens)
    begins = ends - lens
    for j in range(4):
        # byte j counted from the end of each number
        m = lens > j
        pos = ends[m] - 1 - j
        val = (d[m] >> (7 * j)) & 0x7F
        if j > 0:
            val |= 0x80
        out[pos] = val
    del begins
    return lens, out


def note_array(arr: Arrangement, p: Part) -> np.ndarray:
    """The notes of ``p`` as an (n, 4) array (start, duration, pitch, velocity)."""
    if isinstance(p.notes, NoteSeq):
        return p.notes.array
    return np.array([(x.start, x.duration, x.pitch, x.velocity) for x in p.notes], dtype=float).reshape(-1, 4)


def _part_track(p: Part, a: np.ndarray) -> bytes:
    ch = p.channel & 0x0F
    vol = max(0, min(127, round(100 * 10 ** (p.gain_db / 20))))
    pan = max(0, min(127, round(64 + p.pan * 63)))
    rev = max(0, min(127, round((DEFAULT_REVERB if p.reverb is None else p.reverb) * 127)))
    head = bytearray()
    head += b"\x00" + _text(0x03, p.name)
    head += b"\x00" + bytes((0xC0 | ch, p.program & 0x7F))
    head += b"\x00" + bytes((0xB0 | ch, 7, vol))
    head += b"\x00" + bytes((0xB0 | ch, 10, pan))
    head += b"\x00" + bytes((0xB0 | ch, 91, rev))
    n = len(a)
    nc = len(p.controls)
    if n or nc:
        t0 = np.maximum(np.rint(a[:, 0] * PPQ), 0).astype(np.int64)
        t1 = np.maximum(t0 + 1, np.rint((a[:, 0] + a[:, 1]) * PPQ).astype(np.int64))
        pitch = a[:, 2].astype(np.int64) & 0x7F
        vel = np.clip(a[:, 3].astype(np.int64), 1, 127)
        cc = np.array([(c.beat, c.controller, c.value) for c in p.controls], dtype=float).reshape(-1, 3)
        tc = np.maximum(np.rint(cc[:, 0] * PPQ), 0).astype(np.int64)
        ctrl = cc[:, 1].astype(np.int64) & 0x7F
        cval = np.clip(cc[:, 2].astype(np.int64), 0, 127)
        ticks = np.concatenate([t0, t1, tc])
        # note-offs sort before control changes, then note-ons at the same tick, then by
        # pitch or controller (deterministic)
        order_key = np.concatenate([1000 + pitch, 10 + pitch, 500 + ctrl])
        status = np.concatenate([np.full(n, 0x90 | ch), np.full(n, 0x80 | ch), np.full(nc, 0xB0 | ch)])
        d1 = np.concatenate([pitch, pitch, ctrl])
        d2 = np.concatenate([vel, np.zeros(n, dtype=np.int64), cval])
        idx = np.lexsort((order_key, ticks))
        ticks, status, d1, d2 = ticks[idx], status[idx], d1[idx], d2[idx]
        deltas = np.diff(ticks, prepend=0)
        lens, vbytes = _vlq_array(deltas)
        rec = lens + 3
        total = int(rec.sum())
        buf = np.zeros(total, dtype=np.uint8)
        ends = np.cumsum(rec)
        starts = ends - rec
        # vlq bytes go at starts .. starts+len
        vl_ends = np.cumsum(lens)
        vl_starts = vl_ends - lens
        rep = np.repeat(starts - vl_starts, lens)
        buf[np.arange(len(vbytes)) + rep] = vbytes
        buf[ends - 3] = status
        buf[ends - 2] = d1
        buf[ends - 1] = d2
        head += buf.tobytes()
    head += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(head).to_bytes(4, "big") + bytes(head)


def arrangement_to_midi_bytes(arr: Arrangement) -> bytes:
    """The arrangement as the bytes of a type-1 Standard MIDI File."""
    tracks = [_conductor(arr)] + [_part_track(p, note_array(arr, p)) for p in arr.parts]
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big")
    header += PPQ.to_bytes(2, "big")
    return header + b"".join(tracks)


def arrangement_to_midi(arr: Arrangement) -> mido.MidiFile:
    """The arrangement as a :class:`mido.MidiFile` (type 1, 480 ticks per beat)."""
    import mido

    return mido.MidiFile(file=io.BytesIO(arrangement_to_midi_bytes(arr)))


def write_midi(arr: Arrangement, path: str | os.PathLike[str]) -> Path:
    """Write the arrangement to ``path`` atomically; returns the path."""
    return write_bytes_atomic(path, arrangement_to_midi_bytes(arr))
