"""Drivers: `leaving`, a busy driver's pending end of shift (offline when the job ends).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leaving", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_column("leaving")
