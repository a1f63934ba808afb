"""Orders: `next_driver_id`, the busy car a waiting order is promised to (handed over when its job ends).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_driver_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_next_driver_id"), ["next_driver_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_next_driver_id_drivers"), "drivers", ["next_driver_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_next_driver_id_drivers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_orders_next_driver_id"))
        batch_op.drop_column("next_driver_id")
