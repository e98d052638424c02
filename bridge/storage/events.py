"""The events table: what came in, exactly as it came, with its canonical form."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, or_, select, update

from bridge.storage.database import Database
from bridge.storage.tables import events
from bridge.timeutil import parse_datetime
from bridge.vocabulary import EventStatus


@dataclass(frozen=True)
class NewEvent:
    """An event about to be stored (authenticated; validated or quarantined)."""

    source: str
    topic: str
    dedupe_key: str
    status: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] | None = None
    errors: dict[str, Any] | None = None
    kind: str | None = None
    store: str | None = None
    order_id: str | None = None
    checkout_id: str | None = None
    occurred_at: datetime | None = None
    delivery_key: str | None = None
    origin: str = "webhook"
    historical: int = 0


@dataclass(frozen=True)
class EventRecord:
    """A stored event."""

    id: int
    source: str
    topic: str
    dedupe_key: str
    status: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    payload: dict[str, Any] | None
    errors: dict[str, Any] | None
    kind: str | None
    store: str | None
    order_id: str | None
    checkout_id: str | None
    occurred_at: datetime | None
    note: str | None
    origin: str = "webhook"
    delivery_key: str | None = None
    historical: int = 0
    pruned_at: datetime | None = None  # when retention or an erasure emptied body, payload and errors

    @classmethod
    def from_row(cls, row: Row[Any]) -> EventRecord:
        """Build from a row of the events table."""
        return cls(**{k: row._mapping[k] for k in cls.__dataclass_fields__})


class EventStore:
    """Insert-once storage of inbound events, keyed by each source's dedupe key."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # No conflict target: a clash on either identity (dedupe_key or delivery_key) is the same event.
        self._insert = db.insert_ignoring_conflicts(events).returning(events.c.id)
        # The webhook ack's two statements, compiled once (see bridge/storage/prepared.py).
        columns = list(NewEvent.__dataclass_fields__)
        ack = db.insert_ignoring_conflicts(events)
        self._ack_insert = db.prepare(ack if db.is_sqlite else ack.returning(events.c.id), columns)
        self._ack_by_delivery = db.prepare(
            select(events.c.id).where(events.c.delivery_key == bindparam("delivery_key")).limit(1)
        )

    def record(self, event: NewEvent) -> tuple[int, bool]:
        """Store `event` unless its dedupe key is already stored. Returns (event id, created).

        The row is committed (SQLite WAL + synchronous=FULL, or a PostgreSQL commit) before this returns.
        Raises StorageUnavailable when the database cannot take the write.
        """
        values = _fitted(event)
        outcome = self.db.run_prepared(self._ack_insert, values, write=True)
        if self.db.is_sqlite and outcome.rowcount == 1 and outcome.lastrowid:
            return int(outcome.lastrowid), True
        if not self.db.is_sqlite and outcome.first is not None:
            return int(outcome.first[0]), True
        # A conflict: the committed original is there to read.
        with self.db.read() as conn:
            existing = conn.execute(_same_event(event)).scalar()
        if existing is None:
            raise RuntimeError(f"event {event.dedupe_key!r} neither inserted nor found")
        return int(existing), False

    def by_delivery_key(self, delivery_key: str) -> int | None:
        """The event a delivery id was already stored under (a platform retry), or None. One indexed read."""
        outcome = self.db.run_prepared(self._ack_by_delivery, {"delivery_key": delivery_key}, write=False)
        return None if outcome.first is None else int(outcome.first[0])

    def existing_keys(self, dedupe_keys: list[str]) -> set[str]:
        """Which of `dedupe_keys` are stored already (reconciliation skips what the bridge has seen)."""
        found: set[str] = set()
        with self.db.read() as conn:
            for start in range(0, len(dedupe_keys), 500):
                chunk = dedupe_keys[start : start + 500]
                found.update(conn.execute(select(events.c.dedupe_key).where(events.c.dedupe_key.in_(chunk))).scalars())
        return found

    def order_kinds_seen(self, source: str, store: str | None, order_ids: list[str]) -> set[tuple[str, str]]:
        """(order id, kind) of every event already stored for these orders of one store (reconciliation: an
        order paid once is not paid again)."""
        found: set[tuple[str, str]] = set()
        store_match = events.c.store.is_(None) if store is None else events.c.store == store
        with self.db.read() as conn:
            for start in range(0, len(order_ids), 500):
                chunk = order_ids[start : start + 500]
                query = select(events.c.order_id, events.c.kind).where(
                    events.c.source == source, store_match, events.c.order_id.in_(chunk), events.c.kind.is_not(None)
                )
                found.update((str(o), str(k)) for o, k in conn.execute(query))
        return found

    def get(self, event_id: int) -> EventRecord | None:
        """One event, or None."""
        with self.db.read() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).first()
        return EventRecord.from_row(row) if row else None

    def get_many(self, event_ids: list[int]) -> dict[int, EventRecord]:
        """Several events by id, in one query (the events of deliveries claimed together)."""
        with self.db.read() as conn:
            rows = conn.execute(select(events).where(events.c.id.in_(event_ids))).all()
        return {record.id: record for record in (EventRecord.from_row(row) for row in rows)}

    def list(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        kind: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[EventRecord]:
        """Newest first, filtered; `before_id` pages backwards."""
        query = select(events).order_by(events.c.id.desc()).limit(limit)
        if status:
            query = query.where(events.c.status == status)
        if source:
            query = query.where(events.c.source == source)
        if kind:
            query = query.where(events.c.kind == kind)
        if before_id:
            query = query.where(events.c.id < before_id)
        with self.db.read() as conn:
            return [EventRecord.from_row(r) for r in conn.execute(query)]

    def stores(self) -> builtins.list[str]:
        """Every store that has sent an event."""
        with self.db.read() as conn:
            rows = conn.execute(select(events.c.store).where(events.c.store.is_not(None)).distinct())
            return sorted(r for r in rows.scalars() if r)

    def count_by_status(self) -> dict[str, int]:
        """How many events are in each status."""
        with self.db.read() as conn:
            rows = conn.execute(select(events.c.status, func.count()).group_by(events.c.status))
            return {status: int(n) for status, n in rows}

    # -- used by the planner, inside its transaction -------------------------------------------------------

    def has_work(self) -> bool:
        """A cheap read: is any event waiting to be triaged or planned?"""
        query = select(events.c.id).where(events.c.status.in_((EventStatus.RECEIVED, EventStatus.ACCEPTED))).limit(1)
        with self.db.read() as conn:
            return conn.execute(query).first() is not None

    def received(self, limit: int) -> builtins.list[EventRecord]:
        """The oldest raw events not triaged yet, in the order they were received."""
        query = select(events).where(events.c.status == EventStatus.RECEIVED).order_by(events.c.id).limit(limit)
        with self.db.read() as conn:
            return [EventRecord.from_row(r) for r in conn.execute(query)]

    def first_received_id(self, conn: Connection) -> int | None:
        """The id of the oldest event still waiting to be triaged (planning must not overtake it)."""
        return conn.execute(select(func.min(events.c.id)).where(events.c.status == EventStatus.RECEIVED)).scalar()

    def accepted(self, conn: Connection, limit: int, before_id: int | None = None) -> builtins.list[EventRecord]:
        """The oldest events not planned yet, in the order they were received (all older than `before_id`)."""
        query = select(events).where(events.c.status == EventStatus.ACCEPTED).order_by(events.c.id).limit(limit)
        if before_id is not None:
            query = query.where(events.c.id < before_id)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return [EventRecord.from_row(r) for r in conn.execute(query)]

    def set_status(self, conn: Connection, event_id: int, status: str, note: str | None = None) -> None:
        """Move an event to `status`, with an optional human note."""
        conn.execute(update(events).where(events.c.id == event_id).values(status=status, note=note))

    def get_in(self, conn: Connection, event_id: int) -> EventRecord | None:
        """One event, read inside the caller's transaction."""
        row = conn.execute(select(events).where(events.c.id == event_id)).first()
        return EventRecord.from_row(row) if row else None

    def paid_order_exists(self, conn: Connection, source: str, store: str | None, checkout_id: str) -> bool:
        """True if an order.paid for this checkout has been received (whatever became of it since)."""
        query = select(events.c.id).where(
            events.c.kind == "order.paid",
            events.c.checkout_id == checkout_id,
            events.c.source == source,
            events.c.status != EventStatus.QUARANTINED,
        )
        query = query.where(events.c.store.is_(None) if store is None else events.c.store == store)
        return conn.execute(query.limit(1)).first() is not None

    def checkout_of_order(self, conn: Connection, source: str, store: str | None, order_id: str) -> str | None:
        """The checkout id an earlier event of this order carried, if any."""
        query = select(events.c.checkout_id).where(
            events.c.order_id == order_id,
            events.c.source == source,
            events.c.checkout_id.is_not(None),
            events.c.status != EventStatus.QUARANTINED,
        )
        query = query.where(events.c.store.is_(None) if store is None else events.c.store == store)
        return conn.execute(query.order_by(events.c.id).limit(1)).scalar()

    def insert_in(self, conn: Connection, event: NewEvent) -> int | None:
        """Insert an event the bridge itself produced (cart.abandoned); None if its key exists already."""
        return conn.execute(self._insert, _fitted(event)).scalar()

    def replace_verdict(
        self,
        event_id: int,
        *,
        status: str,
        payload: dict[str, Any] | None,
        errors: Any,
        note: str | None,
        conn: Connection | None = None,
        only_if_status: str | None = None,
    ) -> bool:
        """Store a triage verdict on the raw body (the worker's first reading, or a replay's): the canonical
        form, or the errors. With `only_if_status`, only an event still in that status changes (two workers
        triaging the same event store one answer). Returns True if the row changed."""
        values: dict[str, Any] = {"status": status, "payload": payload, "errors": errors, "note": note}
        if payload is not None:
            values.update(_columns_of(payload))
        statement = update(events).where(events.c.id == event_id).values(**values)
        if only_if_status is not None:
            statement = statement.where(events.c.status == only_if_status)
        if conn is not None:
            return conn.execute(statement).rowcount > 0
        with self.db.write() as own:
            return own.execute(statement).rowcount > 0

    def requeue(self, event_id: int, note: str) -> None:
        """Send an event back to the planner (replay): it gets fresh deliveries, its old ones stay as history."""
        with self.db.write() as conn:
            self.set_status(conn, event_id, EventStatus.ACCEPTED, note)


def _same_event(event: NewEvent) -> Any:
    """The stored event `event` collided with: same identity, or same delivery id."""
    condition = events.c.dedupe_key == event.dedupe_key
    if event.delivery_key:
        condition = or_(condition, events.c.delivery_key == event.delivery_key)
    return select(events.c.id).where(condition).order_by(events.c.id).limit(1)


def _columns_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns a canonical payload fills in (cut to their column's size)."""
    values = {
        "kind": payload.get("kind"),
        "store": payload.get("store"),
        "order_id": payload.get("order_id"),
        "checkout_id": payload.get("checkout_id"),
        "occurred_at": parse_datetime(payload["occurred_at"]) if payload.get("occurred_at") else None,
    }
    return _cut(values)


def _cut(values: dict[str, Any]) -> dict[str, Any]:
    for name in ("topic", "store", "order_id", "checkout_id", "kind", "dedupe_key", "delivery_key"):
        limit = getattr(events.c[name].type, "length", None)  # String(n) columns; others have no limit
        if isinstance(values.get(name), str) and limit and len(values[name]) > limit:
            values[name] = values[name][:limit]
    return values


def _fitted(event: NewEvent) -> dict[str, Any]:
    """Column values, with sender-controlled strings cut to their column's size (PostgreSQL enforces it)."""
    return _cut({k: getattr(event, k) for k in NewEvent.__dataclass_fields__})
