"""The fencing token, checked by PostgreSQL in the same transaction as every leader write.

A lease in Redis says who *should* lead; it cannot stop a leader that was
paused (a GC pause, SIGSTOP, a VM migration) from waking after its lease ran
out and writing as if nothing happened. So each term's token is also written
to `cluster_terms`, and every transaction of the leader's writer ends with

    UPDATE cluster_terms SET term = term WHERE city = :city AND term = :term

before it commits. Zero rows means a newer term exists: the transaction is
rolled back and `Fenced` is raised. The row lock the check takes orders it
against `take_term`'s update, so after a new leader has committed its term
no transaction of an older term can commit (Kleppmann's fencing token, with
the database itself as the storage that checks it).

`take_term` writes a term only if it is higher than the stored one, and an
open transaction of a paused leader is aborted by PostgreSQL after
`IDLE_IN_TRANSACTION_MS` (`idle_in_transaction_session_timeout`), so a paused
leader cannot hold the row (and the new leader) hostage either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.db import make_session_factory, normalise_database_url
from api.live.service import StoreUnavailable
from api.models import ClusterCommand

log = logging.getLogger(__name__)
IDLE_IN_TRANSACTION_MS = 5000
_IDLE_OPTION = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"

_CHECK = text("UPDATE cluster_terms SET term = term WHERE city = :city AND term = :term")
_CURRENT = text("SELECT term FROM cluster_terms WHERE city = :city")
_RAISE = text(
    "UPDATE cluster_terms SET term = :term, leader = :leader, since_at = now() "
    "WHERE city = :city AND term < :term"
)
_FIRST = text(
    "INSERT INTO cluster_terms (city, term, leader, since_at) VALUES (:city, :term, :leader, now()) "
    "ON CONFLICT (city) DO NOTHING"
)


class Fenced(StoreUnavailable):
    """This leader's term is no longer the current one: it may write nothing and must step down."""


def make_leader_engine(database_url: str) -> Engine:
    """The leader's own pool: PostgreSQL aborts a transaction left idle by a paused leader."""
    url = normalise_database_url(database_url)
    if not url.startswith("postgresql"):
        raise ValueError("the scale-out set-up needs PostgreSQL (KEEPCAB_DATABASE_URL=postgresql://...)")
    parsed = make_url(url)
    given = parsed.query.get("options", "")
    options = " ".join([*([given] if isinstance(given, str) else given), _IDLE_OPTION]).strip()
    return create_engine(
        parsed.difference_update_query(["options"]), pool_pre_ping=True, connect_args={"options": options}
    )


def current_term(engine: Engine, city: str) -> int:
    with engine.connect() as connection:
        value = connection.execute(_CURRENT, {"city": city}).scalar()
    return 0 if value is None else int(value)


def take_term(engine: Engine, city: str, term: int, leader: str) -> bool:
    """Make `term` the current one; False if the stored term is already as high."""
    with engine.begin() as connection:
        connection.execute(_FIRST, {"city": city, "term": 0, "leader": leader})
        changed = connection.execute(_RAISE, {"city": city, "term": term, "leader": leader}).rowcount
    return bool(changed)


@dataclass
class Fence:
    """Attached to the leader's session factory: every commit first proves the term is current."""

    city: str
    term: int
    refused: int = 0

    @property
    def fenced(self) -> bool:
        return self.refused > 0

    def check(self, session: Session) -> None:
        changed = session.connection().execute(_CHECK, {"city": self.city, "term": self.term}).rowcount
        if changed != 1:
            self.refused += 1
            log.warning("term %d of %s is stale: write refused by the fencing check", self.term, self.city)
            raise Fenced(f"term {self.term} is no longer current")


def fenced_session_factory(engine: Engine, fence: Fence) -> sessionmaker[Session]:
    """Sessions like the app's, but no commit gets through without `fence.check`."""
    factory = make_session_factory(engine)
    event.listen(factory, "before_commit", fence.check)
    return factory


def applied_reply(session: Session, command_id: str) -> str | None:
    """The answer a command already got, if a leader (of any term) applied it."""
    row = session.get(ClusterCommand, command_id)
    return None if row is None else row.reply
