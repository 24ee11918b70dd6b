"""The ``backline`` command."""

from __future__ import annotations

import importlib

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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
