"""WooCommerce: each order status maps to its canonical kind; *_gmt dates become aware UTC."""

from __future__ import annotations

import json

import pytest

from bridge.storage import Events
from tests.helpers import signing
from tests.helpers.env import fixture
from tests.helpers.webhooks import deliver, headers_for, interpret_stored, post, resign, stored

STORE = signing.WOO_SOURCE

ORDER_CREATED_PENDING = {
    "kind": "checkout.updated",  # an unpaid Woo order is the store's checkout
    "store": "https://shop.example-woo.com/",
    "occurred_at": "2026-10-14T14:12:44+00:00",  # date_modified_gmt, not the site-local 09:12:44
    "email": "nora.lindqvist@example.com",
    "customer": {
        "external_id": "27",
        "email": "nora.lindqvist@example.com",
        "first_name": "Nora",
        "last_name": "Lindqvist",
        "phone": "(512) 555-0173",  # billing.phone
        "accepts_marketing": None,  # no activecampaign_for_woocommerce_accepts_marketing meta
    },
    # The contact's fallback (mapping.contact_fallback): shipping, then billing. Woo's billing is the customer's.
    "billing": {"first_name": "Nora", "last_name": "Lindqvist", "phone": "(512) 555-0173"},
    "currency": "USD",
    "order_id": "4817",
    "order_number": "4817",
    "checkout_id": "4817",
    "order_url": "https://shop.example-woo.com/checkout/order-pay/4817/?pay_for_order=true&key=wc_order_Xm3pQ8vL2kR9s",
    "total": 10492,  # "104.92"
    "subtotal": 10000,  # line subtotals "64.00" + "36.00"
    "tax": 742,  # "7.42"
    "shipping": 750,  # "7.50"
    "discount": 1000,  # "10.00"
    "line_items": [
        {
            "external_id": "1456",
            "sku": "WCT-OLIVE",
            "name": "Waxed Canvas Tote",
            "description": None,
            "category": None,
            "quantity": 1,
            "unit_price": 5760,  # price 57.6 (a JSON number)
            "product_url": None,
            "image_url": "https://shop.example-woo.com/wp-content/uploads/2026/03/waxed-canvas-tote-olive.jpg",
        },
        {
            "external_id": "1470",
            "sku": "ECM-SAGE",
            "name": "Enamel Camp Mug - Sage",
            "description": None,
            "category": None,
            "quantity": 2,
            "unit_price": 1620,  # price 16.2
            "product_url": None,
            "image_url": "https://shop.example-woo.com/wp-content/uploads/2026/03/enamel-camp-mug-sage.jpg",
        },
    ],
    "discounts": [{"code": "welcome10", "type": "order", "amount": 1000}],
    "shipping_method": "Flat rate",
    "created_at": "2026-10-14T14:12:44+00:00",
    "updated_at": "2026-10-14T14:12:44+00:00",
    "completed_at": None,
    "refund_id": None,
    "refunded_total": None,
    "refunds": [],  # the order lists no refund yet
}


def test_order_created_pending_exact_canonical(client, db):
    record = deliver(client, db, "woocommerce", "order_created__pending.json")
    assert record.payload == ORDER_CREATED_PENDING
    assert (record.source, record.topic, record.status, record.kind) == (
        "woocommerce",
        "order.created",
        "accepted",
        "checkout.updated",
    )
    assert (record.store, record.order_id, record.checkout_id) == (STORE, "4817", "4817")


