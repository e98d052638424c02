"""The shapes of an events row: an event about to be stored, a stored one, and the column values a row gets
(sender-controlled strings cut to their column's size)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select

from bridge.storage.tables import events
from bridge.timeutil import parse_datetime


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


def same_event(event: NewEvent) -> Any:
    """The stored event `event` collided with: same identity, or same delivery id."""
    condition = events.c.dedupe_key == event.dedupe_key
    if event.delivery_key:
        condition = or_(condition, events.c.delivery_key == event.delivery_key)
    return select(events.c.id).where(condition).order_by(events.c.id).limit(1)


def columns_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns a canonical payload fills in (cut to their column's size)."""
    values = {
        "kind": payload.get("kind"),
        "store": payload.get("store"),
        "order_id": payload.get("order_id"),
        "checkout_id": payload.get("checkout_id"),
        "occurred_at": parse_datetime(payload["occurred_at"]) if payload.get("occurred_at") else None,
    }
    return cut(values)


def cut(values: dict[str, Any]) -> dict[str, Any]:
    for name in ("topic", "store", "order_id", "checkout_id", "kind", "dedupe_key", "delivery_key"):
        limit = getattr(events.c[name].type, "length", None)
        if isinstance(values.get(name), str) and limit and len(values[name]) > limit:
            values[name] = values[name][:limit]
    return values


def fitted(event: NewEvent) -> dict[str, Any]:
    """Column values, with sender-controlled strings cut to their column's size (PostgreSQL enforces it)."""
    return cut({k: getattr(event, k) for k in NewEvent.__dataclass_fields__})
