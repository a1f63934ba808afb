"""Administration commands of `keepcab`: `db`, `keys`, `operators`, `import`.

Each command opens its own engine from `KEEPCAB_DATABASE_URL` (or `--database-url`),
does one thing in one transaction and disposes of the engine, so nothing
connects at import and a failed command leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from alembic import command
from sqlmodel import Session, col, select

from api.auth import (
    create_api_key,
    create_operator,
    disable_operator,
    revoke_api_key,
    set_operator_password,
)
from api.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    make_session_factory,
    upgrade_database,
)
from api.import_store import store_export
from api.importer import read_export, write_rejects
from api.models import ApiKey, Driver, OperatorAccount, Role
from api.settings import Settings
from valuation.params import DEFAULT_PARAMS, ValuationParams

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys for machines (phone system, driver apps, scripts).", no_args_is_help=True
)
operators_app = typer.Typer(help="People who log in to the console.", no_args_is_help=True)
import_app = typer.Typer(help="Bootstrap from another system's export.", no_args_is_help=True)

DatabaseUrl = typer.Option(None, "--database-url", help="Overrides KEEPCAB_DATABASE_URL.")


def _url(database_url: str | None) -> str:
    return database_url or Settings().database_url


@contextmanager
def _transaction(database_url: str | None) -> Iterator[Session]:
    engine = make_engine(_url(database_url))
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head"), database_url: str | None = DatabaseUrl) -> None:
    """Create or migrate the schema (safe to run on every deploy)."""
    url = _url(database_url)
    upgrade_database(url, revision)
    engine = make_engine(url)
    try:
        typer.echo(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current(database_url: str | None = DatabaseUrl) -> None:
    """Print the schema revision of the database and the newest one this code knows."""
    engine = make_engine(_url(database_url))
    try:
        typer.echo(f"database {current_revision(engine) or 'empty'}, code {head_revision()}")
    finally:
        engine.dispose()


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration changes.")],
    database_url: str | None = DatabaseUrl,
) -> None:
    """(Developers) write a new migration from the difference between the models and the database."""
    command.revision(alembic_config(_url(database_url)), message=message, autogenerate=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    name: str = typer.Option("", help="Who or what holds it, for the audit."),
    driver: str | None = typer.Option(None, help="The driver a driver key speaks for."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    if (role is Role.DRIVER) != (driver is not None):
        raise typer.BadParameter("--driver is required for, and only for, --role driver")
    with _transaction(database_url) as session:
        if driver is not None and session.get(Driver, driver) is None:
            raise typer.BadParameter(
                f"no driver {driver!r}: register it first (POST /drivers)", param_hint="--driver"
            )
        issued = create_api_key(session, role, name=name, driver_id=driver)
    typer.echo(issued.plaintext)
    typer.echo(f"key id {issued.row.key_id} ({role.value}); store it now, it is not shown again", err=True)


@keys_app.command("list")
def keys_list(database_url: str | None = DatabaseUrl) -> None:
    """Every key, live or revoked, without secrets."""
    with _transaction(database_url) as session:
        for key in session.exec(select(ApiKey).order_by(col(ApiKey.id))):
            state = "revoked" if key.revoked_at else "live"
            typer.echo(f"{key.key_id}\t{key.role}\t{state}\t{key.created_at:%Y-%m-%d}\t{key.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, database_url: str | None = DatabaseUrl) -> None:
    """Revoke a key by its public id (the part after `kc_`)."""
    with _transaction(database_url) as session:
        found = revoke_api_key(session, key_id, datetime.now(UTC))
    if not found:
        typer.echo(f"no key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@operators_app.command("create")
def operators_create(
    username: str,
    role: Annotated[Role, typer.Option(help="operator, analyst or admin.")] = Role.OPERATOR,
    display_name: str | None = typer.Option(None, "--display-name"),
    extension: str | None = typer.Option(None, help="PBX extension, links calls to the operator."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a console account (the password is asked for, never echoed)."""
    if len(password) < 8:
        raise typer.BadParameter("at least 8 characters", param_hint="password")
    try:
        with _transaction(database_url) as session:
            create_operator(
                session, username, password, role=role, display_name=display_name, extension=extension
            )
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--role") from None
    typer.echo(f"created {role.value} {username}")


@operators_app.command("list")
def operators_list(database_url: str | None = DatabaseUrl) -> None:
    """Every console account (never a password hash)."""
    with _transaction(database_url) as session:
        for account in session.exec(select(OperatorAccount).order_by(col(OperatorAccount.username))):
            state = "disabled" if account.disabled_at else "active"
            typer.echo(f"{account.username}\t{account.role}\t{state}\t{account.extension or '-'}")


@operators_app.command("passwd")
def operators_passwd(
    username: str,
    password: str = typer.Option(..., prompt="New password", hide_input=True, confirmation_prompt=True),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Set a new password; the account's open console sessions end."""
    if len(password) < 8:
        raise typer.BadParameter("at least 8 characters", param_hint="password")
    with _transaction(database_url) as session:
        found = set_operator_password(session, username, password, datetime.now(UTC))
    if not found:
        typer.echo(f"no account {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"password changed for {username}")


@operators_app.command("disable")
def operators_disable(username: str, database_url: str | None = DatabaseUrl) -> None:
    """Stop an account from logging in and end its sessions (kept for the audit)."""
    with _transaction(database_url) as session:
        found = disable_operator(session, username, datetime.now(UTC))
    if not found:
        typer.echo(f"no account {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"disabled {username}")


def _valuation_params(settings: Settings) -> ValuationParams:
    if settings.valuation_params_path is None:
        return DEFAULT_PARAMS
    return ValuationParams.from_json(Path(settings.valuation_params_path).read_text(encoding="utf-8"))


@import_app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    skip_bad: Annotated[
        Path | None,
        typer.Option("--skip-bad", help="Import the good rows; write the bad ones here.", dir_okay=False),
    ] = None,
    timezone: str = typer.Option("UTC", help="Zone of times written without one."),
    region: str | None = typer.Option(None, help="Phone region; default KEEPCAB_PHONE_REGION."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Import customers and order history from a CSV export (format: docs/import.md)."""
    settings = Settings()
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {timezone!r}", param_hint="--timezone") from None
    export = read_export(file, (region or settings.phone_region).upper(), zone, datetime.now(UTC))
    if export.encoding != "utf-8":
        typer.echo(f"{file}: not UTF-8, read as {export.encoding}", err=True)
    for problem in export.problems:
        typer.echo(problem.render(str(file)), err=True)
    if export.fatal or (export.problems and skip_bad is None):
        typer.echo(f"nothing imported: {len(export.problems)} problem(s) in {file}", err=True)
        raise typer.Exit(1)
    if skip_bad is not None and export.rejected:
        typer.echo(f"{write_rejects(skip_bad, export)} bad row(s) written to {skip_bad}", err=True)
    with _transaction(database_url) as session:
        report = store_export(
            session,
            export.rows,
            file_name=file.name,
            now=datetime.now(UTC),
            params=_valuation_params(settings),
        )
    typer.echo(
        f"imported {report.orders_created} order(s) ({report.orders_already_stored} already stored), "
        f"{report.customers_created} new customer(s), {report.addresses_created} new address(es), "
        f"{report.customers_rescored} customer(s) rescored"
    )
