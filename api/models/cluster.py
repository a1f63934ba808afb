"""Rows of the scale-out set-up: the dispatcher's current term and the commands it applied.

`cluster_terms` holds one row per city with the fencing token of the current
leader term. Every transaction of a leader ends by checking that row against
its own term in the same transaction (`api.cluster.fencing`), so once a new
leader has written a higher term, nothing an older leader does can commit.

`cluster_commands` records the id of every command a leader applied, with the
answer it gave, written in the transaction that applied it. A command handed
out again after a failover (Redis `XAUTOCLAIM`) is then answered from here and
never applied twice. The embedded default never writes either table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime, utc_now


class ClusterTerm(SQLModel, table=True):
    __tablename__ = "cluster_terms"

    city: str = Field(primary_key=True, max_length=64)
    term: int = Field(sa_column=Column(BigInteger, nullable=False))
    leader: str = Field(max_length=128)
    since_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class ClusterCommand(SQLModel, table=True):
    __tablename__ = "cluster_commands"

    id: str = Field(primary_key=True, max_length=64)
    term: int = Field(sa_column=Column(BigInteger, nullable=False))
    reply: str = Field(sa_column=Column(Text, nullable=False))
    applied_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)
