"""Dump-side schemas: canonical events → ActiveCampaign request bodies (AC's field names, minor units,
ISO-8601 dates with offset). Empty values are left out rather than sent as null or "": a `PUT` that sent them
would erase what AC already has (the recovery link its emails use, a name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import Schema, fields, post_dump

from bridge.timeutil import isoformat


class _Out(Schema):
    @post_dump
    def _drop_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if not _empty(v)}


def _empty(value: Any) -> bool:
    """None, "" (or blanks) and [] say nothing: never sent, so they never overwrite a value AC holds."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _known(body: dict[str, Any], event: dict[str, Any], update: bool) -> dict[str, Any]:
    """`body` without empty values; for an update also without what was derived rather than carried by the
    event (a created date or total the event did not have): AC keeps the values it was given before."""
    kept = {k: v for k, v in body.items() if not _empty(v)}
    if update:
        if not event.get("created_at"):
            kept.pop("externalCreatedDate", None)
        if event.get("total") is None:
            kept.pop("totalPrice", None)
    return kept


class _Date(fields.Field[datetime]):
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return isoformat(value) if isinstance(value, datetime) else None


class ACOrderProductSchema(_Out):
    """`orderProducts[]`: price is per unit, in minor units."""

    externalid = fields.String(attribute="external_id")
    name = fields.String()
    price = fields.Integer(attribute="unit_price")
    quantity = fields.Integer()
    category = fields.String()
    sku = fields.String()
    description = fields.String()
    imageUrl = fields.String(attribute="image_url")
    productUrl = fields.String(attribute="product_url")


class ACOrderDiscountSchema(_Out):
    """`orderDiscounts[]`."""

    name = fields.Function(lambda d: d.get("code") or "discount")
    type = fields.String()
    discountAmount = fields.Integer(attribute="amount")


class ACOrderBodySchema(_Out):
    """Fields an ecomOrder carries whether it is a cart or an order."""

    email = fields.String()
    totalPrice = fields.Method("get_total")
    currency = fields.String()
    shippingAmount = fields.Integer(attribute="shipping")
    taxAmount = fields.Integer(attribute="tax")
    discountAmount = fields.Integer(attribute="discount")
    externalCreatedDate = fields.Method("get_created")
    externalUpdatedDate = _Date(attribute="updated_at")
    shippingMethod = fields.String(attribute="shipping_method")
    orderProducts = fields.List(fields.Nested(ACOrderProductSchema), attribute="line_items")
    orderDiscounts = fields.List(fields.Nested(ACOrderDiscountSchema), attribute="discounts")

    def get_total(self, event: dict[str, Any]) -> int:
        if event.get("total") is not None:
            return int(event["total"])
        # AC requires a total; a custom event may omit it, so derive it from what we know.
        items = sum(i["unit_price"] * i["quantity"] for i in event.get("line_items") or [])
        extras = (event.get("shipping") or 0) + (event.get("tax") or 0) - (event.get("discount") or 0)
        total: int = max(0, items + extras)
        return total

    def get_created(self, event: dict[str, Any]) -> str:
        return isoformat(event.get("created_at") or event["occurred_at"])


def cart_body(
    event: dict[str, Any], *, connection_id: str, customer_id: str, source: int, update: bool = False
) -> dict[str, Any]:
    """`POST /ecomOrders` for an abandoned cart (also, with `update`, the `PUT` that refreshes it)."""
    body = {
        "externalcheckoutid": event["checkout_id"],
        "abandonedDate": isoformat(event["occurred_at"]),
        "source": source,
        "orderUrl": event.get("order_url"),
        **ACOrderBodySchema().dump(event),
        "connectionid": connection_id,
        "customerid": customer_id,
    }
    return {"ecomOrder": _known(body, event, update)}


def order_body(
    event: dict[str, Any], *, connection_id: str, customer_id: str, source: int, update: bool = False
) -> dict[str, Any]:
    """`POST /ecomOrders` for a paid order, and (with `update`) the `PUT` that converts a cart into it
    (adding `externalid`) or refreshes the order.

    The converting PUT leaves `externalcheckoutid` and `abandonedDate` alone, as AC's own integrations do.
    """
    body = {
        "externalid": event["order_id"],
        "orderNumber": event.get("order_number"),
        "source": source,
        "orderUrl": event.get("order_url"),
        **ACOrderBodySchema().dump(event),
        "connectionid": connection_id,
        "customerid": customer_id,
    }
    return {"ecomOrder": _known(body, event, update)}


def customer_body(event: dict[str, Any], *, connection_id: str, email: str) -> dict[str, Any]:
    """`POST /ecomCustomers`: guests are keyed by email, as AC's own integrations do."""
    customer = event.get("customer") or {}
    body: dict[str, Any] = {
        "connectionid": connection_id,
        "externalid": customer.get("external_id") or email,
        "email": email,
    }
    if customer.get("accepts_marketing") is not None:
        body["acceptsMarketing"] = "1" if customer["accepts_marketing"] else "0"
    return {"ecomCustomer": body}


def connection_body(store: str) -> dict[str, Any]:
    """`POST /connections` for a store the bridge serves."""
    link = store if store.startswith(("http://", "https://")) else f"https://{store}"
    return {
        "connection": {
            "service": "storebridge",
            "externalid": store,
            "name": store,
            "logoUrl": f"{link.rstrip('/')}/favicon.ico",
            "linkUrl": link,
        }
    }
