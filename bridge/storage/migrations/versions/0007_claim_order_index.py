"""deliveries (status, next_attempt_at, id): the claim's ORDER BY straight from the index

Deliveries planned in one batch share `next_attempt_at`, so (status, next_attempt_at) alone cannot give the
claim its `ORDER BY next_attempt_at, id`: PostgreSQL sorted every due candidate on each claim, and with the
statistics of a bulk load it rescanned the whole backlog per candidate (555 ms a claim at 100,000 pending).
With `id` in the index it reads candidates in claim order and stops at the first free one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_status_next_attempt_at_id", "deliveries", ["status", "next_attempt_at", "id"])
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")


def downgrade() -> None:
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries", ["status", "next_attempt_at"])
    op.drop_index("ix_deliveries_status_next_attempt_at_id", table_name="deliveries")
