"""What exists at a destination: the store-id → remote-id mapping, creates in flight, and applied versions."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Table, and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bridge.storage.session import Session
from bridge.storage.tables import applied_versions, remote_records, remote_state


@dataclass(frozen=True)
class Upsert:
    """One row's upsert: a statement shared by every row of its table (it carries no values) and this row's
    values. Rows of one statement can go to the database together (`Deliveries.finish_many`: one round trip
    for a group's rows of one table)."""

    statement: Executable
    values: dict[str, Any]
    key: tuple[Any, ...]

    def run(self, conn: Connection) -> None:
        """Execute it alone in the caller's transaction."""
        conn.execute(self.statement, self.values)


@dataclass(frozen=True)
class RemoteRecord:
    """A known (or possibly created) record at a destination."""

    remote_id: str | None  # None: a create was sent (or is being sent) and its outcome is unknown
    record_kind: str | None
    detail: str | None = None  # what the record carries that the key does not (an ecomCustomer's email)


class RemoteRecords:
    """Lookup table that makes creates idempotent: AC has no idempotency key, so the bridge remembers."""

    def __init__(self, db: Session, scope: str) -> None:
        self.db = db
        self.scope = scope[:255]

    def get(self, key_type: str, key: str) -> RemoteRecord | None:
        """What is known about (key_type, key) in this scope."""
        with self.db.read() as conn:
            row = conn.execute(
                select(remote_records.c.remote_id, remote_records.c.record_kind, remote_records.c.detail).where(
                    self._where(key_type, key)
                )
            ).first()
        return RemoteRecord(row[0], row[1], row[2]) if row else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], RemoteRecord]:
        """What is known about each (key_type, key) of `keys`, in one query (absent: nothing known)."""
        if not keys:
            return {}
        columns = remote_records.c
        with self.db.read() as conn:
            rows = conn.execute(
                select(columns.key_type, columns.external_key, columns.remote_id, columns.record_kind, columns.detail)
                .where(*_keyed(remote_records, self.scope, keys))
            ).all()  # fmt: skip
        wanted = {(key_type, key[:255]): (key_type, key) for key_type, key in keys}
        return {wanted[(r[0], r[1])]: RemoteRecord(r[2], r[3], r[4]) for r in rows if (r[0], r[1]) in wanted}

    def _where(self, key_type: str, key: str) -> Any:
        return and_(
            remote_records.c.scope == self.scope,
            remote_records.c.key_type == key_type,
            remote_records.c.external_key == key[:255],
        )

    def claim(self, key_type: str, key: str, now: datetime, stale_before: datetime) -> bool:
        """Take the right to create (key_type, key): True for exactly one caller across threads, processes and
        hosts. The claim is the in-flight row `mark_creating` writes; one older than `stale_before` belongs
        to a worker that died or stalled, and is taken over (the new holder must look the record up first)."""
        # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
        statement = (
            self.db.insert_ignoring_conflicts(remote_records, "scope", "key_type", "external_key")
            .values(scope=self.scope, key_type=key_type, external_key=key[:255], remote_id=None, updated_at=now)
            .returning(remote_records.c.external_key)
        )
        with self.db.write() as conn:
            if conn.execute(statement).first() is not None:
                return True
            taken = conn.execute(
                update(remote_records)
                .where(
                    self._where(key_type, key),
                    remote_records.c.remote_id.is_(None),
                    remote_records.c.updated_at < stale_before,
                )
                .values(updated_at=now)
                .returning(remote_records.c.external_key)
            )
            return taken.first() is not None

    def claimed_at(self, key_type: str, key: str) -> datetime | None:
        """When the in-flight claim on (key_type, key) was taken (None when there is none)."""
        with self.db.read() as conn:
            return conn.execute(
                select(remote_records.c.updated_at).where(
                    self._where(key_type, key), remote_records.c.remote_id.is_(None)
                )
            ).scalar()

    def release(self, key_type: str, key: str) -> None:
        """Give up a claim whose create surely did not happen (AC answered, and not with the record). Deletes
        only an in-flight row (never a known remote id); idempotent."""
        with self.db.write() as conn:
            conn.execute(delete(remote_records).where(self._where(key_type, key), remote_records.c.remote_id.is_(None)))

    def forget_remote(self, key_type: str, remote_id: str, keep: str) -> None:
        """Drop every other key of `key_type` that names `remote_id` (its email changed: they are wrong now).
        One DELETE; idempotent."""
        with self.db.write() as conn:
            conn.execute(
                delete(remote_records).where(
                    remote_records.c.scope == self.scope,
                    remote_records.c.key_type == key_type,
                    remote_records.c.remote_id == remote_id,
                    remote_records.c.external_key != keep[:255],
                )
            )

    def mark_creating(self, key_type: str, key: str, now: datetime) -> None:
        """Note, before sending a create, that one is in flight: if the outcome is never seen, look it up.
        Committed before this returns (the create must never be sent unrecorded); leaves a known row alone."""
        statement = self.db.insert_ignoring_conflicts(remote_records, "scope", "key_type", "external_key").values(
            scope=self.scope, key_type=key_type, external_key=key[:255], remote_id=None, updated_at=now
        )
        with self.db.write() as conn:
            conn.execute(statement)

    def put(
        self, key_type: str, key: str, remote_id: str, record_kind: str, now: datetime, detail: str | None = None
    ) -> None:
        """Remember that (key_type, key) is `remote_id` at the destination (carrying `detail`). An upsert:
        idempotent, the last writer wins."""
        values = {
            "scope": self.scope,
            "key_type": key_type,
            "external_key": key[:255],
            "remote_id": remote_id,
            "record_kind": record_kind,
            "updated_at": now,
            "detail": detail,
        }
        statement = self.db.upsert(
            remote_records,
            ["scope", "key_type", "external_key"],
            values,
            {"remote_id": remote_id, "record_kind": record_kind, "updated_at": now, "detail": detail},
        )
        with self.db.write() as conn:
            conn.execute(statement)


