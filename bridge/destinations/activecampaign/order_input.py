"""Canonical order events to AC's GraphQL `OrderInput` (spec §14): decimal amounts exact to the currency's
minor unit, line `priceAmount` = the line's total, names and phone in `customerData`, the buyer's consent as
`acceptsMarketing`, `cartId` = the v3 cart's `externalcheckoutid`. Empty values are left out, so an upsert
never blanks what AC holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge import money
from bridge.destinations.activecampaign.payloads import ACOrderBodySchema
from bridge.timeutil import isoformat

REAL_TIME, HISTORICAL = "REAL_TIME", "HISTORICAL"


def decimal_amount(minor: int, currency: str) -> int | float:
    """Minor units as the decimal amount GraphQL takes: 1999 USD is 19.99, 12800 JPY 12800, 12345 KWD 12.345.

    A JSON number: an int when the currency has no minor unit; else the float whose shortest text (what the
    JSON encoder writes) is exactly the decimal amount, for every amount below 2**53 minor units.
    """
    digits = money.exponent(currency)
    if digits == 0:
        return int(minor)
    return float(Decimal(int(minor)).scaleb(-digits))


def connection_ref(connection: str) -> int | str:
    """`legacyConnectionId` (an Int); a dry-run's made-up connection id stays as it is, to be shown."""
    return int(connection) if connection.isdigit() else connection


def creation_source(ac_source: int) -> str:
    """v3 `source` (1 live, 0 history) as GraphQL's `creationSource`."""
    return REAL_TIME if ac_source == 1 else HISTORICAL


def gross_total(event: dict[str, Any]) -> int:
    """The paid total in minor units (derived from the lines when the event has none, as for v3)."""
    return int(ACOrderBodySchema().get_total(event))


def order_input(
    event: dict[str, Any],
    *,
    connection: str,
    source: str,
    normalized_status: str,
    store_status: str,
    final_minor: int,
) -> dict[str, Any]:
    """The `OrderInput` of a paid order event."""
    currency = event.get("currency") or "USD"
    connection_id = connection_ref(connection)

    def amount(minor: Any) -> int | float | None:
        return None if minor is None else decimal_amount(int(minor), currency)

    customer = event.get("customer") or {}
    billing = event.get("billing") or {}
    names = {"firstName": customer.get("first_name"), "lastName": customer.get("last_name")}
    lines = [
        {
            "legacyConnectionId": connection_id,
            "productStorePrimaryId": item.get("external_id"),
            "storeBaseProductId": item.get("external_id"),
            "name": item.get("name"),
            "sku": item.get("sku"),
            "category": item.get("category"),
            "quantity": item.get("quantity"),
            "priceAmount": amount(int(item["unit_price"]) * int(item["quantity"])),
            "productUrl": item.get("product_url"),
            "imageUrl": item.get("image_url"),
        }
        for item in event.get("line_items") or []
    ]
    discounts = [
        {
            "name": d.get("code") or "discount",
            "type": str(d.get("type") or "order").upper(),
            "discountAmount": amount(d["amount"]),
        }
        for d in event.get("discounts") or []
    ]
    order = {
        "storeOrderId": event["order_id"],
        "legacyConnectionId": connection_id,
        "storeCreatedDate": isoformat(event.get("created_at") or event["occurred_at"]),
        "storeModifiedDate": isoformat(event.get("updated_at") or event["occurred_at"]),
        "finalAmount": amount(final_minor),
        "currency": currency,
        "email": (event.get("email") or "").strip().lower() or None,
        "storeCustomerId": customer.get("external_id"),
        "orderNumber": event.get("order_number") or event["order_id"],
        "cartId": event.get("checkout_id"),
        "creationSource": source,
        "storeStatus": store_status,
        "normalizedStatus": normalized_status,
        "shippingMethod": event.get("shipping_method"),
        "orderUrl": event.get("order_url"),
        "acceptsMarketing": customer.get("accepts_marketing"),
        "shippingAmount": amount(event.get("shipping")),
        "discountAmount": amount(event.get("discount")),
        "discounts": [_kept(d) for d in discounts],
        "lineItems": [_kept(line) for line in lines],
        "customerData": _kept({**names, "phone": customer.get("phone")}),
        # The store's own addresses (addresses.py); without them, the billing name and phone the event has.
        "billingAddress": _kept(
            (event.get("addresses") or {}).get("billingAddress")
            or {
                "firstName": billing.get("first_name"),
                "lastName": billing.get("last_name"),
                "phone": billing.get("phone"),
                "email": (event.get("email") or "").strip().lower() or None,
            }
        ),
        "shippingAddress": _kept((event.get("addresses") or {}).get("shippingAddress") or {}),
    }
    return _kept(order)


def _kept(values: dict[str, Any]) -> dict[str, Any]:
    """Without None, "", [] and {}: what the event does not say is not sent."""
    return {
        k: v for k, v in values.items() if v not in (None, "", [], {}) and not (isinstance(v, str) and not v.strip())
    }
