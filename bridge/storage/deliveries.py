"""Deliveries (one per destination of an event) and their attempts: plan, finish, inspect (claiming with a
lease is in claims.py). Each operation runs as a transaction of its own on `storage.deliveries`, or inside the
caller's on `tx.deliveries` (bridge/storage/facade.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, and_, case, func, insert, select, update

from bridge.storage.claims import Leases
from bridge.storage.delivery_rows import Delivery, Finish, NewDelivery
from bridge.storage.events import settle_event, settle_events
from bridge.storage.group_outcomes import finish_one, finish_together
from bridge.storage.remote import Upsert
from bridge.storage.session import Session
from bridge.storage.tables import attempts, deliveries
from bridge.timeutil import utcnow
from bridge.vocabulary import FINAL, Attempt, DeliveryStatus

__all__ = ["Deliveries", "Delivery", "Finish", "NewDelivery"]


class Deliveries(Leases):
    """The delivery queue: planning, claiming with a lease (bridge/storage/claims.py), finishing, inspecting.
    Claims are one indexed query; SQLite serialises them with BEGIN IMMEDIATE, PostgreSQL with FOR UPDATE SKIP
    LOCKED."""

    def __init__(self, db: Session) -> None:
        self.db = db

    # -- planning ------------------------------------------------------------------------------------------

    def add(self, event_id: int, planned: list[NewDelivery], now: datetime) -> None:
        """Queue `planned` (new deliveries) for `event_id`, each due at `now`. Meant for `tx.deliveries`, in the
        transaction that moves the event to `planned`, so an event is never planned without its deliveries (nor
        twice). Not idempotent by itself: the planner's lock on the event (`tx.events.accepted`) is what prevents
        doubles."""
        if planned:
            with self.db.write() as conn:
                conn.execute(
                    insert(deliveries),
                    [
                        {
                            "event_id": event_id,
                            "destination": new.destination,
                            "lane": new.lane[:255],
                            "status": DeliveryStatus.PENDING,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for new in planned
                    ],
                )

    # -- finishing -----------------------------------------------------------------------------------------

    def release(self, delivery_id: int, owner: str, now: datetime, next_attempt_at: datetime | None = None) -> None:
        """Give a delivery back untouched (shutdown, or its destination paused before the call): the attempt
        is not spent. It is due again at `next_attempt_at` (default: at once). One UPDATE, atomic; a no-op when
        `owner` no longer holds the lease (so a late release cannot undo another worker's claim)."""
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING,
            "lease_owner": None,
            "lease_expires_at": None,
            "attempts": deliveries.c.attempts - 1,
            # No attempt left spent: the age limit (BRIDGE_RETRY_MAX_AGE) counts from its first real attempt, not
            # from a claim given back (a long token-rejected pause must not age a delivery that never failed).
            "first_attempt_at": case((deliveries.c.attempts <= 1, None), else_=deliveries.c.first_attempt_at),
            "updated_at": now,
        }
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.db.write() as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
                .values(**values)
            )

    def finish(
        self,
        delivery_id: int,
        owner: str,
        *,
        status: str,
        now: datetime,
        next_attempt_at: datetime | None = None,
        last_status: int | None = None,
        last_error: str | None = None,
        note: str | None = None,
        also: Sequence[Executable | Upsert] = (),
    ) -> bool:
        """Record a delivery's outcome (final, or pending again at `next_attempt_at`) and settle its event;
        `also` (the applied version's upsert, the order state the delivery sent) is written in the same
        transaction when the lease is still ours.

        Atomic: the delivery's row, `also` and the event's settled status commit together or not at all. It is
        a compare-and-set on the lease: returns False, writing nothing, if the lease was lost meanwhile
        (another worker owns the delivery now).
        """
        outcome = Finish(delivery_id, status, now, next_attempt_at, last_status, last_error, note, also)
        with self.db.write() as conn:
            return finish_one(conn, owner, outcome)

    def finish_many(self, owner: str, outcomes: Sequence[Finish]) -> set[int]:
        """Record several deliveries' outcomes (each as `finish`) in one transaction: a claimed group's, written
        together. Returns the ids recorded; one whose lease was lost meanwhile is left out, with its `also`.

        Atomic: every recorded outcome, its `also` and the settled status of its event commit together or not
        at all. One statement per table (group_outcomes.py); rows are locked and events settled in id order, so
        two groups' transactions cannot deadlock on each other's rows."""
        with self.db.write() as conn:
            return finish_together(conn, owner, outcomes, is_sqlite=self.db.is_sqlite)

    def hurry(self, destination: str, now: datetime) -> int:
        """Make every backed-off pending delivery of `destination` due now (its outage is over). One UPDATE;
        idempotent; returns how many rows changed."""
        with self.db.write() as conn:
            return conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.destination == destination,
                    deliveries.c.status == DeliveryStatus.PENDING,
                    deliveries.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            ).rowcount

    def requeue_dead(self, *, event_id: int | None = None, since: datetime | None = None) -> list[int]:
        """Give dead deliveries a fresh start (attempts and age reset); returns the events concerned. One
        transaction: the deliveries and their events' settled statuses change together. Idempotent (a second
        call finds no dead delivery)."""
        now = utcnow()
        condition = deliveries.c.status == DeliveryStatus.DEAD
        if event_id is not None:
            condition = and_(condition, deliveries.c.event_id == event_id)
        if since is not None:
            condition = and_(condition, deliveries.c.updated_at >= since)
        with self.db.write() as conn:
            event_ids = sorted(set(conn.execute(select(deliveries.c.event_id).where(condition)).scalars()))
            conn.execute(
                update(deliveries)
                .where(condition)
                .values(
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    first_attempt_at=None,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
            settle_events(conn, event_ids)
        return event_ids

    def retry(self, delivery_id: int) -> bool:
        """Send one finished delivery again now, with a fresh attempt budget. False if it is pending, in flight
        or unknown (nothing to retry). Atomic with its event's settled status; a compare-and-set on the
        status, so two concurrent retries of one delivery make one fresh start."""
        now = utcnow()
        with self.db.write() as conn:
            event_id = conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.status.in_(FINAL))
                .values(
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    first_attempt_at=None,
                    next_attempt_at=now,
                    updated_at=now,
                )
                .returning(deliveries.c.event_id)
            ).scalar()
            if event_id is None:
                return False
            settle_event(conn, event_id)
        return True

    def get(self, delivery_id: int) -> dict[str, Any] | None:
        """One delivery's row, or None. Locks nothing."""
        with self.db.read() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
        return dict(row._mapping) if row else None

    def record_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        """Store one attempt of `delivery` (on `storage.deliveries`, committed at once, so a crash later cannot
        lose the evidence). Not idempotent: each call is one more attempt row."""
        self.record_attempts(attempt, [delivery])

    def record_attempts(self, attempt: Attempt, made_for: Sequence[Delivery]) -> None:
        """Store one call as an attempt of each delivery in `made_for`, in one transaction (a batch's call is an
        attempt of each order)."""
        if made_for:
            row = vars(attempt)  # not asdict: no deep copy on the hot path
            with self.db.write() as conn:
                conn.execute(
                    insert(attempts),
                    [
                        {"delivery_id": d.id, "event_id": d.event_id, "destination": d.destination, **row}
                        for d in made_for
                    ],
                )

    # -- inspection ----------------------------------------------------------------------------------------

    def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery becomes due."""
        with self.db.read() as conn:
            return conn.execute(
                select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.status == DeliveryStatus.PENDING)
            ).scalar()

    def for_event(self, event_id: int) -> list[dict[str, Any]]:
        """The deliveries of an event, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(deliveries).where(deliveries.c.event_id == event_id).order_by(deliveries.c.id))
            return [dict(r._mapping) for r in rows]

    def attempts_for_event(self, event_id: int) -> list[dict[str, Any]]:
        """Every attempt made for an event, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(select(attempts).where(attempts.c.event_id == event_id).order_by(attempts.c.id))
            return [dict(r._mapping) for r in rows]

    def count_by_status(self) -> dict[tuple[str, str], int]:
        """(destination, status) -> count."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(deliveries.c.destination, deliveries.c.status, func.count()).group_by(
                    deliveries.c.destination, deliveries.c.status
                )
            )
            return {(d, s): int(n) for d, s, n in rows}
