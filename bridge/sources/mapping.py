"""Small helpers the source mappings share: money to minor units, first non-empty value."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError

from bridge import money


class MoneyConverter:
    """Converts Decimal amounts to minor units of one currency, reporting problems as field errors."""

    def __init__(self, currency: Any) -> None:
        if not isinstance(currency, str) or not money.is_currency(currency.strip()):
            raise ValidationError({"currency": ["Not an ISO 4217 currency code with a minor unit."]})
        self.currency = currency.strip().upper()

    def __call__(self, amount: Decimal | None, field: str) -> int | None:
        """Minor units of `amount` (None stays None)."""
        if amount is None:
            return None
        try:
            return money.to_minor_units(amount, self.currency)
        except ValueError as exc:
            raise ValidationError({field: [str(exc)]}) from None

    def total(self, amounts: Iterable[Decimal | None], field: str) -> int | None:
        """Minor units of the sum of `amounts`, or None when there are none."""
        present = [a for a in amounts if a is not None]
        return self(sum(present, Decimal(0)), field) if present else None


def first(*values: Any) -> Any:
    """The first value that is neither None nor an empty string."""
    for value in values:
        if value is not None and value != "":
            return value
    return None
