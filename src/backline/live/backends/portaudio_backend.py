"""The PortAudio backend (sounddevice ``OutputStream``): any device with enough outputs."""

from __future__ import annotations

import time
from typing import Any

from backline.errors import DependencyMissingError, LiveError
from backline.live.backends.timing import CallbackTimer
from backline.live.engine import Engine

__all__ = ["PortAudioBackend"]


class PortAudioBackend:
    """Run ``engine`` on PortAudio output ``device`` (name or index; None: the default)."""

    def __init__(self, engine: Engine, *, device: str | int | None = None, blocksize: int = 256) -> None:
        if not 1 <= blocksize <= engine.max_block:
            raise LiveError(f"blocksize must be 1..{engine.max_block}")
        self.engine = engine
        self.device = device
        self.blocksize = blocksize
        self.timer = CallbackTimer()
        self.stream: Any = None

    def start(self) -> None:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            raise DependencyMissingError(
                f"the PortAudio backend needs sounddevice and libportaudio2 ({exc})"
            ) from None
        self.engine.prefetcher.start()
        if not self.engine.wait_ready():
            raise LiveError("the first song's audio did not load in time")
        try:
            self.stream = sd.OutputStream(
                samplerate=self.engine.sr,
                blocksize=self.blocksize,
                channels=self.engine.n_out,
                dtype="float32",
                device=self.device,
                callback=self._callback,
            )
            self.stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self.engine.prefetcher.stop()
            raise LiveError(f"cannot open the PortAudio device {self.device!r}: {exc}") from None

    def _callback(self, outdata: Any, frames: int, t: Any, status: Any) -> None:
        t0 = time.perf_counter_ns()
        if status.output_underflow:
            self.timer.xruns += 1
        eng = self.engine
        done = 0
        while done < frames:
            n = min(frames - done, eng.max_block)
            outdata[done : done + n, :] = eng.process(n).T
            done += n
        self.timer.add(time.perf_counter_ns() - t0)

    def stop(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.close()
            self.stream = None
        self.engine.prefetcher.stop()
