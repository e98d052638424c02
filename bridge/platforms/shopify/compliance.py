"""Shopify's compliance topics (spec §16), arriving signed on the Shopify endpoint and stored like any handled
topic; the worker carries them out here instead of mapping them to a canonical event:

- `customers/redact` {shop_domain, customer {id, email, phone}, orders_to_redact [ids]}: that customer's data
  (and the listed orders) erased, as `storebridge forget` does;
- `shop/redact` {shop_domain}: every event of that shop erased;
- `customers/data_request` {shop_domain, customer {id, email}, orders_requested, data_request {id}}: recorded,
  shown on the dashboard with the export command to run.

Each request's own body names the customer, so it is erased too once carried out (its ids stay)."""

from __future__ import annotations

from typing import Any

from bridge.documents import parse_document
from bridge.errors import InboundError
from bridge.storage import Database, EventRecord, Storage
from bridge.storage.erasure import Subject
from bridge.timeutil import utcnow
from bridge.vocabulary import EventStatus

CUSTOMER_REDACT, SHOP_REDACT, DATA_REQUEST = "privacy.customer_redact", "privacy.shop_redact", "privacy.data_request"
#: Shopify topic -> the kind its stored event carries.
TOPICS = {"customers/redact": CUSTOMER_REDACT, "shop/redact": SHOP_REDACT, "customers/data_request": DATA_REQUEST}
KINDS = frozenset(TOPICS.values())


def _ids(values: Any) -> tuple[str, ...]:
    return (
        tuple(str(v) for v in values if isinstance(v, str | int) and not isinstance(v, bool))
        if isinstance(values, list)
        else ()
    )


def _customer_subject(document: dict[str, Any], shop: str | None, orders_key: str) -> Subject:
    found = document.get("customer")
    customer: dict[str, Any] = found if isinstance(found, dict) else {}
    email, customer_id = customer.get("email"), customer.get("id")
    return Subject(
        emails=(email.strip().lower(),) if isinstance(email, str) and "@" in email else (),
        customer_ids=_ids([customer_id]),
        order_ids=_ids(document.get(orders_key)),
        source="shopify",
        store=shop,
    )


def export_command(subject: Subject) -> str:
    """The command an operator runs to answer a data request (by store customer id: no email is stored)."""
    if subject.customer_ids:
        return f"storebridge export --customer-id {subject.customer_ids[0]} --source shopify"
    return "storebridge export --email <the customer's email, from the shop>"


def carry_out(db: Database, record: EventRecord) -> str:
    """Carry out one stored compliance request, then erase its own body and mark it done. Returns the note.
    Erasure is idempotent, so a request carried out twice (a worker that died before marking it) is harmless."""
    shop = record.store or (record.headers or {}).get("X-Shopify-Shop-Domain")
    try:
        document = parse_document(bytes(record.body))
    except InboundError:
        document = None
    if not isinstance(document, dict):
        note = "compliance request unreadable: nothing done"
    else:
        shop = shop or (document.get("shop_domain") if isinstance(document.get("shop_domain"), str) else None)
        note = _act(db, record, document, shop)
    now = utcnow()
    with Storage.of(db).transaction() as tx:
        tx.retention.erase([record.id], now)
        tx.events.set_status(record.id, EventStatus.DONE, note)
    return note


def _act(db: Database, record: EventRecord, document: dict[str, Any], shop: str | None) -> str:
    erasure, now, origin = Storage.of(db).erasure, utcnow(), f"shopify:{record.topic}"[:32]
    if record.kind == SHOP_REDACT:
        if not shop:
            return "shop/redact without a shop domain: nothing done"
        subject = Subject(source="shopify", store=shop, whole_store=True)
        counts = erasure.erase(subject, now, origin=origin, spare=record.id)
        return f"shop/redact: erased {counts['events']} event(s) of the shop"
    subject = _customer_subject(
        document, shop, "orders_to_redact" if record.kind == CUSTOMER_REDACT else "orders_requested"
    )
    if record.kind == CUSTOMER_REDACT:
        counts = erasure.erase(subject, now, origin=origin, spare=record.id)
        return f"customers/redact: erased {counts['events']} event(s)"
    found = document.get("data_request")
    request: dict[str, Any] = found if isinstance(found, dict) else {}
    detail = {
        "shop": shop,
        "data_request_id": _ids([request.get("id")])[0] if _ids([request.get("id")]) else None,
        "customer_id": subject.customer_ids[0] if subject.customer_ids else None,
        "orders_requested": list(subject.order_ids),
        "event_id": record.id,
        "export_command": export_command(subject),
    }
    request_id = erasure.record_request(subject, now, origin=origin, detail=detail)
    return f"customers/data_request recorded (request {request_id}): run `{detail['export_command']}`"
