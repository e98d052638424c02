"""Shopify: every handled topic stored as the right canonical event (money by hand from the fixtures)."""

from __future__ import annotations

import json

import pytest

from bridge.platforms.shopify import consistency
from bridge.storage import Events
from tests.helpers import signing
from tests.helpers.env import fixture
from tests.helpers.webhooks import deliver, interpret_stored, post, resign, stored

SHOP = signing.SHOP_DOMAIN
CHECKOUT = "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3"

ORDERS_PAID_BASIC = {
    "kind": "order.paid",
    "store": "acme-outdoor.myshopify.com",
    "occurred_at": "2026-10-14T19:02:14+00:00",  # updated_at 15:02:14-04:00
    "email": "maya.okafor@example.com",
    "customer": {
        "external_id": "7301482659126",
        "email": "maya.okafor@example.com",
        "first_name": "Maya",
        "last_name": "Okafor",
        "phone": "+17185550142",
        "accepts_marketing": True,  # email_marketing_consent.state "subscribed"
    },
    "billing": {"first_name": "Maya", "last_name": "Okafor", "phone": "+17185550142"},  # billing_address
    "currency": "USD",
    "order_id": "5874120638518",
    "order_number": "1042",
    "checkout_id": CHECKOUT,
    "order_url": "https://acme-outdoor.myshopify.com/68947232822/orders/e61b7d3f09a24c85b7f1d2e9a0c36b4f"
    "/authenticate?key=a4c1e9f27b0d5836e2f9c1a7b4d08e65",
    "total": 27372,  # "273.72"
    "subtotal": 24310,  # "243.10"
    "tax": 2067,  # "20.67"
    "shipping": 995,  # shipping_lines[0].price "9.95"
    "discount": 4290,  # "42.90"
    "line_items": [
        {
            "external_id": "8123456789014",
            "sku": "ACM-TENT-2P-GRN",
            "name": "Summit 2-Person Backpacking Tent",
            "description": "Forest Green",
            "category": "Acme Outdoor",
            "quantity": 1,
            "unit_price": 24900,
            "product_url": None,
            "image_url": None,
        },
        {
            "external_id": "8123456791126",
            "sku": "ACM-SOCK-MER-M-CH",
            "name": "Merino Trail Socks",
            "description": "M / Charcoal",
            "category": "Acme Outdoor",
            "quantity": 2,
            "unit_price": 1850,
            "product_url": None,
            "image_url": None,
        },
    ],
    "discounts": [{"code": "TRAIL15", "type": "order", "amount": 4290}],
    "shipping_method": "Standard Shipping",
    "created_at": "2026-10-14T19:02:11+00:00",
    "updated_at": "2026-10-14T19:02:14+00:00",
    "completed_at": "2026-10-14T19:02:10+00:00",  # processed_at
    "refund_id": None,
    "refunded_total": None,
    "refunds": None,
}


def test_orders_paid_basic_exact_canonical(client, db):
    record = deliver(client, db, "shopify", "orders_paid__basic.json")
    assert record.payload == ORDERS_PAID_BASIC
    assert (record.source, record.topic, record.status) == ("shopify", "orders/paid", "accepted")
    assert record.kind == "order.paid"
    assert (record.store, record.order_id, record.checkout_id) == (SHOP, "5874120638518", CHECKOUT)
    assert record.occurred_at.isoformat() == "2026-10-14T19:02:14+00:00"


