"""The canonical events: one vocabulary every source loads into and every destination reads from (spec §4).

Money is in integer minor units, ids are strings, datetimes are aware UTC. `CanonicalEventSchema` validates the
shape (it is also the public contract of the `custom` source) and dumps it to JSON for storage.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from bridge import money
from bridge.timeutil import parse_datetime, to_utc

KINDS = ("checkout.updated", "cart.abandoned", "order.paid", "order.cancelled", "order.refunded")
ORDER_KINDS = ("order.paid", "order.cancelled", "order.refunded")
CHECKOUT_KINDS = ("checkout.updated", "cart.abandoned")
MONEY_FIELDS = ("total", "subtotal", "tax", "shipping", "discount")
MAX_AMOUNT = 10**15  # minor units; far above any real order, below every destination's integer range
#: Collections are capped before any item is validated (spec §11): 340,000 bad items must not cost 20 s.
MAX_LINE_ITEMS = 1000
MAX_DISCOUNTS = 100


class UTCDateTime(fields.Field[datetime]):
    """ISO-8601 in, aware UTC datetime out; naive values are taken as UTC. Dumps ISO-8601 with offset."""

    default_error_messages = {"invalid": "Not a valid ISO-8601 datetime."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, datetime):
            return to_utc(value)
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_datetime(value)
        except ValueError:
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else to_utc(value).isoformat()


class IdString(fields.String):
    """An identifier: strings stay strings, integers become their exact decimal string (Shopify ids > 2^53)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        result = super()._deserialize(value, attr, data, **kwargs)
        if not result.strip():
            raise ValidationError("Must not be empty.")
        return result.strip()


class CappedList(fields.List[Any]):
    """A list whose length is checked before any of its items is loaded (marshmallow's Length validator runs
    only after every item was), and whose items are loaded ITEM_CHUNK at a time, stopping once ERROR_BUDGET
    messages are in: 1,000 items wrong in every field would otherwise cost ~80 ms to list errors of which only
    the first 50 are ever kept (bridge.triage.cap_errors)."""

    def __init__(self, inner: Any, *, max_items: int, **kwargs: Any) -> None:
        super().__init__(inner, **kwargs)
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list | tuple):
            return super()._deserialize(value, attr, data, **kwargs)
        if len(value) > self.max_items:
            raise ValidationError(f"Longer than maximum length {self.max_items}.")
        result: list[Any] = []
        errors: dict[int | str, Any] = {}
        for start in range(0, len(value), ITEM_CHUNK):
            try:
                result.extend(super()._deserialize(value[start : start + ITEM_CHUNK], attr, data, **kwargs))
            except ValidationError as exc:
                found = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
                errors.update({start + k if isinstance(k, int) else k: v for k, v in found.items()})
                if _count_messages(errors) >= ERROR_BUDGET and start + ITEM_CHUNK < len(value):
                    errors["_unchecked"] = [f"Items from #{start + ITEM_CHUNK} on were not checked."]
                    break
        if errors:
            raise ValidationError(errors)
        return result


ITEM_CHUNK = 50
ERROR_BUDGET = 50  # messages, as many as bridge.triage keeps


def _count_messages(errors: Any) -> int:
    if isinstance(errors, dict):
        return sum(_count_messages(v) for v in errors.values())
    if isinstance(errors, list):
        return (
            sum(_count_messages(v) for v in errors) if any(isinstance(v, dict | list) for v in errors) else len(errors)
        )
    return 1


class WebLink(fields.String):
    """A link AC puts in emails (orderUrl, productUrl, imageUrl): `http`/`https` only (spec §11). Anything else
    (`javascript:`, `data:`, a bare path) is dropped — the event still goes through, without that link."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    # A dropped link loads as None where String loads only text: the override is wider on purpose.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > 2000:
            raise ValidationError("Longer than maximum length 2000.")
        scheme, _, rest = text.partition(":")
        if scheme.lower() not in ("http", "https") or not rest.startswith("//") or len(rest) <= 2:
            return None
        return text


def _amount(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT), **kwargs)


def _text(max_len: int = 1000, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_len), **kwargs)


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE

    def load(self, *args: Any, **kwargs: Any) -> Any:
        """marshmallow's load. A refusal leaves marshmallow's frame holding its own error (a reference cycle
        through the traceback), and with it, through the callers' frames, everything the request holds: the
        whole parsed body then waited for a collection that walked all of it (~8 ms for 1,000 bad items, once
        per failing nested item). Cleared here, it is freed as soon as it is dropped."""
        try:
            return super().load(*args, **kwargs)
        except ValidationError as exc:
            traceback.clear_frames(exc.__traceback__)
            raise


class CustomerSchema(_Base):
    """The buyer as the store knows them."""

    external_id = IdString(allow_none=True, load_default=None, validate=validate.Length(max=255))
    email = fields.Email(allow_none=True, load_default=None)
    first_name = _text(255, allow_none=True, load_default=None)
    last_name = _text(255, allow_none=True, load_default=None)
    phone = _text(64, allow_none=True, load_default=None)
    accepts_marketing = fields.Boolean(allow_none=True, load_default=None)


class BillingSchema(_Base):
    """The name and phone the order's addresses give: the fallback for a customer without them. The platform
    mappings fill it in AC's order (the order's contact phone, the shipping address, then billing:
    `bridge.platforms.mapping.contact_fallback`); the name `billing` is the custom source's contract."""

    first_name = _text(255, allow_none=True, load_default=None)
    last_name = _text(255, allow_none=True, load_default=None)
    phone = _text(64, allow_none=True, load_default=None)


