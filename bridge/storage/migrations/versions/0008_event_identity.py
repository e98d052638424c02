"""events.delivery_key (dedupe on a delivery id before parsing) and events.origin (webhook, reconcile, …)

Platform events are now stored raw and interpreted by the worker (status `received` until then), so the
request path can answer a retried Shopify delivery from its `X-Shopify-Webhook-Id` alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("delivery_key", sa.String(255)))
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="webhook"))
        batch.create_unique_constraint("uq_events_delivery_key", ["delivery_key"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_delivery_key", type_="unique")
        batch.drop_column("origin")
        batch.drop_column("delivery_key")
