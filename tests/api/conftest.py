"""Database fixtures: every test that takes `session` or `engine` runs on SQLite and PostgreSQL.

PostgreSQL tests live in a fresh schema per test session (dropped at the end)
so that parallel sessions of other people on the shared `test` database never
collide. The schema is built by the real migrations, not by `create_all`, so
every test also exercises them. Tables are emptied after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import NoReturn

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

import api.models  # noqa: F401  (fills the metadata)
from api.db import make_engine, make_session_factory, normalise_database_url, upgrade_database
from tests.conftest import require_service
from tests.pg_schema import scratch_schema

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return normalise_database_url(os.environ.get("KEEPCAB_TEST_DATABASE_URL", DEFAULT_POSTGRES_URL))


def fresh_postgres_schema(prefix: str) -> AbstractContextManager[str]:
    """A scratch schema in the PostgreSQL test database; a loud skip (a failure in CI) when down."""

    def unreachable(error: OperationalError) -> NoReturn:
        require_service("PostgreSQL", error)

    return scratch_schema(postgres_base_url(), prefix, unreachable)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'keepcab.db'}"
        return
    with fresh_postgres_schema("keepcab_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    yield migrated_engine
    empty_all_tables(migrated_engine)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with make_session_factory(engine)() as db_session:
        yield db_session
