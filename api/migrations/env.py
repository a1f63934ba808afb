"""Alembic environment: the models' metadata, and a URL or a connection handed in.

`api.db.upgrade_database` passes an open connection in `config.attributes`;
the plain `alembic` command line reads `sqlalchemy.url` or, failing that,
`KEEPCAB_DATABASE_URL` through the settings. SQLite tables are altered in
batch mode (copy and move), the only way SQLite can change a column.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import api.models  # noqa: F401  (fills the metadata)
from api.db import make_engine
from api.settings import Settings

target_metadata = SQLModel.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    if context.is_offline_mode():
        run_offline(url)
        return
    engine = make_engine(url)
    try:
        with engine.begin() as own_connection:
            run_on(own_connection)
    finally:
        engine.dispose()


main()
