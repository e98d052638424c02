"""ActiveCampaign orders: create without a cart, webhook dedupe, and replay that updates instead of duplicating."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from bridge.replay import Replayer
from tests.helpers.delivery import (
    CHECKOUT_TOKEN,
    PAID_ORDER_ID,
    delivery_rows,
    event_rows,
    parse_iso,
    post_shopify,
    run_cli,
    send_shopify,
    summary,
    wait_final,
)

POS_ORDER = "5874133024822"  # orders_paid__no_checkout
POS_EMAIL = "devon.reyes@example.net"


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1"}


def test_paid_order_without_checkout_is_created_with_externalid(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(POS_ORDER)
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, event_id, legs=2)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "done"}

    assert summary(fake_ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
    body = fake_ac.requests[1].json["ecomOrder"]
    assert body["externalid"] == POS_ORDER
    assert "externalcheckoutid" not in body and "abandonedDate" not in body
    assert body["email"] == POS_EMAIL and body["currency"] == "USD" and body["totalPrice"] == 14045
    assert body["source"] == 1 and str(body["connectionid"]) == "1"
    assert str(body["customerid"]) == fake_ac.customers(email=POS_EMAIL)[0]["id"]
    assert parse_iso(body["externalCreatedDate"]) == datetime.fromisoformat("2026-10-14T17:26:40-04:00")
    assert sum(p["price"] * p["quantity"] for p in body["orderProducts"]) <= body["totalPrice"] + body.get(
        "discountAmount", 0
    )
    (order,) = fake_ac.orders()
    assert order["externalid"] == POS_ORDER and order["state"] == 1
    assert fake_ecart.statuses(POS_ORDER) == ["paid"]


def test_duplicate_webhook_is_acknowledged_once_and_sent_once(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(POS_ORDER)
    event_id = post_shopify(client, "orders_paid__no_checkout.json", webhook_id="wh-dup-1")
    wait_final(db, event_id, legs=2)
    ac_calls, ecart_calls = summary(fake_ac.requests), summary(fake_ecart.requests)

    again = send_shopify(client, "orders_paid__no_checkout.json", webhook_id="wh-dup-1")
    assert (again.status_code, again.get_json()) == (200, {"status": "duplicate", "event_id": str(event_id)})

    time.sleep(0.3)  # a stray delivery would have reached the fakes by now (the worker wakes in ~20 ms)
    assert len(event_rows(db)) == 1 and len(delivery_rows(db)) == 2
    assert (
        summary(fake_ac.requests)
        == ac_calls
        == [
            ("POST", "/api/3/ecomCustomers", 201),
            ("POST", "/api/3/ecomOrders", 201),
        ]
    )
    assert summary(fake_ecart.requests) == ecart_calls
    assert len(fake_ac.orders()) == 1


def _replay_api(settings, db, tmp_path, env, event_id):
    outcome = Replayer(settings, db).replay(event_id)
    assert (outcome.status, outcome.event_id) == ("accepted", event_id)


def _replay_cli(settings, db, tmp_path, env, event_id):
    done = run_cli(["events", "replay", str(event_id)], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{event_id}: accepted - queued for planning again"


@pytest.mark.parametrize("replay", [_replay_api, _replay_cli], ids=["replayer", "cli"])
def test_replayed_order_updates_the_same_ac_record(client, db, fake_ac, fake_ecart, worker, settings, delivery_env,
                                                    tmp_path, replay):  # fmt: skip
    fake_ecart.seed_order(POS_ORDER)
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    wait_final(db, event_id, legs=2)
    (order,) = fake_ac.orders()
    before = len(fake_ac.requests)

    replay(settings, db, tmp_path, delivery_env, event_id)
    wait_final(db, event_id, legs=4)  # two fresh deliveries; the first two stay as history
    assert [r["status"] for r in delivery_rows(db, event_id)] == ["done"] * 4

    assert summary(fake_ac.requests[before:]) == [("PUT", f"/api/3/ecomOrders/{order['id']}", 200)]
    assert fake_ac.requests[-1].json["ecomOrder"]["externalid"] == POS_ORDER
    assert len(fake_ac.calls("POST", "/api/3/ecomOrders")) == 1
    (after,) = fake_ac.orders()
    assert after["id"] == order["id"] and after["puts"] == 1
    assert fake_ecart.statuses(POS_ORDER) == ["paid", "paid"]  # a status PUT is idempotent at EcartAPI


def test_replaying_the_cart_after_conversion_sends_nothing(client, db, fake_ac, fake_ecart, worker, settings):
    fake_ecart.seed_order(PAID_ORDER_ID)
    post_shopify(client, "checkouts_update__with_email.json")
    fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)
    (cart_event,) = event_rows(db, kind="cart.abandoned")
    wait_final(db, cart_event["id"])
    wait_final(db, post_shopify(client, "orders_paid__basic.json"), legs=2)
    before = len(fake_ac.requests)

    assert Replayer(settings, db).replay(cart_event["id"]).status == "accepted"
    wait_final(db, cart_event["id"], legs=2)
    replayed = delivery_rows(db, cart_event["id"])[-1]
    assert replayed["status"] in ("stale", "skipped"), replayed
    time.sleep(0.3)
    assert fake_ac.requests[before:] == [], "a replayed cart must not reopen or duplicate a converted order"
    (order,) = fake_ac.orders()
    assert order["state"] == 3 and order["externalcheckoutid"] == CHECKOUT_TOKEN


def test_records_already_in_ac_are_found_after_a_duplicate_and_updated(client, db, fake_ac, fake_ecart, worker):
    # A fresh bridge database, but AC already has this person and this order (an earlier install, a restore).
    fake_ecart.seed_order(POS_ORDER)
    customer = fake_ac.preload_customer(email=POS_EMAIL, externalid="from-an-earlier-install", connectionid="1")
    existing = fake_ac.preload_order(
        externalid=POS_ORDER,
        email=POS_EMAIL,
        totalPrice=1,
        currency="USD",
        connectionid="1",
        customerid=customer,
        externalCreatedDate="2026-10-14T17:26:40-04:00",
    )
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    assert wait_final(db, event_id, legs=2)["activecampaign"]["status"] == "done"

    assert summary(fake_ac.requests) == [
        ("POST", "/api/3/ecomCustomers", 422),  # duplicate email on the connection
        ("GET", "/api/3/ecomCustomers", 200),
        ("POST", "/api/3/ecomOrders", 422),  # duplicate externalid
        ("GET", "/api/3/ecomOrders", 200),
        ("PUT", f"/api/3/ecomOrders/{existing}", 200),
    ]
    assert fake_ac.requests[3].query == {"filters[connectionid]": "1", "filters[externalid]": POS_ORDER}
    assert str(fake_ac.requests[4].json["ecomOrder"]["customerid"]) == customer
    (order,) = fake_ac.orders()
    assert (order["id"], order["totalPrice"]) == (existing, 14045)
    assert len(fake_ac.customers()) == 1


# fixture -> (AC externalid, currency, totalPrice, taxAmount, shippingAmount, unit prices), all worked out by hand
MONEY_CASES = {
    "orders_paid__jpy.json": ("5874148065334", "JPY", 13600, 1236, 800, [3800, 9000]),  # exponent 0
    "orders_paid__kwd.json": ("5874160975926", "KWD", 26190, 0, 1500, [12345]),  # exponent 3: "12.345" x2
    "orders_paid__numeric_money.json": ("5874210619446", "USD", 5999, 400, 600, [4999]),  # JSON numbers
    "orders_paid__big_id.json": ("9007199254740993123", "USD", 4284, 289, 595, [3400]),  # id > 2^53
}


def test_money_and_big_ids_reach_ac_exactly(client, db, fake_ac, worker):
    ids = [post_shopify(client, name) for name in MONEY_CASES]
    for event_id in ids:
        assert wait_final(db, event_id, timeout=15)["activecampaign"]["status"] == "done"

    posted = {
        r.json["ecomOrder"]["externalid"]: r.json["ecomOrder"] for r in fake_ac.calls("POST", "/api/3/ecomOrders")
    }
    for external_id, currency, total, tax, shipping, prices in MONEY_CASES.values():
        body = posted[external_id]
        got = (body["currency"], body["totalPrice"], body.get("taxAmount", 0), body.get("shippingAmount", 0))
        assert got == (currency, total, tax, shipping), external_id
        assert [p["price"] for p in body["orderProducts"]] == prices, external_id
    assert len(posted) == len(MONEY_CASES) == len(fake_ac.orders())
    assert fake_ac.customers(externalid="9007199254740993457"), "the big customer id lost precision"
