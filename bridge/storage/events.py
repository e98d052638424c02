"""The events table and the event lifecycle: what came in, exactly as it came, with its canonical form, and
every change of an event's status (received → accepted | quarantined → planned → done | dead) in one place.

Each operation runs as a transaction of its own on `storage.events`, or inside the caller's on `tx.events`
(bridge/storage/facade.py)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from bridge.storage.event_rows import EventRecord, NewEvent, columns_of, fitted, same_event
from bridge.storage.session import Session
from bridge.storage.tables import deliveries, events
from bridge.vocabulary import UNFINISHED, DeliveryStatus, EventStatus

__all__ = ["EventRecord", "Events", "NewEvent"]


class Events:
    """Insert-once storage of inbound events, keyed by each source's dedupe key."""

    def __init__(self, db: Session) -> None:
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
        """Store `event` unless an event of the same identity (dedupe key, or delivery key) is stored. Returns
        (event id, created).

        Atomic and idempotent: one INSERT … ON CONFLICT DO NOTHING, so of two concurrent calls with one identity
        exactly one creates the row and the other gets its id (`created` False). On `storage.events` the row is
        committed (SQLite WAL + synchronous=FULL, or a PostgreSQL commit) before this returns. Raises
        StorageUnavailable when the database cannot take the write.
        """
        values = fitted(event)
        outcome = self.db.run_prepared(self._ack_insert, values, write=True)
        if self.db.is_sqlite and outcome.rowcount == 1 and outcome.lastrowid:
            return int(outcome.lastrowid), True
        if not self.db.is_sqlite and outcome.first is not None:
            return int(outcome.first[0]), True
        # A conflict: the committed original is there to read.
        with self.db.read() as conn:
            existing = conn.execute(same_event(event)).scalar()
        if existing is None:
            raise RuntimeError(f"event {event.dedupe_key!r} neither inserted nor found")
        return int(existing), False

    def insert(self, event: NewEvent) -> int | None:
        """Insert an event the bridge itself produced (cart.abandoned, a reconciled order); None if its identity
        is stored already. Idempotent like `record`; no row is locked beyond the insert."""
        with self.db.write() as conn:
            return conn.execute(self._insert, fitted(event)).scalar()

    def insert_many(self, new_events: list[NewEvent]) -> list[int | None]:
        """`insert` for each of `new_events`, in one transaction (one commit, one fsync: a backfill page's events).
        The ids in order, None where the identity was stored already. Atomic: all are stored or none."""
        with self.db.write() as conn:
            return [conn.execute(self._insert, fitted(event)).scalar() for event in new_events]

    def by_delivery_key(self, delivery_key: str) -> int | None:
        """The event a delivery id was already stored under (a platform retry), or None. One indexed read."""
        outcome = self.db.run_prepared(self._ack_by_delivery, {"delivery_key": delivery_key}, write=False)
        return None if outcome.first is None else int(outcome.first[0])

    def existing_keys(self, dedupe_keys: list[str]) -> set[str]:
        """Which of `dedupe_keys` are stored already (reconciliation skips what the bridge has seen). One read
        transaction; locks nothing."""
        found: set[str] = set()
        with self.db.read() as conn:
            for start in range(0, len(dedupe_keys), 500):
                chunk = dedupe_keys[start : start + 500]
                found.update(conn.execute(select(events.c.dedupe_key).where(events.c.dedupe_key.in_(chunk))).scalars())
        return found

    def order_kinds_seen(self, source: str, store: str | None, order_ids: list[str]) -> set[tuple[str, str]]:
        """(order id, kind) of every event already stored for these orders of one store (reconciliation: an
        order paid once is not paid again). One read transaction; locks nothing."""
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
        """One event, or None. Inside a transaction it sees the transaction's own writes; locks nothing."""
        with self.db.read() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).first()
        return EventRecord.from_row(row) if row else None

    def get_many(self, event_ids: list[int]) -> dict[int, EventRecord]:
        """Several events by id, in one query (the events of deliveries claimed together). Locks nothing."""
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
    ) -> builtins.list[EventRecord]:
        """Newest first, filtered; `before_id` pages backwards. Locks nothing."""
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
        """How many events are in each status (one consistent read)."""
        with self.db.read() as conn:
            rows = conn.execute(select(events.c.status, func.count()).group_by(events.c.status))
            return {status: int(n) for status, n in rows}

    # -- the planner's reads ---------------------------------------------------------------------------------

    def has_work(self) -> bool:
        """A cheap read: is any event waiting to be triaged or planned?"""
        query = select(events.c.id).where(events.c.status.in_((EventStatus.RECEIVED, EventStatus.ACCEPTED))).limit(1)
        with self.db.read() as conn:
            return conn.execute(query).first() is not None

    def received(self, limit: int) -> builtins.list[EventRecord]:
        """The oldest raw events not triaged yet, in the order they were received. Locks nothing: two workers
        may read the same ones, and `replace_verdict(only_if_status=…)` lets one of them win."""
        query = select(events).where(events.c.status == EventStatus.RECEIVED).order_by(events.c.id).limit(limit)
        with self.db.read() as conn:
            return [EventRecord.from_row(r) for r in conn.execute(query)]

    def first_received_id(self) -> int | None:
        """The id of the oldest event still waiting to be triaged (planning must not overtake it)."""
        with self.db.read() as conn:
            return conn.execute(select(func.min(events.c.id)).where(events.c.status == EventStatus.RECEIVED)).scalar()

    def accepted(self, limit: int, before_id: int | None = None) -> builtins.list[EventRecord]:
        """The oldest events not planned yet, in the order they were received (all older than `before_id`).

        Meant for `tx.events`: on PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED until the transaction
        ends, so two planners never plan one event; on SQLite the transaction's write lock already excludes
        the other planner."""
        query = select(events).where(events.c.status == EventStatus.ACCEPTED).order_by(events.c.id).limit(limit)
        if before_id is not None:
            query = query.where(events.c.id < before_id)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        with self.db.write() as conn:
            return [EventRecord.from_row(r) for r in conn.execute(query)]

    def paid_order_exists(self, source: str, store: str | None, checkout_id: str) -> bool:
        """True if an order.paid for this checkout has been received (whatever became of it since)."""
        query = select(events.c.id).where(
            events.c.kind == "order.paid",
            events.c.checkout_id == checkout_id,
            events.c.source == source,
            events.c.status != EventStatus.QUARANTINED,
        )
        query = query.where(events.c.store.is_(None) if store is None else events.c.store == store)
        with self.db.read() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def checkout_of_order(self, source: str, store: str | None, order_id: str) -> str | None:
        """The checkout id an earlier event of this order carried, if any."""
        query = select(events.c.checkout_id).where(
            events.c.order_id == order_id,
            events.c.source == source,
            events.c.checkout_id.is_not(None),
            events.c.status != EventStatus.QUARANTINED,
        )
        query = query.where(events.c.store.is_(None) if store is None else events.c.store == store)
        with self.db.read() as conn:
            return conn.execute(query.order_by(events.c.id).limit(1)).scalar()

    # -- the lifecycle ----------------------------------------------------------------------------------------

    def replace_verdict(
        self,
        event_id: int,
        *,
        status: str,
        payload: dict[str, Any] | None,
        errors: Any,
        note: str | None,
        only_if_status: str | None = None,
    ) -> bool:
        """Store a triage verdict on the raw body (the worker's first reading, or a replay's): the canonical
        form, or the errors. Returns True if the row changed.

        One UPDATE, atomic. With `only_if_status` it is a compare-and-set: only an event still in that status
        changes, so of two workers triaging the same event exactly one stores its answer (the other gets
        False)."""
        values: dict[str, Any] = {"status": status, "payload": payload, "errors": errors, "note": note}
        if payload is not None:
            values.update(columns_of(payload))
        statement = update(events).where(events.c.id == event_id).values(**values)
        if only_if_status is not None:
            statement = statement.where(events.c.status == only_if_status)
        with self.db.write() as conn:
            return conn.execute(statement).rowcount > 0

    def set_status(self, event_id: int, status: str, note: str | None = None) -> None:
        """Move an event to `status`, with an optional human note. Unconditional and idempotent (the same call
        twice leaves the same row)."""
        with self.db.write() as conn:
            conn.execute(update(events).where(events.c.id == event_id).values(status=status, note=note))

    def requeue(self, event_id: int, note: str) -> None:
        """Send an event back to the planner (replay): it gets fresh deliveries, its old ones stay as history.
        Idempotent: a requeued event is simply `accepted` once."""
        self.set_status(event_id, EventStatus.ACCEPTED, note)

    def settle(self, event_id: int) -> None:
        """Set an event's status from its deliveries (see `settle_event`). Idempotent; in `tx.events` it sees
        the deliveries the transaction changed."""
        with self.db.write() as conn:
            settle_event(conn, event_id)


