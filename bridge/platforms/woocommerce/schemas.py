"""Load-side schema for a WooCommerce REST v3 order and its canonical mapping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields

from bridge.platforms.fields import (
    Amount,
    IdString,
    PlatformSchema,
    Quantity,
    UTCDateTime,
    discount_list,
    item_list,
    optional,
)
from bridge.platforms.mapping import MoneyConverter, contact_fallback, first


class WooBillingSchema(PlatformSchema):
    first_name = optional(fields.String())
    last_name = optional(fields.String())
    email = optional(fields.String())
    phone = optional(fields.String())


class WooImageSchema(PlatformSchema):
    src = optional(fields.String())


class WooLineItemSchema(PlatformSchema):
    id = optional(IdString())
    name = optional(fields.String())
    product_id = optional(IdString())
    variation_id = optional(IdString())
    quantity = Quantity(required=True)
    subtotal = optional(Amount())
    total = optional(Amount())
    sku = optional(fields.String())
    price = optional(Amount())
    image = optional(fields.Nested(WooImageSchema))


class WooShippingLineSchema(PlatformSchema):
    method_title = optional(fields.String())
    total = optional(Amount())


class WooCouponLineSchema(PlatformSchema):
    code = optional(fields.String())
    discount = Amount(required=True)


class WooRefundSchema(PlatformSchema):
    id = optional(IdString())
    total = Amount(required=True)


class WooOrderSchema(PlatformSchema):
    id = IdString(required=True)
    number = optional(IdString())
    status = fields.String(required=True)
    currency = fields.String(required=True)
    date_created_gmt = optional(UTCDateTime())
    date_modified_gmt = optional(UTCDateTime())
    date_paid_gmt = optional(UTCDateTime())
    date_completed_gmt = optional(UTCDateTime())
    discount_total = optional(Amount())
    shipping_total = optional(Amount())
    total = optional(Amount())
    total_tax = optional(Amount())
    customer_id = optional(IdString())
    billing = optional(fields.Nested(WooBillingSchema))
    # Only read for the contact's fallback name and phone (`phone` since WooCommerce 5.6): kept raw, so an odd
    # shape (PHP's `[]` for an empty address) never quarantines an order whose buyer details are all in billing.
    shipping = optional(fields.Raw())
    payment_url = optional(fields.String())
    line_items = item_list(WooLineItemSchema)
    shipping_lines = discount_list(WooShippingLineSchema)
    coupon_lines = discount_list(WooCouponLineSchema)
    refunds = discount_list(WooRefundSchema)
    # Plugins add dozens of entries: kept raw (no per-entry schema, no cap) and only scanned for one key.
    meta_data = optional(fields.Raw())


# Built once: a schema instance holds no per-load state, and building one (with its nested schemas) costs
# more than the load itself.
WOO_ORDER_SCHEMA = WooOrderSchema()


def _contact_fields(address: Any) -> dict[str, str]:
    """Name and phone of a raw address object, where they are strings (anything else is ignored)."""
    if not isinstance(address, dict):
        return {}
    return {k: v for k in ("first_name", "last_name", "phone") if isinstance(v := address.get(k), str)}


def _refunds(document: Any, data: dict[str, Any], convert: MoneyConverter) -> list[dict[str, Any]] | None:
    """The order's refunds (`refunds[{id, reason, total: "-10.00"}]`, newest first) as the canonical listing:
    WooCommerce has no refund topic, an `order.updated` carries the whole order and so every refund made so
    far. None when the body has no `refunds` key at all (nothing is said about refunds)."""
    if not isinstance(document, dict) or "refunds" not in document:
        return None
    return [
        {
            # A refund is a WordPress post with its own id; a position stands in only for a body without one.
            "refund_id": first(r.get("id"), f"position-{len(data['refunds']) - i}"),
            "amount": convert(abs(r["total"]), f"refunds.{i}.total"),
        }
        for i, r in enumerate(data["refunds"])
    ]


def _unit_price(item: dict[str, Any]) -> Decimal | None:
    price: Decimal | None = None
    if item.get("price") is not None:
        price = item["price"]
    elif item.get("subtotal") is not None and item["quantity"]:
        price = item["subtotal"] / item["quantity"]
    return price


#: Where ActiveCampaign's own WooCommerce plugin stores its checkout checkbox ("1" ticked, "0" not). WooCommerce
#: itself has no marketing consent: without the plugin (or a field of that name) consent stays unknown.
CONSENT_META_KEY = "activecampaign_for_woocommerce_accepts_marketing"


def _consent(meta: Any) -> bool | None:
    for entry in meta if isinstance(meta, list) else ():
        if isinstance(entry, dict) and entry.get("key") == CONSENT_META_KEY:
            value = entry.get("value")
            if value in (1, "1", True, "yes"):
                return True
            if value in (0, "0", False, "no", ""):
                return False
    return None


def order_candidate(document: Any, source_url: str | None, kind: str) -> dict[str, Any]:
    """A WooCommerce order as a canonical candidate of `kind`.

    The order id doubles as the checkout id: an unpaid order is WooCommerce's checkout, and its paid
    update must find the cart the bridge created for it.
    """
    data = WOO_ORDER_SCHEMA.load(document)
    convert = MoneyConverter(data["currency"])
    billing = data.get("billing") or {}
    customer_id = data.get("customer_id")
    lines = data["line_items"]
    total = convert(data.get("total"), "total")
    refunds = _refunds(document, data, convert)
    if kind == "order.refunded" and refunds:
        # The event's amount is what was refunded (`total` of the order stays the paid total in WooCommerce).
        total = sum(r["amount"] for r in refunds)
    return {
        "kind": kind,
        "store": source_url,
        "occurred_at": first(data.get("date_modified_gmt"), data.get("date_created_gmt")),
        "email": first(billing.get("email")),
        "customer": {
            "external_id": customer_id if customer_id not in (None, "0") else None,
            "email": first(billing.get("email")),
            "first_name": first(billing.get("first_name")),
            "last_name": first(billing.get("last_name")),
            "phone": first(billing.get("phone")),
            "accepts_marketing": _consent(data.get("meta_data")),
        },
        # WooCommerce's `billing` is the customer's own details (its email is the buyer's); without a name or
        # phone there, the shipping address's (mapping.contact_fallback).
        "billing": contact_fallback(_contact_fields(data.get("shipping")), billing),
        "currency": convert.currency,
        "order_id": data["id"],
        "order_number": first(data.get("number"), data["id"]),
        "checkout_id": data["id"],
        "order_url": data.get("payment_url") if kind == "checkout.updated" else None,
        "total": total,
        "subtotal": convert.total((item.get("subtotal") for item in lines), "line_items.subtotal"),
        "tax": convert(data.get("total_tax"), "total_tax"),
        "shipping": convert(data.get("shipping_total"), "shipping_total"),
        "discount": convert(data.get("discount_total"), "discount_total"),
        "line_items": [
            {
                "external_id": first(
                    item.get("product_id") if item.get("product_id") != "0" else None,
                    item.get("variation_id"),
                    item.get("id"),
                    f"line-{i + 1}",
                ),
                "sku": first(item.get("sku")),
                "name": first(item.get("name"), "Item"),
                "quantity": item["quantity"],
                "unit_price": convert(_unit_price(item), f"line_items.{i}.price"),
                "image_url": first((item.get("image") or {}).get("src")),
            }
            for i, item in enumerate(lines)
        ],
        "discounts": [
            {"code": first(c.get("code")), "type": "order", "amount": convert(c["discount"], f"coupon_lines.{i}")}
            for i, c in enumerate(data["coupon_lines"])
        ],
        "shipping_method": first(*(s.get("method_title") for s in data["shipping_lines"])),
        "created_at": data.get("date_created_gmt"),
        "updated_at": data.get("date_modified_gmt"),
        "completed_at": first(data.get("date_paid_gmt"), data.get("date_completed_gmt")),
        "refunds": refunds,
    }
