"""Payload shapes real stores send that the bridge once read wrongly (issue 18, item 7), end to end: each body
is POSTed signed over real HTTP to the webhook endpoint, the worker runs against the strict fake AC, and the
test asserts the AC calls that result.

- A Shopify checkout carrying `"order_status_url": ""` or `null` is a checkout (timer, then a cart), not "an
  order body sent as checkouts/update".
- The contact's phone (and name) follow one documented order, AC's own for GraphQL orders: the customer's own,
  else the shipping address's, else billing's (`bridge.platforms.mapping.contact_fallback`).
- WooCommerce partial refunds, which arrive only as `order.updated` bodies listing every refund so far, lower
  the AC order's total to paid - refunds, whatever order the states arrive in and however often.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.helpers import signing
from tests.helpers.delivery import event_rows, summary, topic_of, wait_final, wait_until
from tests.helpers.env import fixture
from tests.helpers.live_server import serve

ENV = {
    "BRIDGE_AC_CONNECTION_ID": "1",
    "BRIDGE_AC_CONTACT_SYNC": "on",
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "",  # the AC leg only: these tests are about what AC receives
}


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return ENV


@pytest.fixture
def http(app) -> Iterator[str]:
    """The bridge's web app on a loopback port: webhooks arrive over real HTTP."""
    with serve(app) as url:
        yield url


def send(http: str, source: str, body: bytes, topic: str) -> requests.Response:
    """POST `body` to the source's webhook endpoint, signed as the platform signs it."""
    headers = {
        "shopify": lambda: signing.shopify_headers(body, topic),
        "woocommerce": lambda: signing.woo_headers(body, topic),
        "ecartapi": signing.ecart_headers,
    }[source]()
    return requests.post(f"{http}/webhooks/{source}", data=body, headers=headers, timeout=10)


def post(http: str, source: str, name: str, document: dict[str, Any] | None = None) -> int:
    """POST a fixture (its exact bytes, or `document` when the test changed it); returns the stored event id."""
    body = fixture(source, name) if document is None else json.dumps(document, ensure_ascii=False).encode()
    response = send(http, source, body, topic_of(name, "/" if source == "shopify" else "."))
    assert response.status_code == 202, (response.status_code, response.text)
    return int(response.json()["event_id"])


# -- a checkout with an empty order_status_url ---------------------------------------------------------------

CHECKOUT = "5d8e2a1f7c3b4e9a8f6d0c2b1a7e9f34"


@pytest.mark.parametrize(
    "name", ["checkouts_create__empty_order_status_url.json", "checkouts_update__null_order_status_url.json"]
)
def test_checkout_with_an_empty_order_status_url_arms_the_timer_and_becomes_a_cart(http, db, fake_ac, worker, name):
    event_id = post(http, "shopify", name)
    row = wait_until(
        lambda: next((r for r in event_rows(db, id=event_id) if r["status"] not in ("received", "accepted")), None)
    )
    assert row["status"] == "done" and row["errors"] is None, row
    assert row["note"].startswith("abandonment timer armed until"), row["note"]

    # BRIDGE_ABANDON_AFTER=1: the timer fires and the checkout becomes an AC cart.
    (cart_post,) = fake_ac.wait_calls(1, "POST", "/api/3/ecomOrders", timeout=10)
    cart = cart_post.json["ecomOrder"]
    assert cart["externalcheckoutid"] == CHECKOUT and "externalid" not in cart
    assert cart["email"] == "tomas.reyes@example.com" and cart["abandonedDate"]
    assert summary(fake_ac.requests) == [
        ("POST", "/api/3/contact/sync", 201),
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", "/api/3/ecomOrders", 201),
    ]
    (abandoned,) = event_rows(db, kind="cart.abandoned")
    assert wait_final(db, abandoned["id"])["activecampaign"]["status"] == "done"


# -- the contact's phone ---------------------------------------------------------------------------------------

JONAS = "jonas.berg@example.com"  # orders_paid__gift_phones: a gift, shipped to his sister Elsa in Vermont


def _without(document: dict[str, Any], *paths: str) -> dict[str, Any]:
    for path in paths:
        *parents, key = path.split(".")
        node = document
        for parent in parents:
            node = node[parent]
        node[key] = None
    return document


@pytest.mark.parametrize(
    ("cleared", "name", "phone"),
    [
        pytest.param((), ("Jonas", "Berg"), "+12125550101", id="customer-phone"),
        pytest.param(("customer.phone",), ("Jonas", "Berg"), "+12125550102", id="order-contact-phone"),
        pytest.param(("customer.phone", "phone"), ("Jonas", "Berg"), "+18025550103", id="shipping-phone"),
        pytest.param(
            ("customer.phone", "phone", "shipping_address.phone"), ("Jonas", "Berg"), "+12125550104", id="billing"
        ),
        # No customer record at all: the name comes from the addresses too, shipping first (AC's rule).
        pytest.param(("customer", "phone"), ("Elsa", "Berg"), "+18025550103", id="guest-shipping"),
        pytest.param(("customer", "shipping_address"), ("Jonas", "Berg"), "+12125550102", id="guest-billing-name"),
    ],
)
def test_shopify_contact_phone_follows_the_documented_order(http, db, fake_ac, worker, cleared, name, phone):
    document = _without(json.loads(fixture("shopify", "orders_paid__gift_phones.json")), *cleared)
    event_id = post(http, "shopify", "orders_paid__gift_phones.json", document)
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"
    sync = fake_ac.requests[0]
    assert (sync.method, sync.path) == ("POST", "/api/3/contact/sync")
    assert sync.json == {"contact": {"email": JONAS, "firstName": name[0], "lastName": name[1], "phone": phone}}
    contact = fake_ac.contact_book.contact(JONAS)
    assert (contact["firstName"], contact["lastName"], contact["phone"]) == (*name, phone)


