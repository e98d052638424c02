"""Shopify's REST webhook bodies (checkout, order, refund), as webhook_schemas.py loads them, mapped to
canonical candidates; the shapes they share with the GraphQL nodes come from shapes.py."""

from __future__ import annotations

from typing import Any

from bridge.platforms.mapping import MoneyConverter, contact_fallback, first
from bridge.platforms.shopify import shapes
from bridge.platforms.shopify.webhook_schemas import (
    SHOPIFY_CHECKOUT_SCHEMA,
    SHOPIFY_ORDER_SCHEMA,
    SHOPIFY_REFUND_SCHEMA,
)

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
    accepts: bool | None = first(customer.get("accepts_marketing"), data.get("buyer_accepts_marketing"))
    return accepts


def _customer(data: dict[str, Any]) -> dict[str, Any] | None:
    customer = data.get("customer")
    if not customer:
        # A guest checkout without a customer object still ticked (or not) the marketing box.
        email, accepts = first(data.get("email")), data.get("buyer_accepts_marketing")
        return None if accepts is None or email is None else {"email": email, "accepts_marketing": accepts}
    return shapes.customer(
        external_id=customer.get("id"),
        email=customer.get("email"),
        first_name=customer.get("first_name"),
        last_name=customer.get("last_name"),
        # The customer's own phone, else the one they gave this order (the order's contact phone).
        phones=(customer.get("phone"), data.get("phone")),
        accepts_marketing=_consent(data, customer),
    )


def _line_item(item: dict[str, Any], convert: MoneyConverter, index: int) -> dict[str, Any]:
    return shapes.line_item(
        item,
        ids=(item.get("product_id"), item.get("variant_id"), item.get("id"), item.get("sku"), item.get("key")),
        variant_title=item.get("variant_title"),
        price=item["price"],
        convert=convert,
        index=index,
        price_path=f"line_items.{index}.price",
    )


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
