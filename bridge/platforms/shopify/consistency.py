"""Does a Shopify body agree with its claimed topic? (spec §8)

Shopify signs the body only: `X-Shopify-Topic` can be changed by whoever replays a captured delivery. A paid
order re-sent as `orders/cancelled` would cancel it at EcartAPI; a checkout sent as `orders/paid` would fire
"Makes a purchase". The body says what it is, so a body that contradicts its topic is quarantined.
"""

from __future__ import annotations

from typing import Any

#: Keys only an order carries (a checkout has `token`/`cart_token` and `abandoned_checkout_url` instead).
ORDER_MARKS = ("order_number", "financial_status", "order_status_url", "checkout_token")
CHECKOUT_MARKS = ("abandoned_checkout_url",)
REFUND_MARKS = ("refund_line_items", "transactions")
#: Payment states in which Shopify never sends `orders/paid`.
UNPAID = ("pending", "authorized", "voided", "expired")


def _marked(document: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether any of `keys` carries a value. A key present but empty (`null`, `""`, `[]`, `{}`) is not
    evidence: real checkouts carry `"order_status_url": ""` or `null`, and must not be read as orders."""
    return any(_filled(document.get(k)) for k in keys)


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def shape(document: dict[str, Any]) -> str:
    """What the body looks like: `order`, `checkout`, `refund` or `unknown`.

    A recovery link is checked first: only a checkout has one, whatever order-like keys it also fills in."""
    if _marked(document, CHECKOUT_MARKS):
        return "checkout"
    if _marked(document, ORDER_MARKS):
        return "order"
    if "order_id" in document and any(k in document for k in REFUND_MARKS):
        return "refund"  # keys no order or checkout has at all: present, even empty, they say "refund"
    return "unknown"


def _article(shape_name: str) -> str:
    return f"an {shape_name}" if shape_name[0] in "aeiou" else f"a {shape_name}"


def contradiction(topic: str, document: Any) -> str | None:
    """Why `document` cannot be what `topic` claims, or None when nothing in it says otherwise."""
    if not isinstance(document, dict):
        return None  # not an object at all: the mapping reports it
    found = shape(document)
    if topic.startswith("checkouts/"):
        if found in ("order", "refund"):
            return f"{_article(found)} body sent as {topic}"
        return None
    if topic == "refunds/create":
        return f"{_article(found)} body sent as {topic}" if found in ("order", "checkout") else None
    if found in ("checkout", "refund"):
        return f"{_article(found)} body sent as {topic}"
    if topic == "orders/cancelled" and not document.get("cancelled_at"):
        return "an order without cancelled_at sent as orders/cancelled"
    if topic == "orders/paid":
        if document.get("cancelled_at"):
            return "a cancelled order (cancelled_at is set) sent as orders/paid"
        status = document.get("financial_status")
        if isinstance(status, str) and status in UNPAID:
            return f"an order with financial_status {status} sent as orders/paid"
    return None
