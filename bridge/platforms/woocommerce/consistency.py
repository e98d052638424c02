"""Does a WooCommerce body agree with its claimed topic? (spec §8)

WooCommerce signs the body only; `X-WC-Webhook-Topic` and `X-WC-Webhook-Resource` are not covered. The kind
of event comes from the order's own `status`, so the one contradiction left is a body that is not an order
(a product, a coupon, a customer, a refund) sent under an `order.*` topic, or a resource header that says so.
"""

from __future__ import annotations

from typing import Any

#: Keys every WooCommerce REST order carries; products, coupons and customers have none of them together.
ORDER_MARKS = ("order_key", "line_items", "currency")


def contradiction(topic: str, resource: str | None, document: Any) -> str | None:
    """Why `document` cannot be the order `topic` claims, or None."""
    if not isinstance(document, dict):
        return None
    if resource is not None and resource != topic.partition(".")[0]:
        return f"X-WC-Webhook-Resource {resource} contradicts topic {topic}"
    missing = [k for k in ORDER_MARKS if k not in document]
    if missing:
        return f"a body without {', '.join(missing)} (not an order) sent as {topic}"
    return None
