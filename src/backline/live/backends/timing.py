"""Callback timing for backends: a preallocated ring of durations (no allocation per block)."""

from __future__ import annotations

import numpy as np

__all__ = ["CallbackTimer"]


class CallbackTimer:
    """Durations (ns) of the last ``capacity`` callbacks and the xrun count."""

    def __init__(self, capacity: int = 1 << 20) -> None:
        self.ns = np.zeros(capacity, dtype=np.int64)
        self.count = 0
        self.xruns = 0

    def add(self, ns: int) -> None:
        self.ns[self.count % len(self.ns)] = ns
        self.count += 1

    def durations(self) -> np.ndarray:
        """The recorded durations in seconds (oldest first, at most ``capacity``)."""
        n = min(self.count, len(self.ns))
        if self.count <= len(self.ns):
            d = self.ns[:n]
        else:
            i = self.count % len(self.ns)
            d = np.concatenate([self.ns[i:], self.ns[:i]])
        return d.astype(np.float64) / 1e9

    def reset(self) -> None:
        self.count = 0
        self.xruns = 0


def settle_for_realtime() -> None:
    """Make Python pauses short before the audio starts: collect once, then freeze every
    object alive now (the show: stems, buffers, tables) out of the cyclic garbage
    collector, so later collections scan only new objects; and let the audio thread get
    the interpreter lock within 0.5 ms."""
    import gc
    import sys

    gc.collect()
    gc.freeze()
    sys.setswitchinterval(0.0005)
