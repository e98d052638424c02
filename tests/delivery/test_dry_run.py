"""Dry-run: a destination without credentials gets its calls planned and recorded, never sent."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bridge.storage.tables import remote_state
from tests.helpers.delivery import (
    CHECKOUT_TOKEN,
    PAID_ORDER_ID,
    attempt_rows,
    event_rows,
    post_shopify,
    wait_final,
    wait_until,
)

NO_CREDENTIALS = {"BRIDGE_AC_URL": None, "BRIDGE_AC_TOKEN": None, "BRIDGE_ECART_TOKEN": None}
AC_DRY = "https://activecampaign.invalid/api/3"


def calls(db, event_id: int, destination: str) -> list[tuple[str, str, str]]:
    return [
        (a["method"], a["url"].split("?")[0], a["outcome"])
        for a in attempt_rows(db, event_id=event_id)
        if a["destination"] == destination
    ]


def request_of(db, event_id: int, method: str, url: str) -> dict:
    (attempt,) = [a for a in attempt_rows(db, event_id=event_id) if (a["method"], a["url"]) == (method, url)]
    assert attempt["status_code"] is None and attempt["response"] is None and attempt["duration_ms"] == 0
    return json.loads(attempt["request"])


@pytest.mark.parametrize("env_overrides", [NO_CREDENTIALS], ids=["no-credentials"])
def test_without_credentials_everything_is_recorded_and_nothing_sent(client, db, fake_ac, fake_ecart, worker):
    post_shopify(client, "checkouts_update__with_email.json")
    cart_event = wait_until(lambda: event_rows(db, kind="cart.abandoned"), timeout=8)[0]["id"]
    assert {n: d["status"] for n, d in wait_final(db, cart_event).items()} == {"activecampaign": "dry_run"}
    assert calls(db, cart_event, "activecampaign") == [
        ("GET", f"{AC_DRY}/connections", "dry_run"),
        ("POST", f"{AC_DRY}/connections", "dry_run"),
        ("POST", f"{AC_DRY}/ecomCustomers", "dry_run"),
        ("POST", f"{AC_DRY}/ecomOrders", "dry_run"),
    ]
    cart = request_of(db, cart_event, "POST", f"{AC_DRY}/ecomOrders")["ecomOrder"]
    assert cart["externalcheckoutid"] == CHECKOUT_TOKEN and cart["totalPrice"] == 27372 and cart["source"] == 1
    assert [p["price"] for p in cart["orderProducts"]] == [24900, 1850]
    customer = request_of(db, cart_event, "POST", f"{AC_DRY}/ecomCustomers")["ecomCustomer"]
    assert customer["email"] == "maya.okafor@example.com"

    paid = post_shopify(client, "orders_paid__basic.json")
    legs = wait_final(db, paid, legs=2)
    assert {n: d["status"] for n, d in legs.items()} == {"activecampaign": "dry_run", "ecartapi": "dry_run"}
    ecart_url = f"{fake_ecart.url}/api/v2/orders/{PAID_ORDER_ID}"  # set, but without a token: dry-run
    assert calls(db, paid, "ecartapi") == [("PUT", ecart_url, "dry_run")]
    put = request_of(db, paid, "PUT", ecart_url)
    assert put == {"order": {"status": {"status": "paid"}}}
    order_calls = [c for c in calls(db, paid, "activecampaign") if "/ecomOrders" in c[1]]
    assert order_calls and all(outcome == "dry_run" for _, _, outcome in order_calls)
    assert event_rows(db, id=paid)[0]["status"] == "done"

    assert fake_ac.requests == [] and fake_ecart.requests == [], "a dry-run sent something"


# EcartAPI without its token is planned only when asked for (BRIDGE_ECART_STATUSES set, see
# tests/delivery/test_ecart_when_used.py); asked for, it runs dry while ActiveCampaign is live.
ECART_ASKED = {"BRIDGE_ECART_STATUSES": "paid=paid,cancelled=cancelled,refunded=refunded"}


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_ECART_TOKEN": None, "BRIDGE_AC_CONNECTION_ID": "1", **ECART_ASKED}])
def test_dry_run_is_per_destination(client, db, fake_ac, fake_ecart, worker):
    paid = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, paid, legs=2)
    assert {n: d["status"] for n, d in legs.items()} == {"activecampaign": "done", "ecartapi": "dry_run"}
    assert [r.method for r in fake_ac.requests] == ["POST", "POST"]
    assert fake_ecart.requests == []
    assert calls(db, paid, "ecartapi") == [("PUT", f"{fake_ecart.url}/api/v2/orders/5874133024822", "dry_run")]


PARITY_DRY = {
    **NO_CREDENTIALS,
    "BRIDGE_AC_CONTACT_SYNC": "on",
    "BRIDGE_AC_LIST_ID": "5",
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "none",
}


@pytest.mark.parametrize("env_overrides", [PARITY_DRY], ids=["parity"])
def test_dry_run_records_contact_list_and_refund_calls_and_remembers_nothing(client, db, fake_ac, worker):
    paid = post_shopify(client, "orders_paid__basic.json")
    assert wait_final(db, paid, legs=1)["activecampaign"]["status"] == "dry_run"
    assert calls(db, paid, "activecampaign") == [
        ("POST", f"{AC_DRY}/contact/sync", "dry_run"),
        ("GET", f"{AC_DRY}/contacts/dry-run/contactLists", "dry_run"),
        ("POST", f"{AC_DRY}/contactLists", "dry_run"),
        ("GET", f"{AC_DRY}/connections", "dry_run"),
        ("POST", f"{AC_DRY}/connections", "dry_run"),
        ("POST", f"{AC_DRY}/ecomCustomers", "dry_run"),
        ("POST", f"{AC_DRY}/ecomOrders", "dry_run"),
    ]
    sync = request_of(db, paid, "POST", f"{AC_DRY}/contact/sync")["contact"]
    assert (sync["firstName"], sync["phone"]) == ("Maya", "+17185550142")
    refund = post_shopify(client, "refunds_create__basic.json")
    leg = wait_final(db, refund, legs=1)["activecampaign"]
    assert leg["status"] == "dry_run" and "never sent to ActiveCampaign" in leg["note"]  # no AC id was kept

    # Nothing of the dry-run was remembered: no synced contact, no list status, no revenue.
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(remote_state)).scalar() == 0
    assert fake_ac.requests == []
