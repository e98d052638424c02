"""What the store's own order says beyond the canonical event (the status word, whole addresses):
`status.ecartapi` of the unified order, and its `billingAddress` / `shippingAddress` (whose country and state
may be objects: their `name`, else `code`, is read)."""

from __future__ import annotations

from typing import Any

from bridge.platforms.platform import OrderFacts


def status_word(document: dict[str, Any]) -> Any:
    """`status.ecartapi` of the order, bare or in `order` / `orders` (the first of a list)."""
    order = document.get("order") if isinstance(document.get("order"), dict) else document
    orders = document.get("orders")
    if isinstance(orders, list) and orders and isinstance(orders[0], dict):
        order = orders[0]
    status = order.get("status") if isinstance(order, dict) else None
    return status.get("ecartapi") if isinstance(status, dict) else None


def address_document(document: Any) -> Any:
    """The order the addresses are in: `order`, else the first of `orders`, else the body itself."""
    if not isinstance(document, dict):
        return document
    orders = document.get("orders")
    return document.get("order") or (orders[0] if isinstance(orders, list) and orders else document)


ORDER_FACTS = OrderFacts(
    status_word=status_word,
    statuses={
        "pending": "PENDING_PAYMENT",
        "authorized": "PENDING_PAYMENT",
        "partially_paid": "PENDING_PAYMENT",
        "paid": "COMPLETED",
        "shipped": "COMPLETED",
        "partially_refunded": "COMPLETED",
        "refunded": "REFUNDED",
        "cancelled": "CANCELLED",
        "delete": "CANCELLED",
        "other": "PENDING",
    },
    billing_key="billingAddress",
    shipping_key="shippingAddress",
    address_fields={
        "firstName": "firstName",
        "lastName": "lastName",
        "address1": "address1",
        "address2": "address2",
        "address3": "address3",
        "city": "city",
        "province": "state",
        "country": "country",
        "postal": "postalCode",
        "phone": "phone",
        "company": "company",
        "email": "email",
    },
    address_document=address_document,
)
