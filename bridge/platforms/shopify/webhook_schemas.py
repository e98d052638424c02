"""Load-side schemas for Shopify's REST webhook payloads (checkout, order, refund) and their canonical mapping."""

from __future__ import annotations

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


class ShopifyCustomerSchema(PlatformSchema):
    id = optional(IdString())
    email = optional(fields.String())
    first_name = optional(fields.String())
    last_name = optional(fields.String())
    phone = optional(fields.String())
    accepts_marketing = optional(fields.Boolean())
    email_marketing_consent = optional(fields.Dict())


class ShopifyAddressSchema(PlatformSchema):
    first_name = optional(fields.String())
    last_name = optional(fields.String())
    phone = optional(fields.String())


class ShopifyLineItemSchema(PlatformSchema):
    id = optional(IdString())
    product_id = optional(IdString())
    variant_id = optional(IdString())
    key = optional(fields.String())
    sku = optional(fields.String())
    title = optional(fields.String())
    name = optional(fields.String())
    variant_title = optional(fields.String())
    vendor = optional(fields.String())
    price = Amount(required=True)
    quantity = Quantity(required=True)


class ShopifyDiscountCodeSchema(PlatformSchema):
    code = optional(fields.String())
    amount = Amount(required=True)
    type = optional(fields.String())


class ShopifyShippingLineSchema(PlatformSchema):
    title = optional(fields.String())
    code = optional(fields.String())
    price = optional(Amount())


class _ShopifyPurchase(PlatformSchema):
    """Fields checkouts and orders share."""

    currency = fields.String(required=True)
    email = optional(fields.String())
    phone = optional(fields.String())
    created_at = optional(UTCDateTime())
    updated_at = optional(UTCDateTime())
    buyer_accepts_marketing = optional(fields.Boolean())
    billing_address = optional(fields.Nested(ShopifyAddressSchema))
    shipping_address = optional(fields.Nested(ShopifyAddressSchema))
    subtotal_price = optional(Amount())
    total_price = optional(Amount())
    total_tax = optional(Amount())
    total_discounts = optional(Amount())
    customer = optional(fields.Nested(ShopifyCustomerSchema))
    line_items = item_list(ShopifyLineItemSchema)
    discount_codes = discount_list(ShopifyDiscountCodeSchema)
    shipping_lines = discount_list(ShopifyShippingLineSchema)


class ShopifyCheckoutSchema(_ShopifyPurchase):
    id = optional(IdString())
    token = IdString(required=True)
    cart_token = optional(IdString())
    abandoned_checkout_url = optional(fields.String())
    completed_at = optional(UTCDateTime())


# Built once: a schema instance holds no per-load state, and building one (with its nested schemas) costs
# more than the load itself.
SHOPIFY_CHECKOUT_SCHEMA = ShopifyCheckoutSchema()


class ShopifyOrderSchema(_ShopifyPurchase):
    id = IdString(required=True)
    order_number = optional(IdString())
    name = optional(fields.String())
    contact_email = optional(fields.String())
    checkout_token = optional(IdString())
    order_status_url = optional(fields.String())
    processed_at = optional(UTCDateTime())
    cancelled_at = optional(UTCDateTime())


SHOPIFY_ORDER_SCHEMA = ShopifyOrderSchema()


class ShopifyRefundTransactionSchema(PlatformSchema):
    amount = Amount(required=True)
    kind = optional(fields.String())
    status = optional(fields.String())
    currency = optional(fields.String())


class ShopifyRefundLineSchema(PlatformSchema):
    quantity = Quantity(required=True)
    subtotal = optional(Amount())
    total_tax = optional(Amount())
    subtotal_set = optional(fields.Dict())
    line_item = optional(fields.Nested(ShopifyLineItemSchema))


class ShopifyRefundSchema(PlatformSchema):
    id = IdString(required=True)
    order_id = IdString(required=True)
    created_at = optional(UTCDateTime())
    processed_at = optional(UTCDateTime())
    currency = optional(fields.String())
    total_set = optional(fields.Dict())
    total_duties_set = optional(fields.Dict())
    transactions = discount_list(ShopifyRefundTransactionSchema)
    refund_line_items = item_list(ShopifyRefundLineSchema)


SHOPIFY_REFUND_SCHEMA = ShopifyRefundSchema()


# -- canonical mapping -------------------------------------------------------------------------------------------


#: `email_marketing_consent.state` values: only `subscribed` is consent; `pending` (double opt-in not yet
#: confirmed), `not_subscribed`, `unsubscribed`, `redacted` and `invalid` are not.
CONSENT_STATES = ("subscribed", "pending", "not_subscribed", "unsubscribed", "redacted", "invalid")


def _consent(data: dict[str, Any], customer: dict[str, Any]) -> bool | None:
    """Marketing consent: the customer's current `email_marketing_consent.state` first (it is what the shop
    holds now, after any unsubscribe), else the legacy `accepts_marketing`, else the checkbox of this checkout
    (`buyer_accepts_marketing`)."""
    state = (customer.get("email_marketing_consent") or {}).get("state")
    if isinstance(state, str) and state in CONSENT_STATES:
        return state == "subscribed"
    consent: bool | None = first(customer.get("accepts_marketing"), data.get("buyer_accepts_marketing"))
    return consent


def _customer(data: dict[str, Any]) -> dict[str, Any] | None:
    customer = data.get("customer")
    if not customer:
        # A guest checkout without a customer object still ticked (or not) the marketing box.
        email, accepts = first(data.get("email")), data.get("buyer_accepts_marketing")
        return None if accepts is None or email is None else {"email": email, "accepts_marketing": accepts}
    return {
        "external_id": customer.get("id"),
        "email": first(customer.get("email")),
        "first_name": customer.get("first_name"),
        "last_name": customer.get("last_name"),
        # The customer's own phone, else the one they gave this order (the order's contact phone).
        "phone": first(customer.get("phone"), data.get("phone")),
        "accepts_marketing": _consent(data, customer),
    }


