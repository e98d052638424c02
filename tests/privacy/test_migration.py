"""Migration 0016 on SQLite and PostgreSQL: the AC mapping and contact state written before it, keyed by the
email itself, are keyed by the email's SHA-256 after it (they outlive every event, so they hold no address),
and a delivery finds them under the new keys."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, text

from bridge.destinations.activecampaign.customers import email_key, person_key
from bridge.privacy import email_digest
from bridge.storage import Database
from bridge.storage.remote import RemoteRecords, RemoteState
from bridge.storage.tables import remote_records, remote_state

SCOPE = "ac:https://acme.api-us1.com"


def test_email_keys_become_digests(database_url: str) -> None:
    db = Database(database_url)
    config = db._alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0015")
    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    with db.engine.begin() as conn:
        insert = text(
            "INSERT INTO remote_records (scope, key_type, external_key, remote_id, record_kind, updated_at, detail)"
            " VALUES (:s, 'customer', :k, :r, 'customer', :u, :d)"
        )
        conn.execute(insert, {"s": SCOPE, "k": "1|Pat@Example.com", "r": "11", "u": now, "d": "Pat@Example.com"})
        conn.execute(insert, {"s": SCOPE, "k": "1|id:7001", "r": "11", "u": now, "d": "pat@example.com"})
        conn.execute(
            text("INSERT INTO remote_state (scope, key_type, external_key, data, updated_at)"
                 " VALUES (:s, 'contact', 'pat@example.com', '{\"contact_id\": \"5\"}', :u)"),
            {"s": SCOPE, "u": now},
        )  # fmt: skip
    db.upgrade()

    digest = email_digest("pat@example.com")
    with db.read() as conn:
        keys = {r.external_key: r.detail for r in conn.execute(select(remote_records))}
        states = [r.external_key for r in conn.execute(select(remote_state))]
    assert keys == {email_key("1", "pat@example.com"): digest, person_key("1", "7001"): digest}
    assert states == [digest]
    assert RemoteRecords(db, SCOPE).get("customer", email_key("1", "PAT@example.com ")).remote_id == "11"
    assert RemoteState(db, SCOPE).get("contact", email_digest("Pat@Example.com")) == {"contact_id": "5"}
    db.dispose()
