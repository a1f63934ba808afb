"""Customers: the "confirm before serving" flag, and `customer_flag_events`, its audit (who, when, why).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirm_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("confirm_reason", sa.String(length=300), nullable=True))
    op.create_table(
        "customer_flag_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("confirm_required", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_flag_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_flag_events")),
    )
    with op.batch_alter_table("customer_flag_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_flag_events_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_flag_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_flag_events_customer_id"))
    op.drop_table("customer_flag_events")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("confirm_reason")
        batch_op.drop_column("confirm_required")
