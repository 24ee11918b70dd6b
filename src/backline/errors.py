"""The exception hierarchy of backline.

Every error raised on purpose by the library derives from :class:`BacklineError`.
Each subclass also inherits the matching built-in so that callers who catch
``ValueError`` or ``OSError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "BacklineError",
    "ChartError",
    "ChartSyntaxError",
    "ChordSymbolError",
    "FormError",
    "PracticeError",
    "UnknownSectionError",
    "UnknownPartError",
    "FormatNotSupportedError",
    "StyleError",
    "ArrangeError",
    "RenderError",
    "RenderOptionError",
    "SoundFontError",
    "OutputError",
    "AudioInputError",
    "DependencyMissingError",
    "LiveError",
    "Location",
]

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a source something is: a file (or URL/song) and a 1-based line and column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class BacklineError(Exception):
    """Root of every error that backline raises on purpose."""

    exit_code = 1


class ChartError(BacklineError, ValueError):
    """A chart (any format) could not be read or makes no musical sense.

    ``location`` says where: ``file:line:col`` for text formats, the song title
    and bar for URL formats.
    """

    exit_code = 2

    def __init__(self, message: str, location: Location | str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location is not None else message)


class ChartSyntaxError(ChartError):
    """The text of a chart does not follow its format."""


class ChordSymbolError(ChartError):
    """A chord symbol was not understood. Names the symbol and the part not understood."""

    def __init__(self, symbol: str, bad_part: str, location: Location | str | None = None) -> None:
        self.symbol = symbol
        self.bad_part = bad_part
        msg = f"unknown chord symbol {symbol!r}: cannot read {bad_part!r}"
        super().__init__(msg, location)


class FormError(ChartError):
    """Repeats, endings or jumps that cannot be played (e.g. D.S. without a segno)."""


class PracticeError(FormError):
    """A practice option (:mod:`backline.render.practice`) that cannot be applied: zero
    repetitions, a tempo ramp that reaches 0 %."""


class UnknownSectionError(PracticeError, LookupError):
    """No section with that label or number (or a label shared by different sections)."""


class FormatNotSupportedError(BacklineError, ValueError):
    """A file extension or format that backline does not read or write."""

    exit_code = 2


class StyleError(BacklineError, ValueError):
    """An unknown style, or a style file that is not valid."""

    exit_code = 2


class ArrangeError(BacklineError, RuntimeError):
    """The arranger could not play this song in this style."""

    exit_code = 2


class UnknownPartError(ArrangeError, LookupError):
    """No part with that name in the arrangement (muting a part that is not there)."""


class RenderError(BacklineError, RuntimeError):
    """Audio rendering failed (exit code 1: not something the user asked wrongly; see
    :class:`RenderOptionError` for that)."""


class RenderOptionError(RenderError, ValueError):
    """A render option that cannot be honoured: an unknown format, bit depth or part, a
    negative count-in, a malformed ``--loop``/``--program``. The user's mistake: exit 2."""

    exit_code = 2


class SoundFontError(RenderError):
    """A SoundFont is missing, unreadable or corrupt."""

    exit_code = 2


class OutputError(BacklineError, OSError):
    """An output could not be written (unwritable folder, full disk)."""

    exit_code = 2


class AudioInputError(BacklineError, ValueError):
    """An input audio file is unreadable, truncated, silent or otherwise unusable."""

    exit_code = 2


class DependencyMissingError(BacklineError, ImportError):
    """An optional dependency is not installed. The message says how to install it."""

    exit_code = 3


class LiveError(BacklineError, RuntimeError):
    """A problem in the live player (setlist, backend, routing)."""

    exit_code = 2


class TempoError(ChartError):
    """A tempo that is not a finite number of quarter notes per minute within the range
    backline plays (:data:`backline.model.checks.MIN_TEMPO` to ``MAX_TEMPO``, 10-400)."""


class PartNotFoundError(UnknownPartError, KeyError):
    """No part with that name in an arrangement
    (:meth:`backline.arrange.events.Arrangement.part`). Also a ``KeyError``, which that
    method raised before."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class StylePartNotFoundError(StyleError, KeyError):
    """No part with that name in a style (:meth:`backline.arrange.styles.model.Style.part`).
    Also a ``KeyError``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


__all__ += ["TempoError", "PartNotFoundError", "StylePartNotFoundError"]
