"""The body must agree with the claimed topic (spec §8): Shopify and WooCommerce sign the body, not the topic
header, so a body re-sent under a topic it contradicts is quarantined with the reason and nothing is sent.
Also: EcartAPI line items get the SKU as their id before a position."""

from __future__ import annotations

import json

import pytest

from tests.helpers import signing
from tests.helpers.delivery import PAID_ORDER_ID, event_rows, wait_final, wait_until
from tests.helpers.env import fixture


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_ABANDON_AFTER": "60"}


def quarantined(db, event_id: int) -> dict:
    return wait_until(
        lambda: next((r for r in event_rows(db, id=event_id) if r["status"] == "quarantined"), None),
        timeout=8,
        describe=lambda: str(event_rows(db, id=event_id)[0]["status"]),
    )


def post_shopify_as(client, name: str, topic: str) -> int:
    body = fixture("shopify", name)
    response = client.post("/webhooks/shopify", data=body, headers=signing.shopify_headers(body, topic))
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["event_id"])


@pytest.mark.parametrize(
    ("name", "topic", "reason"),
    [
        ("orders_paid__basic.json", "orders/cancelled", "an order without cancelled_at sent as orders/cancelled"),
        ("checkouts_update__with_email.json", "orders/paid", "a checkout body sent as orders/paid"),
        ("orders_paid__basic.json", "checkouts/update", "an order body sent as checkouts/update"),
        ("orders_cancelled__basic.json", "orders/paid", "a cancelled order (cancelled_at is set) sent as orders/paid"),
        ("refunds_create__basic.json", "orders/cancelled", "a refund body sent as orders/cancelled"),
        ("orders_paid__basic.json", "refunds/create", "an order body sent as refunds/create"),
    ],
)
def test_shopify_body_contradicting_its_topic_is_quarantined(
    client, db, fake_ac, fake_ecart, worker, name, topic, reason
):
    seeded = fake_ecart.seed_order(PAID_ORDER_ID, status="paid")
    event_id = post_shopify_as(client, name, topic)
    row = quarantined(db, event_id)
    assert row["errors"] == {"_topic": [reason]}
    assert row["note"] == f"topic contradicted: {reason}"
    assert wait_final(db, event_id) == {}
    assert fake_ac.requests == [] and fake_ecart.requests == []
    assert fake_ecart.order(PAID_ORDER_ID) == seeded


def test_shopify_body_agreeing_with_its_topic_is_delivered(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(PAID_ORDER_ID, status="paid")
    body = json.loads(fixture("shopify", "orders_paid__basic.json"))
    body.update(cancelled_at="2026-10-16T09:00:00-04:00", updated_at="2026-10-16T09:00:00-04:00")
    raw = json.dumps(body).encode()
    response = client.post("/webhooks/shopify", data=raw, headers=signing.shopify_headers(raw, "orders/cancelled"))
    legs = wait_final(db, int(response.get_json()["event_id"]), legs=1)
    assert legs["ecartapi"]["status"] == "done"
    assert fake_ecart.requests[0].json == {"order": {"status": {"status": "cancelled"}}}


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        pytest.param(
            {"id": 31, "name": "Trail Lantern", "type": "simple", "status": "processing", "sku": "LAMP-1"},
            {},
            "a body without order_key, line_items, currency (not an order) sent as order.updated",
            id="product-body",
        ),
        pytest.param(
            None,
            {"X-WC-Webhook-Resource": "product"},
            "X-WC-Webhook-Resource product contradicts topic order.updated",
            id="resource-header",
        ),
    ],
)
def test_woocommerce_body_that_is_not_an_order_is_quarantined(
    client, db, fake_ac, fake_ecart, worker, body, headers, reason
):
    raw = fixture("woocommerce", "order_updated__processing.json") if body is None else json.dumps(body).encode()
    response = client.post(
        "/webhooks/woocommerce", data=raw, headers={**signing.woo_headers(raw, "order.updated"), **headers}
    )
    assert response.status_code == 202, response.get_json()
    row = quarantined(db, int(response.get_json()["event_id"]))
    assert row["errors"] == {"_topic": [reason]}
    assert fake_ac.requests == [] and fake_ecart.requests == []


def test_ecartapi_line_items_use_the_sku_before_a_position(client, db, fake_ac, fake_ecart, worker):
    order = json.loads(fixture("ecartapi", "order__paid.json"))
    for item in order["items"]:
        item.pop("productId"), item.pop("variantId"), item.pop("id")
    order["items"][1]["sku"] = None
    raw = json.dumps(order).encode()
    response = client.post("/webhooks/ecartapi", data=raw, headers=signing.ecart_headers())
    assert response.status_code == 202, response.get_json()
    legs = wait_final(db, int(response.get_json()["event_id"]), legs=1)
    assert legs["activecampaign"]["status"] == "done"
    post = fake_ac.calls("POST", "/api/3/ecomOrders")[0].json["ecomOrder"]
    assert [p["externalid"] for p in post["orderProducts"]] == ["SND-CAMP-2P-VRD", "line-2"]
    assert fake_ecart.requests == [], "EcartAPI's own events are never echoed back"
