"""EcartAPI: the unified order, bare or wrapped, mapped by `status.ecartapi`."""

from __future__ import annotations

import pytest

from tests.helpers import signing
from tests.helpers.env import fixture
from tests.helpers.webhooks import deliver, post, stored

ORDER_PAID = {
    "kind": "order.paid",
    "store": None,  # the unified order names no store
    "occurred_at": "2026-10-20T17:24:09+00:00",  # dates.updatedAt 11:24:09-06:00
    "email": "valeria.montes@example.com.mx",
    "customer": {
        "external_id": "7412589630147",
        "email": "valeria.montes@example.com.mx",
        "first_name": "Valeria",
        "last_name": "Montes",
        "phone": "+525555012345",  # customer.phone
        "accepts_marketing": None,  # the unified order carries no marketing consent
    },
    "billing": {"first_name": "Valeria", "last_name": "Montes", "phone": "+525555012345"},  # billingAddress
    "currency": "MXN",
    "order_id": "5912345678902",
    "order_number": "1187",
    "checkout_id": "38012345678901",
    "order_url": None,
    "total": 378445,  # "3784.45"
    "subtotal": 363545,  # "3635.45"
    "tax": 52199,  # "521.99"
    "shipping": 14900,  # "149.00"
    "discount": 64155,  # "641.55"
    "line_items": [
        {
            "external_id": "8634120987654",
            "sku": "SND-CAMP-2P-VRD",
            "name": "Casa de campaña ultraligera 2 personas - Verde bosque",
            "description": None,
            "category": None,
            "quantity": 1,  # "1"
            "unit_price": 349900,  # "3499.00"
            "product_url": None,
            "image_url": "https://cdn.shopify.com/s/files/1/0712/3456/7890/files/casa-campana-2p-verde.jpg?v=1727801234",
        },
        {
            "external_id": "8634121020422",
            "sku": "SND-LAMP-400",
            "name": "Lámpara frontal recargable 400 lm",
            "description": None,
            "category": None,
            "quantity": 2,
            "unit_price": 38900,
            "product_url": None,
            "image_url": "https://cdn.shopify.com/s/files/1/0712/3456/7890/files/lampara-frontal-400lm.jpg?v=1727801311",
        },
    ],
    "discounts": [{"code": "SENDERO15", "type": "order", "amount": 64155}],
    "shipping_method": "Envío estándar (3 a 5 días hábiles)",
    "created_at": "2026-10-20T17:24:05+00:00",
    "updated_at": "2026-10-20T17:24:09+00:00",
    "completed_at": "2026-10-20T17:24:05+00:00",  # dates.paidAt
    "refund_id": None,
    "refunded_total": None,
    "refunds": None,
}


@pytest.mark.parametrize(
    "name",
    [
        "order__paid.json",  # bare
        "order__paid_wrapped.json",  # {"success": true, "order": {...}}
        "order__paid_plural.json",  # {"success": true, "orders": [{...}], "page": {...}}
        "order__paid_plural_object.json",  # {"success": true, "orders": {...}}
    ],
)
def test_paid_order_in_every_shape_exact_canonical(client, db, name):
    record = deliver(client, db, "ecartapi", name)
    assert record.payload == ORDER_PAID
    assert (record.source, record.topic, record.status, record.kind) == (
        "ecartapi",
        "orders/paid",
        "accepted",
        "order.paid",
    )
    assert (record.order_id, record.checkout_id, record.store) == ("5912345678902", "38012345678901", None)


def test_shapes_of_one_order_state_are_duplicates(client, db):
    """Same order id, status and updatedAt: one event whatever the wrapping."""
    first = deliver(client, db, "ecartapi", "order__paid.json")
    for name in ("order__paid_wrapped.json", "order__paid_plural.json", "order__paid_plural_object.json"):
        response = post(client, "ecartapi", fixture("ecartapi", name), signing.ecart_headers())
        assert response.status_code == 200
        assert response.get_json() == {"status": "duplicate", "event_id": str(first.id)}
    assert len(stored(db)) == 1


