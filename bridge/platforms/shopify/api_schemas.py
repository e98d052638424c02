"""Load-side schemas for the GraphQL Admin API's `Order` and `AbandonedCheckout` nodes and their canonical
mapping. A GraphQL node is not a REST webhook body (camelCase, money in `*Set.shopMoney`, `gid://` ids,
connections): it gets its own schemas, mapped into the same canonical events through the shapes both share
(shapes.py). Ids are the numeric `legacyResourceId`s the webhooks carry, never `gid://` ids (AC's `externalid`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from marshmallow import ValidationError, fields

from bridge.canonical import MAX_LINE_ITEMS, CappedList
from bridge.platforms.fields import Amount, IdString, PlatformSchema, Quantity, UTCDateTime, discount_list, optional
from bridge.platforms.mapping import CAMEL_KEYS, MoneyConverter, contact_fallback, first
from bridge.platforms.shopify import shapes


class CappedConnection(fields.Field[Any]):
    """A GraphQL connection (`{"nodes": [...]}`) loaded as the list of its nodes, capped like line items."""

    def __init__(self, schema: type[PlatformSchema], **kwargs: Any) -> None:
        super().__init__(load_default=list, **kwargs)
        self.inner = CappedList(fields.Nested(schema), max_items=MAX_LINE_ITEMS)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, dict) or not isinstance(value.get("nodes"), list):
            raise ValidationError("Not a connection with nodes.")
        return self.inner.deserialize(value["nodes"], attr, data, **kwargs)


class MoneySchema(PlatformSchema):
    amount = Amount(required=True)
    currencyCode = fields.String(required=True)


class MoneyBagSchema(PlatformSchema):
    shopMoney = fields.Nested(MoneySchema, required=True)


class LegacyRefSchema(PlatformSchema):
    legacyResourceId = optional(IdString())


class GqlPhoneNumberSchema(PlatformSchema):
    phoneNumber = optional(fields.String())


class GqlCustomerSchema(PlatformSchema):
    legacyResourceId = optional(IdString())
    email = optional(fields.String())
    firstName = optional(fields.String())
    lastName = optional(fields.String())
    phone = optional(fields.String())  # deprecated for defaultPhoneNumber; older API versions have only this
    defaultPhoneNumber = optional(fields.Nested(GqlPhoneNumberSchema))


class GqlAddressSchema(PlatformSchema):
    firstName = optional(fields.String())
    lastName = optional(fields.String())
    phone = optional(fields.String())


class GqlLineItemSchema(PlatformSchema):
    id = optional(fields.String())
    sku = optional(fields.String())
    name = optional(fields.String())
    title = optional(fields.String())
    variantTitle = optional(fields.String())
    vendor = optional(fields.String())
    quantity = Quantity(required=True)
    product = optional(fields.Nested(LegacyRefSchema))
    variant = optional(fields.Nested(LegacyRefSchema))
    originalUnitPriceSet = fields.Nested(MoneyBagSchema, required=True)


class GqlShippingLineSchema(PlatformSchema):
    title = optional(fields.String())


class GqlRefundSchema(PlatformSchema):
    legacyResourceId = IdString(required=True)
    createdAt = optional(UTCDateTime())
    totalRefundedSet = fields.Nested(MoneyBagSchema, required=True)


class _GqlPurchase(PlatformSchema):
    createdAt = optional(UTCDateTime())
    updatedAt = UTCDateTime(required=True)
    customer = optional(fields.Nested(GqlCustomerSchema))
    billingAddress = optional(fields.Nested(GqlAddressSchema))
    shippingAddress = optional(fields.Nested(GqlAddressSchema))
    subtotalPriceSet = optional(fields.Nested(MoneyBagSchema))
    totalPriceSet = fields.Nested(MoneyBagSchema, required=True)
    totalTaxSet = optional(fields.Nested(MoneyBagSchema))
    discountCodes = optional(fields.List(fields.String()))
    lineItems = CappedConnection(GqlLineItemSchema)


class GqlOrderSchema(_GqlPurchase):
    id = fields.String(required=True)
    legacyResourceId = IdString(required=True)
    name = optional(fields.String())
    email = optional(fields.String())
    phone = optional(fields.String())
    processedAt = optional(UTCDateTime())
    cancelledAt = optional(UTCDateTime())
    displayFinancialStatus = optional(fields.String())
    currencyCode = fields.String(required=True)
    checkoutToken = optional(IdString())
    statusPageUrl = optional(fields.String())
    customerAcceptsMarketing = optional(fields.Boolean())
    totalDiscountsSet = optional(fields.Nested(MoneyBagSchema))
    totalShippingPriceSet = optional(fields.Nested(MoneyBagSchema))
    shippingLine = optional(fields.Nested(GqlShippingLineSchema))
    refunds = discount_list(GqlRefundSchema)


class GqlAbandonedCheckoutSchema(_GqlPurchase):
    id = fields.String(required=True)
    abandonedCheckoutUrl = fields.String(required=True)
    completedAt = optional(UTCDateTime())
    totalDiscountSet = optional(fields.Nested(MoneyBagSchema))


GQL_ORDER_SCHEMA = GqlOrderSchema()
GQL_CHECKOUT_SCHEMA = GqlAbandonedCheckoutSchema()
GQL_REFUND_SCHEMA = GqlRefundSchema()

#: Financial statuses of an order that was paid (the state `orders/paid` reports); others are not events.
PAID_STATUSES = ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED")


def legacy_id(gid: Any) -> str | None:
    """`gid://shopify/Order/123` -> `123` (None for anything else)."""
    if not isinstance(gid, str) or not gid.startswith("gid://"):
        return None
    tail = gid.rsplit("/", 1)[-1].partition("?")[0]
    return tail if tail.isdigit() else None


def checkout_token(url: Any) -> str | None:
    """The checkout token in an `abandonedCheckoutUrl` (`…/checkouts/<token>/recover?key=…`, also with an
    `ac/` or `cn/` segment before the token): the webhooks' `token`, which AC knows the cart by."""
    if not isinstance(url, str):
        return None
    parts = [p for p in urlparse(url).path.split("/") if p]
    if "recover" in parts and parts.index("recover") > 0:
        candidate = parts[parts.index("recover") - 1]
    elif "checkouts" in parts and parts[-1] != "checkouts":
        candidate = parts[-1]
    else:
        return None
    return candidate if candidate not in ("checkouts", "ac", "cn") and len(candidate) >= 8 else None


