"""Customers: free-text `notes` the operators keep (who wrote them last, and when).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("notes_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("notes_updated_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("notes_updated_by")
        batch_op.drop_column("notes_updated_at")
        batch_op.drop_column("notes")
