"""Scale-out: `cluster_terms` (the fencing token PostgreSQL checks) and `cluster_commands` (applied once).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_terms",
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("leader", sa.String(length=128), nullable=False),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("city", name=op.f("pk_cluster_terms")),
    )
    op.create_table(
        "cluster_commands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_commands")),
    )
    with op.batch_alter_table("cluster_commands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_commands_applied_at"), ["applied_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cluster_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_commands_applied_at"))
    op.drop_table("cluster_commands")
    op.drop_table("cluster_terms")
