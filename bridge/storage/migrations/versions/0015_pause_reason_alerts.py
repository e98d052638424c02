"""throttles: why a destination is paused (token rejected, by hand); alert_states for BRIDGE_ALERT_URL (issue 21)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("throttles") as batch:
        batch.add_column(sa.Column("pause_reason", sa.String(32)))
        batch.add_column(sa.Column("pause_cause", sa.Text))
        batch.add_column(sa.Column("paused_since", sa.Float))
        batch.add_column(sa.Column("pause_fingerprint", sa.String(64)))
    op.create_table(
        "alert_states",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("first_seen", UTCDateTime()),
        sa.Column("notified_at", UTCDateTime()),
        sa.Column("firing", sa.Integer, nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_alert_states"),
    )


def downgrade() -> None:
    op.drop_table("alert_states")
    with op.batch_alter_table("throttles") as batch:
        for column in ("pause_fingerprint", "paused_since", "pause_cause", "pause_reason"):
            batch.drop_column(column)