# fixture, kind, order_id, checkout_id, email, currency,
# (total, subtotal, tax, shipping, discount), occurred_at, completed_at
KEY_FIELDS = [
    ("checkouts_create__with_email.json", "checkout.updated", None, CHECKOUT, "maya.okafor@example.com", "USD",
     (24900, 24900, 0, None, 0), "2026-10-14T18:31:07+00:00", None),
    ("checkouts_create__no_email.json", "checkout.updated", None, "7e21d5c08b3a4f96a1c4e8d2b0f7a365", None, "USD",
     (5550, 5550, 0, None, 0), "2026-10-14T20:05:44+00:00", None),
    ("checkouts_update__with_email.json", "checkout.updated", None, CHECKOUT, "maya.okafor@example.com", "USD",
     (27372, 24310, 2067, 995, 4290), "2026-10-14T18:48:52+00:00", None),
    ("checkouts_update__completed.json", "checkout.updated", None, CHECKOUT, "maya.okafor@example.com", "USD",
     (27372, 24310, 2067, 995, 4290), "2026-10-14T19:02:12+00:00", "2026-10-14T19:02:11+00:00"),
    ("orders_paid__no_checkout.json", "order.paid", "5874133024822", None, "devon.reyes@example.net", "USD",
     (14045, 12900, 1145, None, 0), "2026-10-14T21:26:42+00:00", "2026-10-14T21:26:39+00:00"),
    ("orders_paid__big_id.json", "order.paid", "9007199254740993123", "5a3e8c1f0d9b47a2e6c4f1b8d7a09e52",
     "priya.natarajan@example.com", "USD", (4284, 3400, 289, 595, 0), "2026-10-15T13:11:06+00:00",
     "2026-10-15T13:11:02+00:00"),
    ("orders_paid__jpy.json", "order.paid", "5874148065334", "c2f8a5e1b7d04936a0e4f9c2d6b18a73",
     "haruto.sato@example.jp", "JPY", (13600, 12800, 1236, 800, 0), "2026-10-16T06:14:58+00:00",
     "2026-10-16T06:14:54+00:00"),
    ("orders_paid__kwd.json", "order.paid", "5874160975926", "e7b1d4a08c3f4e92b6a0d5c8f1e29b74",
     "fatima.alsabah@example.com", "KWD", (26190, 24690, 0, 1500, 0), "2026-10-16T12:40:15+00:00",
     "2026-10-16T12:40:11+00:00"),
    ("orders_paid__empty_email.json", "order.paid", "5874172117302", "8f2c6e0a4d1b47e9c3a7f5d0b9e18c26",
     "sam.whitfield@example.org", "USD", (6400, 6400, 0, None, 0), "2026-10-16T15:05:29+00:00",
     "2026-10-16T15:05:27+00:00"),
    ("orders_paid__unicode.json", "order.paid", "5874188305718", "a9d3f7b1e5c04826f0b4e8a2d6c19f57",
     "zoe.angstrom@example.se", "USD", (17070, 15570, 0, 1500, 1730), "2026-10-17T08:22:11+00:00",
     "2026-10-17T08:22:07+00:00"),
    ("orders_paid__numeric_money.json", "order.paid", "5874210619446", "f6a0d4b8e2c94f16a8e2b6d0c4f39a71",
     "jordan.blake@example.com", "USD", (5999, 4999, 400, 600, 0), "2026-10-18T23:03:18+00:00",
     "2026-10-18T23:03:14+00:00"),
    # occurred_at of a cancellation is cancelled_at (13:45:20-04:00), not updated_at
    ("orders_cancelled__basic.json", "order.cancelled", "5874199642422", "b1e5f9c3a7d04b82e6f0c4a8d2b17e63",
     "li.wei@example.com", "USD", (13707, 11900, 1012, 795, 0), "2026-10-17T17:45:20+00:00",
     "2026-10-17T14:12:32+00:00"),
    # a refund's total is the refunded amount: transactions[0].amount "34.13"
    ("refunds_create__basic.json", "order.refunded", "5874120638518", None, None, "USD",
     (3413, None, None, None, None), "2026-10-21T13:30:47+00:00", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "order_id", "checkout_id", "email", "currency", "money", "occurred_at", "completed_at"),
    KEY_FIELDS,
    ids=[row[0].removesuffix(".json") for row in KEY_FIELDS],
)
def test_key_fields(client, db, name, kind, order_id, checkout_id, email, currency, money, occurred_at, completed_at):
    record = deliver(client, db, "shopify", name)
    payload = record.payload
    assert (payload["kind"], record.kind) == (kind, kind)
    assert (payload["order_id"], record.order_id) == (order_id, order_id)
    assert (payload["checkout_id"], record.checkout_id) == (checkout_id, checkout_id)
    assert payload["store"] == SHOP
    assert payload["email"] == email
    assert payload["currency"] == currency
    assert tuple(payload[k] for k in ("total", "subtotal", "tax", "shipping", "discount")) == money
    assert payload["occurred_at"] == occurred_at
    assert payload["completed_at"] == completed_at


