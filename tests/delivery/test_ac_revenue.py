"""ActiveCampaign parity, net revenue (spec §9): refunds lower the AC order's `totalPrice` (adding up, never
below 0), a cancellation sets it to 0, replays change nothing, and `gross` leaves AC alone. Real HTTP against
the strict fake AC; the refunds come from the custom source (one refund per event) and from Shopify."""

from __future__ import annotations

import time

import pytest

from bridge.replay import Replayer
from tests.helpers.delivery import (
    PAID_ORDER_ID,
    custom_order,
    delivery_rows,
    post_custom,
    post_shopify,
    summary,
    wait_final,
)

NET = {
    "BRIDGE_AC_CONNECTION_ID": "1",
    "BRIDGE_AC_CONTACT_SYNC": "off",  # the contact has its own tests; here only the order's totals matter
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "",
}
GROSS = {**NET, "BRIDGE_AC_REVENUE": "gross"}


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return NET


def _paid(client, db, order_id: str = "N-1", total: int = 10000) -> int:
    event_id = post_custom(client, "order.paid", custom_order(order_id, "2026-10-01T10:00:00+00:00", total=total))
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"
    return event_id


def _refund(client, db, refund_id: str | None, amount: int, order_id: str = "N-1", when: str = "10:00", **extra):
    data = {
        "store": "shop.example",
        "order_id": order_id,
        "currency": "USD",
        "total": amount,
        "occurred_at": f"2026-10-02T{when}:00+00:00",
        "updated_at": f"2026-10-02T{when}:00+00:00",
        **({"refund_id": refund_id} if refund_id else {}),
        **extra,
    }
    event_id = post_custom(client, "order.refunded", data)
    return event_id, wait_final(db, event_id)


def _total(fake_ac) -> int:
    (order,) = fake_ac.orders()
    return order["totalPrice"]


def test_partial_then_full_refund_takes_the_total_from_100_to_70_to_0(client, db, fake_ac, worker):
    _paid(client, db)
    assert _total(fake_ac) == 10000
    (order,) = fake_ac.orders()

    before = len(fake_ac.requests)
    _, legs = _refund(client, db, "re-1", 3000, when="10:00")
    assert legs["activecampaign"]["status"] == "done", legs
    assert summary(fake_ac.requests[before:]) == [("PUT", f"/api/3/ecomOrders/{order['id']}", 200)]
    assert fake_ac.requests[-1].json == {"ecomOrder": {"totalPrice": 7000}}
    assert _total(fake_ac) == 7000
    assert "10000 -> 7000" in legs["activecampaign"]["note"]

    _, legs = _refund(client, db, "re-2", 7000, when="11:00")
    assert legs["activecampaign"]["status"] == "done", legs
    assert _total(fake_ac) == 0

    # More refunded than was paid (a refund of shipping the order total did not show): still 0, never below.
    before = len(fake_ac.requests)
    _, legs = _refund(client, db, "re-3", 500, when="12:00")
    assert legs["activecampaign"]["status"] == "skipped" and fake_ac.requests[before:] == []
    assert _total(fake_ac) == 0


def test_a_replayed_refund_changes_nothing(client, db, fake_ac, worker, settings):
    _paid(client, db)
    refund_event, _ = _refund(client, db, "re-1", 2500)
    assert _total(fake_ac) == 7500
    before = len(fake_ac.requests)

    assert Replayer(settings, db).replay(refund_event).status == "accepted"
    wait_final(db, refund_event, legs=2)
    replayed = delivery_rows(db, refund_event)[-1]
    assert replayed["status"] == "skipped" and "already applied" in replayed["note"], replayed
    time.sleep(0.2)
    assert fake_ac.requests[before:] == []
    assert _total(fake_ac) == 7500


def test_refunds_arriving_out_of_order_still_add_up(client, db, fake_ac, worker):
    _paid(client, db)
    _refund(client, db, "re-late", 1000, when="15:00")
    _, legs = _refund(client, db, "re-early", 2000, when="09:00")  # older, but a refund of its own: not stale
    assert legs["activecampaign"]["status"] == "done", legs
    assert _total(fake_ac) == 7000


def test_cancelled_order_goes_to_zero_and_a_late_paid_does_not_undo_it(client, db, fake_ac, worker, settings):
    paid_event = _paid(client, db)
    cancel = custom_order("N-1", "2026-10-03T10:00:00+00:00", total=10000)
    cancelled = post_custom(client, "order.cancelled", cancel)
    assert wait_final(db, cancelled, legs=1)["activecampaign"]["status"] == "done"
    assert _total(fake_ac) == 0

    # The paid event delivered again (a replay, a platform retry that got through): the order stays at 0.
    assert Replayer(settings, db).replay(paid_event).status == "accepted"
    wait_final(db, paid_event, legs=2)
    assert _total(fake_ac) == 0


@pytest.mark.parametrize(
    "env_overrides", [NET, {**NET, "BRIDGE_AC_CONNECTION_ID": None}], ids=["fixed-connection", "no-connection-yet"]
)
def test_refund_of_an_order_never_sent_is_left_alone_and_a_later_order_goes_net(
    client, db, fake_ac, worker, env_overrides
):
    _, legs = _refund(client, db, "re-1", 4000)
    leg = legs["activecampaign"]
    assert leg["status"] == "skipped" and "never sent to ActiveCampaign" in leg["note"], leg
    assert fake_ac.requests == []

    _paid(client, db)
    assert _total(fake_ac) == 6000


def test_shopify_refund_shares_the_order_lane_and_lowers_the_total(client, db, fake_ac, worker):
    paid = post_shopify(client, "orders_paid__basic.json")
    assert wait_final(db, paid, legs=1)["activecampaign"]["status"] == "done"
    assert _total(fake_ac) == 27372
    refund = post_shopify(client, "refunds_create__basic.json")  # 34.13 refunded, no checkout in the body
    legs = wait_final(db, refund, legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    assert _total(fake_ac) == 27372 - 3413
    (paid_leg,) = delivery_rows(db, paid)
    assert legs["activecampaign"]["lane"] == paid_leg["lane"]  # one at a time with the paid order
    assert fake_ac.orders()[0]["externalid"] == PAID_ORDER_ID


def test_woocommerce_style_running_total_and_full_refund(client, db, fake_ac, worker):
    _paid(client, db, "W-1")
    _refund(client, db, None, 0, order_id="W-1", when="10:00", refunded_total=1500)
    assert _total(fake_ac) == 8500
    _refund(client, db, None, 0, order_id="W-1", when="11:00", refunded_total=4000)  # the running sum
    assert _total(fake_ac) == 6000

    _paid(client, db, "E-1")
    _refund(client, db, None, 10000, order_id="E-1", when="12:00")  # refunded, amount not itemised: in full
    (order,) = fake_ac.orders(externalid="E-1")
    assert order["totalPrice"] == 0


@pytest.mark.parametrize("env_overrides", [GROSS])
def test_gross_leaves_totals_alone(client, db, fake_ac, worker, env_overrides):
    _paid(client, db)
    before = len(fake_ac.requests)
    _, legs = _refund(client, db, "re-1", 3000)
    assert legs == {}  # no AC delivery at all
    cancelled = post_custom(client, "order.cancelled", custom_order("N-1", "2026-10-03T10:00:00+00:00"))
    wait_final(db, cancelled)
    time.sleep(0.2)
    assert fake_ac.requests[before:] == []
    assert _total(fake_ac) == 10000
