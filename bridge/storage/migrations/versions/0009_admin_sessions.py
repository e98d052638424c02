"""admin_sessions (server-side dashboard sessions), auth_failures (login/bearer throttling per address) and
health_checks (the `/readyz` write probe), spec §11.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_admin_sessions"),
    )
    op.create_index("ix_admin_sessions_expires_at", "admin_sessions", ["expires_at"])
    op.create_table(
        "auth_failures",
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("address", name="pk_auth_failures"),
    )
    op.create_table(
        "health_checks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_health_checks"),
    )


def downgrade() -> None:
    op.drop_table("health_checks")
    op.drop_table("auth_failures")
    op.drop_index("ix_admin_sessions_expires_at", "admin_sessions")
    op.drop_table("admin_sessions")
