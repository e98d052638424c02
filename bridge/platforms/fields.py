"""marshmallow fields for reading platform payloads (load side only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields

from bridge import money
from bridge.canonical import MAX_DISCOUNTS, MAX_LINE_ITEMS, CappedList, IdString, UTCDateTime

__all__ = [
    "Amount",
    "IdString",
    "PlatformSchema",
    "Quantity",
    "UTCDateTime",
    "discount_list",
    "item_list",
    "optional",
]


class Amount(fields.Field[Decimal]):
    """A money amount as stores send it: a decimal string or a JSON number. Loads to an exact Decimal."""

    default_error_messages = {"invalid": "Not a valid amount."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        try:
            return money.to_decimal(value)
        except ValueError:
            raise self.make_error("invalid") from None


class Quantity(fields.Integer):
    """An item count: integers, or whole decimals some platforms send ("2", 2.0)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, (float, Decimal, str)) and not isinstance(value, bool):
            try:
                number = money.to_decimal(value)
            except ValueError:
                raise self.make_error("invalid") from None
            if number.adjusted() > 9 or number != number.to_integral_value():
                # adjusted() first: int() of "1e999999999" would build a billion-digit integer and hang.
                raise self.make_error("invalid")
            value = int(number)
        return super()._deserialize(value, attr, data, **kwargs)


class PlatformSchema(Schema):
    """Base for platform payload schemas: platforms add fields all the time, so unknown keys are ignored."""

    class Meta:
        unknown = EXCLUDE


def optional(field: fields.Field[Any]) -> fields.Field[Any]:
    """Make `field` optional and nullable (platforms send `null` and omit keys freely)."""
    field.allow_none = True
    field.load_default = None
    return field


def item_list(schema: type[Schema]) -> fields.Field[Any]:
    """A platform's list of line items: at most MAX_LINE_ITEMS, counted before any is loaded."""
    return CappedList(fields.Nested(schema), max_items=MAX_LINE_ITEMS, load_default=list)


def discount_list(schema: type[Schema]) -> fields.Field[Any]:
    """A platform's list of discounts, shipping lines, refunds or transactions: at most MAX_DISCOUNTS."""
    return CappedList(fields.Nested(schema), max_items=MAX_DISCOUNTS, load_default=list)
