"""Engines and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from api.db import (
    MIGRATIONS_DIR,
    current_revision,
    head_revision,
    make_engine,
    normalise_database_url,
    upgrade_database,
)
from api.models import Customer, Phone


def test_migrations_ship_inside_the_package() -> None:
    """The migration scripts live in the installed package, not only in the source tree."""
    import api

    assert MIGRATIONS_DIR.parent == __import__("pathlib").Path(api.__file__).parent
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert head_revision() == "0007"


def test_bare_postgres_urls_mean_psycopg3() -> None:
    """`postgresql://` and `postgres://` select psycopg 3, the driver we install."""
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_migrated_schema_matches_the_models(migrated_engine: Engine) -> None:
    """After `upgrade head` the database has exactly the tables and columns the models declare."""
    with migrated_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    assert current_revision(migrated_engine) == head_revision()


def test_upgrade_is_idempotent(database_url: str, migrated_engine: Engine) -> None:
    """Running the upgrade again on an up-to-date database changes nothing."""
    upgrade_database(database_url)
    assert current_revision(migrated_engine) == head_revision()
    names = set(inspect(migrated_engine).get_table_names())
    assert {"customers", "phones", "orders", "order_events", "calls", "api_keys"} <= names


def test_fresh_sqlite_file_is_created_and_upgraded(tmp_path: pytest.TempPathFactory) -> None:
    """The embedded default: a new SQLite file is created and migrated in one call."""
    url = f"sqlite:///{tmp_path}/new.db"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_drivers_stored_before_0002_are_not_leaving(tmp_path: pytest.TempPathFactory) -> None:
    """Upgrading a database with drivers in it gives every existing driver `leaving` false."""
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade_database(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO drivers (id, status, created_at, updated_at)"
                    " VALUES ('d1', 'on_trip', '2026-11-23', '2026-11-23')"
                )
            )
        upgrade_database(url, "0002")
        with engine.connect() as connection:
            leaving = connection.execute(text("SELECT leaving FROM drivers")).scalar_one()
        assert current_revision(engine) == "0002" and leaving == 0
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(session: Session) -> None:
    """A phone pointing at no customer is refused on both backends (SQLite too)."""
    session.add(Phone(e164="+79123456789", raw="89123456789", customer_id="nobody"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_times_come_back_aware_and_in_utc(session: Session) -> None:
    """A time stored in any zone reads back as the same instant, tagged UTC."""
    moscow = timezone(timedelta(hours=3))
    created = datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=moscow)
    session.add(Customer(id="c1", created_at=created))
    session.commit()
    session.expunge_all()
    stored = session.get(Customer, "c1")
    assert stored is not None
    assert stored.created_at == created and stored.created_at.tzinfo == UTC


def test_naive_times_are_refused(session: Session) -> None:
    """A naive datetime is a bug (which zone?), so storing one fails loudly."""
    session.add(Customer(id="c1", created_at=datetime(2026, 3, 1, 12, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_downgrade_to_base_and_back(tmp_path: pytest.TempPathFactory) -> None:
    """The initial migration can be undone and redone (a broken downgrade blocks rollbacks)."""
    from alembic import command

    from api.db import alembic_config

    url = f"sqlite:///{tmp_path}/roundtrip.db"
    upgrade_database(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade_database(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