@pytest.mark.parametrize(
    ("source", "name", "cleared", "email", "phone"),
    [
        pytest.param("woocommerce", "order_created__guest.json", (), "tomas.rivera@example.com", "(512) 555-0187",
                     id="woo-billing"),
        pytest.param("woocommerce", "order_created__guest_shipping_phone.json", (), "tomas.rivera@example.com",
                     "(512) 555-0199", id="woo-shipping"),
        pytest.param("ecartapi", "order__paid.json", (), "valeria.montes@example.com.mx", "+525555012345",
                     id="ecart-customer"),
        pytest.param("ecartapi", "order__paid_address_phones.json", (), "valeria.montes@example.com.mx",
                     "+525555019876", id="ecart-shipping"),
        pytest.param("ecartapi", "order__paid_address_phones.json", ("shippingAddress.phone",),
                     "valeria.montes@example.com.mx", "+525555012345", id="ecart-billing"),
    ],
)  # fmt: skip
def test_woocommerce_and_ecartapi_contact_phone_follows_the_same_order(
    http, db, fake_ac, worker, source, name, cleared, email, phone
):
    document = _without(json.loads(fixture(source, name)), *cleared) if cleared else None
    event_id = post(http, source, name, document)
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"
    (sync,) = [r for r in fake_ac.requests if r.path == "/api/3/contact/sync"]
    assert sync.json["contact"]["email"] == email and sync.json["contact"]["phone"] == phone
    assert fake_ac.contact_book.contact(email)["phone"] == phone


# -- WooCommerce partial refunds ---------------------------------------------------------------------------------

WOO_ORDER = "4830"
PAID = 10492  # "104.92"
STATES = (
    "order_updated__partial_refunds_none.json",  # paid, no refund yet
    "order_updated__partial_refunds_one.json",  # refund 4861: -10.00
    "order_updated__partial_refunds_two.json",  # and refund 4862: -9.00
)


def _ac_total(fake_ac) -> int:
    (order,) = fake_ac.orders(externalid=WOO_ORDER)
    return int(order["totalPrice"])


@pytest.mark.parametrize("arrival", list(itertools.permutations(range(3))), ids=lambda a: "-".join(map(str, a)))
def test_two_partial_refunds_end_at_the_net_total_whatever_the_arrival_order(http, db, fake_ac, worker, arrival):
    for index in arrival:
        wait_final(db, post(http, "woocommerce", STATES[index]), legs=1)
    assert _ac_total(fake_ac) == PAID - 1000 - 900
    assert [o["externalid"] for o in fake_ac.orders()] == [WOO_ORDER]  # one AC order, updated in place

    # WooCommerce delivers again (a manual resend, a retry): each state is a duplicate, nothing reaches AC.
    before = len(fake_ac.requests)
    for name in STATES:
        response = send(http, "woocommerce", fixture("woocommerce", name), "order.updated")
        assert (response.status_code, response.json()["status"]) == (200, "duplicate")
    time.sleep(0.3)  # a delivery would have started by now
    assert fake_ac.requests[before:] == []
    assert _ac_total(fake_ac) == PAID - 1900


def test_a_deleted_refund_stops_counting_and_a_full_refund_leaves_zero(http, db, fake_ac, worker):
    for name in STATES:
        wait_final(db, post(http, "woocommerce", name), legs=1)
    assert _ac_total(fake_ac) == PAID - 1900

    # The shop deletes refund 4862 (WooCommerce sends order.updated for that too): the newest listing counts.
    deleted = json.loads(fixture("woocommerce", STATES[2]))
    deleted.update(date_modified="2026-10-25T09:00:00", date_modified_gmt="2026-10-25T14:00:00")
    deleted["refunds"] = [r for r in deleted["refunds"] if r["id"] != 4862]
    wait_final(db, post(http, "woocommerce", STATES[2], deleted), legs=1)
    assert _ac_total(fake_ac) == PAID - 1000

    # The rest is refunded: WooCommerce marks the order `refunded` (an order.refunded event): 0.
    full = json.loads(fixture("woocommerce", STATES[2]))
    full.update(status="refunded", date_modified="2026-10-26T09:00:00", date_modified_gmt="2026-10-26T14:00:00")
    full["refunds"] = [{"id": 4870, "reason": "Order returned", "total": "-94.92"}, *deleted["refunds"]]
    legs = wait_final(db, post(http, "woocommerce", STATES[2], full), legs=1)
    assert legs["activecampaign"]["status"] == "done", legs
    assert fake_ac.requests[-1].json == {"ecomOrder": {"totalPrice": 0}}
    assert _ac_total(fake_ac) == 0
