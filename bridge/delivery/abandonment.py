"""Firing abandonment timers: a due timer whose checkout was neither completed nor paid becomes a
`cart.abandoned` event, inserted in the same transaction that marks the timer fired (so exactly once)."""

from __future__ import annotations

import json

from bridge.canonical import validate_canonical
from bridge.storage import Database, NewEvent, Storage
from bridge.timeutil import utcnow
from bridge.vocabulary import EventStatus

BATCH = 100


class AbandonmentTimers:
    """Turns due timers into cart.abandoned events."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.storage = Storage.of(db)
        self.timers = self.storage.timers

    def has_due(self) -> bool:
        """A cheap read: is any armed timer due? (Spares a write transaction on every wake-up.)"""
        next_fire = self.timers.next_fire_at()
        return next_fire is not None and next_fire <= utcnow()

    def fire_due(self) -> int:
        """Fire every due timer; returns how many cart.abandoned events were emitted."""
        emitted = 0
        with self.storage.transaction() as tx:
            now = utcnow()
            for timer in tx.timers.due(now, BATCH):
                checkout = tx.events.get(timer.event_id)
                payload = (checkout.payload if checkout else None) or {}
                if checkout is None or not payload.get("checkout_id"):
                    tx.timers.mark_fired(timer.checkout_key, now, "checkout event missing")
                    continue
                if tx.events.paid_order_exists(checkout.source, payload.get("store"), payload["checkout_id"]):
                    tx.timers.mark_fired(timer.checkout_key, now, "paid meanwhile: no cart")
                    continue
                cart = validate_canonical({**payload, "kind": "cart.abandoned", "occurred_at": now})
                new_id = tx.events.insert(
                    NewEvent(
                        source=checkout.source,
                        topic="bridge/cart_abandoned",
                        dedupe_key=f"timer:{timer.checkout_key}:{timer.event_id}"[:255],
                        status=EventStatus.ACCEPTED,
                        received_at=now,
                        headers={"X-Bridge-Timer": timer.checkout_key, "X-Bridge-Checkout-Event": str(checkout.id)},
                        body=json.dumps(cart, ensure_ascii=False).encode(),
                        payload=cart,
                        kind="cart.abandoned",
                        store=cart.get("store"),
                        checkout_id=cart.get("checkout_id"),
                        occurred_at=now,
                    ),
                )
                tx.timers.mark_fired(timer.checkout_key, now, f"emitted event {new_id}")
                emitted += new_id is not None
        return emitted
