"""Audio backends that drive the engine: JACK, PortAudio (and the offline driver in
:mod:`backline.live.offline`). Each calls :meth:`Engine.process` from its audio thread."""

from __future__ import annotations

from backline.live.backends.timing import CallbackTimer

__all__ = ["CallbackTimer"]
