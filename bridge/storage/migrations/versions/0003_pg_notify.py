"""PostgreSQL: NOTIFY bridge_events on every new event, so workers on any host wake within milliseconds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHANNEL = "bridge_events"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite workers watch PRAGMA data_version instead
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION bridge_notify_event() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER events_notify AFTER INSERT OR UPDATE OF status ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION bridge_notify_event()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
    op.execute("DROP FUNCTION IF EXISTS bridge_notify_event()")