def test_checkout_without_email_has_no_customer(client, db):
    payload = deliver(client, db, "shopify", "checkouts_create__no_email.json").payload
    assert payload["email"] is None
    assert payload["customer"] is None
    assert payload["line_items"][0]["quantity"] == 3
    assert payload["line_items"][0]["unit_price"] == 1850


def test_big_ids_kept_exact_as_strings(client, db):
    payload = deliver(client, db, "shopify", "orders_paid__big_id.json").payload
    assert payload["order_id"] == "9007199254740993123"  # float(…) would give …993088
    assert payload["customer"]["external_id"] == "9007199254740993457"
    assert payload["line_items"][0]["external_id"] == "9007199254741000101"


@pytest.mark.parametrize(
    ("name", "currency", "unit_prices"),
    [
        ("orders_paid__jpy.json", "JPY", [3800, 9000]),  # exponent 0: "3800" is 3800 yen
        ("orders_paid__kwd.json", "KWD", [12345]),  # exponent 3: "12.345" is 12345 fils
        ("orders_paid__numeric_money.json", "USD", [4999]),  # JSON number 49.99
    ],
)
def test_currency_exponents(client, db, name, currency, unit_prices):
    payload = deliver(client, db, "shopify", name).payload
    assert payload["currency"] == currency
    assert [line["unit_price"] for line in payload["line_items"]] == unit_prices


def test_empty_email_falls_back_to_customer_email(client, db):
    document = json.loads(fixture("shopify", "orders_paid__empty_email.json"))
    assert document["email"] == "" and document["contact_email"] is None
    payload = deliver(client, db, "shopify", "orders_paid__empty_email.json").payload
    assert payload["email"] == payload["customer"]["email"] == "sam.whitfield@example.org"


def test_unicode_names_survive(client, db):
    payload = deliver(client, db, "shopify", "orders_paid__unicode.json").payload
    assert payload["customer"]["first_name"] == "Zoë"
    assert payload["customer"]["last_name"] == "Ångström-Łukasiewicz"
    assert payload["discounts"] == [{"code": "ÉTÉ-10", "type": "order", "amount": 1730}]
    assert payload["shipping_method"] == "PostNord — Brev & Paket 📦"
    assert [line["name"] for line in payload["line_items"]] == ["Alpine Daypack 28L 🏔️", "Café-Wärmer Thermos ☕ 1 L"]
    assert payload["line_items"][1]["category"] == "Åre & Łódź Trading Co."


def test_refund_lines(client, db):
    payload = deliver(client, db, "shopify", "refunds_create__basic.json").payload
    assert payload["line_items"] == [
        {
            "external_id": "8123456791126",
            "sku": "ACM-SOCK-MER-M-CH",
            "name": "Merino Trail Socks",
            "description": "M / Charcoal",
            "category": "Acme Outdoor",
            "quantity": 2,
            "unit_price": 1850,
            "product_url": None,
            "image_url": None,
        }
    ]


def test_refund_total_from_numeric_subtotal_when_no_transactions(client, db):
    """No refund transaction: the total falls back to refund_line_items' numeric subtotal 31.45 + total_tax 2.68.

    The currency is still in the payload (`subtotal_set.shop_money.currency_code` "USD").
    """
    document = json.loads(fixture("shopify", "refunds_create__basic.json"))
    document["transactions"] = []
    line = document["refund_line_items"][0]
    assert (line["subtotal"], line["total_tax"]) == (31.45, 2.68)  # JSON numbers, not strings
    assert line["subtotal_set"]["shop_money"]["currency_code"] == "USD"
    body, headers = resign("shopify", document, topic="refunds/create")
    response = post(client, "shopify", body, headers)
    assert response.get_json()["status"] == "accepted"
    interpret_stored(client, db)
    payload = Events(db).get(int(response.get_json()["event_id"])).payload
    assert (payload["total"], payload["currency"], payload["kind"]) == (3413, "USD", "order.refunded")


