"""A throw-away PostgreSQL schema: tests and benches share the `test` database with other
people's runs, so each run works in a schema of its own, dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from api.db import make_engine, normalise_database_url


def with_search_path(url: str, schema: str) -> str:
    """The same database, but every unqualified name resolves in `schema`."""
    return (
        make_url(normalise_database_url(url))
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@contextmanager
def scratch_schema(
    base_url: str, prefix: str, unreachable: Callable[[OperationalError], NoReturn] | None = None
) -> Iterator[str]:
    """A URL whose names resolve in a new schema; `unreachable` decides what a down server means
    (a loud skip in tests, an error in benches)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(normalise_database_url(base_url))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        admin.dispose()
        if unreachable is None:
            raise
        unreachable(error)
    try:
        yield with_search_path(base_url, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def tables_locked(database_url: str, *tables: str) -> Iterator[None]:
    """Another connection holds `tables` so that nobody can even read them (as a long migration
    or a stuck transaction would); PostgreSQL only: SQLite's WAL lets readers through."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()
