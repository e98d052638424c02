"""Small helpers the source mappings share: money to minor units, first non-empty value, the contact's name
and phone from an order's addresses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


SNAKE_KEYS = ("first_name", "last_name", "phone")
CAMEL_KEYS = ("firstName", "lastName", "phone")


def contact_fallback(
    *addresses: Mapping[str, Any] | None, phone: Any = None, keys: tuple[str, str, str] = SNAKE_KEYS
) -> dict[str, Any] | None:
    """The name and phone an order gives a customer who lacks their own (the canonical `billing` fallback).

    One rule for every source, ActiveCampaign's own for GraphQL orders (reference §12): the customer's own
    details, else the shipping address's, else the billing address's. The customer's own come first in each
    mapping (and in canonical `customer`); here `phone` is the order's own contact phone (the one the buyer
    typed at checkout), which comes before any address, and `addresses` are given in AC's order: shipping,
    then billing. The name is taken whole from the first address that has one (a first name from one address
    and a last name from another would name nobody); the phone from the first that has one. `keys` names the
    first-name, last-name and phone keys of the platform's address objects. None when nothing is found.
    """
    first_key, last_key, phone_key = keys
    present = [a for a in addresses if a]
    named = next((a for a in present if first(a.get(first_key), a.get(last_key)) is not None), {})
    found = {
        "first_name": first(named.get(first_key)),
        "last_name": first(named.get(last_key)),
        "phone": first(phone, *(a.get(phone_key) for a in present)),
    }
    return found if any(found.values()) else None