def order_kind(node: Any) -> str | None:
    """What state of an order a node shows: cancelled, paid, or nothing the webhooks would report."""
    if not isinstance(node, dict):
        return None
    if node.get("cancelledAt"):
        return "order.cancelled"
    return "order.paid" if node.get("displayFinancialStatus") in PAID_STATUSES else None


def _money(bag: dict[str, Any] | None) -> Any:
    return None if not bag else bag["shopMoney"]["amount"]


def _customer(data: dict[str, Any], accepts: Any) -> dict[str, Any] | None:
    customer = data.get("customer")
    if not customer:
        return None
    return shapes.customer(
        external_id=customer.get("legacyResourceId"),
        email=customer.get("email"),
        first_name=customer.get("firstName"),
        last_name=customer.get("lastName"),
        phones=(
            (customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
            customer.get("phone"),
            data.get("phone"),
        ),
        accepts_marketing=accepts,
    )


def _line_item(item: dict[str, Any], convert: MoneyConverter, index: int) -> dict[str, Any]:
    return shapes.line_item(
        item,
        ids=(
            (item.get("product") or {}).get("legacyResourceId"),
            (item.get("variant") or {}).get("legacyResourceId"),
            legacy_id(item.get("id")),
            item.get("sku"),
        ),
        variant_title=item.get("variantTitle"),
        price=item["originalUnitPriceSet"]["shopMoney"]["amount"],
        convert=convert,
        index=index,
        price_path=f"lineItems.{index}.price",
    )


def _purchase(data: dict[str, Any], shop: str | None, currency: str, discount: Any, accepts: Any) -> dict[str, Any]:
    convert = MoneyConverter(currency)
    customer = _customer(data, accepts)
    discount_total = convert(discount, "totalDiscountsSet")
    codes = [c for c in data.get("discountCodes") or [] if c]
    return {
        "store": shop,
        "currency": convert.currency,
        "customer": customer,
        # As the webhooks' (mapping.contact_fallback): the order's phone, then shipping, then billing.
        "billing": contact_fallback(
            data.get("shippingAddress"), data.get("billingAddress"), phone=data.get("phone"), keys=CAMEL_KEYS
        ),
        "email": first(data.get("email"), (customer or {}).get("email")),
        "total": convert(_money(data["totalPriceSet"]), "totalPriceSet"),
        "subtotal": convert(_money(data.get("subtotalPriceSet")), "subtotalPriceSet"),
        "tax": convert(_money(data.get("totalTaxSet")), "totalTaxSet"),
        "discount": discount_total,
        "line_items": [_line_item(item, convert, i) for i, item in enumerate(data["lineItems"])],
        # GraphQL lists the codes, not an amount per code: the first code carries the order's discount.
        "discounts": [
            {"code": code, "type": "order", "amount": (discount_total or 0) if i == 0 else 0}
            for i, code in enumerate(codes[:100])
        ],
        "created_at": data.get("createdAt"),
        "updated_at": data.get("updatedAt"),
    }


def order_candidate(node: Any, shop: str | None, kind: str) -> dict[str, Any]:
    """A GraphQL order as an `order.paid` / `order.cancelled` candidate."""
    data = GQL_ORDER_SCHEMA.load(node)
    if legacy_id(data["id"]) not in (None, data["legacyResourceId"]):
        raise ValidationError({"legacyResourceId": ["Does not match the gid:// id."]})
    candidate = _purchase(
        data, shop, data["currencyCode"], _money(data.get("totalDiscountsSet")), data.get("customerAcceptsMarketing")
    )
    convert = MoneyConverter(data["currencyCode"])
    shipping = data.get("shippingLine") or {}
    candidate.update(
        kind=kind,
        order_id=data["legacyResourceId"],
        # `name` is "#1042" (the shop's prefix and number); the webhooks' `order_number` is 1042.
        order_number=first((data.get("name") or "").removeprefix("#")),
        checkout_id=data.get("checkoutToken"),
        order_url=data.get("statusPageUrl"),
        shipping=convert(_money(data.get("totalShippingPriceSet")), "totalShippingPriceSet"),
        shipping_method=first(shipping.get("title")),
        completed_at=data.get("processedAt"),
        occurred_at=first(
            data.get("cancelledAt") if kind == "order.cancelled" else None,
            data.get("updatedAt"),
            data.get("processedAt"),
            data.get("createdAt"),
        ),
    )
    return candidate


def refund_candidate(refund: Any, order_id: str, shop: str | None) -> dict[str, Any]:
    """One refund of a GraphQL order as an `order.refunded` candidate; `total` is the amount refunded."""
    data = GQL_REFUND_SCHEMA.load(refund)
    money = data["totalRefundedSet"]["shopMoney"]
    convert = MoneyConverter(money["currencyCode"])
    return {
        "kind": "order.refunded",
        "store": shop,
        "order_id": order_id,
        "currency": convert.currency,
        "total": convert(money["amount"], "totalRefundedSet"),
        "created_at": data.get("createdAt"),
        "updated_at": data.get("createdAt"),
        "occurred_at": data.get("createdAt"),
    }


def checkout_candidate(node: Any, shop: str | None, checkout_id: str) -> dict[str, Any]:
    """A GraphQL abandoned checkout as a `checkout.updated` candidate, known by `checkout_id` (its token)."""
    data = GQL_CHECKOUT_SCHEMA.load(node)
    currency = data["totalPriceSet"]["shopMoney"]["currencyCode"]
    candidate = _purchase(data, shop, currency, _money(data.get("totalDiscountSet")), None)
    candidate.update(
        kind="checkout.updated",
        checkout_id=checkout_id,
        order_url=data["abandonedCheckoutUrl"],
        completed_at=data.get("completedAt"),
        occurred_at=first(data.get("updatedAt"), data.get("createdAt")),
    )
    return candidate
