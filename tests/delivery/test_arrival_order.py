"""Arrival order (spec §8): the newest checkout state wins by `updated_at`, a completed checkout never becomes a
cart, refreshes never erase what AC has and send `source: 0`, and the converting PUT sends BRIDGE_AC_SOURCE."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.helpers import signing
from tests.helpers.delivery import (
    PAID_ORDER_ID,
    event_rows,
    summary,
    wait_final,
)
from tests.helpers.env import fixture

CART_URL = (
    "https://acme-outdoor.myshopify.com/68947232822/checkouts/0f3c9a7be5d24c81a6f2e9b7d4c8a1e3/recover"
    "?key=5b0e2c7d91a84f3e6c2b9d1a7e4f8c03"
)


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1"}


def shopify_body(name: str, **changes: Any) -> dict[str, Any]:
    """A Shopify fixture with top-level fields changed (a value of None removes the field)."""
    body = json.loads(fixture("shopify", name))
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def post(client, topic: str, body: dict[str, Any]) -> int:
    raw = json.dumps(body).encode()
    response = client.post("/webhooks/shopify", data=raw, headers=signing.shopify_headers(raw, topic))
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["event_id"])


def newer_checkout(**changes: Any) -> dict[str, Any]:
    """The checkout ten minutes later: the shopper took a second tent."""
    body = shopify_body("checkouts_update__with_email.json", updated_at="2026-10-14T14:58:52-04:00", **changes)
    body["line_items"][0]["quantity"] = 2
    return body


def quantities(body: dict[str, Any]) -> list[int]:
    return [p["quantity"] for p in body["orderProducts"]]


def test_completed_checkout_then_a_late_older_update_never_makes_a_cart(client, db, fake_ac, worker, settings):
    completed = post(client, "checkouts/update", shopify_body("checkouts_update__completed.json"))
    wait_final(db, completed)
    older = post(client, "checkouts/update", shopify_body("checkouts_update__with_email.json"))
    wait_final(db, older)
    assert "already completed" in event_rows(db, id=older)[0]["note"]
    time.sleep(settings.abandon_after + 0.6)  # a re-armed timer would have fired by now
    assert event_rows(db, kind="cart.abandoned") == []
    assert fake_ac.requests == []


def test_two_updates_newest_first_make_the_cart_from_the_newest(client, db, fake_ac, worker):
    newest = post(client, "checkouts/update", newer_checkout())
    wait_final(db, newest)
    older = post(client, "checkouts/update", shopify_body("checkouts_update__with_email.json"))
    wait_final(db, older)
    assert "older than the checkout state" in event_rows(db, id=older)[0]["note"]

    cart = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)[0].json["ecomOrder"]
    assert quantities(cart) == [2, 2]
    time.sleep(0.5)
    assert summary(fake_ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]


def test_refresh_keeps_the_recovery_link_and_sends_source_0_then_the_conversion_sends_the_source(
    client, db, fake_ac, fake_ecart, worker
):
    fake_ecart.seed_order(PAID_ORDER_ID)
    post(client, "checkouts/update", shopify_body("checkouts_update__with_email.json"))
    create = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)[0].json["ecomOrder"]
    assert create["source"] == 1 and create["orderUrl"] == CART_URL
    (cart,) = fake_ac.orders()

    # The shopper comes back; this update carries no recovery link (nor a creation date).
    post(client, "checkouts/update", newer_checkout(abandoned_checkout_url=None, created_at=None))
    refresh = fake_ac.wait_calls(1, "PUT", f"/api/3/ecomOrders/{cart['id']}", timeout=8)[0].json["ecomOrder"]
    assert refresh["source"] == 0, "a refresh of a cart already in AC must not fire 'Abandons cart' again"
    assert "orderUrl" not in refresh and "externalCreatedDate" not in refresh
    assert all(value not in (None, "", []) for value in refresh.values())
    assert quantities(refresh) == [2, 2]
    stored = fake_ac.order(cart["id"])
    assert stored["orderUrl"] == CART_URL and stored["externalCreatedDate"] == cart["externalCreatedDate"]
    assert stored["source"] == 0 and stored["state"] == 2

    paid = post(client, "orders/paid", shopify_body("orders_paid__basic.json"))
    assert wait_final(db, paid, legs=2)["activecampaign"]["status"] == "done"
    convert = fake_ac.calls("PUT")[-1]
    assert convert.path == f"/api/3/ecomOrders/{cart['id']}"
    assert convert.json["ecomOrder"]["source"] == 1 and convert.json["ecomOrder"]["externalid"] == PAID_ORDER_ID
    assert all(value not in (None, "", []) for value in convert.json["ecomOrder"].values())
    assert fake_ac.order(cart["id"])["state"] == 3
    assert [r.json["ecomOrder"]["source"] for r in fake_ac.calls(path_prefix="/api/3/ecomOrders")] == [1, 0, 1]


def test_a_delayed_paid_never_undoes_a_newer_cancellation(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(PAID_ORDER_ID)
    cancelled = shopify_body(
        "orders_paid__basic.json", cancelled_at="2026-10-16T09:00:00-04:00", updated_at="2026-10-16T09:00:00-04:00"
    )
    wait_final(db, post(client, "orders/cancelled", cancelled))
    late_paid = post(client, "orders/paid", shopify_body("orders_paid__basic.json"))
    legs = wait_final(db, late_paid, legs=2)
    assert legs["ecartapi"]["status"] == "stale"
    assert summary(fake_ecart.requests) == [("PUT", f"/api/v2/orders/{PAID_ORDER_ID}", 200)]
    assert fake_ecart.statuses(PAID_ORDER_ID) == ["cancelled"]
    # AC has no cancelled state over v3: it gets the purchase (net revenue is issue 10's), once.
    assert [o["state"] for o in fake_ac.orders(externalid=PAID_ORDER_ID)] == [1]
