"""The canonical event schema (spec §4): kind rules, currency with amounts, strict ints, UTC dates, string ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from bridge.canonical import KINDS, MAX_AMOUNT, load_canonical, validate_canonical

WHEN = "2026-10-22T18:41:05+00:00"


def event(kind: str = "order.paid", **fields):
    base = {"kind": kind, "occurred_at": WHEN}
    if kind.startswith("order."):
        base["order_id"] = "LC-1"
    else:
        base["checkout_id"] = "chk_1"
    if kind == "cart.abandoned":
        base["email"] = "buyer@example.com"
    return {**base, **fields}


def errors(candidate) -> dict:
    with pytest.raises(ValidationError) as caught:
        validate_canonical(candidate)
    return caught.value.messages


def line(**fields):
    return {"external_id": "p1", "name": "Bell", "quantity": 1, "unit_price": 500, **fields}


@pytest.mark.parametrize("kind", KINDS)
def test_minimal_event_of_each_kind(kind):
    dumped = validate_canonical(event(kind))
    assert dumped["kind"] == kind
    assert dumped["occurred_at"] == WHEN
    assert dumped["line_items"] == [] and dumped["discounts"] == []
    assert dumped["total"] is None and dumped["currency"] is None


def test_kind_and_occurred_at_are_required():
    assert set(errors({"order_id": "1"})) >= {"kind", "occurred_at"}
    assert "kind" in errors(event(kind="order.shipped"))


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("order.paid", "order_id"),
        ("order.cancelled", "order_id"),
        ("order.refunded", "order_id"),
        ("checkout.updated", "checkout_id"),
        ("cart.abandoned", "checkout_id"),
    ],
)
def test_kind_specific_ids_are_required(kind, missing):
    candidate = event(kind)
    del candidate[missing]
    assert errors(candidate) == {missing: [f"Required for {kind}."]}
    assert missing in errors({**event(kind), missing: "   "})


def test_cart_abandoned_needs_an_email_and_takes_the_customers():
    candidate = event("cart.abandoned", email=None)
    assert list(errors(candidate)) == ["email"]
    dumped = validate_canonical({**candidate, "customer": {"email": "buyer@example.com"}})
    assert dumped["email"] == "buyer@example.com"
    assert validate_canonical(event("checkout.updated"))["email"] is None  # only cart.abandoned needs one


@pytest.mark.parametrize("field", ["total", "subtotal", "tax", "shipping", "discount"])
def test_currency_required_with_amounts(field):
    assert errors(event(**{field: 100})) == {"currency": ["Required when amounts are given."]}
    assert validate_canonical(event(**{field: 100, "currency": "usd"}))["currency"] == "USD"


def test_currency_required_with_line_items():
    assert list(errors(event(line_items=[line()]))) == ["currency"]


@pytest.mark.parametrize("currency", ["XXX", "ABC", "XAU", "dollars"])
def test_currency_must_have_a_minor_unit(currency):
    assert "currency" in errors(event(currency=currency))


@pytest.mark.parametrize("value", ["100", 100.0, 1.5, True, -1, MAX_AMOUNT + 1, "1e3"])
def test_amounts_are_strict_non_negative_ints(value):
    assert "total" in errors(event(total=value, currency="USD"))


def test_amount_bounds():
    assert validate_canonical(event(total=0, currency="USD"))["total"] == 0
    assert validate_canonical(event(total=MAX_AMOUNT, currency="USD"))["total"] == MAX_AMOUNT


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "2"), ("quantity", 2.0), ("quantity", True), ("quantity", -1), ("unit_price", "5.00"),
     ("unit_price", 4.99), ("name", ""), ("external_id", " ")],
)  # fmt: skip
def test_line_item_fields_are_strict(field, value):
    messages = errors(event(currency="USD", line_items=[line(**{field: value})]))
    assert field in messages["line_items"][0]


def test_discounts():
    dumped = validate_canonical(event(currency="USD", discounts=[{"code": "RIDE10", "amount": 250}]))
    assert dumped["discounts"] == [{"code": "RIDE10", "type": "order", "amount": 250}]
    assert "discounts" in errors(event(currency="USD", discounts=[{"amount": 1, "type": "product"}]))
    assert "discounts" in errors(event(currency="USD", discounts=[{"code": "X"}]))


@pytest.mark.parametrize(
    ("given", "utc"),
    [
        ("2026-10-22T18:41:05", "2026-10-22T18:41:05+00:00"),  # naive is UTC
        ("2026-10-22T18:41:05Z", "2026-10-22T18:41:05+00:00"),
        ("2026-10-22T20:41:05+02:00", "2026-10-22T18:41:05+00:00"),
        ("2026-10-22T12:41:05-06:00", "2026-10-22T18:41:05+00:00"),
        ("2026-10-22 18:41:05", "2026-10-22T18:41:05+00:00"),
        ("2026-10-22 20:41:05 +0200", "2026-10-22T18:41:05+00:00"),
        ("1792694465", "2026-10-22T18:41:05+00:00"),  # Unix seconds as a string
        ("2026-10-22T18:41:05.250+00:00", "2026-10-22T18:41:05.250000+00:00"),
    ],
)
@pytest.mark.parametrize("field", ["occurred_at", "created_at", "updated_at", "completed_at"])
def test_dates_become_aware_utc(field, given, utc):
    assert validate_canonical(event(**{field: given}))[field] == utc


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00", "", 1792694465, "2026-10-22T25:00:00"])
def test_bad_dates_are_rejected(value):
    assert "occurred_at" in errors(event(occurred_at=value))


def test_load_gives_aware_datetimes_back():
    loaded = load_canonical(validate_canonical(event(created_at="2026-10-22T20:41:05+02:00")))
    assert loaded["occurred_at"] == datetime(2026, 10, 22, 18, 41, 5, tzinfo=UTC)
    assert loaded["created_at"].utcoffset().total_seconds() == 0


def test_big_integer_ids_become_exact_strings():
    big = 9007199254740993123  # > 2**53: a float would round it
    dumped = validate_canonical(
        event(
            order_id=big,
            order_number=1042,
            checkout_id=big + 1,
            currency="USD",
            customer={"external_id": 9007199254740993457},
            line_items=[line(external_id=9007199254741000101)],
        )
    )
    assert dumped["order_id"] == "9007199254740993123"
    assert dumped["order_number"] == "1042"
    assert dumped["checkout_id"] == "9007199254740993124"
    assert dumped["customer"]["external_id"] == "9007199254740993457"
    assert dumped["line_items"][0]["external_id"] == "9007199254741000101"


@pytest.mark.parametrize("value", [True, 12.5, ["1"], {"id": 1}])
def test_ids_must_be_strings_or_integers(value):
    assert "order_id" in errors(event(order_id=value))


def test_ids_are_trimmed_and_bounded():
    assert validate_canonical(event(order_id="  LC-1  "))["order_id"] == "LC-1"
    assert "order_id" in errors(event(order_id="x" * 256))


def test_unknown_fields_are_dropped_and_email_validated():
    dumped = validate_canonical(event(secret_note="x", email="buyer@example.com"))
    assert "secret_note" not in dumped
    assert "email" in errors(event(email="not-an-email"))
    assert "customer" in errors(event(customer={"email": "nope"}))


def test_dump_has_every_field():
    dumped = validate_canonical(event())
    assert set(dumped) == {
        "kind", "store", "occurred_at", "email", "customer", "currency", "order_id", "order_number", "checkout_id",
        "order_url", "total", "subtotal", "tax", "shipping", "discount", "line_items", "discounts",
        "shipping_method", "created_at", "updated_at", "completed_at", "billing", "refund_id", "refunded_total",
        "refunds",
    }  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript://x%0Aalert(1)",
        "data:text/html,<script>",
        "/orders/1",
        "ftp://shop.example/x",
        "https:",
        "http:x",
    ],
)
def test_links_that_are_not_http_are_dropped_not_refused(url):
    loaded = load_canonical(
        event("order.paid", currency="USD", order_url=url, line_items=[line(product_url=url, image_url=url)])
    )
    assert loaded["order_url"] is None
    assert loaded["line_items"][0]["product_url"] is None
    assert loaded["line_items"][0]["image_url"] is None


def test_http_and_https_links_are_kept():
    loaded = load_canonical(
        event(
            "order.paid",
            currency="USD",
            order_url="https://shop.example/o/1",
            line_items=[line(image_url="HTTP://cdn.example/a.png")],
        )
    )
    assert loaded["order_url"] == "https://shop.example/o/1"
    assert loaded["line_items"][0]["image_url"] == "HTTP://cdn.example/a.png"


def test_item_validation_stops_once_the_error_budget_is_spent():
    bad = {"external_id": [1], "name": {"x": 1}, "quantity": "many", "unit_price": -1}
    found = errors(event(currency="USD", line_items=[bad] * 1000))["line_items"]
    checked = [k for k in found if isinstance(k, int)]
    assert checked == list(range(len(checked))) and 12 <= len(checked) < 1000
    assert found["_unchecked"] == [f"Items from #{max(checked) + 1} on were not checked."]


def test_items_past_the_first_chunk_are_still_checked():
    items = [line(external_id=f"p{i}") for i in range(120)]
    items[110] = line(quantity="many")
    assert set(errors(event(currency="USD", line_items=items))["line_items"]) == {110}
    assert len(validate_canonical(event(currency="USD", line_items=items[:110]))["line_items"]) == 110