def _line_item(item: dict[str, Any], convert: MoneyConverter, index: int) -> dict[str, Any]:
    return {
        "external_id": first(
            item.get("product_id"),
            item.get("variant_id"),
            item.get("id"),
            item.get("sku"),
            item.get("key"),
            f"line-{index + 1}",
        ),
        "sku": first(item.get("sku")),
        "name": first(item.get("title"), item.get("name"), "Item"),
        "description": first(item.get("variant_title")),
        "category": first(item.get("vendor")),
        "quantity": item["quantity"],
        "unit_price": convert(item["price"], f"line_items.{index}.price"),
    }


def _purchase(data: dict[str, Any], shop: str | None) -> tuple[dict[str, Any], MoneyConverter]:
    convert = MoneyConverter(data["currency"])
    customer = _customer(data)
    shipping_lines = data["shipping_lines"]
    candidate = {
        "store": shop,
        "currency": convert.currency,
        "customer": customer,
        # Guests and customers without a name or phone: the order's contact phone, then the shipping address,
        # then billing (AC's order, mapping.contact_fallback).
        "billing": contact_fallback(data.get("shipping_address"), data.get("billing_address"), phone=data.get("phone")),
        "email": first(data.get("email"), data.get("contact_email"), (customer or {}).get("email")),
        "total": convert(data.get("total_price"), "total_price"),
        "subtotal": convert(data.get("subtotal_price"), "subtotal_price"),
        "tax": convert(data.get("total_tax"), "total_tax"),
        "discount": convert(data.get("total_discounts"), "total_discounts"),
        "shipping": convert.total((s.get("price") for s in shipping_lines), "shipping_lines"),
        "shipping_method": first(*(s.get("title") for s in shipping_lines)),
        "line_items": [_line_item(item, convert, i) for i, item in enumerate(data["line_items"])],
        "discounts": [
            {
                "code": first(d.get("code")),
                "type": "shipping" if d.get("type") == "shipping" else "order",
                "amount": convert(d["amount"], f"discount_codes.{i}.amount"),
            }
            for i, d in enumerate(data["discount_codes"])
        ],
        "created_at": data.get("created_at"),
        "updated_at": data.get("updated_at"),
    }
    return candidate, convert


def checkout_candidate(document: Any, shop: str | None) -> dict[str, Any]:
    """A Shopify checkout as a `checkout.updated` candidate."""
    data = SHOPIFY_CHECKOUT_SCHEMA.load(document)
    candidate, _ = _purchase(data, shop)
    candidate.update(
        kind="checkout.updated",
        checkout_id=data["token"],
        order_url=data.get("abandoned_checkout_url"),
        completed_at=data.get("completed_at"),
        occurred_at=first(data.get("updated_at"), data.get("created_at")),
    )
    return candidate


def order_candidate(document: Any, shop: str | None, kind: str) -> dict[str, Any]:
    """A Shopify order as an `order.paid` / `order.cancelled` candidate."""
    data = SHOPIFY_ORDER_SCHEMA.load(document)
    candidate, _ = _purchase(data, shop)
    candidate.update(
        kind=kind,
        order_id=data["id"],
        order_number=first(data.get("order_number"), data.get("name")),
        checkout_id=data.get("checkout_token"),
        order_url=data.get("order_status_url"),
        completed_at=data.get("processed_at"),
        occurred_at=first(
            data.get("cancelled_at") if kind == "order.cancelled" else None,
            data.get("updated_at"),
            data.get("processed_at"),
            data.get("created_at"),
        ),
    )
    return candidate


def _set_currency(money_set: Any) -> str | None:
    """`currency_code` of a Shopify `*_set` object (`{"shop_money": {"amount", "currency_code"}, …}`)."""
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        code = money_set["shop_money"].get("currency_code")
        return code if isinstance(code, str) else None
    return None


def refund_candidate(document: Any, shop: str | None) -> dict[str, Any]:
    """A Shopify refund as an `order.refunded` candidate; `total` is the amount refunded."""
    data = SHOPIFY_REFUND_SCHEMA.load(document)
    transactions = [
        t
        for t in data["transactions"]
        if (t.get("kind") or "refund") == "refund" and (t.get("status") or "success") == "success"
    ]
    currency = first(
        data.get("currency"),
        *(t.get("currency") for t in transactions),
        *(_set_currency(r.get("subtotal_set")) for r in data["refund_line_items"]),
        *(_set_currency(s) for s in (data.get("total_duties_set"), data.get("total_set"))),
    )
    convert = MoneyConverter(currency)
    lines = data["refund_line_items"]
    if transactions:
        total = convert.total((t["amount"] for t in transactions), "transactions")
    else:
        total = convert.total(
            [*(r.get("subtotal") for r in lines), *(r.get("total_tax") for r in lines)], "refund_line_items"
        )
    when = first(data.get("processed_at"), data.get("created_at"))
    return {
        "kind": "order.refunded",
        "store": shop,
        "order_id": data["order_id"],
        "refund_id": data["id"],
        "currency": convert.currency,
        "total": total,
        "line_items": [
            {**_line_item(r["line_item"], convert, i), "quantity": r["quantity"]}
            for i, r in enumerate(lines)
            if r.get("line_item")
        ],
        "created_at": data.get("created_at"),
        "updated_at": when,
        "occurred_at": when,
    }
