"""events.pruned_at and privacy_requests (spec §16, issue 22); the AC id mapping keyed by email digests

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from bridge.storage.tables import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("pruned_at", UTCDateTime()))
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32)),
        sa.Column("store", sa.String(255)),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_requests"),
    )
    op.create_index("ix_privacy_requests_kind_id", "privacy_requests", ["kind", "id"])
    _hash_mapping_emails()


def _hash_mapping_emails() -> None:
    """The AC mapping and contact state were keyed by the email itself: from now on by its digest (the
    mapping outlives every event, so it must hold no address). Before this revision no digest key existed, so
    a rewritten key cannot collide."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT scope, external_key, detail FROM remote_records WHERE key_type = 'customer'")
    ).all()
    for scope, key, detail in rows:
        connection, _, rest = key.partition("|")
        new_key = key if not rest or rest.startswith(("id:", "sha256:")) else f"{connection}|sha256:{_digest(rest)}"
        new_detail = _digest(detail) if detail and "@" in detail else detail
        if (new_key, new_detail) != (key, detail):
            conn.execute(
                sa.text(
                    "UPDATE remote_records SET external_key = :nk, detail = :d"
                    " WHERE scope = :s AND key_type = 'customer' AND external_key = :k"
                ),
                {"s": scope, "k": key, "nk": new_key, "d": new_detail},
            )
    contacts = conn.execute(
        sa.text("SELECT scope, external_key FROM remote_state WHERE key_type = 'contact' AND external_key LIKE '%@%'")
    ).all()
    for scope, key in contacts:
        conn.execute(
            sa.text(
                "UPDATE remote_state SET external_key = :nk"
                " WHERE scope = :s AND key_type = 'contact' AND external_key = :k"
            ),
            {"s": scope, "k": key, "nk": _digest(key)},
        )


def downgrade() -> None:
    op.drop_index("ix_privacy_requests_kind_id", "privacy_requests")
    op.drop_table("privacy_requests")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("pruned_at")
