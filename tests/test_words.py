"""`bridge.money.format_minor` and `bridge.words`: the words the dashboard and the CLI both print."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.money import format_minor, to_minor_units
from bridge.words import delivery_state, plain_error, warnings_in, why

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (27372, "USD", "$273.72"),
        (5000, "JPY", "¥5,000"),
        (1250, "eur", "€12.50"),
        (12345, "KWD", "12.345 KWD"),
        (-310, "GBP", "-£3.10"),
        (123456789, "USD", "$1,234,567.89"),
        (2500, "CAD", "25.00 CAD"),
        (7, "USD", "$0.07"),
    ],
)
def test_format_minor_is_exact_to_the_currencys_minor_units(minor: int, currency: str, shown: str) -> None:
    assert format_minor(minor, currency) == shown


@pytest.mark.parametrize(("amount", "currency"), [("273.72", "USD"), ("13600", "JPY"), ("26.190", "KWD")])
def test_format_minor_round_trips_what_the_store_sent(amount: str, currency: str) -> None:
    assert amount in format_minor(to_minor_units(amount, currency), currency).replace(",", "")


@pytest.mark.parametrize(
    ("stored", "status", "shown"),
    [
        # As older versions stored it: the status twice and AC's raw JSON.
        ('unexpected HTTP 422: {"errors": [{"title": "Email is not valid"}]}', 422,
         "HTTP 422 refused as invalid: Email is not valid"),
        ("HTTP 503", 503, "HTTP 503 service unavailable"),
        ("ConnectionError calling POST https://acct.api-us1.com/api/3/ecomOrders", None,
         "cannot connect to acct.api-us1.com"),
        ("ReadTimeout calling GET http://127.0.0.1:9/x?email=a@b.c", None, "timed out waiting for 127.0.0.1"),
        ('cart create reported a duplicate that cannot be found: {"message": "gone"}', 422,
         "HTTP 422 refused as invalid: cart create reported a duplicate that cannot be found: gone"),
        ("HTTP 301 redirect to https://acme.activehosted.com/… not followed (it would carry the credentials; "
         "check the configured URL)", 301, "HTTP 301 redirect to https://acme.activehosted.com/… not followed (it "
         "would carry the credentials; check the configured URL)"),
        # As this version stores it: passed through once, unchanged.
        ("HTTP 422 refused as invalid: Email is not valid", 422, "HTTP 422 refused as invalid: Email is not valid"),
        ("cannot resolve host nowhere.invalid", None, "cannot resolve host nowhere.invalid"),
    ],
)  # fmt: skip
def test_plain_error_says_the_status_once_and_never_raw_json(stored: str, status: int | None, shown: str) -> None:
    assert plain_error(stored, status) == shown
    assert why({"last_error": stored, "last_status": status}) == shown


def test_delivery_state_in_words() -> None:
    pending = {"id": 14, "status": "pending", "lane": "ac|s|order|5", "attempts": 0, "next_attempt_at": NOW}
    assert delivery_state(pending, 12, NOW) == "waiting for delivery #12, same order"
    assert delivery_state({**pending, "lane": "ac|s|checkout|9"}, 12, NOW) == "waiting for delivery #12, same checkout"
    assert delivery_state(pending, None, NOW) == "due now, waiting for a worker"
    later = {**pending, "attempts": 2, "next_attempt_at": "2026-05-01T10:05:00+00:00"}
    assert delivery_state(later, None, NOW) == "retrying at 2026-05-01 10:05:00 UTC"
    note = "contact 3 synced; list 7 subscription refused: HTTP 422 refused as invalid: no list; order 9 created"
    assert delivery_state({"status": "done", "note": note}, None, NOW) == "done, with a warning"
    assert warnings_in(note) == ["list 7 subscription refused: HTTP 422 refused as invalid: no list"]
    assert delivery_state({"status": "done", "note": "order 9 created"}, None, NOW) == "done"
