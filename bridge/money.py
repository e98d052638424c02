"""Money: decimal amounts to integer minor units, with each currency's ISO 4217 exponent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from iso4217 import Currency


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """The number of minor-unit digits of `currency` (USD 2, JPY 0, KWD 3), from the ISO 4217 table."""
    try:
        code = Currency(currency.upper())
    except ValueError:
        raise ValueError(f"unknown currency {currency!r}") from None
    if code.exponent is None:
        raise ValueError(f"currency {currency!r} has no minor unit")
    return code.exponent


def is_currency(value: str) -> bool:
    """True if `value` is an ISO 4217 code with a minor unit."""
    try:
        exponent(value)
    except ValueError:
        return False
    return True


def to_decimal(value: object) -> Decimal:
    """Read an amount as stores send it: a decimal string, an int, or a JSON number (float or Decimal)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    if isinstance(value, float):
        # repr() of a float is the shortest string that round-trips: 59.99 stays 59.99.
        value = repr(value)
    readable: Any = value  # Decimal() itself says what it cannot read (the TypeError/ValueError below)
    try:
        amount = Decimal(readable) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return amount


def to_minor_units(value: object, currency: str) -> int:
    """Convert an amount to integer minor units of `currency`, rounding half up at the currency's exponent.

    Never goes through binary floating point: "19.99" USD is 1999, "12.345" KWD is 12345, "12800" JPY is 12800.
    """
    amount = to_decimal(value)
    digits = exponent(currency)
    if amount.adjusted() >= 18:
        # Far beyond any real order; also keeps quantize() inside Decimal's default 28-digit precision.
        raise ValueError(f"amount out of range: {value!r}")
    quantum = Decimal(1).scaleb(-digits)
    return int(amount.quantize(quantum, rounding=ROUND_HALF_UP).scaleb(digits))


#: Currencies whose symbol alone is unambiguous to a shop owner; every other one is written as its code after
#: the amount (`12.345 KWD`, `25.00 CAD`: "$" would read as US dollars).
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩", "ILS": "₪", "NGN": "₦"}


def format_minor(minor: int, currency: str) -> str:
    """Integer minor units as a person reads the amount, exact to the currency's exponent:
    `$273.72`, `¥5,000`, `€12.50`, `-£3.10`, `12.345 KWD`. An unknown currency shows the bare number and code."""
    code = (currency or "").upper()
    try:
        digits = exponent(code)
    except ValueError:
        return f"{minor} {code}".strip()
    amount = Decimal(abs(int(minor))).scaleb(-digits)
    text = f"{amount:,.{digits}f}"
    sign = "-" if minor < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"
