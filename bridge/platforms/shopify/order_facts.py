"""What the store's own order says beyond the canonical event (the status word, whole addresses): the
order's `financial_status`, and its REST address objects."""

from __future__ import annotations

from bridge.platforms.platform import OrderFacts

ORDER_FACTS = OrderFacts(
    status_word=lambda document: document.get("financial_status"),
    statuses={
        "pending": "PENDING_PAYMENT",
        "authorized": "PENDING_PAYMENT",
        "partially_paid": "PENDING_PAYMENT",
        "paid": "COMPLETED",
        "partially_refunded": "COMPLETED",
        "refunded": "REFUNDED",
        "voided": "CANCELLED",
        "cancelled": "CANCELLED",
    },
    billing_key="billing_address",
    shipping_key="shipping_address",
    address_fields={
        "firstName": "first_name",
        "lastName": "last_name",
        "address1": "address1",
        "address2": "address2",
        "city": "city",
        "province": "province",
        "country": "country",
        "postal": "zip",
        "phone": "phone",
        "company": "company",
    },
)
