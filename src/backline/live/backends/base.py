"""What every real-time backend shares: a start that cleans up after itself when it fails
partway, and use as a context manager (``with JackBackend(engine) as b: ...``)."""

from __future__ import annotations

from typing import Self

__all__ = ["Backend"]


class Backend:
    """Subclasses implement :meth:`_start` (open what they need, in order) and
    :meth:`stop` (close whatever is open: it is also called after a start that failed
    partway, so it must cope with half-opened state)."""

    def start(self) -> None:
        """Start. When it fails partway (the audio not loading, a port that cannot be
        connected), everything it opened is closed again (:meth:`stop`) before the error
        goes on."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