def test_local_dates_without_offset_are_read_as_utc(client, db):
    """PrestaShop-style `2026-10-20 11:24:09`, 6-decimal money, numeric customer id."""
    payload = deliver(client, db, "ecartapi", "order__paid_local_dates.json").payload
    assert payload["occurred_at"] == "2026-10-20T11:24:09+00:00"
    assert payload["created_at"] == "2026-10-20T11:24:05+00:00"
    assert payload["completed_at"] == "2026-10-20T11:24:05+00:00"
    assert (payload["total"], payload["subtotal"], payload["tax"]) == (378445, 363545, 52199)  # "3784.450000"
    assert (payload["shipping"], payload["discount"]) == (14900, 64155)
    assert [line["unit_price"] for line in payload["line_items"]] == [349900, 38900]
    assert payload["customer"]["external_id"] == "318"
    assert (payload["order_id"], payload["order_number"], payload["checkout_id"]) == ("1184", "1184", "2317")


# fixture, kind, order_id, checkout_id, (total, subtotal, tax, shipping, discount), occurred_at
HANDLED = [
    ("order__pending.json", "checkout.updated", "5912345711670", "38012346010869",
     (104800, 89900, 14455, 14900, 0), "2026-10-21T00:02:44+00:00"),  # 18:02:44-06:00, the next day in UTC
    ("order__cancelled.json", "order.cancelled", "5912345744438", "38012346338549",
     (139800, 124900, 19283, 14900, 0), "2026-10-21T18:47:05+00:00"),
    ("order__refunded.json", "order.refunded", "5912345678902", "38012345678901",
     (378445, 363545, 52199, 14900, 64155), "2026-11-03T15:41:12+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind", "order_id", "checkout_id", "money", "occurred_at"),
    HANDLED,
    ids=[row[0].removesuffix(".json") for row in HANDLED],
)
def test_handled_statuses(client, db, name, kind, order_id, checkout_id, money, occurred_at):
    record = deliver(client, db, "ecartapi", name)
    payload = record.payload
    assert (payload["kind"], record.kind) == (kind, kind)
    assert (payload["order_id"], payload["checkout_id"]) == (order_id, checkout_id)
    assert payload["currency"] == "MXN"
    assert tuple(payload[k] for k in ("total", "subtotal", "tax", "shipping", "discount")) == money
    assert payload["occurred_at"] == occurred_at


def test_pending_is_an_unfinished_checkout(client, db):
    payload = deliver(client, db, "ecartapi", "order__pending.json").payload
    assert payload["completed_at"] is None
    assert payload["email"] == "rodrigo.ibarra@example.mx"
    assert payload["discounts"] == []  # discountsCoupon: [] (the list form)


@pytest.mark.parametrize(
    "status",
    ["authorized", "partially_paid", "shipped", "partially_refunded", "delete", "other"],
)
def test_unmapped_statuses_are_ignored(client, db, status):
    response = post(client, "ecartapi", fixture("ecartapi", f"order__{status}.json"), signing.ecart_headers())
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert status in response.get_json()["reason"]
    assert stored(db) == []


@pytest.mark.parametrize(
    "authorization",
    [signing.ECART_TOKEN, f"Bearer {signing.ECART_TOKEN}", f"bearer  {signing.ECART_TOKEN} "],
    ids=["bare", "bearer", "bearer-lowercase-spaces"],
)
def test_token_bare_or_bearer(client, db, authorization):
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    assert post(client, "ecartapi", fixture("ecartapi", "order__paid.json"), headers).status_code == 202


def test_token_not_stored(client, db):
    record = deliver(client, db, "ecartapi", "order__paid.json")
    assert "authorization" not in {name.lower() for name in record.headers}
    assert signing.ECART_TOKEN not in str(record.headers)
