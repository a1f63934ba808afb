"""The fencing token on real PostgreSQL: a write of an older term cannot commit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.cluster.fencing import (
    Fence,
    Fenced,
    current_term,
    fenced_session_factory,
    make_leader_engine,
    take_term,
)
from api.models import Driver


def test_a_stale_term_commits_nothing_once_a_newer_term_is_taken(pg_url: str) -> None:
    """Term 1 writes; term 2 is taken; term 1's next transaction is rolled back, term 2's commits."""
    engine = make_leader_engine(pg_url)
    try:
        assert take_term(engine, "krakow", 1, "a")
        old = Fence("krakow", 1)
        with fenced_session_factory(engine, old)() as session:
            session.add(Driver(id="d1"))
            session.commit()
        assert take_term(engine, "krakow", 2, "b") and not take_term(engine, "krakow", 2, "c")
        with fenced_session_factory(engine, old)() as session:
            session.add(Driver(id="d2"))
            with pytest.raises(Fenced):
                session.commit()
        new = Fence("krakow", 2)
        with fenced_session_factory(engine, new)() as session:
            session.add(Driver(id="d3"))
            session.commit()
        with engine.connect() as connection:
            ids = connection.execute(text("SELECT id FROM drivers ORDER BY id")).scalars().all()
        assert ids == ["d1", "d3"] and old.refused == 1 and new.refused == 0
        assert current_term(engine, "krakow") == 2 and current_term(engine, "elsewhere") == 0
    finally:
        engine.dispose()


def test_the_leader_pool_keeps_the_schema_and_bounds_idle_transactions(pg_url: str) -> None:
    """The leader's own options do not replace the URL's (search_path), and a paused transaction dies."""
    engine = make_leader_engine(pg_url)
    try:
        with engine.connect() as connection:
            timeout = connection.execute(text("SHOW idle_in_transaction_session_timeout")).scalar()
            path = connection.execute(text("SHOW search_path")).scalar()
        assert timeout == "5s" and "keepcab_cluster_" in str(path)
    finally:
        engine.dispose()


def test_sqlite_is_refused_with_a_clear_message() -> None:
    """Scale-out needs PostgreSQL: a SQLite URL fails at start-up, naming the setting."""
    with pytest.raises(ValueError, match="KEEPCAB_DATABASE_URL"):
        make_leader_engine("sqlite:///x.db")
