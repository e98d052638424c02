"""What exists at a destination: the store-id → remote-id mapping, creates in flight, and applied versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bridge.storage.database import Database
from bridge.storage.tables import applied_versions, remote_records, remote_state


@dataclass(frozen=True)
class RemoteRecord:
    """A known (or possibly created) record at a destination."""

    remote_id: str | None  # None: a create was sent and its outcome is unknown
    record_kind: str | None


class RemoteRecords:
    """Lookup table that makes creates idempotent: AC has no idempotency key, so the bridge remembers."""

    def __init__(self, db: Database, scope: str) -> None:
        self.db = db
        self.scope = scope[:255]

    def get(self, key_type: str, key: str) -> RemoteRecord | None:
        """What is known about (key_type, key) in this scope."""
        with self.db.read() as conn:
            row = conn.execute(
                select(remote_records.c.remote_id, remote_records.c.record_kind).where(
                    remote_records.c.scope == self.scope,
                    remote_records.c.key_type == key_type,
                    remote_records.c.external_key == key[:255],
                )
            ).first()
        return RemoteRecord(row[0], row[1]) if row else None

    def mark_creating(self, key_type: str, key: str, now: datetime) -> None:
        """Note, before sending a create, that one is in flight: if the outcome is never seen, look it up."""
        statement = self.db.insert_ignoring_conflicts(remote_records, "scope", "key_type", "external_key").values(
            scope=self.scope, key_type=key_type, external_key=key[:255], remote_id=None, updated_at=now
        )
        with self.db.write() as conn:
            conn.execute(statement)

    def put(self, key_type: str, key: str, remote_id: str, record_kind: str, now: datetime) -> None:
        """Remember that (key_type, key) is `remote_id` at the destination."""
        values = {
            "scope": self.scope,
            "key_type": key_type,
            "external_key": key[:255],
            "remote_id": remote_id,
            "record_kind": record_kind,
            "updated_at": now,
        }
        statement = self.db.upsert(
            remote_records,
            ["scope", "key_type", "external_key"],
            values,
            {"remote_id": remote_id, "record_kind": record_kind, "updated_at": now},
        )
        with self.db.write() as conn:
            conn.execute(statement)


class RemoteState:
    """A small JSON document per (key_type, key) in a scope: what the bridge last sent for that record."""

    def __init__(self, db: Database, scope: str) -> None:
        self.db = db
        self.scope = scope[:255]

    def get(self, key_type: str, key: str) -> dict[str, Any] | None:
        """The stored document, or None."""
        with self.db.read() as conn:
            return conn.execute(
                select(remote_state.c.data).where(
                    remote_state.c.scope == self.scope,
                    remote_state.c.key_type == key_type,
                    remote_state.c.external_key == key[:255],
                )
            ).scalar()

    def put(self, key_type: str, key: str, data: dict[str, Any], now: datetime) -> None:
        """Replace the document (deliveries touching one key run one at a time in their lane)."""
        values = {"scope": self.scope, "key_type": key_type, "external_key": key[:255], "data": data, "updated_at": now}
        statement = self.db.upsert(
            remote_state, ["scope", "key_type", "external_key"], values, {"data": data, "updated_at": now}
        )
        with self.db.write() as conn:
            conn.execute(statement)


class AppliedVersions:
    """The newest event version applied per (destination, subject); anything older is stale."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, destination: str, subject: str) -> datetime | None:
        """The newest `updated_at` applied, or None."""
        with self.db.read() as conn:
            return conn.execute(
                select(applied_versions.c.version_at).where(
                    applied_versions.c.destination == destination, applied_versions.c.subject == subject[:255]
                )
            ).scalar()

    def bump(self, destination: str, subject: str, version: datetime) -> None:
        """Raise the applied version to `version` (never lowers it)."""
        statement = self.db.upsert(
            applied_versions,
            ["destination", "subject"],
            {"destination": destination, "subject": subject[:255], "version_at": version},
            {
                "version_at": lambda excluded: (
                    func.max(applied_versions.c.version_at, excluded.version_at)
                    if self.db.is_sqlite
                    else func.greatest(applied_versions.c.version_at, excluded.version_at)
                )
            },
        )
        with self.db.write() as conn:
            conn.execute(statement)
