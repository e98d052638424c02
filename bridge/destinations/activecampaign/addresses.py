"""The order's billing and shipping addresses for AC's GraphQL `OrderInput` (spec §14), read from the store's
own webhook body: the canonical event keeps only the names and phones (what v3 takes), while AC's order
carries whole addresses (and falls back to them for the contact's name and phone). Never logged."""

from __future__ import annotations

import json
from typing import Any

from bridge.platforms import PLATFORMS

ADDRESS_FIELDS = (
    "firstName", "lastName", "address1", "address2", "address3", "city", "province", "country", "postal", "phone",
    "company", "email",
)  # fmt: skip


def from_body(source: str, body: bytes) -> dict[str, dict[str, str]]:
    """`{"billingAddress": {...}, "shippingAddress": {...}}` as far as the webhook body has them."""
    platform = PLATFORMS.get(source)
    facts = platform.order_facts if platform else None
    if facts is None:
        return {}
    try:
        document = facts.address_document(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(document, dict):
        return {}
    found = {}
    for name, key in (("billingAddress", facts.billing_key), ("shippingAddress", facts.shipping_key)):
        address = _address(document.get(key), facts.address_fields)
        if address:
            found[name] = address
    return found


def _address(raw: Any, fields: dict[str, str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    out = {}
    for ours, theirs in fields.items():
        value = raw.get(theirs)
        if isinstance(value, dict):  # a country or state given as an object (EcartAPI's)
            value = value.get("name") or value.get("code")
        if isinstance(value, str) and value.strip():
            out[ours] = value.strip()[:255]
    return out
