"""custom: canonical events in a Standard Webhooks envelope; invalid payloads are the sender's to fix (422)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.env import fixture
from tests.helpers.webhooks import deliver, headers_for, post, resign, stored

STORE = "shop.lakeside-cycles.example"
CHECKOUT = "chk_7fa21c9e04b3d8e1"


SHOP = "https://shop.lakeside-cycles.example"
CDN = "https://cdn.lakeside-cycles.example/img/products"
ORDER_PAID = {
    "kind": "order.paid",
    "store": STORE,
    "occurred_at": "2026-10-22T18:41:05+00:00",
    "email": "aiden.brooks@example.com",
    "customer": {
        "external_id": "cus_88415",
        "email": "aiden.brooks@example.com",
        "first_name": "Aiden",
        "last_name": "Brooks",
        "phone": None,
        "accepts_marketing": True,
    },
    "billing": None,
    "currency": "USD",
    "order_id": "LC-100482",
    "order_number": "100482",
    "checkout_id": CHECKOUT,
    "order_url": f"{SHOP}/account/orders/LC-100482",
    "total": 21115,
    "subtotal": 20700,
    "tax": 1490,
    "shipping": 995,
    "discount": 2070,
    "line_items": [
        {
            "external_id": "prod_4410:var_9921",
            "sku": "HLM-AERO-M-BLK",
            "name": "Aero Road Helmet",
            "description": "MIPS road helmet, size M, matte black",
            "category": "Helmets",
            "quantity": 1,
            "unit_price": 12900,
            "product_url": f"{SHOP}/products/aero-road-helmet?variant=9921",
            "image_url": f"{CDN}/aero-road-helmet-black-800.jpg",
        },
        {
            "external_id": "prod_4532:var_10217",
            "sku": "LGT-USBC-SET",
            "name": "USB-C Bike Light Set",
            "description": "800 lm front / 120 lm rear, USB-C rechargeable",
            "category": "Lights",
            "quantity": 1,
            "unit_price": 4900,
            "product_url": f"{SHOP}/products/usb-c-bike-light-set",
            "image_url": f"{CDN}/usb-c-light-set-800.jpg",
        },
        {
            "external_id": "prod_4601:var_10388",
            "sku": "BTL-INS-750-TEAL",
            "name": "Insulated Bottle 750 ml",
            "description": "Double-wall, teal",
            "category": "Bottles",
            "quantity": 2,
            "unit_price": 1450,
            "product_url": f"{SHOP}/products/insulated-bottle-750?variant=10388",
            "image_url": f"{CDN}/insulated-bottle-teal-800.jpg",
        },
    ],
    "discounts": [{"code": "RIDE10", "type": "order", "amount": 2070}],
    "shipping_method": "UPS Ground",
    "created_at": "2026-10-22T16:48:19+00:00",
    "updated_at": "2026-10-22T18:41:05+00:00",
    "completed_at": "2026-10-22T18:41:05+00:00",
    "refund_id": None,
    "refunded_total": None,
    "refunds": None,
}


def test_order_paid_exact_canonical(client, db):
    record = deliver(client, db, "custom", "order_paid__basic.json")
    assert record.payload == ORDER_PAID
    assert (record.source, record.topic, record.status) == ("custom", "order.paid", "accepted")
    assert record.kind == "order.paid"
    assert (record.store, record.order_id, record.checkout_id) == (STORE, "LC-100482", CHECKOUT)


# fixture, kind, order_id, checkout_id, total, occurred_at
KINDS = [
    ("checkout_updated__basic.json", "checkout.updated", None, CHECKOUT, 21115, "2026-10-22T17:02:31+00:00"),
    ("cart_abandoned__basic.json", "cart.abandoned", None, CHECKOUT, 21115, "2026-10-22T18:02:31+00:00"),
    ("order_cancelled__basic.json", "order.cancelled", "LC-100475", "chk_2c9e71b04fa5d3e8", 3884,
     "2026-10-23T11:20:44+00:00"),
    # occurred_at "2026-10-29T09:15:12+02:00" normalised to UTC
    ("order_refunded__basic.json", "order.refunded", "LC-100482", CHECKOUT, 21115, "2026-10-29T07:15:12+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "order_id", "checkout_id", "total", "occurred_at"),
    KINDS,
    ids=[row[0].removesuffix(".json") for row in KINDS],
)
def test_each_kind(client, db, name, kind, order_id, checkout_id, total, occurred_at):
    record = deliver(client, db, "custom", name)
    payload = record.payload
    assert (payload["kind"], record.kind, record.topic) == (kind, kind, kind)
    assert (payload["order_id"], payload["checkout_id"]) == (order_id, checkout_id)
    assert (payload["total"], payload["currency"], payload["store"]) == (total, "USD", STORE)
    assert payload["occurred_at"] == occurred_at
    assert record.occurred_at.isoformat() == occurred_at


def test_invalid_payload_is_422_with_field_errors_and_not_stored(client, db):
    body = fixture("custom", "order_paid__invalid.json")
    response = post(client, "custom", body, headers_for("custom", body))
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "invalid_payload",
        "errors": {
            "total": ["Not a valid integer."],
            "line_items": ["Not a valid list."],
            "order_id": ["Required for order.paid."],
        },
    }
    assert stored(db) == []


def _document(name: str = "order_paid__basic.json") -> dict:
    return json.loads(fixture("custom", name))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(type="order.shipped"), "type"),
        (lambda d: d.pop("timestamp"), "timestamp"),
        (lambda d: d.update(data="not an object"), "data"),
        (lambda d: d["data"].update(kind="order.cancelled"), "data"),  # must match the envelope type
        (lambda d: d["data"].update(currency="XXX"), "currency"),
        (lambda d: d["data"].update(currency=None), "currency"),  # amounts need a currency
        (lambda d: d["data"].update(total=19.99), "total"),  # minor units are integers
        (lambda d: d["data"].update(occurred_at="yesterday"), "occurred_at"),
        (lambda d: d["data"]["line_items"][0].update(quantity="1"), "line_items"),
    ],
    ids=["unknown-type", "no-timestamp", "data-not-object", "kind-mismatch", "xxx-currency", "no-currency",
         "float-total", "bad-date", "string-quantity"],
)  # fmt: skip
def test_field_errors_are_422(client, db, edit, field):
    document = _document()
    edit(document)
    body, headers = resign("custom", document)
    response = post(client, "custom", body, headers)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_payload"
    assert field in response.get_json()["errors"]
    assert stored(db) == []


def test_cart_abandoned_needs_someone_to_remind(client, db):
    document = _document("cart_abandoned__basic.json")
    document["data"]["email"] = None
    document["data"]["customer"]["email"] = None
    body, headers = resign("custom", document)
    response = post(client, "custom", body, headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["email"]


def test_email_filled_from_customer(client, db):
    document = _document("cart_abandoned__basic.json")
    del document["data"]["email"]
    body, headers = resign("custom", document)
    assert post(client, "custom", body, headers).status_code == 202
    assert stored(db)[0].payload["email"] == "aiden.brooks@example.com"


def test_occurred_at_defaults_to_envelope_timestamp(client, db):
    document = _document()
    del document["data"]["occurred_at"]
    body, headers = resign("custom", document)
    assert post(client, "custom", body, headers).status_code == 202
    assert stored(db)[0].payload["occurred_at"] == "2026-10-22T18:41:07+00:00"


def test_out_of_range_unix_timestamp_is_a_field_error(client, db):
    document = _document()
    document["timestamp"] = "99999999999999999999"
    body, headers = resign("custom", document)
    response = post(client, "custom", body, headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"timestamp": ["Not a valid ISO-8601 datetime."]}
    assert "stored for replay" not in response.get_data(as_text=True)
