"""The ``backline`` command."""

from __future__ import annotations

import importlib
import signal
import sys
from types import FrameType

import typer

app = typer.Typer(
    name="backline",
    help="Make, shape and play backing tracks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module registers its commands on ``app`` (or adds a sub-app); imported lazily
# enough: heavy libraries are imported inside the command functions, never here.
_COMMAND_MODULES = (
    "backline.cli.chart_cmds",
    "backline.cli.arrange_cmds",
    "backline.cli.render_cmds",
    "backline.cli.audio_cmds",
    "backline.cli.live_cmds",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


#: the signal (SIGTERM, SIGHUP) that stopped the command, if one did
_stopped_by: list[int] = []


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP (``kill``, ``timeout``, a closed terminal, CI cancelling) stop
    the command as Ctrl-C does: by :class:`KeyboardInterrupt`, so that every ``finally``
    clean-up runs (temporary ``.part`` files, render staging folders)."""
    if not _stopped_by:
        _stopped_by.append(signum)
        raise KeyboardInterrupt


def install_signal_handlers() -> None:
    """Make SIGTERM and SIGHUP raise :class:`KeyboardInterrupt` (main thread only; a
    signal the parent set to be ignored, ``nohup``, stays ignored)."""
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            signal.signal(sig, _raise_interrupt)
        except (ValueError, OSError):  # not the main thread
            return


def main() -> None:
    install_signal_handlers()
    try:
        app()
    except SystemExit as exc:
        if _stopped_by and exc.code == 130:
            sys.exit(128 + _stopped_by[0])  # 143 for SIGTERM, 129 for SIGHUP, as a shell reports it
        raise


if __name__ == "__main__":
    main()
