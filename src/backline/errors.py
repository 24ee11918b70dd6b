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


class FormatNotSupportedError(BacklineError, ValueError):
    """A file extension or format that backline does not read or write."""

    exit_code = 2


class StyleError(BacklineError, ValueError):
    """An unknown style, or a style file that is not valid."""

    exit_code = 2


class ArrangeError(BacklineError, RuntimeError):
    """The arranger could not play this song in this style."""

    exit_code = 2


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