class RemoteState:
    """A small JSON document per (key_type, key) in a scope: what the bridge last sent for that record."""

    def __init__(self, db: Session, scope: str) -> None:
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

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The stored documents of `keys` (key_type, key), in one query (absent: none stored)."""
        if not keys:
            return {}
        with self.db.read() as conn:
            rows = conn.execute(
                select(remote_state.c.key_type, remote_state.c.external_key, remote_state.c.data).where(
                    *_keyed(remote_state, self.scope, keys)
                )
            ).all()
        wanted = {(key_type, key[:255]): (key_type, key) for key_type, key in keys}
        return {wanted[(r[0], r[1])]: r[2] for r in rows if (r[0], r[1]) in wanted}

    def put(self, key_type: str, key: str, data: dict[str, Any], now: datetime) -> None:
        """Replace the document (an upsert, last writer wins; deliveries touching one key run one at a time in
        their lane, so there is no concurrent writer to lose)."""
        self.put_many([(key_type, key, data)], now)

    def put_many(self, documents: list[tuple[str, str, dict[str, Any]]], now: datetime) -> None:
        """Replace several (key_type, key, data) documents in one transaction: all or none."""
        with self.db.write() as conn:
            for upsert in self.statements(documents, now):
                upsert.run(conn)

    def statements(self, documents: list[tuple[str, str, dict[str, Any]]], now: datetime) -> list[Upsert]:
        """The upserts of `put_many`, to run inside another write (a delivery's outcome)."""
        statement = _upsert(self.db.is_sqlite, remote_state, ("data", "updated_at"))
        return [
            Upsert(
                statement,
                {"scope": self.scope, "key_type": key_type, "external_key": key[:255], "data": data, "updated_at": now},
                (self.scope, key_type, key[:255]),
            )
            for key_type, key, data in documents
        ]


class AppliedVersions:
    """The newest event version applied per (destination, subject); anything older is stale."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, destination: str, subject: str) -> datetime | None:
        """The newest `updated_at` applied, or None."""
        with self.db.read() as conn:
            return conn.execute(
                select(applied_versions.c.version_at).where(
                    applied_versions.c.destination == destination, applied_versions.c.subject == subject[:255]
                )
            ).scalar()

    def get_many(self, destination: str, subjects: list[str]) -> dict[str, datetime]:
        """The newest version applied for each of `subjects` that has one, in one query."""
        if not subjects:
            return {}
        with self.db.read() as conn:
            rows = conn.execute(
                select(applied_versions.c.subject, applied_versions.c.version_at).where(
                    applied_versions.c.destination == destination,
                    applied_versions.c.subject.in_(sorted({s[:255] for s in subjects})),
                )
            ).all()
        versions = {row[0]: row[1] for row in rows}
        return {subject: versions[subject[:255]] for subject in subjects if subject[:255] in versions}

    def bump(self, destination: str, subject: str, version: datetime) -> None:
        """Raise the applied version to `version` (never lowers it). One upsert whose update keeps the greater
        version, so concurrent bumps are safe in any order; idempotent."""
        with self.db.write() as conn:
            self.bump_statement(destination, subject, version).run(conn)

    def bump_statement(self, destination: str, subject: str, version: datetime) -> Upsert:
        """The upsert of `bump`, to run inside another write (the delivery's outcome)."""
        values = {"destination": destination, "subject": subject[:255], "version_at": version}
        statement = _upsert(self.db.is_sqlite, applied_versions, ("version_at",), highest=True)
        return Upsert(statement, values, (destination, subject[:255]))


@functools.cache
def _upsert(is_sqlite: bool, table: Table, replace: tuple[str, ...], *, highest: bool = False) -> Executable:
    """INSERT … ON CONFLICT (primary key) DO UPDATE SET each of `replace` to the new row's value (`highest`: the
    greater of both), without values (each row brings its own): one statement per table and dialect, so that
    rows of several deliveries go to the database together."""
    insert = (sqlite.insert if is_sqlite else postgresql.insert)(table)
    greater = func.max if is_sqlite else func.greatest
    values = {
        name: greater(table.c[name], insert.excluded[name]) if highest else insert.excluded[name] for name in replace
    }
    statement: Executable = insert.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns], set_=values
    )
    return statement


def _keyed(table: Any, scope: str, keys: list[tuple[str, str]]) -> list[Any]:
    """WHERE clauses for `keys` (key_type, key) of `scope` (a superset when types and keys mix: callers pick)."""
    return [
        table.c.scope == scope,
        table.c.key_type.in_(sorted({key_type for key_type, _ in keys})),
        table.c.external_key.in_(sorted({key[:255] for _, key in keys})),
    ]
