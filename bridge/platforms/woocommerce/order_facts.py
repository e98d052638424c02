"""What the store's own order says beyond the canonical event (the status word, whole addresses): the
order's `status`, and its `billing` / `shipping` objects."""

from __future__ import annotations

from bridge.platforms.platform import OrderFacts

ORDER_FACTS = OrderFacts(
    status_word=lambda document: document.get("status"),
    statuses={
        "pending": "PENDING_PAYMENT",
        "on-hold": "WAITING",
        "failed": "FAILED",
        "checkout-draft": "ABANDONED",
        "processing": "COMPLETED",
        "completed": "COMPLETED",
        "cancelled": "CANCELLED",
        "refunded": "REFUNDED",
    },
    billing_key="billing",
    shipping_key="shipping",
    address_fields={
        "firstName": "first_name",
        "lastName": "last_name",
        "address1": "address_1",
        "address2": "address_2",
        "city": "city",
        "province": "state",
        "country": "country",
        "postal": "postcode",
        "phone": "phone",
        "company": "company",
        "email": "email",
    },
)
