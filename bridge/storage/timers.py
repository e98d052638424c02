"""Abandonment timers: one row per checkout, so they survive restarts and are shared by every worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from bridge.storage.database import Database
from bridge.storage.tables import timers

ARMED, FIRED, CANCELLED = "armed", "fired", "cancelled"


@dataclass(frozen=True)
class Timer:
    """A checkout's timer."""

    checkout_key: str
    event_id: int
    fire_at: datetime
    status: str


def checkout_key(source: str, store: str | None, checkout_id: str) -> str:
    """Timers are per checkout of one store of one source."""
    return f"{source}|{store or ''}|{checkout_id}"


class TimerStore:
    """Arm, cancel and fire timers inside the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, conn: Connection, key: str) -> Timer | None:
        """The timer of a checkout, if any."""
        row = conn.execute(select(timers).where(timers.c.checkout_key == key)).first()
        return Timer(row.checkout_key, row.event_id, row.fire_at, row.status) if row else None

    def arm(self, conn: Connection, key: str, event_id: int, fire_at: datetime, now: datetime) -> None:
        """(Re)start the timer for a checkout, remembering the checkout event it will turn into a cart."""
        statement = self.db.upsert(
            timers,
            ["checkout_key"],
            {"checkout_key": key, "event_id": event_id, "fire_at": fire_at, "status": ARMED, "updated_at": now},
            {"event_id": event_id, "fire_at": fire_at, "status": ARMED, "updated_at": now, "note": None},
        )
        conn.execute(statement)

    def cancel(self, conn: Connection, key: str, now: datetime, note: str) -> bool:
        """Stop an armed timer (checkout completed or paid). True if one was armed."""
        result = conn.execute(
            update(timers)
            .where(timers.c.checkout_key == key, timers.c.status == ARMED)
            .values(status=CANCELLED, updated_at=now, note=note)
        )
        return result.rowcount > 0

    def due(self, conn: Connection, now: datetime, limit: int) -> list[Timer]:
        """Armed timers whose time has come."""
        query = select(timers).where(timers.c.status == ARMED, timers.c.fire_at <= now).order_by(timers.c.fire_at)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query.limit(limit))
        return [Timer(r.checkout_key, r.event_id, r.fire_at, r.status) for r in rows]

    def mark_fired(self, conn: Connection, key: str, now: datetime, note: str) -> None:
        """Record that the timer produced its cart.abandoned event."""
        conn.execute(update(timers).where(timers.c.checkout_key == key).values(status=FIRED, updated_at=now, note=note))

    def next_fire_at(self) -> datetime | None:
        """When the next armed timer fires."""
        with self.db.read() as conn:
            return conn.execute(
                select(timers.c.fire_at).where(timers.c.status == ARMED).order_by(timers.c.fire_at).limit(1)
            ).scalar()
