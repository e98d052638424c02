"""The order's billing and shipping addresses for AC's GraphQL `OrderInput` (spec §14), read from the store's
own webhook body: the canonical event keeps only the names and phones (what v3 takes), while AC's order
carries whole addresses (and falls back to them for the contact's name and phone). Never logged."""

from __future__ import annotations

import json
from typing import Any

ADDRESS_FIELDS = (
    "firstName", "lastName", "address1", "address2", "address3", "city", "province", "country", "postal", "phone",
    "company", "email",
)  # fmt: skip
#: Per source: (its billing key, its shipping key, AC field -> the store's field).
SHAPES: dict[str, tuple[str, str, dict[str, str]]] = {
    "shopify": ("billing_address", "shipping_address", {
        "firstName": "first_name", "lastName": "last_name", "address1": "address1", "address2": "address2",
        "city": "city", "province": "province", "country": "country", "postal": "zip", "phone": "phone",
        "company": "company",
    }),
    "woocommerce": ("billing", "shipping", {
        "firstName": "first_name", "lastName": "last_name", "address1": "address_1", "address2": "address_2",
        "city": "city", "province": "state", "country": "country", "postal": "postcode", "phone": "phone",
        "company": "company", "email": "email",
    }),
    "ecartapi": ("billingAddress", "shippingAddress", {
        "firstName": "firstName", "lastName": "lastName", "address1": "address1", "address2": "address2",
        "address3": "address3", "city": "city", "province": "state", "country": "country", "postal": "postalCode",
        "phone": "phone", "company": "company", "email": "email",
    }),
}  # fmt: skip


def from_body(source: str, body: bytes) -> dict[str, dict[str, str]]:
    """`{"billingAddress": {...}, "shippingAddress": {...}}` as far as the webhook body has them."""
    shape = SHAPES.get(source)
    if shape is None:
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if source == "ecartapi" and isinstance(document, dict):
        orders = document.get("orders")
        document = document.get("order") or (orders[0] if isinstance(orders, list) and orders else document)
    if not isinstance(document, dict):
        return {}
    billing_key, shipping_key, fields = shape
    found = {}
    for name, key in (("billingAddress", billing_key), ("shippingAddress", shipping_key)):
        address = _address(document.get(key), fields)
        if address:
            found[name] = address
    return found


def _address(raw: Any, fields: dict[str, str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    out = {}
    for ours, theirs in fields.items():
        value = raw.get(theirs)
        if isinstance(value, dict):  # EcartAPI's country and state objects
            value = value.get("name") or value.get("code")
        if isinstance(value, str) and value.strip():
            out[ours] = value.strip()[:255]
    return out