def settle_event(conn: Connection, event_id: int) -> None:
    """Set an event's status from its deliveries, on `conn` (inside the transaction that changed them, so the
    two never disagree): `done` when all are final and none dead, `dead` when one is, `planned` while one is
    unfinished. Only the newest delivery of each destination counts: after a replay the old dead one is history.
    """
    settle_events(conn, [event_id])


def settle_events(conn: Connection, event_ids: builtins.list[int]) -> None:
    """`settle_event` for several events (in id order: a group's outcomes): one query for their newest
    deliveries, one update per resulting status."""
    if not event_ids:
        return
    newest = (
        select(func.max(deliveries.c.id))
        .where(deliveries.c.event_id.in_(event_ids))
        .group_by(deliveries.c.event_id, deliveries.c.destination)
    )
    found: dict[int, set[str]] = {event_id: set() for event_id in event_ids}
    # The outer filter on event_id keeps this an index probe: `id IN (newest)` alone can become a scan.
    rows = conn.execute(
        select(deliveries.c.event_id, deliveries.c.status).where(
            deliveries.c.event_id.in_(event_ids), deliveries.c.id.in_(newest)
        )
    )
    for row in rows:
        found[row[0]].add(row[1])
    settled: dict[str, builtins.list[int]] = {}
    for event_id, statuses in found.items():
        settled.setdefault(_event_status(statuses), []).append(event_id)
    for status, ids in settled.items():
        conn.execute(update(events).where(events.c.id.in_(sorted(ids))).values(status=status))


def _event_status(statuses: set[str]) -> str:
    if statuses & set(UNFINISHED):
        return EventStatus.PLANNED
    if DeliveryStatus.DEAD in statuses:
        return EventStatus.DEAD
    return EventStatus.DONE
