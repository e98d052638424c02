"""events: every webhook the bridge accepted or quarantined

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import Id, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("store", sa.String(255)),
        sa.Column("kind", sa.String(32)),
        sa.Column("order_id", sa.String(255)),
        sa.Column("checkout_id", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime()),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("errors", sa.JSON),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("dedupe_key", name="uq_events_dedupe_key"),
    )
    op.create_index("ix_events_status_id", "events", ["status", "id"])
    op.create_index("ix_events_source_id", "events", ["source", "id"])
    op.create_index("ix_events_order_id", "events", ["order_id"])
    op.create_index("ix_events_checkout_id", "events", ["checkout_id"])


def downgrade() -> None:
    op.drop_table("events")
