"""Planning: each accepted event becomes its deliveries (spec §5 table) and moves its checkout's timer.

One planner runs at a time (SQLite's write lock; an advisory lock on PostgreSQL), taking events in the
order they were received, so deliveries of one lane are queued in event order.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, text

from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.ecartapi import deliver as ecart
from bridge.settings import Settings
from bridge.storage import Database, EventRecord, EventStore
from bridge.storage.deliveries import DeliveryStore, Leg
from bridge.storage.events import DONE, PLANNED
from bridge.storage.timers import TimerStore, checkout_key
from bridge.timeutil import utcnow

log = logging.getLogger(__name__)
BATCH = 200
PLANNER_LOCK = 727463


class Planner:
    """Turns accepted events into deliveries and timer changes."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.events = EventStore(db)
        self.deliveries = DeliveryStore(db)
        self.timers = TimerStore(db)

    def plan_pending(self) -> int:
        """Plan every accepted event (in batches); returns how many were planned."""
        total = 0
        if not self.events.has_accepted():
            return 0
        while True:
            with self.db.write() as conn:
                if not self.db.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLANNER_LOCK})
                batch = self.events.accepted(conn, BATCH)
                for event in batch:
                    self._plan(conn, event)
            total += len(batch)
            if len(batch) < BATCH:
                return total

    def _plan(self, conn: Connection, event: EventRecord) -> None:
        now = utcnow()
        payload: dict[str, Any] = event.payload or {}
        kind = payload.get("kind")
        notes: list[str] = []
        legs: list[Leg] = []
        if kind == "checkout.updated":
            notes.append(self._checkout_timer(conn, event, payload))
        if kind in ("cart.abandoned", "order.paid"):
            legs.append(Leg(ac.NAME, ac.lane(payload)))
        if kind == "order.paid" and payload.get("checkout_id"):
            key = checkout_key(event.source, payload.get("store"), payload["checkout_id"])
            if self.timers.cancel(conn, key, now, f"order.paid event {event.id}"):
                notes.append("abandonment timer cancelled: the checkout was paid")
        if kind in self.settings.ecart_statuses and event.source != "ecartapi":
            legs.append(Leg(ecart.NAME, ecart.lane(payload)))
        self.deliveries.add(conn, event.id, legs, now)
        if not legs and not notes:
            notes.append("nothing to deliver for this event")
        self.events.set_status(conn, event.id, PLANNED if legs else DONE, "; ".join(notes) or None)

    def _checkout_timer(self, conn: Connection, event: EventRecord, payload: dict[str, Any]) -> str:
        now = utcnow()
        key = checkout_key(event.source, payload.get("store"), payload["checkout_id"])
        if payload.get("completed_at"):
            self.timers.cancel(conn, key, now, f"checkout completed (event {event.id})")
            return "checkout completed: no abandonment"
        if not payload.get("email"):
            return "no email yet: nobody to remind, timer not armed"
        if self.events.paid_order_exists(conn, event.source, payload.get("store"), payload["checkout_id"]):
            return "an order for this checkout is already paid: timer not armed"
        fire_at = now + timedelta(seconds=self.settings.abandon_after)
        self.timers.arm(conn, key, event.id, fire_at, now)
        return f"abandonment timer armed until {fire_at.isoformat()}"