class LineItemSchema(_Base):
    """One product line; `unit_price` in minor units."""

    external_id = IdString(required=True, validate=validate.Length(max=255))
    sku = _text(255, allow_none=True, load_default=None)
    name = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    description = _text(5000, allow_none=True, load_default=None)
    category = _text(255, allow_none=True, load_default=None)
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=1_000_000))
    unit_price = _amount(required=True)
    product_url = WebLink()
    image_url = WebLink()


class DiscountSchema(_Base):
    """A discount code applied to the order or to shipping; `amount` in minor units."""

    code = _text(255, allow_none=True, load_default=None)
    type = fields.String(load_default="order", validate=validate.OneOf(["order", "shipping"]))
    amount = _amount(required=True)


class RefundSchema(_Base):
    """One refund the store lists on an order; `amount` in minor units (positive)."""

    refund_id = IdString(required=True, validate=validate.Length(max=255))
    amount = _amount(required=True)


class CanonicalEventSchema(_Base):
    """A canonical event. Loading validates; dumping gives the JSON form that is stored and sent on."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    store = _text(255, allow_none=True, load_default=None)
    occurred_at = UTCDateTime(required=True)
    email = fields.Email(allow_none=True, load_default=None)
    customer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)
    billing = fields.Nested(BillingSchema, allow_none=True, load_default=None)
    currency = fields.String(allow_none=True, load_default=None)
    order_id = IdString(allow_none=True, load_default=None, validate=validate.Length(max=255))
    order_number = IdString(allow_none=True, load_default=None, validate=validate.Length(max=255))
    checkout_id = IdString(allow_none=True, load_default=None, validate=validate.Length(max=255))
    order_url = WebLink()
    total = _amount(allow_none=True, load_default=None)
    subtotal = _amount(allow_none=True, load_default=None)
    tax = _amount(allow_none=True, load_default=None)
    shipping = _amount(allow_none=True, load_default=None)
    discount = _amount(allow_none=True, load_default=None)
    line_items = CappedList(fields.Nested(LineItemSchema), max_items=MAX_LINE_ITEMS, load_default=list)
    discounts = CappedList(fields.Nested(DiscountSchema), max_items=MAX_DISCOUNTS, load_default=list)
    shipping_method = _text(255, allow_none=True, load_default=None)
    created_at = UTCDateTime(allow_none=True, load_default=None)
    updated_at = UTCDateTime(allow_none=True, load_default=None)
    completed_at = UTCDateTime(allow_none=True, load_default=None)
    # order.refunded only. With `refund_id` the event is one refund and `total` its amount (Shopify); without
    # it, `refunds` below (WooCommerce) or `refunded_total` (everything refunded on the order so far, for custom
    # senders) say what was refunded, and none of them (or an empty `refunds`) means refunded in full
    # (EcartAPI's `refunded`).
    refund_id = IdString(allow_none=True, load_default=None, validate=validate.Length(max=255))
    refunded_total = _amount(allow_none=True, load_default=None)
    # order.paid and order.refunded: every refund the order lists as of `updated_at` (WooCommerce's `refunds[]`,
    # which an `order.updated` carries whole). The newest listing replaces older ones; None: not listed.
    refunds = CappedList(fields.Nested(RefundSchema), max_items=MAX_DISCOUNTS, allow_none=True, load_default=None)

    @pre_load
    def _upper_currency(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].strip().upper()}
        return data

    @validates_schema(skip_on_field_errors=False)
    def _kind_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        kind = data.get("kind")
        if kind in ORDER_KINDS and not data.get("order_id"):
            errors["order_id"] = [f"Required for {kind}."]
        if kind in CHECKOUT_KINDS and not data.get("checkout_id"):
            errors["checkout_id"] = [f"Required for {kind}."]
        currency = data.get("currency")
        if currency is not None and not money.is_currency(currency):
            errors["currency"] = ["Not an ISO 4217 currency code with a minor unit."]
        has_money = any(data.get(f) is not None for f in MONEY_FIELDS) or data.get("line_items")
        if has_money and currency is None:
            errors["currency"] = ["Required when amounts are given."]
        if kind == "cart.abandoned" and not (data.get("email") or (data.get("customer") or {}).get("email")):
            errors["email"] = ["Required for cart.abandoned: a cart reminder needs someone to send it to."]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _fill_email(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        customer = data.get("customer") or {}
        if not data.get("email") and customer.get("email"):
            data["email"] = customer["email"]
        billing = data.get("billing") or {}
        if any(billing.values()):
            # A guest, or a customer record without a name or phone: the billing address still has them.
            filled = dict(customer) if customer else dict.fromkeys(CustomerSchema().fields)
            for name in ("first_name", "last_name", "phone"):
                if not filled.get(name) and billing.get(name):
                    filled[name] = billing[name]
            if not filled.get("email"):
                filled["email"] = data.get("email")
            data["customer"] = filled
        return data


CANONICAL = CanonicalEventSchema()


def validate_canonical(candidate: dict[str, Any]) -> dict[str, Any]:
    """Validate a canonical candidate and return its JSON form. Raises ValidationError with field messages."""
    dumped: dict[str, Any] = CANONICAL.dump(CANONICAL.load(candidate))
    return dumped


def load_canonical(stored: dict[str, Any]) -> dict[str, Any]:
    """Load a stored canonical JSON document back into Python values (aware datetimes)."""
    loaded: dict[str, Any] = CANONICAL.load(stored)
    return loaded
