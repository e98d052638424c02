"""Orders through AC's eComm GraphQL API (spec §14), through real HTTP against the strict fake, on SQLite and
PostgreSQL: one call for a new buyer's paid order, statuses for cancellations and refunds, net `finalAmount`,
replays that change nothing, and the bought cart leaving one recovered cart and one order both ways."""

from __future__ import annotations

import time

import pytest

from bridge.replay import Replayer
from tests.helpers.delivery import (
    CHECKOUT_TOKEN,
    PAID_ORDER_ID,
    attempt_rows,
    custom_order,
    delivery_rows,
    event_rows,
    post_custom,
    post_ecart,
    post_shopify,
    post_woo,
    run_cli,
    summary,
    wait_final,
)

GRAPHQL = "/api/3/ecom/graphql"
GQL = {
    "BRIDGE_AC_ORDER_API": "graphql",
    "BRIDGE_AC_CONNECTION_ID": "1",
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "",
}
POS_ORDER = "5874133024822"  # orders_paid__no_checkout


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return GQL


def _order_sent(fake_ac, index: int = -1) -> dict:
    return fake_ac.graphql.calls()[index]["variables"]["order"]


def test_a_new_buyers_paid_order_is_one_call(client, db, fake_ac, worker):
    legs = wait_final(db, post_shopify(client, "orders_paid__no_checkout.json"), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    assert summary(fake_ac.requests) == [("POST", GRAPHQL, 200)]
    call = fake_ac.graphql.calls()[0]
    assert "upsertOrder" in call["query"]
    order = call["variables"]["order"]
    assert (order["storeOrderId"], order["legacyConnectionId"], order["finalAmount"]) == (POS_ORDER, 1, 140.45)
    assert (order["normalizedStatus"], order["storeStatus"], order["creationSource"]) == (
        "COMPLETED",
        "paid",
        "REAL_TIME",
    )
    assert order["currency"] == "USD" and "cartId" not in order
    line = order["lineItems"][0]
    assert line["priceAmount"] == round(line["priceAmount"], 2) and line["legacyConnectionId"] == 1
    # AC made the contact and the ecomCustomer itself, and copies the order into v3.
    assert fake_ac.contact_book.contact(order["email"]) is not None
    assert [c["email"] for c in fake_ac.customers()] == [order["email"]]
    assert fake_ac.graphql.wait_copied()
    (v3,) = fake_ac.orders()
    assert (v3["externalid"], v3["totalPrice"]) == (POS_ORDER, 14045)
    assert "upsertOrder" in legs["activecampaign"]["note"]


def test_events_show_says_which_mutation_for_which_order(client, db, fake_ac, worker, delivery_env, tmp_path):
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    wait_final(db, event_id, legs=1)
    done = run_cli(["events", "show", str(event_id)], delivery_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"upsertOrder {POS_ORDER}: ok" in done.stdout and "/api/3/ecom/graphql -> 200 ok" in done.stdout


def test_replay_changes_nothing(client, db, fake_ac, worker, settings):
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    wait_final(db, event_id, legs=1)
    assert Replayer(settings, db).replay(event_id).status == "accepted"
    wait_final(db, event_id, legs=2)
    replayed = delivery_rows(db, event_id)[-1]
    assert replayed["status"] == "skipped" and "already holds" in replayed["note"], replayed
    time.sleep(0.2)
    assert len(fake_ac.requests) == 1


def _paid(client, db, order_id: str = "N-1", total: int = 10000) -> None:
    event_id = post_custom(client, "order.paid", custom_order(order_id, "2026-10-01T10:00:00+00:00", total=total))
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"


def _change(client, db, kind: str, order_id: str = "N-1", when: str = "10:00", **extra) -> dict:
    data = {
        "store": "shop.example",
        "order_id": order_id,
        "currency": "USD",
        "occurred_at": f"2026-10-02T{when}:00+00:00",
        "updated_at": f"2026-10-02T{when}:00+00:00",
        **extra,
    }
    return wait_final(db, post_custom(client, kind, data), legs=1)["activecampaign"]


def test_cancellation_is_cancelled(client, db, fake_ac, worker):
    _paid(client, db)
    leg = _change(client, db, "order.cancelled")
    assert leg["status"] == "done", leg
    sent = _order_sent(fake_ac)
    assert (sent["normalizedStatus"], sent["storeStatus"], sent["finalAmount"]) == ("CANCELLED", "cancelled", 0)
    assert sent["email"] == "pat@example.com" and sent["lineItems"]  # the whole order, not only the status
    assert fake_ac.graphql.order(1, "N-1")["normalizedStatus"] == "CANCELLED"


def test_partial_refund_goes_net_and_a_full_one_is_refunded(client, db, fake_ac, worker, settings):
    _paid(client, db)
    leg = _change(client, db, "order.refunded", refund_id="re-1", total=3000)
    assert leg["status"] == "done", leg
    sent = _order_sent(fake_ac)
    assert (sent["normalizedStatus"], sent["storeStatus"], sent["finalAmount"]) == (
        "COMPLETED",
        "partially_refunded",
        70.0,
    )
    calls = len(fake_ac.requests)
    (refund,) = event_rows(db, kind="order.refunded")
    assert Replayer(settings, db).replay(refund["id"]).status == "accepted"
    wait_final(db, refund["id"], legs=2)
    assert delivery_rows(db, refund["id"])[-1]["status"] == "skipped"
    assert len(fake_ac.requests) == calls  # a replayed refund costs nothing

    leg = _change(client, db, "order.refunded", refund_id="re-2", total=7000, when="11:00")
    sent = _order_sent(fake_ac)
    assert (sent["normalizedStatus"], sent["finalAmount"]) == ("REFUNDED", 0)
    assert fake_ac.graphql.wait_copied()
    (v3,) = fake_ac.orders()
    assert v3["totalPrice"] == 0 and len(fake_ac.calls("POST", "/api/3/ecomOrders")) == 0


@pytest.mark.parametrize("env_overrides", [{**GQL, "BRIDGE_AC_REVENUE": "gross"}])
def test_gross_keeps_the_amount_but_still_sends_the_status(client, db, fake_ac, worker, env_overrides):
    _paid(client, db)
    assert _change(client, db, "order.refunded", refund_id="re-1", total=3000)["status"] == "skipped"
    assert len(fake_ac.requests) == 1
    _change(client, db, "order.cancelled", when="11:00")
    sent = _order_sent(fake_ac)
    assert (sent["normalizedStatus"], sent["finalAmount"]) == ("CANCELLED", 100.0)


def test_refund_of_an_order_never_sent_is_left_alone(client, db, fake_ac, worker):
    leg = _change(client, db, "order.refunded", order_id="X-1", refund_id="re-1", total=100)
    assert leg["status"] == "skipped" and "never sent" in leg["note"]
    assert fake_ac.requests == []


@pytest.mark.parametrize("conversion", ["ac", "bridge"])
def test_cart_then_order_leaves_one_recovered_cart_and_one_order(client, db, fake_ac, worker, conversion):
    fake_ac.graphql.cart_conversion = conversion
    post_shopify(client, "checkouts_update__with_email.json")
    fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=8)
    (cart_event,) = event_rows(db, kind="cart.abandoned")
    wait_final(db, cart_event["id"])
    legs = wait_final(db, post_shopify(client, "orders_paid__basic.json"), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    assert _order_sent(fake_ac)["cartId"] == CHECKOUT_TOKEN
    assert fake_ac.graphql.wait_copied()
    (record,) = fake_ac.orders()
    assert (record["externalid"], record["externalcheckoutid"], record["state"]) == (PAID_ORDER_ID, CHECKOUT_TOKEN, 3)
    # One purchase: the cart's conversion; the GraphQL copy found the same record and made no second one.
    assert fake_ac.graphql.purchases == [record["id"]]
    assert len(fake_ac.graphql.all_orders()) == 1


def test_a_refused_order_dies_with_acs_message_and_an_internal_error_is_retried(client, db, fake_ac, worker):
    fake_ac.graphql.fail_next.append({"message": "Internal server error", "extensions": {"code": "INTERNAL"}})
    _paid(client, db, "R-1")
    assert len(fake_ac.graphql.calls()) == 2  # the first answer was an error, the retry went through

    fake_ac.graphql.fail_next.append(
        {"message": "finalAmount must not be negative", "extensions": {"code": "BAD_USER_INPUT"}}
    )
    event_id = post_custom(client, "order.paid", custom_order("R-2", "2026-10-01T10:00:00+00:00"))
    leg = wait_final(db, event_id, legs=1)["activecampaign"]
    assert leg["status"] == "dead" and "finalAmount must not be negative" in leg["last_error"], leg


def test_the_status_table_page_shows_the_table():
    from pathlib import Path

    from bridge.destinations.activecampaign.statuses import STATUS_TABLE

    page = (Path(__file__).resolve().parents[2] / "docs" / "ac-order-statuses.md").read_text()
    shown = {
        (cells[0], cells[1].strip("`")): cells[2].strip("`")
        for line in page.splitlines()
        if line.startswith("| ") and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 3
        and cells[0] in ("shopify", "woocommerce", "ecartapi")
    }  # fmt: skip
    assert shown == STATUS_TABLE
    assert set(STATUS_TABLE.values()) <= {
        "PENDING", "COMPLETED", "ABANDONED", "RECOVERED", "WAITING", "CANCELLED", "REFUNDED", "FAILED", "RETURNED",
        "PENDING_PAYMENT",
    }  # fmt: skip


@pytest.mark.parametrize(
    "env_overrides", [{**GQL, "BRIDGE_AC_URL": None, "BRIDGE_AC_TOKEN": None, "BRIDGE_AC_CONNECTION_ID": None}]
)
def test_dry_run_records_the_upsert_and_sends_nothing(client, db, fake_ac, worker, env_overrides):
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "dry_run"
    (upsert,) = [a for a in attempt_rows(db, event_id=event_id) if a["url"].endswith("/ecom/graphql")]
    assert upsert["outcome"] == "dry_run" and "upsertOrder" in upsert["request"] and POS_ORDER in upsert["request"]
    assert fake_ac.requests == []


@pytest.mark.parametrize(
    ("post", "fixture", "expected"),
    [
        (post_woo, "order_updated__processing.json", ("COMPLETED", "processing")),
        (post_ecart, "order__paid.json", ("COMPLETED", "paid")),
        (post_shopify, "orders_paid__basic.json", ("COMPLETED", "paid")),
    ],
    ids=["woocommerce", "ecartapi", "shopify"],
)
def test_the_stores_own_status_is_sent_verbatim(client, db, fake_ac, worker, post, fixture, expected):
    legs = wait_final(db, post(client, fixture), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    sent = _order_sent(fake_ac)
    assert (sent["normalizedStatus"], sent["storeStatus"]) == expected
    # The store's whole addresses, not only the names the canonical event keeps.
    assert sent["shippingAddress"]["address1"] and sent["billingAddress"]["city"], sent


def test_a_429_on_the_graphql_endpoint_pauses_the_account_and_the_order_goes_after(client, db, fake_ac, worker):
    fake_ac.force_429(1, retry_after=1)
    started = time.monotonic()
    legs = wait_final(db, post_shopify(client, "orders_paid__no_checkout.json"), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    assert summary(fake_ac.requests) == [("POST", GRAPHQL, 429), ("POST", GRAPHQL, 200)]
    assert fake_ac.requests[1].at - fake_ac.requests[0].at >= 0.9  # the Retry-After was waited out
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize(
    ("fixture", "final", "line"), [("orders_paid__jpy.json", 13600, 3800), ("orders_paid__kwd.json", 26.19, 24.69)]
)
def test_amounts_are_exact_to_the_currencys_minor_unit(client, db, fake_ac, worker, fixture, final, line):
    legs = wait_final(db, post_shopify(client, fixture), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs  # the strict fake refuses any inexact amount
    sent = _order_sent(fake_ac)
    assert sent["finalAmount"] == final and type(sent["finalAmount"]) is type(final)
    assert sent["lineItems"][0]["priceAmount"] == line  # the line's total (KWD: 2 x 12.345)
