"""Abandonment timers: one row per checkout, so they survive restarts and are shared by every worker.

The row also holds the checkout's newest state (spec §8): the event with the newest `updated_at` seen, whatever
arrived last. An older state never replaces it or re-arms the timer, and a checkout that completed (by its
own `completed_at` or a paid order with its token) stays `cancelled` for good, so it never becomes a cart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from bridge.storage.session import Session
from bridge.storage.tables import timers

#: `waiting`: the newest state has no email yet (nobody to remind), so nothing fires until one with an email.
ARMED, WAITING, FIRED, CANCELLED = "armed", "waiting", "fired", "cancelled"


@dataclass(frozen=True)
class Timer:
    """A checkout's timer."""

    checkout_key: str
    event_id: int
    fire_at: datetime
    status: str
    version_at: datetime | None = None


def checkout_key(source: str, store: str | None, checkout_id: str) -> str:
    """Timers are per checkout of one store of one source."""
    return f"{source}|{store or ''}|{checkout_id}"


class Timers:
    """Arm, cancel and fire timers. Meant for `tx.timers` (bridge/storage/facade.py): a timer changes in the
    transaction that plans or emits the event it concerns, so the two never disagree."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, key: str) -> Timer | None:
        """The timer of a checkout, if any. On PostgreSQL its row is locked FOR UPDATE until the transaction
        ends (SQLite's write lock already covers it), so a read-then-change of one timer is never interleaved."""
        query = select(timers).where(timers.c.checkout_key == key)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        with self.db.write() as conn:
            row = conn.execute(query).first()
        return Timer(row.checkout_key, row.event_id, row.fire_at, row.status, row.version_at) if row else None

    def observe(self, key: str, event_id: int, version: datetime, fire_at: datetime | None, now: datetime) -> str:
        """A checkout state (event `event_id`, its `updated_at` = `version`) arrived: it becomes the checkout's
        state if it is the newest, armed to fire at `fire_at` (None: no email, so `waiting`). Returns what
        happened: `armed`, `waiting`, `older` (a newer state is known: nothing changes) or `completed`.
        Idempotent (the same state twice is `older` the second time); one upsert under the row lock of `get`."""
        current = self.get(key)
        if current is not None and current.status == CANCELLED:
            return "completed"
        if current is not None and current.version_at is not None and version <= current.version_at:
            return "older"
        status = ARMED if fire_at is not None else WAITING
        values = {"event_id": event_id, "fire_at": fire_at or now, "status": status, "version_at": version}
        statement = self.db.upsert(
            timers,
            ["checkout_key"],
            {"checkout_key": key, **values, "updated_at": now},
            {**values, "updated_at": now, "note": None},
        )
        with self.db.write() as conn:
            conn.execute(statement)
        return status

    def cancel(self, key: str, event_id: int, now: datetime, note: str) -> bool:
        """The checkout completed (or was paid): the timer stops for good, even if no state was seen yet, so a
        late older state cannot arm it. True if one was armed. Idempotent: a cancelled timer stays cancelled."""
        current = self.get(key)
        if current is not None and current.status == CANCELLED:
            return False
        statement = self.db.upsert(
            timers,
            ["checkout_key"],
            {"checkout_key": key, "event_id": event_id, "fire_at": now, "status": CANCELLED, "updated_at": now,
             "note": note},
            {"status": CANCELLED, "updated_at": now, "note": note},
        )  # fmt: skip
        with self.db.write() as conn:
            conn.execute(statement)
        return current is not None and current.status == ARMED

    def due(self, now: datetime, limit: int) -> list[Timer]:
        """Armed timers whose time has come, oldest first. On PostgreSQL locked FOR UPDATE SKIP LOCKED until the
        transaction ends, so two workers never fire one timer; SQLite's write lock does the same."""
        query = select(timers).where(timers.c.status == ARMED, timers.c.fire_at <= now).order_by(timers.c.fire_at)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        with self.db.write() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [Timer(r.checkout_key, r.event_id, r.fire_at, r.status, r.version_at) for r in rows]

    def mark_fired(self, key: str, now: datetime, note: str) -> None:
        """Record that the timer produced its cart.abandoned event (idempotent)."""
        with self.db.write() as conn:
            conn.execute(
                update(timers).where(timers.c.checkout_key == key).values(status=FIRED, updated_at=now, note=note)
            )

    def next_fire_at(self) -> datetime | None:
        """When the next armed timer fires (a read; locks nothing)."""
        with self.db.read() as conn:
            return conn.execute(
                select(timers.c.fire_at).where(timers.c.status == ARMED).order_by(timers.c.fire_at).limit(1)
            ).scalar()
