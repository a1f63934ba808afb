"""Orders: `dropoff_address` (the destination as the caller said it) and `fare_estimate` (the firm's quote).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropoff_address", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("fare_estimate", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("fare_estimate")
        batch_op.drop_column("dropoff_address")
