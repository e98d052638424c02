"""remote_records.detail (what an ecomCustomer carries: its email) and timers.version_at (newest state wins)

A registered customer is remembered by (connection, store customer id); `detail` keeps the email the AC
record carries, so an email change is noticed without a call. A checkout's timer remembers the `updated_at`
of the state it holds, so an older delivery arriving late never replaces it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("remote_records") as batch:
        batch.add_column(sa.Column("detail", sa.String(320)))
    with op.batch_alter_table("timers") as batch:
        batch.add_column(sa.Column("version_at", UTCDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("timers") as batch:
        batch.drop_column("version_at")
    with op.batch_alter_table("remote_records") as batch:
        batch.drop_column("detail")
