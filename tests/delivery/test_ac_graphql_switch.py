"""GraphQL orders (spec §14): the consent list's calls come once per consenting buyer, and an account switched
from v3 to GraphQL gets nothing twice (the mapping table knows the orders sent through v3)."""

from __future__ import annotations

import pytest

from bridge.replay import Replayer
from bridge.settings import load_settings
from tests.helpers.delivery import custom_order, post_custom, summary, wait_final

GRAPHQL = "/api/3/ecom/graphql"
BASE = {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_AC_REVENUE": "net", "BRIDGE_ECART_STATUSES": ""}


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return {**BASE, "BRIDGE_AC_ORDER_API": "graphql", "BRIDGE_AC_LIST_ID": "1"}


def _consenting(order_id: str) -> dict:
    order = custom_order(order_id, "2026-10-01T10:00:00+00:00", email="lee@example.com")
    order["customer"] = {**order["customer"], "accepts_marketing": True, "first_name": "Lee"}
    return order


def test_a_consenting_new_buyer_costs_the_order_plus_the_list_calls_once(client, db, fake_ac, worker):
    fake_ac.contact_book.preload_list(1)
    leg = wait_final(db, post_custom(client, "order.paid", _consenting("C-1")), legs=1)["activecampaign"]
    assert leg["status"] == "done", leg
    contact = fake_ac.contact_book.contact("lee@example.com")
    assert summary(fake_ac.requests) == [
        ("POST", GRAPHQL, 200),
        ("GET", "/api/3/contacts", 200),
        ("GET", f"/api/3/contacts/{contact['id']}/contactLists", 200),
        ("POST", "/api/3/contactLists", 201),
    ]
    assert fake_ac.contact_book.status("lee@example.com", 1) == "1"
    assert contact["firstName"] == "Lee"  # from customerData, with no contact sync call
    before = len(fake_ac.requests)
    wait_final(db, post_custom(client, "order.paid", _consenting("C-2")), legs=1)
    assert summary(fake_ac.requests[before:]) == [("POST", GRAPHQL, 200)]


def test_an_unsubscribed_contact_is_not_subscribed_again(client, db, fake_ac, worker):
    fake_ac.contact_book.preload_list(1)
    fake_ac.contact_book.preload_contact("lee@example.com", list_status={"1": "2"})
    wait_final(db, post_custom(client, "order.paid", _consenting("C-1")), legs=1)
    assert fake_ac.calls("POST", "/api/3/contactLists") == []
    assert fake_ac.contact_book.status("lee@example.com", 1) == "2"


@pytest.mark.parametrize("env_overrides", [{**BASE, "BRIDGE_AC_ORDER_API": "v3"}])
def test_switching_from_v3_to_graphql_creates_nothing_twice(
    client, db, fake_ac, start_worker, delivery_env, settings, env_overrides
):
    v3_worker = start_worker()
    paid = post_custom(client, "order.paid", custom_order("S-1", "2026-10-01T10:00:00+00:00", total=10000))
    assert wait_final(db, paid, legs=1)["activecampaign"]["status"] == "done"
    (v3_order,) = fake_ac.orders()
    v3_worker.stop()

    graphql = load_settings({**delivery_env, "BRIDGE_AC_ORDER_API": "graphql"}, env_file=None)
    start_worker(graphql)
    before = len(fake_ac.requests)
    data = {"store": "shop.example", "order_id": "S-1", "currency": "USD", "refund_id": "re-1", "total": 2500}
    data |= {"occurred_at": "2026-10-02T10:00:00+00:00", "updated_at": "2026-10-02T10:00:00+00:00"}
    leg = wait_final(db, post_custom(client, "order.refunded", data), legs=1)["activecampaign"]
    assert leg["status"] == "done", leg
    # Once: the v3 order's fields, read back; then the order through GraphQL under the same storeOrderId.
    assert summary(fake_ac.requests[before:]) == [
        ("GET", f"/api/3/ecomOrders/{v3_order['id']}", 200),
        ("POST", GRAPHQL, 200),
    ]
    sent = fake_ac.graphql.calls()[-1]["variables"]["order"]
    assert (sent["storeOrderId"], sent["finalAmount"], sent["normalizedStatus"]) == ("S-1", 75.0, "COMPLETED")

    assert Replayer(graphql, db).replay(paid).status == "accepted"
    leg = wait_final(db, paid, legs=2)["activecampaign"]
    assert leg["status"] == "done" and "known from v3" in leg["note"], leg
    assert fake_ac.graphql.wait_copied()
    (after,) = fake_ac.orders()
    assert after["id"] == v3_order["id"] and after["totalPrice"] == 7500
    assert len(fake_ac.calls("POST", "/api/3/ecomOrders")) == 1 and len(fake_ac.graphql.all_orders()) == 1
