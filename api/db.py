"""Database engines, sessions and schema migrations.

Called from the FastAPI lifespan and the CLI, never at import. Both backends
behave the same from the code's point of view: SQLite gets foreign keys
switched on (off by default there), WAL journaling so readers do not block the
dispatcher's writes, and a busy timeout; PostgreSQL gets pre-ping so a pool
survives a database restart. A bare `postgresql://` URL is taken to mean
psycopg 3, the driver we ship, rather than SQLAlchemy's psycopg2 default.

The tables declare foreign keys but no ORM relationships, so a flush does not
order inserts by dependency: flush parent rows (customers, drivers, orders)
before adding rows that point at them.

The schema is owned by Alembic (`api/migrations`, shipped inside the package);
`upgrade_database` is what `keepcab db upgrade` and the tests run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_database_url(url: str) -> str:
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg://" + url[len(bare) :]
    return url


def _tune_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` with the per-backend settings above; connects lazily."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (handlers return them)."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return config


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the schema at `target` (a URL or an engine) up to `revision`."""
    if isinstance(target, str):
        engine = make_engine(target)
        try:
            upgrade_database(engine, revision)
        finally:
            engine.dispose()
        return
    config = alembic_config()
    with target.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
