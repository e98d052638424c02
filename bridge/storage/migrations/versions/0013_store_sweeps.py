"""store_sweeps (backfill checkpoints, reconciliation watermarks and leases) and events.historical

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("historical", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "store_sweeps",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("watermark", UTCDateTime()),
        sa.Column("checkpoint", sa.JSON),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("last_started_at", UTCDateTime()),
        sa.Column("last_finished_at", UTCDateTime()),
        sa.Column("last_outcome", sa.String(16)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_seen", sa.Integer, nullable=False),
        sa.Column("last_recovered", sa.Integer, nullable=False),
        sa.Column("total_recovered", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_store_sweeps"),
    )


def downgrade() -> None:
    op.drop_table("store_sweeps")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("historical")
