"""Store order states to AC's `normalizedStatus` (spec §14): one table for every source, also shown in
docs/ac-order-statuses.md (tests/delivery/test_ac_statuses.py keeps the two the same).

A paid order is `COMPLETED` as soon as it is paid, fulfilled or not: AC's `Order Created` automations are
meant to follow the purchase, and the stores' "processing" / "paid" is that moment. A partly refunded order
keeps `COMPLETED` (its `finalAmount` goes net with `BRIDGE_AC_REVENUE=net`); refunded in full is `REFUNDED`.
The store's own word goes to AC verbatim as `storeStatus`.
"""

from __future__ import annotations

import json

from bridge.platforms import PLATFORMS

#: (source, the store's status) -> normalizedStatus, as each platform declares it (`Platform.order_facts`:
#: Shopify's word is the order's `financial_status`, WooCommerce's the order `status`, EcartAPI's
#: `status.ecartapi`).
STATUS_TABLE: dict[tuple[str, str], str] = {
    (name, word): status
    for name, platform in PLATFORMS.items()
    if platform.order_facts
    for word, status in platform.order_facts.statuses.items()
}

#: What an event kind means when the store named no status the table knows (custom events, Shopify refunds).
KIND_STATUS = {"order.paid": "COMPLETED", "order.cancelled": "CANCELLED", "order.refunded": "REFUNDED"}
#: The word sent as `storeStatus` when the store gave none.
KIND_WORD = {"order.paid": "paid", "order.cancelled": "cancelled", "order.refunded": "refunded"}


def store_status(source: str, body: bytes) -> str | None:
    """The store's own status word in a webhook body (None when it has none: a Shopify refund, a custom event)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    platform = PLATFORMS.get(source)
    found = platform.order_facts.status_word(document) if platform and platform.order_facts else None
    return found.strip()[:100] if isinstance(found, str) and found.strip() else None


def normalized(source: str, kind: str, word: str | None, *, refunded_in_full: bool = False) -> str:
    """The `normalizedStatus` of an order state. The event's kind settles what the table cannot: a
    cancellation is `CANCELLED` whatever the payment says; a refund is `REFUNDED` only when it is whole."""
    if kind == "order.cancelled":
        return "CANCELLED"
    if kind == "order.refunded":
        return "REFUNDED" if refunded_in_full else "COMPLETED"
    return STATUS_TABLE.get((source, word or ""), KIND_STATUS.get(kind, "COMPLETED"))


def word(kind: str, given: str | None, *, refunded_in_full: bool = False) -> str:
    """`storeStatus`: the store's word, or the kind's when the store gave none."""
    if given:
        return given
    if kind == "order.refunded" and not refunded_in_full:
        return "partially_refunded"
    return KIND_WORD.get(kind, kind)
