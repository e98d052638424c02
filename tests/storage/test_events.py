"""Events: insert-once by dedupe key, filtered listing, the raw body kept byte for byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import StatementError

from bridge.storage import Events, NewEvent

T0 = datetime(2026, 10, 22, 18, 0, tzinfo=UTC)


def new_event(key: str = "shopify:abc", **fields) -> NewEvent:
    values = {
        "source": "shopify",
        "topic": "orders/paid",
        "dedupe_key": key,
        "status": "accepted",
        "received_at": T0,
        "headers": {"X-Shopify-Topic": "orders/paid"},
        "body": b'{"id": 1}\n',
        "payload": {"kind": "order.paid", "order_id": "1"},
        "kind": "order.paid",
        "store": "acme.myshopify.com",
        "order_id": "1",
        "checkout_id": "chk",
        "occurred_at": T0 - timedelta(minutes=1),
    }
    values.update(fields)
    return NewEvent(**values)


@pytest.fixture
def events(db) -> Events:
    return Events(db)


def test_record_then_get_round_trips(events):
    event = new_event(errors=None)
    event_id, created = events.record(event)
    assert created is True and event_id > 0
    record = events.get(event_id)
    assert record.id == event_id
    for field in NewEvent.__dataclass_fields__:
        assert getattr(record, field) == getattr(event, field), field
    assert record.received_at.tzinfo is not None and record.received_at == T0
    assert record.note is None


def test_same_dedupe_key_twice_is_the_same_event(events):
    first_id, first_created = events.record(new_event("woocommerce:site|4817|processing|2026-10-14T14:13:02"))
    other = new_event(
        "woocommerce:site|4817|processing|2026-10-14T14:13:02", body=b"different bytes", topic="order.updated"
    )
    second_id, second_created = events.record(other)
    assert (second_id, first_created, second_created) == (first_id, True, False)
    assert events.get(first_id).body == b'{"id": 1}\n'  # the first copy is kept, not overwritten
    assert len(events.list()) == 1


def test_different_keys_are_different_events(events):
    ids = {events.record(new_event(f"custom:msg_{i}"))[0] for i in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"name": "Z\xc3\xab \xf0\x9f\x8f\x94\xef\xb8\x8f"}\n',  # UTF-8 with emoji and the trailing newline
        b"\x00\xff\xfe binary \r\n\t\x80",
        bytes(range(256)) * 64,
    ],
    ids=["empty", "utf8", "binary", "all-bytes"],
)
def test_body_is_stored_byte_for_byte(events, body):
    event_id, _ = events.record(new_event(body=body))
    assert events.get(event_id).body == body


def test_quarantined_event_keeps_errors_and_no_payload(events):
    errors = {"line_items": {"0": {"price": ["Not a valid amount."]}}}
    event_id, _ = events.record(new_event(status="quarantined", payload=None, errors=errors, order_id=None))
    record = events.get(event_id)
    assert (record.status, record.payload, record.errors, record.order_id) == ("quarantined", None, errors, None)


def test_get_missing_is_none(events):
    assert events.get(424242) is None


@pytest.fixture
def mixed(events):
    rows = [
        ("shopify", "order.paid", "accepted"),
        ("shopify", "checkout.updated", "accepted"),
        ("woocommerce", "order.paid", "quarantined"),
        ("ecartapi", "order.cancelled", "accepted"),
        ("custom", "order.paid", "accepted"),
        ("shopify", "order.paid", "quarantined"),
    ]
    ids = [
        events.record(new_event(f"{source}:{i}", source=source, kind=kind, status=status))[0]
        for i, (source, kind, status) in enumerate(rows)
    ]
    return ids, rows


def test_list_is_newest_first(events, mixed):
    ids, _ = mixed
    assert [r.id for r in events.list()] == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"source": "shopify"}, [5, 1, 0]),
        ({"kind": "order.paid"}, [5, 4, 2, 0]),
        ({"status": "quarantined"}, [5, 2]),
        ({"source": "shopify", "kind": "order.paid", "status": "accepted"}, [0]),
        ({"source": "bigcommerce"}, []),
        ({"limit": 2}, [5, 4]),
    ],
)
def test_list_filters(events, mixed, filters, expected):
    ids, _ = mixed
    assert [r.id for r in events.list(**filters)] == [ids[i] for i in expected]


def test_list_pages_backwards(events, mixed):
    ids, _ = mixed
    page1 = events.list(limit=4)
    page2 = events.list(limit=4, before_id=page1[-1].id)
    assert [r.id for r in page1 + page2] == sorted(ids, reverse=True)
    assert events.list(before_id=min(ids)) == []


def test_count_by_status(events, mixed):
    assert events.count_by_status() == {"accepted": 4, "quarantined": 2}


def test_events_survive_a_new_connection(settings, events):
    from bridge.storage import Database

    event_id, _ = events.record(new_event(body=b"durable"))
    other = Database(settings.database_url)
    try:
        assert Events(other).get(event_id).body == b"durable"
    finally:
        other.dispose()


def test_naive_datetimes_are_refused(events):
    # Through Connection.execute SQLAlchemy wraps the type's ValueError in a StatementError; the webhook ack's
    # prepared insert raises it as it is.
    with pytest.raises((StatementError, ValueError), match="naive datetime"):
        events.record(replace(new_event(), received_at=datetime(2026, 1, 1)))
    assert events.list() == []
