"""delivery: deliveries, attempts, remote record mapping, applied versions, timers, throttles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import Id, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("lane", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("first_attempt_at", UTCDateTime()),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
    )
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_lane_event_id", "deliveries", ["lane", "event_id"])
    op.create_index("ix_deliveries_event_id", "deliveries", ["event_id"])
    op.create_table(
        "attempts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", Id, nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("request", sa.Text),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
    )
    op.create_index("ix_attempts_delivery_id", "attempts", ["delivery_id"])
    op.create_index("ix_attempts_event_id", "attempts", ["event_id"])
    op.create_table(
        "remote_records",
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("external_key", sa.String(255), nullable=False),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("record_kind", sa.String(16)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_type", "external_key", name="pk_remote_records"),
    )
    op.create_table(
        "applied_versions",
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("destination", "subject", name="pk_applied_versions"),
    )
    op.create_table(
        "timers",
        sa.Column("checkout_key", sa.String(512), nullable=False),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("fire_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("checkout_key", name="pk_timers"),
    )
    op.create_index("ix_timers_status_fire_at", "timers", ["status", "fire_at"])
    op.create_table(
        "throttles",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("next_slot_at", sa.Float, nullable=False),
        sa.Column("paused_until", sa.Float, nullable=False),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("circuit_open_until", sa.Float, nullable=False),
        sa.Column("manual_pause", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("name", name="pk_throttles"),
    )


def downgrade() -> None:
    for table in ("throttles", "timers", "applied_versions", "remote_records", "attempts", "deliveries"):
        op.drop_table(table)