def test_signature_headers_are_not_stored(client, db):
    record = deliver(client, db, "shopify", "orders_paid__basic.json")
    names = {name.lower() for name in record.headers}
    assert "x-shopify-hmac-sha256" not in names
    assert {"x-shopify-topic", "x-shopify-webhook-id", "x-shopify-shop-domain"} <= names


def test_lowercase_header_names_accepted(client, db):
    """HTTP/2 lowercases header names."""
    body = fixture("shopify", "orders_paid__basic.json")
    headers = {k.lower(): v for k, v in signing.shopify_headers(body, "orders/paid").items()}
    assert post(client, "shopify", body, headers).status_code == 202
    assert len(stored(db)) == 1


def _shopify_payload(client, db, document, topic):
    body, headers = resign("shopify", document, topic=topic)
    response = post(client, "shopify", body, headers)
    assert response.get_json()["status"] == "accepted", response.get_json()
    interpret_stored(client, db)
    return Events(db).get(int(response.get_json()["event_id"])).payload


def test_refund_carries_its_refund_id(client, db):
    payload = deliver(client, db, "shopify", "refunds_create__basic.json").payload
    assert (payload["refund_id"], payload["order_id"], payload["total"]) == ("948311277622", "5874120638518", 3413)


@pytest.mark.parametrize(
    "state, legacy, checkbox, expected",
    [
        ("subscribed", False, False, True),  # the current consent state wins over both older signals
        ("unsubscribed", True, True, False),  # an unsubscribe since the checkbox was ticked
        ("pending", True, True, False),  # double opt-in not confirmed yet
        (None, True, False, True),  # no consent object: the legacy accepts_marketing
        (None, None, True, True),  # neither: this checkout's checkbox
    ],
)
def test_consent_prefers_the_customers_current_state(client, db, state, legacy, checkbox, expected):
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    customer = document["customer"]
    customer["email_marketing_consent"] = {"state": state} if state else None
    customer["accepts_marketing"] = legacy
    document["buyer_accepts_marketing"] = checkbox
    payload = _shopify_payload(client, db, document, "orders/paid")
    assert payload["customer"]["accepts_marketing"] is expected


def test_guest_without_customer_gets_names_phone_and_consent_from_the_order(client, db):
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["customer"] = None
    document["buyer_accepts_marketing"] = True
    document["billing_address"]["phone"] = None  # the shipping address's phone is the next fallback
    document["shipping_address"] = {**(document.get("shipping_address") or {}), "phone": "+17185550999"}
    payload = _shopify_payload(client, db, document, "orders/paid")
    customer = payload["customer"]
    assert (customer["first_name"], customer["last_name"], customer["phone"]) == ("Maya", "Okafor", "+17185550999")
    assert customer["accepts_marketing"] is True and customer["email"] == "maya.okafor@example.com"
    assert customer["external_id"] is None


@pytest.mark.parametrize(
    ("changes", "topic", "expected"),
    [
        # A key present but empty is not evidence (real checkouts carry these): still a checkout.
        ({"order_status_url": ""}, "checkouts/update", None),
        ({"order_status_url": None, "checkout_token": None, "order_number": None}, "checkouts/create", None),
        ({"order_status_url": "  ", "financial_status": ""}, "checkouts/update", None),
        # Its recovery link says "checkout" whatever order-like key it also fills in; under an order topic too.
        ({"order_status_url": "https://acme-outdoor.example/orders/x"}, "checkouts/update", None),
        ({"order_status_url": ""}, "orders/paid", "a checkout body sent as orders/paid"),
    ],
)
def test_empty_order_keys_do_not_make_a_checkout_an_order(changes, topic, expected):
    document = {**json.loads(fixture("shopify", "checkouts_update__with_email.json")), **changes}
    assert consistency.contradiction(topic, document) == expected


def test_an_order_is_still_known_by_the_order_keys_it_fills_in():
    document = {**json.loads(fixture("shopify", "orders_paid__basic.json")), "order_status_url": ""}
    assert consistency.contradiction("checkouts/update", document) == "an order body sent as checkouts/update"
