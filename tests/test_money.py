"""Money: decimal amounts to integer minor units with each currency's ISO 4217 exponent, never through floats."""

from __future__ import annotations

from decimal import Decimal

import iso4217
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.money import exponent, is_currency, to_decimal, to_minor_units

CURRENCIES = [(c.code, c.exponent) for c in iso4217.Currency if c.exponent is not None]
NO_MINOR_UNIT = [c.code for c in iso4217.Currency if c.exponent is None]


def decimal_text(units: int, digits: int) -> str:
    """`units` minor units written with exactly `digits` fractional digits (1999, 2 → "19.99")."""
    sign, units = ("-" if units < 0 else ""), abs(units)
    if digits == 0:
        return f"{sign}{units}"
    whole, fraction = divmod(units, 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}"


def test_the_table_is_what_we_think():
    assert len(CURRENCIES) > 150
    assert {e for _, e in CURRENCIES} >= {0, 2, 3}
    assert (exponent("USD"), exponent("JPY"), exponent("KWD"), exponent("EUR")) == (2, 0, 3, 2)
    assert exponent("usd") == 2
    assert "XXX" in NO_MINOR_UNIT and "XAU" in NO_MINOR_UNIT


@given(units=st.integers(min_value=-(10**15), max_value=10**15))
def test_exact_digits_convert_exactly_for_every_currency(units):
    for code, digits in CURRENCIES:
        text = decimal_text(units, digits)
        expected = int(Decimal(text).scaleb(digits))
        assert expected == units
        assert to_minor_units(text, code) == expected, (code, text)
        assert to_minor_units(Decimal(text), code) == expected
        assert to_minor_units(text, code.lower()) == expected


@given(cents=st.integers(min_value=0, max_value=10**11))
def test_two_decimal_floats_are_exact(cents):
    """19.99 as a JSON number is 1999 cents, not int(19.99 * 100) == 1998."""
    value = float(decimal_text(cents, 2))
    assert to_minor_units(value, "USD") == cents
    assert to_minor_units(value, "EUR") == cents


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (19.99, "USD", 1999),
        (0.29, "USD", 29),  # int(0.29 * 100) == 28
        (4.35, "USD", 435),  # int(4.35 * 100) == 434
        (59.99, "USD", 5999),
        (6, "USD", 600),
        (12800, "JPY", 12800),
        ("12800", "JPY", 12800),
        ("12.345", "KWD", 12345),
        ("1.500", "KWD", 1500),
        ("3784.450000", "MXN", 378445),
        (Decimal("18.906666666666666"), "EUR", 1891),
        ("-25.00", "USD", -2500),
        ("  19.99 ", "USD", 1999),
        ("1E+2", "USD", 10000),
    ],
)
def test_examples(value, currency, expected):
    assert to_minor_units(value, currency) == expected


@given(
    units=st.integers(min_value=0, max_value=10**12),
    extra=st.integers(min_value=0, max_value=9),
    currency=st.sampled_from(CURRENCIES),
)
def test_one_extra_digit_rounds_half_up(units, extra, currency):
    code, digits = currency
    text = decimal_text(units, digits) + ("." if digits == 0 else "") + str(extra)
    assert to_minor_units(text, code) == units + (1 if extra >= 5 else 0)
    # half away from zero for refunds written as negatives
    if units or extra:
        assert to_minor_units("-" + text, code) == -(units + (1 if extra >= 5 else 0))


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("19.995", "USD", 2000), ("19.994999", "USD", 1999), ("0.005", "USD", 1), ("12800.5", "JPY", 12801),
     ("1.0005", "KWD", 1001), ("1.00049", "KWD", 1000)],
)  # fmt: skip
def test_half_up_examples(text, currency, expected):
    assert to_minor_units(text, currency) == expected


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-inf",
        float("nan"),
        float("inf"),
        float("-inf"),
        Decimal("NaN"),
        Decimal("Infinity"),
        True,
        False,
        None,
        "",
        "abc",
        "19,99",
        "1e999999999",  # far beyond any order, and beyond Decimal's working precision
        [],
        {},
    ],
    ids=repr,
)
def test_rejects_non_amounts(value):
    with pytest.raises(ValueError):
        to_minor_units(value, "USD")


@pytest.mark.parametrize("currency", ["ABC", "", "US", "USDD", "XXX", "XAU", "xts"])
def test_rejects_unknown_currency_or_no_minor_unit(currency):
    assert not is_currency(currency)
    with pytest.raises(ValueError):
        to_minor_units("1.00", currency)


def test_to_decimal_keeps_exact_text():
    assert to_decimal("0.10") == Decimal("0.10")
    assert str(to_decimal(0.1)) == "0.1"  # repr of the float, not its binary expansion
    assert to_decimal(7) == Decimal(7)
