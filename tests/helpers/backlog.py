"""Backlogs built straight into the events table, the way the webhook endpoint stores them (for drills and
benchmarks that need thousands of events fast): accepted, validated canonical `order.paid` events, inserted
through `Events` (one `record` each, or many per transaction with `insert_many`)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from bridge.canonical import validate_canonical
from bridge.errors import StorageUnavailable
from bridge.storage import Database, Events
from bridge.storage.events import NewEvent
from bridge.vocabulary import EventStatus

BASE_TIME = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
STORE = "drill.example"


def order_total(order_no: int, version: int) -> int:
    """The total (minor units) of version `version` of order `order_no`: distinct for every pair."""
    return 10_000 + order_no * 100 + version


def _candidate(order_id: str, updated: datetime, total: int, email: str, store: str) -> dict[str, Any]:
    return {
        "kind": "order.paid",
        "store": store,
        "occurred_at": updated.isoformat(),
        "email": email,
        "customer": {"external_id": email, "email": email},
        "currency": "USD",
        "order_id": order_id,
        "order_number": order_id,
        "total": total,
        "line_items": [{"external_id": "sku-1", "name": "Widget", "quantity": 1, "unit_price": total}],
        "created_at": BASE_TIME.isoformat(),
        "updated_at": updated.isoformat(),
    }


@cache
def _template(store: str) -> dict[str, Any]:
    """The validated canonical form of one order; others differ only in ids, amounts, dates and email."""
    return validate_canonical(_candidate("o0", BASE_TIME, 1, "buyer@example.com", store))


def order_event(
    order_no: int, version: int, *, email: str, store: str = STORE, prefix: str = "o", validate: bool = True
) -> NewEvent:
    """Version `version` of order `order_no` as an accepted custom-source event (later versions are newer).

    `validate=False` fills the fields into a once-validated template instead of running the schema again
    (same result, about 20x faster: for backlogs of 100,000)."""
    order_id = f"{prefix}{order_no}"
    updated = BASE_TIME + timedelta(minutes=version)
    total = order_total(order_no, version)
    candidate = _candidate(order_id, updated, total, email, store)
    if validate:
        payload = validate_canonical(candidate)
    else:
        payload = copy.deepcopy(_template(store))
        payload.update(
            occurred_at=candidate["occurred_at"],
            updated_at=candidate["updated_at"],
            email=email,
            order_id=order_id,
            order_number=order_id,
            total=total,
        )
        payload["customer"].update(external_id=email, email=email)
        payload["line_items"][0]["unit_price"] = total
    body = json.dumps({"type": "order.paid", "timestamp": candidate["occurred_at"], "data": candidate}).encode()
    return NewEvent(
        source="custom",
        topic="order.paid",
        dedupe_key=f"custom:{prefix}-{order_no}-{version}",
        status=EventStatus.ACCEPTED,
        received_at=datetime.now(UTC),
        headers={},
        body=body,
        payload=payload,
        kind="order.paid",
        store=store,
        order_id=order_id,
        occurred_at=updated,
    )


def versions(orders: int, count: int, *, emails: int | None = None, first_version: int = 0) -> Iterator[tuple]:
    """(order_no, version, email) for `count` versions of each of `orders` orders, version by version (every
    order's versions in order, interleaved with the other orders'). One buyer per order, or `emails` shared."""
    for version in range(first_version, first_version + count):
        for order_no in range(orders):
            yield order_no, version, f"buyer{order_no % emails if emails else order_no}@example.com"


def insert_events(
    db: Database,
    items: Iterable[tuple],
    *,
    batch: int = 500,
    prefix: str = "o",
    validate: bool = True,
    retries: int = 100,
) -> int:
    """Insert `versions(...)` items, `batch` per transaction (ids in iteration order); returns how many."""
    store = Events(db)
    pending: list[NewEvent] = []
    count = 0

    def flush() -> None:
        # Like a platform retrying after a 503: a busy database (workers writing) delays the batch, never drops
        # it. Conflicts are ignored, so a retried batch inserts each event once.
        for attempt in range(retries + 1):
            try:
                store.insert_many(pending)
                break
            except StorageUnavailable:
                if attempt == retries:
                    raise
                time.sleep(0.1)
        pending.clear()

    for order_no, version, email in items:
        pending.append(order_event(order_no, version, email=email, prefix=prefix, validate=validate))
        count += 1
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return count
