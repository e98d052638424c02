"""throttles.recent_sends: actual send times in the last window, for the sliding-window admission check

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("throttles") as batch:
        batch.add_column(sa.Column("recent_sends", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("throttles") as batch:
        batch.drop_column("recent_sends")
