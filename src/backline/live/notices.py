"""Reading the engine's notices from a display: what is new since the last look.

The engine appends :class:`~backline.live.engine.Notice` objects to ``Engine.notices``
(a bounded deque) from the audio callback. A display (the terminal UI, the plain status
line) polls :class:`NoticeReader` to get the notices that arrived since its last poll,
and shows the ``error`` ones (a jump to a section the song does not have ...), which
would otherwise pass unseen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backline.live.engine import Engine, Notice

__all__ = ["NoticeReader", "error_messages"]


class NoticeReader:
    """The notices of ``engine`` that are new since the previous :meth:`new` (the first
    call: those since the reader was made)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last: Notice | None = engine.notices[-1] if engine.notices else None

    def new(self) -> list[Notice]:
        """Notices appended since the last call, oldest first."""
        items = self.engine.notices.copy()  # one C call: the callback cannot change it meanwhile
        if not items:
            return []
        last, self._last = self._last, items[-1]
        if last is None:
            return list(items)
        for i in range(len(items) - 1, -1, -1):
            if items[i] is last:  # identity: two notices can be equal
                return list(items)[i + 1 :]
        return list(items)  # the last one seen has left the bounded deque: all are new


def error_messages(notices: Iterable[Notice]) -> list[str]:
    """The text of each ``error`` notice (the engine could not do what it was asked)."""
    return [str(n.a) for n in notices if n.kind == "error"]
