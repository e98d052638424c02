"""Load-side schema for EcartAPI's unified order object and its canonical mapping.

EcartAPI normalises many platforms, loosely: almost every scalar is a string, `customer` may be an object, `{}`
or a bare id, `totals` may be an object or (old platforms) a bare total, `discountsCoupon` an object or a list.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields

from bridge.canonical import MAX_DISCOUNTS
from bridge.platforms.fields import Amount, IdString, PlatformSchema, Quantity, UTCDateTime, item_list, optional
from bridge.platforms.mapping import CAMEL_KEYS, MoneyConverter, contact_fallback, first


class EcartStatusSchema(PlatformSchema):
    status = optional(fields.String())
    financial = optional(fields.String())
    ecartapi = fields.String(required=True)


class EcartCustomerSchema(PlatformSchema):
    id = optional(IdString())
    email = optional(fields.String())
    firstName = optional(fields.String())
    lastName = optional(fields.String())
    phone = optional(fields.String())


class EcartAddressSchema(PlatformSchema):
    firstName = optional(fields.String())
    lastName = optional(fields.String())
    phone = optional(fields.String())


class EcartItemSchema(PlatformSchema):
    id = optional(IdString())
    productId = optional(IdString())
    variantId = optional(IdString())
    sku = optional(fields.String())
    name = optional(fields.String())
    productType = optional(fields.String())
    quantity = Quantity(required=True)
    price = Amount(required=True)
    imageUrl = optional(fields.String())


class EcartTotalsSchema(PlatformSchema):
    total = optional(Amount())
    subtotal = optional(Amount())
    tax = optional(Amount())
    shipping = optional(Amount())
    discount = optional(Amount())


class EcartCouponSchema(PlatformSchema):
    codeCupon = optional(fields.String())
    discountAmount = optional(Amount())
    type = optional(fields.String())


class EcartDatesSchema(PlatformSchema):
    createdAt = optional(UTCDateTime())
    updatedAt = optional(UTCDateTime())
    paidAt = optional(UTCDateTime())
    canceledAt = optional(UTCDateTime())


class _Loose(fields.Field[Any]):
    """Normalises EcartAPI's shape variations, then loads the result with `schema`."""

    def __init__(self, schema: type[Schema], normalise: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.one, self.many, self.normalise = schema(), schema(many=True), normalise

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        normalised = self.normalise(value)
        if isinstance(normalised, list) and len(normalised) > MAX_DISCOUNTS:
            raise ValidationError(f"Longer than maximum length {MAX_DISCOUNTS}.")
        try:
            return (self.many if isinstance(normalised, list) else self.one).load(normalised)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


def _customer_shape(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"id": value}


def _totals_shape(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"total": value}


def _coupon_shape(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict) and item]


class EcartOrderSchema(PlatformSchema):
    id = IdString(required=True)
    number = optional(IdString())
    name = optional(fields.String())
    email = optional(fields.String())
    currency = fields.String(required=True)
    status = fields.Nested(EcartStatusSchema, required=True)
    customer = optional(_Loose(EcartCustomerSchema, _customer_shape))
    items = item_list(EcartItemSchema)
    totals = _Loose(EcartTotalsSchema, _totals_shape, load_default=dict)
    discountsCoupon = _Loose(EcartCouponSchema, _coupon_shape, load_default=list)
    shippingMethod = optional(fields.String())
    dates = fields.Nested(EcartDatesSchema, load_default=dict)
    checkoutId = optional(IdString())
    billingAddress = optional(fields.Nested(EcartAddressSchema))
    shippingAddress = optional(fields.Nested(EcartAddressSchema))


# Built once: a schema instance holds no per-load state, and building one (with its nested schemas) costs
# more than the load itself.
ECART_ORDER_SCHEMA = EcartOrderSchema()


def updated_at_text(order: dict[str, Any]) -> str | None:
    """The raw `dates.updatedAt` string, for the dedupe key."""
    dates = order.get("dates")
    value = dates.get("updatedAt") if isinstance(dates, dict) else None
    return str(value) if value else None


def order_candidate(document: Any, kind: str) -> dict[str, Any]:
    """A unified EcartAPI order as a canonical candidate of `kind`. The unified order names no store."""
    data = ECART_ORDER_SCHEMA.load(document)
    convert = MoneyConverter(data["currency"])
    customer = data.get("customer") or {}
    totals, dates = data["totals"], data["dates"]
    billing, shipping = data.get("billingAddress") or {}, data.get("shippingAddress") or {}
    email = first(data.get("email"), customer.get("email"))
    return {
        "kind": kind,
        "store": None,
        "occurred_at": first(dates.get("updatedAt"), dates.get("paidAt"), dates.get("createdAt")),
        "email": email,
        "customer": {
            "external_id": customer.get("id"),
            "email": first(customer.get("email"), email),
            "first_name": first(customer.get("firstName")),
            "last_name": first(customer.get("lastName")),
            "phone": first(customer.get("phone")),
        },
        # A customer without a name or phone: the shipping address's, then billing's (mapping.contact_fallback).
        "billing": contact_fallback(shipping, billing, keys=CAMEL_KEYS),
        "currency": convert.currency,
        "order_id": data["id"],
        "order_number": first(data.get("number"), data.get("name")),
        "checkout_id": first(data.get("checkoutId"), data["id"]),
        "total": convert(totals.get("total"), "totals.total"),
        "subtotal": convert(totals.get("subtotal"), "totals.subtotal"),
        "tax": convert(totals.get("tax"), "totals.tax"),
        "shipping": convert(totals.get("shipping"), "totals.shipping"),
        "discount": convert(totals.get("discount"), "totals.discount"),
        "line_items": [
            {
                # Spec §8: the product/variant id, else the SKU, else the line's own id, else its position.
                "external_id": first(
                    item.get("productId"), item.get("variantId"), item.get("sku"), item.get("id"), f"line-{i + 1}"
                ),
                "sku": first(item.get("sku")),
                "name": first(item.get("name"), "Item"),
                "category": first(item.get("productType")),
                "quantity": item["quantity"],
                "unit_price": convert(item["price"], f"items.{i}.price"),
                "image_url": first(item.get("imageUrl")),
            }
            for i, item in enumerate(data["items"])
        ],
        "discounts": [
            {
                "code": first(c.get("codeCupon")),
                "type": "order",
                "amount": convert(c["discountAmount"], "discountsCoupon"),
            }
            for c in data["discountsCoupon"]
            if c.get("discountAmount") is not None
        ],
        "shipping_method": first(data.get("shippingMethod")),
        "created_at": dates.get("createdAt"),
        "updated_at": dates.get("updatedAt"),
        "completed_at": dates.get("paidAt"),
    }
