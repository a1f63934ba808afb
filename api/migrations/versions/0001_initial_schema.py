"""Initial schema: customers, phones, addresses, orders, order events, drivers, keys, calls.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 02:17:30.191766
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "customers",
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("cancelled_count", sa.Integer(), nullable=False),
        sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_table(
        "drivers",
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drivers")),
    )
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drivers_status"), ["status"], unique=False)

    op.create_table(
        "operator_accounts",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_accounts")),
    )
    with op.batch_alter_table("operator_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_accounts_username"), ["username"], unique=True)

    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("driver_id", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name=op.f("fk_api_keys_driver_id_drivers")),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator_accounts.id"],
            name=op.f("fk_api_keys_operator_id_operator_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_key_id"), ["key_id"], unique=True)

    op.create_table(
        "orders",
        sa.Column("pickup_lat", sa.Float(), nullable=False),
        sa.Column("pickup_lon", sa.Float(), nullable=False),
        sa.Column("pickup_address", sa.String(length=300), nullable=True),
        sa.Column("dropoff_lat", sa.Float(), nullable=True),
        sa.Column("dropoff_lon", sa.Float(), nullable=True),
        sa.Column("pickup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("caller_e164", sa.String(length=16), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("driver_id", sa.String(length=64), nullable=True),
        sa.Column("failure_cause", sa.String(length=32), nullable=True),
        sa.Column("head_start_s", sa.Float(), nullable=False),
        sa.Column("score_head_start_s", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("value_at_risk", sa.Float(), nullable=False),
        sa.Column("fare", sa.Float(), nullable=True),
        sa.Column("eta_s", sa.Float(), nullable=True),
        sa.Column("dist_m", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["driver_id"], ["drivers.id"], name=op.f("fk_orders_driver_id_drivers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_orders_idempotency_key")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_requested_at"), ["requested_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)

    op.create_table(
        "phones",
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_phones_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phones")),
    )
    with op.batch_alter_table("phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phones_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_phones_e164"), ["e164"], unique=True)

    op.create_table(
        "pickup_addresses",
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("address_key", sa.String(length=300), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pickup_addresses_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_addresses")),
        sa.UniqueConstraint(
            "customer_id", "address_key", name=op.f("uq_pickup_addresses_customer_id_address_key")
        ),
    )
    with op.batch_alter_table("pickup_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pickup_addresses_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "calls",
        sa.Column("external_id", sa.String(length=160), nullable=False),
        sa.Column("caller_raw", sa.String(length=64), nullable=True),
        sa.Column("line", sa.String(length=64), nullable=True),
        sa.Column("operator_extension", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_e164", sa.String(length=16), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("ringing_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_calls_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_calls_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("external_id", name=op.f("uq_calls_external_id")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_caller_e164"), ["caller_e164"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_ringing_at"), ["ringing_at"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("driver_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=300), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_events_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))
        batch_op.drop_index(batch_op.f("ix_order_events_driver_id"))
        batch_op.drop_index(batch_op.f("ix_order_events_at"))

    op.drop_table("order_events")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_ringing_at"))
        batch_op.drop_index(batch_op.f("ix_calls_customer_id"))
        batch_op.drop_index(batch_op.f("ix_calls_caller_e164"))

    op.drop_table("calls")
    with op.batch_alter_table("pickup_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickup_addresses_customer_id"))

    op.drop_table("pickup_addresses")
    with op.batch_alter_table("phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phones_e164"))
        batch_op.drop_index(batch_op.f("ix_phones_customer_id"))

    op.drop_table("phones")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_requested_at"))
        batch_op.drop_index(batch_op.f("ix_orders_driver_id"))
        batch_op.drop_index(batch_op.f("ix_orders_customer_id"))

    op.drop_table("orders")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_key_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("operator_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_accounts_username"))

    op.drop_table("operator_accounts")
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drivers_status"))

    op.drop_table("drivers")
    op.drop_table("customers")
