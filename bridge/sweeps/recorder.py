"""Turning store states read from an API into events: skip every state already stored (from a webhook, or an
earlier sweep), validate the rest into canonical events and store them, insert-once under the webhook's
identity, so the webhook that arrives later is answered as a duplicate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from bridge.canonical import validate_canonical
from bridge.platforms.reader import StoreReader, StoreState
from bridge.storage.events import EventRecord, Events, NewEvent
from bridge.timeutil import parse_datetime
from bridge.triage import cap_errors
from bridge.vocabulary import EventStatus

BACKFILL = "backfill"
RECONCILE = "reconcile"


@dataclass
class Tally:
    """What a sweep did with the states it read."""

    seen: int = 0
    created: int = 0
    known: int = 0
    skipped: int = 0
    quarantined: int = 0
    event_ids: list[int] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        """Add another page's figures."""
        self.seen += other.seen
        self.created += other.created
        self.known += other.known
        self.skipped += other.skipped
        self.quarantined += other.quarantined
        self.event_ids.extend(other.event_ids)


def record_states(
    events: Events, states: list[StoreState], *, origin: str, now: datetime, live_after: datetime | None
) -> Tally:
    """Store the states not seen yet. A state changed before `live_after` (None: all of them, a backfill) is
    history: AC gets it with `source: 0`, EcartAPI nothing, and a historical checkout goes to AC as the
    abandoned cart it is (no timer)."""
    tally = Tally(seen=len(states))
    known = events.existing_keys([s.dedupe_key for s in states])
    paid_before = _orders_seen(events, states)
    fresh: list[NewEvent] = []
    for state in states:
        if state.dedupe_key in known:
            tally.known += 1
            continue
        subject = _once_subject(state)
        if subject is not None and subject in paid_before:
            tally.known += 1  # a later version of an order already paid (or cancelled): not news
            continue
        historical = live_after is None or state.changed_at < live_after
        new = _new_event(state, origin=origin, now=now, historical=historical)
        if new is None:
            tally.skipped += 1
            continue
        fresh.append(new)
        known.add(state.dedupe_key)
        if subject is not None:
            paid_before.add(subject)
    if not fresh:
        return tally
    # One transaction (one commit, one fsync) for the page's new events, not one each: a 10,000-order
    # backfill spent most of its time committing. Mapped above, so the write lock is held only for the inserts.
    for new, event_id in zip(fresh, events.insert_many(fresh), strict=True):
        if event_id is None:
            tally.known += 1  # a webhook for the same state got in first
            continue
        tally.created += 1
        tally.event_ids.append(event_id)
        tally.quarantined += new.status == EventStatus.QUARANTINED
    return tally


def _once_subject(state: StoreState) -> tuple[str, str] | None:
    order_id = (state.candidate or {}).get("order_id")
    return (str(order_id), state.kind) if state.once_per_order and order_id else None


def _orders_seen(events: Events, states: list[StoreState]) -> set[tuple[str, str]]:
    """(order id, kind) already stored for the once-per-order states among `states`, per source and store."""
    seen: set[tuple[str, str]] = set()
    groups: dict[tuple[str, str | None], list[str]] = {}
    for state in states:
        if (subject := _once_subject(state)) is not None:
            groups.setdefault((state.source, state.store), []).append(subject[0])
    for (source, store), order_ids in groups.items():
        seen |= events.order_kinds_seen(source, store, order_ids)
    return seen


def _new_event(state: StoreState, *, origin: str, now: datetime, historical: bool) -> NewEvent | None:
    candidate, errors = state.candidate, state.errors
    if candidate is not None and historical and candidate.get("kind") == "checkout.updated":
        if candidate.get("completed_at") or not (
            candidate.get("email") or (candidate.get("customer") or {}).get("email")
        ):
            return None  # completed (its order is the event), or nobody to remind
        candidate = {**candidate, "kind": "cart.abandoned"}
    payload: dict[str, Any] | None = None
    if candidate is not None:
        try:
            payload = validate_canonical(candidate)
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    capped = cap_errors(errors) if payload is None else None
    return NewEvent(
        source=state.source,
        topic=state.topic,
        dedupe_key=state.dedupe_key,
        status=EventStatus.ACCEPTED if payload is not None else EventStatus.QUARANTINED,
        received_at=now,
        headers={"X-Storebridge-Origin": origin},
        body=json.dumps(state.document, ensure_ascii=False, separators=(",", ":")).encode(),
        payload=payload,
        errors=capped,
        kind=(payload or candidate or {}).get("kind") or state.kind,
        store=state.store,
        order_id=(payload or {}).get("order_id"),
        checkout_id=(payload or {}).get("checkout_id"),
        occurred_at=parse_datetime(payload["occurred_at"]) if payload else None,
        origin=origin,
        historical=1 if historical else 0,
    )


def triage_api_state(reader: StoreReader, record: EventRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(payload, None) or (None, capped errors) for a stored reconciled or backfilled event, read again from its
    body with today's mapping, as history if it was history (a replay after a fix)."""
    try:
        document = json.loads(record.body)
    except ValueError:
        return None, {"_schema": ["the stored API node is not JSON"]}
    state = reader.restate(document, record.topic) if isinstance(document, dict) else None
    if state is None:
        return None, {"_schema": [f"no {record.topic} state in the stored API node"]}
    new = _new_event(state, origin=record.origin, now=record.received_at, historical=bool(record.historical))
    if new is None:
        return None, {"_schema": ["the state is no event any more (a completed checkout, or no email)"]}
    return new.payload, new.errors
