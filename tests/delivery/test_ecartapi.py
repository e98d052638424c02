"""EcartAPI status legs: which events set which status, and that EcartAPI's own events are never echoed back."""

from __future__ import annotations

import time

import pytest

from tests.helpers.delivery import (
    PAID_ORDER_ID,
    delivery_rows,
    event_rows,
    post_ecart,
    post_shopify,
    post_woo,
    summary,
    wait_final,
)

CANCELLED_ORDER = "5874199642422"  # orders_cancelled__basic


@pytest.fixture
def env_overrides() -> dict[str, str]:
    # A long abandonment delay: WooCommerce's pending order arms a timer that must not matter here.
    return {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_ABANDON_AFTER": "60"}


def put(order_id: str) -> tuple[str, str, int]:
    return ("PUT", f"/api/v2/orders/{order_id}", 200)


def test_shopify_paid_cancelled_and_refunded_set_the_ecartapi_status(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(PAID_ORDER_ID, status="pending")
    fake_ecart.seed_order(CANCELLED_ORDER, status="paid")
    paid = post_shopify(client, "orders_paid__basic.json")
    cancelled = post_shopify(client, "orders_cancelled__basic.json")
    refunded = post_shopify(client, "refunds_create__basic.json")

    assert set(wait_final(db, paid, legs=2)) == {"activecampaign", "ecartapi"}
    for event_id in (cancelled, refunded):
        legs = wait_final(db, event_id, legs=1)
        assert {name: leg["status"] for name, leg in legs.items()} == {"ecartapi": "done"}

    assert fake_ecart.statuses(PAID_ORDER_ID) == ["paid", "refunded"]
    assert fake_ecart.statuses(CANCELLED_ORDER) == ["cancelled"]
    assert sorted(summary(fake_ecart.requests)) == sorted(
        [put(PAID_ORDER_ID), put(PAID_ORDER_ID), put(CANCELLED_ORDER)]
    )
    bodies = {(r.path, r.json["order"]["status"]["status"]) for r in fake_ecart.requests}
    assert bodies == {
        (f"/api/v2/orders/{PAID_ORDER_ID}", "paid"),
        (f"/api/v2/orders/{PAID_ORDER_ID}", "refunded"),
        (f"/api/v2/orders/{CANCELLED_ORDER}", "cancelled"),
    }
    assert all(
        r.json == {"order": {"status": {"status": r.json["order"]["status"]["status"]}}} for r in fake_ecart.requests
    )
    # Cancellations and refunds have no ActiveCampaign leg: only the paid order reached AC.
    assert [r.method for r in fake_ac.calls(path_prefix="/api/3/ecomOrders")] == ["POST"]
    assert fake_ac.orders()[0]["externalid"] == PAID_ORDER_ID


def test_woocommerce_order_lifecycle(client, db, fake_ac, fake_ecart, worker):
    for order_id in ("4817", "4819", "4823"):
        fake_ecart.seed_order(order_id, status="pending")
    pending = post_woo(client, "order_created__pending.json")
    wait_final(db, pending, legs=0)  # an unpaid order is a checkout: a timer, no status update
    processing = post_woo(client, "order_updated__processing.json")
    completed = post_woo(client, "order_updated__completed.json")
    for event_id in (processing, completed):
        legs = wait_final(db, event_id, legs=2)
        assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "done"}
    for name in ("order_updated__cancelled.json", "order_updated__refunded.json"):
        assert {n: leg["status"] for n, leg in wait_final(db, post_woo(client, name), legs=1).items()} == {
            "ecartapi": "done"
        }

    # processing and completed are both "paid" (WooCommerce's completed = paid and fulfilled).
    assert fake_ecart.statuses("4817") == ["paid", "paid"]
    assert fake_ecart.statuses("4819") == ["cancelled"]
    assert fake_ecart.statuses("4823") == ["refunded"]
    # AC: the paid order is created once, and the completed update is a PUT on it.
    orders = fake_ac.calls(path_prefix="/api/3/ecomOrders")
    (order,) = fake_ac.orders()
    assert summary(orders) == [("POST", "/api/3/ecomOrders", 201), ("PUT", f"/api/3/ecomOrders/{order['id']}", 200)]
    assert order["externalid"] == "4817" and order["state"] == 1
    assert event_rows(db, kind="cart.abandoned") == []


@pytest.mark.parametrize(
    "name, kind",
    [
        ("order__paid.json", "order.paid"),
        ("order__paid_wrapped.json", "order.paid"),
        ("order__cancelled.json", "order.cancelled"),
        ("order__refunded.json", "order.refunded"),
    ],
)
def test_ecartapi_events_are_not_echoed_back_to_ecartapi(client, db, fake_ac, fake_ecart, worker, name, kind):
    for order_id in ("5912345678902", "5912345744438"):
        fake_ecart.seed_order(order_id, status="pending")
    event_id = post_ecart(client, name)
    assert event_rows(db, id=event_id)[0]["kind"] == kind
    legs = wait_final(db, event_id)
    time.sleep(0.3)

    assert fake_ecart.requests == [], "the bridge must not send EcartAPI its own status back"
    assert "ecartapi" not in legs
    if kind == "order.paid":
        assert {n: leg["status"] for n, leg in legs.items()} == {"activecampaign": "done"}
        (order,) = fake_ac.orders()
        assert order["externalid"] == "5912345678902"
    else:
        assert delivery_rows(db, event_id) == [] and fake_ac.requests == []
        assert event_rows(db, id=event_id)[0]["status"] == "done"


def test_unknown_order_at_ecartapi_is_dead_with_its_answer(client, db, fake_ecart, worker):
    event_id = post_shopify(client, "orders_cancelled__basic.json")  # order not seeded: EcartAPI answers 404
    leg = wait_final(db, event_id, legs=1)["ecartapi"]
    assert leg["status"] == "dead" and leg["attempts"] == 1
    assert "Order not found" in leg["last_error"]
    time.sleep(0.6)  # longer than the first retry delay (0.3 s ± 20%)
    assert summary(fake_ecart.requests) == [("PUT", f"/api/v2/orders/{CANCELLED_ORDER}", 404)]
    assert event_rows(db, id=event_id)[0]["status"] == "dead"


@pytest.mark.parametrize(
    "env_overrides, expected",
    [
        ({"BRIDGE_ECART_STATUSES": "paid=on_hold,cancelled=cancelled"}, ["on_hold"]),
        ({"BRIDGE_ECART_STATUSES": "cancelled=cancelled"}, []),
        ({"BRIDGE_ECART_STATUSES": "none"}, []),
    ],
    ids=["mapped", "not-mapped", "none"],
)
def test_ecart_statuses_setting_decides_the_status(client, db, fake_ecart, worker, env_overrides, expected):
    fake_ecart.seed_order(PAID_ORDER_ID, status="pending")
    event_id = post_shopify(client, "orders_paid__basic.json")
    legs = wait_final(db, event_id, legs=1 + len(expected))
    assert ("ecartapi" in legs) == bool(expected)
    time.sleep(0.2)
    assert fake_ecart.statuses(PAID_ORDER_ID) == expected


def test_plural_answer_is_understood(client, db, fake_ecart, worker):
    fake_ecart.wrap_plural = True  # the Magento 2 variant answers {"success": true, "orders": {...}}
    fake_ecart.seed_order(CANCELLED_ORDER, status="paid")
    leg = wait_final(db, post_shopify(client, "orders_cancelled__basic.json"), legs=1)["ecartapi"]
    assert leg["status"] == "done"
    assert fake_ecart.statuses(CANCELLED_ORDER) == ["cancelled"]
