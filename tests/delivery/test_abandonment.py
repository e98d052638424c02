"""Abandonment (spec §4) end to end: Shopify checkout → timer → AC cart → paid order converts the cart."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bridge.storage.tables import timers
from tests.helpers.delivery import (
    CHECKOUT_TOKEN,
    PAID_ORDER_ID,
    event_rows,
    parse_iso,
    post_shopify,
    summary,
    wait_final,
    wait_until,
)

SHOP = "acme-outdoor.myshopify.com"
EMAIL = "maya.okafor@example.com"
CART_URL = (
    "https://acme-outdoor.myshopify.com/68947232822/checkouts/0f3c9a7be5d24c81a6f2e9b7d4c8a1e3/recover"
    "?key=5b0e2c7d91a84f3e6c2b9d1a7e4f8c03"
)
ORDER_STATUS_URL = (
    "https://acme-outdoor.myshopify.com/68947232822/orders/e61b7d3f09a24c85b7f1d2e9a0c36b4f/authenticate"
    "?key=a4c1e9f27b0d5836e2f9c1a7b4d08e65"
)
# checkouts_update__with_email, by hand: tent 249.00 x1 + socks 18.50 x2 = 286.00; TRAIL15 -42.90;
# shipping 9.95; tax 8.47+9.52+1.26+1.42 = 20.67; total 286.00 - 42.90 + 9.95 + 20.67 = 273.72.
PRODUCTS = [
    {"externalid": "8123456789014", "name": "Summit 2-Person Backpacking Tent", "price": 24900, "quantity": 1,
     "sku": "ACM-TENT-2P-GRN"},
    {"externalid": "8123456791126", "name": "Merino Trail Socks", "price": 1850, "quantity": 2,
     "sku": "ACM-SOCK-MER-M-CH"},
]  # fmt: skip
TOTALS = {"totalPrice": 27372, "taxAmount": 2067, "shippingAmount": 995, "discountAmount": 4290, "currency": "USD"}
DISCOUNTS = [{"name": "TRAIL15", "type": "order", "discountAmount": 4290}]
PRODUCT_KEYS = ("externalid", "name", "price", "quantity", "sku")


def products(body: dict) -> list[dict]:
    return [{k: p.get(k) for k in PRODUCT_KEYS} for p in body["orderProducts"]]


def armed_timers(db) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(timers.c.checkout_key).where(timers.c.status == "armed")).scalars())


def carts(fake_ac) -> list[dict]:
    return [o for o in fake_ac.orders() if o.get("externalcheckoutid") and not o.get("externalid")]


@pytest.mark.parametrize(
    "env_overrides",
    [pytest.param({}, id="connection-found-or-created"), pytest.param({"BRIDGE_AC_CONNECTION_ID": "1"}, id="fixed")],
)
def test_checkout_becomes_cart_then_paid_order_converts_it(client, db, fake_ac, fake_ecart, worker, env_overrides):
    fake_ecart.seed_order(PAID_ORDER_ID, status="pending")
    started = datetime.now(UTC)
    checkout_event = post_shopify(client, "checkouts_update__with_email.json")

    cart_post = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)[0]
    fixed = "BRIDGE_AC_CONNECTION_ID" in env_overrides
    connection = "1" if fixed else "2"
    expected = [] if fixed else [("GET", "/api/3/connections", 200), ("POST", "/api/3/connections", 201)]
    expected += [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
    assert summary(fake_ac.requests) == expected
    if not fixed:
        lookup, created = fake_ac.requests[0], fake_ac.requests[1]
        assert lookup.query == {"filters[service]": "storebridge", "filters[externalid]": SHOP}
        assert created.json["connection"]["externalid"] == SHOP
        assert [c["id"] for c in fake_ac.connections(externalid=SHOP)] == ["2"]
    customer = fake_ac.requests[-2].json["ecomCustomer"]
    assert {**customer, "connectionid": str(customer["connectionid"])} == {
        "connectionid": connection, "externalid": "7301482659126", "email": EMAIL, "acceptsMarketing": "1",
    }  # fmt: skip
    customer_id = fake_ac.customers()[0]["id"]

    body = dict(cart_post.json["ecomOrder"])
    abandoned, created_at = parse_iso(body.pop("abandonedDate")), parse_iso(body.pop("externalCreatedDate"))
    assert started <= abandoned <= datetime.now(UTC), "abandonedDate is when the timer fired, in the past"
    assert created_at == datetime.fromisoformat("2026-10-14T14:31:07-04:00")
    assert parse_iso(body.pop("externalUpdatedDate", "2026-10-14T14:48:52-04:00")) == datetime.fromisoformat(
        "2026-10-14T14:48:52-04:00"
    )
    assert products(body) == PRODUCTS
    assert body.pop("orderDiscounts") == DISCOUNTS
    assert {k: body[k] for k in TOTALS} == TOTALS
    assert body["externalcheckoutid"] == CHECKOUT_TOKEN
    assert body["orderUrl"] == CART_URL
    assert body["source"] == 1
    assert body["email"] == EMAIL
    assert str(body["connectionid"]) == connection
    assert str(body["customerid"]) == customer_id
    assert "externalid" not in body
    cart_id = fake_ac.orders()[0]["id"]
    assert fake_ac.order(cart_id)["state"] == 2  # abandoned

    # The timer's event is the bridge's own cart.abandoned, delivered once.
    cart_events = event_rows(db, kind="cart.abandoned")
    assert len(cart_events) == 1 and cart_events[0]["checkout_id"] == CHECKOUT_TOKEN
    assert wait_final(db, cart_events[0]["id"])["activecampaign"]["status"] == "done"
    assert event_rows(db, id=checkout_event)[0]["status"] == "done"

    calls_before = len(fake_ac.requests)
    paid_event = post_shopify(client, "orders_paid__basic.json")
    legs = wait_final(db, paid_event, legs=2)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "done"}

    assert summary(fake_ac.requests[calls_before:]) == [("PUT", f"/api/3/ecomOrders/{cart_id}", 200)]
    put = fake_ac.requests[-1].json["ecomOrder"]
    assert put["externalid"] == PAID_ORDER_ID
    assert put["orderNumber"] == "1042"
    assert "abandonedDate" not in put and "externalcheckoutid" not in put
    assert {k: put[k] for k in TOTALS} == TOTALS
    assert products(put) == PRODUCTS
    assert put["orderDiscounts"] == DISCOUNTS
    assert put["orderUrl"] == ORDER_STATUS_URL
    assert parse_iso(put["externalCreatedDate"]) == datetime.fromisoformat("2026-10-14T15:02:11-04:00")
    assert str(put["customerid"]) == customer_id and str(put["connectionid"]) == connection

    (order,) = fake_ac.orders()
    assert order["id"] == cart_id and order["state"] == 3, "the cart is recovered, not duplicated"
    assert order["externalid"] == PAID_ORDER_ID and order["externalcheckoutid"] == CHECKOUT_TOKEN

    assert summary(fake_ecart.requests) == [("PUT", f"/api/v2/orders/{PAID_ORDER_ID}", 200)]
    assert fake_ecart.requests[0].json == {"order": {"status": {"status": "paid"}}}
    assert fake_ecart.requests[0].headers["Authorization"] == "Bearer test-ecart-token"
    assert fake_ecart.statuses(PAID_ORDER_ID) == ["paid"]


def test_later_checkout_update_restarts_the_timer_and_one_cart_carries_the_latest_data(client, db, fake_ac, worker):
    post_shopify(client, "checkouts_create__with_email.json")
    time.sleep(0.5)  # half the abandonment delay: the update below must push the timer back
    updated_at = time.monotonic()
    post_shopify(client, "checkouts_update__with_email.json")

    post = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)[0]
    assert post.at - updated_at >= 1.0, "the timer fired before BRIDGE_ABANDON_AFTER of inactivity"
    time.sleep(0.3)
    assert len(fake_ac.calls("POST", "/api/3/ecomOrders")) == 1
    assert len(event_rows(db, kind="cart.abandoned")) == 1
    assert products(post.json["ecomOrder"]) == PRODUCTS  # the update's two lines, not the create's one


@pytest.mark.parametrize(
    "sequence",
    [
        pytest.param(["orders_paid__basic.json", "checkouts_update__with_email.json"], id="paid-before-checkout"),
        pytest.param(["checkouts_update__with_email.json", "checkouts_update__completed.json"], id="completed"),
        pytest.param(["checkouts_create__no_email.json"], id="no-email"),
    ],
)
def test_no_cart_is_ever_created(client, db, fake_ac, fake_ecart, worker, sequence, settings):
    fake_ecart.seed_order(PAID_ORDER_ID)
    ids = [post_shopify(client, name) for name in sequence]
    for event_id in ids:
        wait_final(db, event_id)
    time.sleep(settings.abandon_after + 0.6)  # past the abandonment delay: a timer would have fired by now

    assert event_rows(db, kind="cart.abandoned") == []
    assert carts(fake_ac) == []
    if "orders_paid__basic.json" in sequence:
        assert [(r.method, r.path) for r in fake_ac.calls(path_prefix="/api/3/ecomOrders")] == [
            ("POST", "/api/3/ecomOrders")
        ]
        (order,) = fake_ac.orders()
        assert order["externalid"] == PAID_ORDER_ID and order["state"] == 1
    else:
        assert fake_ac.requests == [], "a checkout alone sends nothing to ActiveCampaign"


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_AC_CONNECTION_ID": "1"}])
def test_paid_order_waits_for_its_failing_cart_create(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(PAID_ORDER_ID)
    fake_ac.fail_next(500, count=2, method="POST", path_prefix="/api/3/ecomOrders")
    post_shopify(client, "checkouts_update__with_email.json")
    fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", status=500, timeout=8)
    paid = post_shopify(client, "orders_paid__basic.json")  # queued behind the cart in the checkout's lane
    assert wait_final(db, paid, legs=2)["activecampaign"]["status"] == "done"

    (order,) = fake_ac.orders()
    assert summary(fake_ac.calls(path_prefix="/api/3/ecomOrders")) == [
        ("POST", "/api/3/ecomOrders", 500),
        ("GET", "/api/3/ecomOrders", 200),
        ("POST", "/api/3/ecomOrders", 500),
        ("GET", "/api/3/ecomOrders", 200),
        ("POST", "/api/3/ecomOrders", 201),  # the cart, finally
        ("PUT", f"/api/3/ecomOrders/{order['id']}", 200),  # then its conversion, never a second POST
    ]
    assert fake_ac.requests[-1].json["ecomOrder"]["externalid"] == PAID_ORDER_ID
    assert order["state"] == 3


def test_new_activity_after_the_cart_refreshes_the_same_cart(client, db, fake_ac, worker):
    post_shopify(client, "checkouts_create__with_email.json")
    fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)
    (cart,) = fake_ac.orders()
    assert len(cart["orderProducts"]) == 1

    post_shopify(client, "checkouts_update__with_email.json")  # the shopper came back and added socks
    fake_ac.wait_calls(1, "PUT", "/api/3/ecomOrders", timeout=8)
    assert summary(fake_ac.calls(path_prefix="/api/3/ecomOrders")) == [
        ("POST", "/api/3/ecomOrders", 201),
        ("PUT", f"/api/3/ecomOrders/{cart['id']}", 200),
    ]
    body = fake_ac.calls("PUT")[0].json["ecomOrder"]
    assert body["externalcheckoutid"] == CHECKOUT_TOKEN and products(body) == PRODUCTS
    assert {k: body[k] for k in TOTALS} == TOTALS
    (refreshed,) = fake_ac.orders()
    assert refreshed["state"] == 2 and len(refreshed["orderProducts"]) == 2
    assert len(event_rows(db, kind="cart.abandoned")) == 2


def test_armed_timer_survives_a_worker_restart(client, db, fake_ac, start_worker, settings):
    first = start_worker()
    event_id = post_shopify(client, "checkouts_update__with_email.json")
    wait_until(lambda: armed_timers(db), timeout=5, describe=lambda: str(event_rows(db, id=event_id)))
    first.stop()
    time.sleep(settings.abandon_after + 0.3)  # the timer falls due while no worker runs
    assert event_rows(db, kind="cart.abandoned") == [] and fake_ac.requests == []

    start_worker()
    post = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)[0]
    assert post.json["ecomOrder"]["externalcheckoutid"] == CHECKOUT_TOKEN
    assert len(event_rows(db, kind="cart.abandoned")) == 1
