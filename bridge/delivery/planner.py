"""Planning: each raw platform event is interpreted first (mapped and validated: `accepted` or
`quarantined`, spec §10); each accepted event then becomes its deliveries (spec §5 table) and moves its
checkout's timer.

One planner runs at a time (SQLite's write lock; an advisory lock on PostgreSQL), taking events in the
order they were received, so deliveries of one lane are queued in event order; planning never overtakes an
event still waiting to be interpreted.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bridge.destinations import registry
from bridge.metrics import event_triaged
from bridge.platforms import build_sources, compliance_handler
from bridge.settings import Settings
from bridge.storage import Database, EventRecord, Storage, Transaction
from bridge.storage.deliveries import NewDelivery
from bridge.storage.timers import checkout_key
from bridge.timeutil import parse_datetime, utcnow
from bridge.triage import Verdict, triage
from bridge.vocabulary import EventStatus

log = logging.getLogger(__name__)
BATCH = 200
PLANNER_LOCK = 727463


class Planner:
    """Turns accepted events into deliveries and timer changes."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.storage = Storage.of(db)
        self.events = self.storage.events
        self.sources = build_sources(settings)

    def plan_pending(self) -> int:
        """Interpret every raw event and plan every accepted one (in batches); returns how many were planned."""
        total = 0
        if not self.events.has_work():
            return 0
        while True:
            interpreted = self.triage_received()
            with self.storage.transaction() as tx:
                tx.advisory_lock(PLANNER_LOCK)
                batch = tx.events.accepted(BATCH, before_id=tx.events.first_received_id())
                for event in batch:
                    self._plan(tx, event)
            total += len(batch)
            if len(batch) < BATCH and interpreted < BATCH:
                return total

    def triage_received(self) -> int:
        """Map and validate the oldest raw events (outside any write transaction: it is the CPU-heavy part),
        then store each answer in one short transaction. Returns how many were read."""
        records = self.events.received(BATCH)
        if not records:
            return 0
        results: list[tuple[EventRecord, Verdict]] = []
        for record in records:
            carry_out = compliance_handler(record.kind)
            if carry_out is not None:  # a platform's privacy request (Shopify's): carried out, never delivered
                carry_out(self.db, record)
                log.info("compliance request carried out", extra={"event_id": record.id, "topic": record.topic})
                event_triaged(record.source, record.kind, EventStatus.DONE)
                continue
            source = self.sources.get(record.source)
            if source is None:  # never from a webhook (404); a row written by other code, kept for a look
                errors = {"_schema": [f"no source {record.source!r} to read this event"]}
                results.append((record, Verdict(EventStatus.QUARANTINED, None, errors, "unknown source")))
                continue
            results.append((record, triage(source, record)))
        with self.storage.transaction() as tx:
            for record, result in results:
                changed = tx.events.replace_verdict(
                    record.id,
                    status=result.status,
                    payload=result.payload,
                    errors=result.errors,
                    note=result.note if result.status != EventStatus.ACCEPTED else None,
                    only_if_status=EventStatus.RECEIVED,
                )
                if changed:
                    kind = (result.payload or {}).get("kind") or record.kind
                    event_triaged(record.source, kind, result.status)
        return len(records)

    def _plan(self, tx: Transaction, event: EventRecord) -> None:
        now = utcnow()
        payload: dict[str, Any] = event.payload or {}
        kind = payload.get("kind")
        notes: list[str] = []
        legs: list[NewDelivery] = []
        if kind == "checkout.updated":
            notes.append(self._checkout_timer(tx, event, payload))
        # Each destination says which legs it wants of this event (registry order).
        for destination in registry.destinations():
            lanes = destination.lanes(self.settings, event, payload, lambda p: self._with_checkout(tx, event, p))
            legs.extend(NewDelivery(destination.name, lane) for lane in lanes)
        if kind == "order.paid" and payload.get("checkout_id"):
            key = checkout_key(event.source, payload.get("store"), payload["checkout_id"])
            if tx.timers.cancel(key, event.id, now, f"order.paid event {event.id}"):
                notes.append("abandonment timer cancelled: the checkout was paid")
        tx.deliveries.add(event.id, legs, now)
        if not legs and not notes:
            notes.append("nothing to deliver for this event")
        tx.events.set_status(event.id, EventStatus.PLANNED if legs else EventStatus.DONE, "; ".join(notes) or None)

    def _with_checkout(self, tx: Transaction, event: EventRecord, payload: dict[str, Any]) -> dict[str, Any]:
        """A refund names no checkout (Shopify's), but must share the lane of the order it refunds, which is
        its checkout's lane when the order came from one: take the checkout from the order's earlier events."""
        if payload.get("checkout_id"):
            return payload
        found = tx.events.checkout_of_order(event.source, payload.get("store"), payload["order_id"])
        return {**payload, "checkout_id": found} if found else payload

    def _checkout_timer(self, tx: Transaction, event: EventRecord, payload: dict[str, Any]) -> str:
        """Newest state wins (spec §8): the timer holds the checkout state with the newest `updated_at`."""
        now = utcnow()
        key = checkout_key(event.source, payload.get("store"), payload["checkout_id"])
        if payload.get("completed_at"):
            tx.timers.cancel(key, event.id, now, f"checkout completed (event {event.id})")
            return "checkout completed: no abandonment"
        if tx.events.paid_order_exists(event.source, payload.get("store"), payload["checkout_id"]):
            tx.timers.cancel(key, event.id, now, "an order for this checkout is paid")
            return "an order for this checkout is already paid: timer not armed"
        version = parse_datetime(payload.get("updated_at") or payload["occurred_at"])
        fire_at = now + timedelta(seconds=self.settings.abandon_after) if payload.get("email") else None
        outcome = tx.timers.observe(key, event.id, version, fire_at, now)
        if outcome == "older":
            return "older than the checkout state already known: timer left as it is"
        if outcome == "completed":
            return "checkout already completed or paid: no abandonment"
        if fire_at is None:
            return "no email yet: nobody to remind, timer not armed"
        return f"abandonment timer armed until {fire_at.isoformat()}"
