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


def attach_admin_commands(root: typer.Typer) -> None:
    """Mount `db`, `keys`, `operators` and `import` (imported late: they pull in SQLModel)."""
    from api.admin_cli import db_app, import_app, keys_app, operators_app

    root.add_typer(db_app, name="db")
    root.add_typer(keys_app, name="keys")
    root.add_typer(operators_app, name="operators")
    root.add_typer(import_app, name="import")
    from api.serve_cli import serve

    root.command(name="serve")(serve)


@app.callback()
def root() -> None:
    """keepcab: dispatch that keeps customers. See README.md for the two set-up commands."""


@app.command()
def version() -> None:
    """Print the installed keepcab version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("keepcab"))


def main() -> None:
    attach_admin_commands(app)
    attach_plugin_commands(app)
    app()
