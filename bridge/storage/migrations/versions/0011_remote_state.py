"""remote_state: what the bridge last told a destination about a record (AC contact details, order revenue)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_state",
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("external_key", sa.String(255), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key_type", "external_key", name="pk_remote_state"),
    )


def downgrade() -> None:
    op.drop_table("remote_state")