# fixture, kind, order_id, email, (total, subtotal, tax, shipping, discount), occurred_at, created_at, completed_at
STATUSES = [
    ("order_updated__processing.json", "order.paid", "4817", "nora.lindqvist@example.com",
     (10492, 10000, 742, 750, 1000), "2026-10-14T14:13:02+00:00", "2026-10-14T14:12:44+00:00",
     "2026-10-14T14:13:01+00:00"),
    ("order_updated__completed.json", "order.paid", "4817", "nora.lindqvist@example.com",
     (10492, 10000, 742, 750, 1000), "2026-10-15T21:40:27+00:00", "2026-10-14T14:12:44+00:00",
     "2026-10-14T14:13:01+00:00"),
    ("order_updated__cancelled.json", "order.cancelled", "4819", "nora.lindqvist@example.com",
     (2699, 1800, 149, 750, 0), "2026-10-15T00:03:11+00:00", "2026-10-14T23:02:55+00:00", None),
    # refunds arrive as order.updated; the total is the refunded amount: |-25.00|
    ("order_updated__refunded.json", "order.refunded", "4823", "ines.carvalho@example.com",
     (2500, 1800, 0, 700, 0), "2026-10-16T15:05:19+00:00", "2026-10-10T18:20:31+00:00",
     "2026-10-10T18:20:48+00:00"),
    ("order_updated__failed.json", "checkout.updated", "4820", "grace.oyelaran@example.org",
     (7678, 6400, 528, 750, 0), "2026-10-15T13:31:09+00:00", "2026-10-15T13:31:02+00:00", None),
    ("order_created__guest.json", "order.paid", "4821", "tomas.rivera@example.com",
     (4392, 3600, 297, 495, 0), "2026-10-16T02:14:52+00:00", "2026-10-16T02:14:37+00:00",
     "2026-10-16T02:14:52+00:00"),
    ("order_updated__eur_numeric_price.json", "order.paid", "4822", "lena.schaefer@example.de",
     (16235, 13231, 2592, 412, 0), "2026-10-16T15:22:41+00:00", "2026-10-16T15:22:18+00:00",
     "2026-10-16T15:22:40+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "order_id", "email", "money", "occurred_at", "created_at", "completed_at"),
    STATUSES,
    ids=[row[0].removesuffix(".json") for row in STATUSES],
)
def test_status_maps_to_kind(client, db, name, kind, order_id, email, money, occurred_at, created_at, completed_at):
    record = deliver(client, db, "woocommerce", name)
    payload = record.payload
    assert (payload["kind"], record.kind) == (kind, kind)
    assert payload["order_id"] == payload["checkout_id"] == record.order_id == order_id
    assert payload["store"] == record.store == STORE
    assert payload["email"] == email
    assert tuple(payload[k] for k in ("total", "subtotal", "tax", "shipping", "discount")) == money
    assert (payload["occurred_at"], payload["created_at"], payload["completed_at"]) == (
        occurred_at,
        created_at,
        completed_at,
    )
    assert record.occurred_at.isoformat() == occurred_at


def test_on_hold_is_ignored_and_not_stored(client, db):
    body = fixture("woocommerce", "order_updated__on_hold.json")
    response = post(client, "woocommerce", body, headers_for("woocommerce", body, name="order_updated__on_hold.json"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert stored(db) == []


def test_numeric_line_prices_round_half_up(client, db):
    """price 18.906666666666666 (56.72 / 3) is 1891 cents; 75.59 is 7559."""
    payload = deliver(client, db, "woocommerce", "order_updated__eur_numeric_price.json").payload
    assert payload["currency"] == "EUR"
    assert [(line["quantity"], line["unit_price"]) for line in payload["line_items"]] == [(3, 1891), (1, 7559)]
    assert payload["customer"]["last_name"] == "Schäfer"
    assert payload["line_items"][1]["name"] == "Wanderrucksack 30L - Moosgrün"


def test_integer_line_price(client, db):
    payload = deliver(client, db, "woocommerce", "order_created__guest.json").payload
    assert payload["line_items"][0]["unit_price"] == 1200  # "price": 12
    assert payload["line_items"][0]["quantity"] == 3


def test_guest_has_no_customer_id(client, db):
    payload = deliver(client, db, "woocommerce", "order_created__guest.json").payload
    assert payload["customer"]["external_id"] is None  # customer_id 0 means guest
    assert payload["customer"]["first_name"] == "Tomás"


def test_order_lifecycle_is_three_events(client, db):
    """Order 4817: pending → processing → completed, each a different state, so three events."""
    names = ["order_created__pending.json", "order_updated__processing.json", "order_updated__completed.json"]
    kinds = [deliver(client, db, "woocommerce", name).kind for name in names]
    assert kinds == ["checkout.updated", "order.paid", "order.paid"]
    assert len(stored(db)) == 3


def test_same_state_with_new_delivery_id_is_duplicate(client, db):
    body = fixture("woocommerce", "order_updated__processing.json")
    first = post(client, "woocommerce", body, signing.woo_headers(body))
    again = signing.woo_headers(body)  # a fresh X-WC-Webhook-Delivery-ID
    second = post(client, "woocommerce", body, again)
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.get_json() == {"status": "duplicate", "event_id": first.get_json()["event_id"]}
    assert len(stored(db)) == 1


def test_signature_not_stored(client, db):
    record = deliver(client, db, "woocommerce", "order_updated__processing.json")
    names = {name.lower() for name in record.headers}
    assert "x-wc-webhook-signature" not in names
    assert "x-wc-webhook-source" in names


def _woo_payload(client, db, document, name):
    body, headers = resign("woocommerce", document, name=name)
    response = post(client, "woocommerce", body, headers)
    assert response.get_json()["status"] == "accepted", response.get_json()
    interpret_stored(client, db)
    return Events(db).get(int(response.get_json()["event_id"])).payload


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), (1, True), (None, None)])
def test_consent_from_activecampaigns_checkout_checkbox_meta(client, db, value, expected):
    document = json.loads(fixture("woocommerce", "order_updated__completed.json"))
    if value is not None:
        document["meta_data"].append(
            {"id": 1, "key": "activecampaign_for_woocommerce_accepts_marketing", "value": value}
        )
    payload = _woo_payload(client, db, document, "order_updated__completed.json")
    assert payload["customer"]["accepts_marketing"] is expected
    assert payload["customer"]["phone"] == "(512) 555-0173"


def test_refunded_order_lists_its_refunds(client, db):
    payload = deliver(client, db, "woocommerce", "order_updated__refunded.json").payload
    assert payload["kind"] == "order.refunded"
    assert payload["refunds"] == [{"refund_id": "4851", "amount": 2500}]  # total "-25.00"
    assert payload["total"] == 2500 and payload["refund_id"] is None and payload["refunded_total"] is None
