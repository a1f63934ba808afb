"""The `keepcab` command.

The root lives in `api`, the live shell. Commands from packages that `api`
may not import (the simulator: `simulate`, `demo`) register themselves under
the `keepcab.commands` entry-point group and are attached here at start-up,
so the import rules of DESIGN.md hold without a third package.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

app = typer.Typer(
    name="keepcab",
    help="Taxi-dispatch priority engine that keeps customers.",
    no_args_is_help=True,
    add_completion=False,
)


def attach_plugin_commands(root: typer.Typer) -> None:
    """Mount every `keepcab.commands` entry point as a sub-command or group."""
    for entry in sorted(entry_points(group="keepcab.commands"), key=lambda e: e.name):
        target = entry.load()
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=entry.name)
        else:
            root.command(name=entry.name)(target)


@app.callback()
def root() -> None:
    """keepcab: dispatch that keeps customers. See README.md for the two set-up commands."""


@app.command()
def version() -> None:
    """Print the installed keepcab version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("keepcab"))


def main() -> None:
    attach_plugin_commands(app)
    app()
