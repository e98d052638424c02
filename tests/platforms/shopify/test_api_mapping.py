"""The GraphQL nodes map into the same canonical events, under the same identities, as the webhooks for the
same states (tests/platforms/shopify/fixtures/graphql/ are the API's view of the REST fixtures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers

from bridge.canonical import validate_canonical
from bridge.platforms.adapter import Inbound
from bridge.platforms.shopify import ShopifySource
from bridge.platforms.shopify import api_schemas as schemas
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.platforms.shopify.webhook_mapping import order_candidate
from bridge.settings import Settings
from tests.helpers import signing
from tests.helpers.env import fixture, make_settings


def node(name: str) -> dict:
    return json.loads(fixture("shopify/graphql", name))


@pytest.fixture
def shop_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "b.db", BRIDGE_SHOPIFY_SHOP=signing.SHOP_DOMAIN, BRIDGE_SHOPIFY_ADMIN_TOKEN="shpat_x"
    )


def webhook(settings: Settings, name: str, topic: str):
    """What the request path and the worker make of the REST fixture delivered as a webhook."""
    body = fixture("shopify", name)
    inbound = Inbound(body, Headers(signing.shopify_headers(body, topic)), "application/json", datetime.now(UTC))
    source = ShopifySource(settings)
    interpreted = source.recognise(inbound, json.loads(body))
    return interpreted, validate_canonical(source.to_canonical(interpreted, inbound))


def test_a_paid_order_is_the_webhook_event_with_the_same_identity(shop_settings: Settings) -> None:
    interpreted, from_webhook = webhook(shop_settings, "orders_paid__basic.json", "orders/paid")
    [state] = ShopifyReader(shop_settings)._order_states(node("order__paid.json"))
    assert state.dedupe_key == interpreted.dedupe_key
    from_api = validate_canonical(state.candidate)
    assert from_api["order_id"] == "5874120638518"  # the numeric id, never gid://
    for field in ("kind", "store", "order_id", "checkout_id", "currency", "email", "total", "subtotal", "tax",
                  "discount", "shipping", "occurred_at", "updated_at", "order_number", "order_url"):  # fmt: skip
        assert from_api[field] == from_webhook[field], field
    assert [(i["external_id"], i["quantity"], i["unit_price"]) for i in from_api["line_items"]] == [
        (i["external_id"], i["quantity"], i["unit_price"]) for i in from_webhook["line_items"]
    ]
    assert from_api["customer"]["external_id"] == from_webhook["customer"]["external_id"] == "7301482659126"


def test_a_checkout_is_known_by_the_token_in_its_recovery_url(shop_settings: Settings) -> None:
    interpreted, from_webhook = webhook(shop_settings, "checkouts_update__with_email.json", "checkouts/update")
    state = ShopifyReader(shop_settings)._checkout_state(node("abandoned_checkout__with_email.json"))
    assert state.dedupe_key == interpreted.dedupe_key
    from_api = validate_canonical(state.candidate)
    for field in ("kind", "checkout_id", "email", "total", "currency", "occurred_at"):
        assert from_api[field] == from_webhook[field], field


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("https://s.myshopify.com/68947232822/checkouts/0f3c9a7be5d24c81/recover?key=abc", "0f3c9a7be5d24c81"),
        ("https://s.myshopify.com/checkouts/ac/Z2NwLXVzLWVhc3Qx/recover?key=1&locale=en", "Z2NwLXVzLWVhc3Qx"),
        ("https://s.myshopify.com/checkouts/cn/Z2NwLXVzLWVhc3Qx?key=1", "Z2NwLXVzLWVhc3Qx"),
        ("https://s.myshopify.com/cart", None),
        (None, None),
    ],
)
def test_checkout_tokens_in_every_url_form(url: str | None, token: str | None) -> None:
    assert schemas.checkout_token(url) == token


def test_a_cancelled_state_and_a_refund_are_their_webhooks_events(shop_settings: Settings) -> None:
    [cancelled] = ShopifyReader(shop_settings)._order_states(node("order__cancelled.json"))
    assert cancelled.kind == "order.cancelled" and cancelled.topic == "orders/cancelled"
    assert validate_canonical(cancelled.candidate)["occurred_at"].startswith("2026-10-15T13:20:00")
    paid, refund = ShopifyReader(shop_settings)._order_states(node("order__partially_refunded.json"))
    assert paid.kind == "order.paid"
    assert refund.kind == "order.refunded"
    assert refund.dedupe_key == f"shopify:{signing.SHOP_DOMAIN}|refund|1029384756102"
    assert validate_canonical(refund.candidate)["total"] == 3700


def test_an_unpaid_order_is_no_event_and_a_broken_node_is_kept_with_its_errors(shop_settings: Settings) -> None:
    assert ShopifyReader(shop_settings)._order_states(node("order__pending.json")) == []
    broken = {**node("order__paid.json"), "totalPriceSet": None}
    [state] = ShopifyReader(shop_settings)._order_states(broken)
    assert state.candidate is None and "totalPriceSet" in state.errors


def test_the_contact_details_come_through_as_they_do_from_the_webhook(shop_settings: Settings) -> None:
    _, from_webhook = webhook(shop_settings, "orders_paid__basic.json", "orders/paid")
    [state] = ShopifyReader(shop_settings)._order_states(node("order__paid.json"))
    from_api = validate_canonical(state.candidate)
    for field in ("email", "first_name", "last_name", "phone", "external_id", "accepts_marketing"):
        assert from_api["customer"][field] == from_webhook["customer"][field], field
    assert from_api["customer"]["phone"] == "+17185550142"
    assert from_api["billing"] == from_webhook["billing"] == {
        "first_name": "Maya", "last_name": "Okafor", "phone": "+17185550142"
    }  # fmt: skip


def test_a_guest_order_takes_name_and_phone_from_its_addresses(shop_settings: Settings) -> None:
    [state] = ShopifyReader(shop_settings)._order_states(node("order__guest.json"))
    event = validate_canonical(state.candidate)
    # No customer record: the order's own contact phone; the name of the first address that has one (AC's
    # order, shipping then billing: this shipping address has a phone but no name, so billing's).
    assert event["customer"]["external_id"] is None
    assert (event["email"], event["customer"]["email"]) == ("guest.buyer@example.net", "guest.buyer@example.net")
    assert (event["customer"]["first_name"], event["customer"]["last_name"]) == ("Priya", "Raman")
    assert event["customer"]["phone"] == "+447700900123"


def test_an_older_api_version_s_customer_phone_is_read_too(shop_settings: Settings) -> None:
    order = node("order__paid.json")
    order["customer"] = {**order["customer"], "phone": "+17185550199"}
    del order["customer"]["defaultPhoneNumber"]
    order["billingAddress"] = order["shippingAddress"] = None
    [state] = ShopifyReader(shop_settings)._order_states(order)
    assert validate_canonical(state.candidate)["customer"]["phone"] == "+17185550199"


GIFT_CASES = [
    # (REST keys cleared, GraphQL keys cleared, expected first name, last name, phone)
    ((), (), "Jonas", "Berg", "+12125550101"),
    (("customer.phone",), ("customer.defaultPhoneNumber",), "Jonas", "Berg", "+12125550102"),
    (("customer.phone", "phone"), ("customer.defaultPhoneNumber", "phone"), "Jonas", "Berg", "+18025550103"),
    (
        ("customer.phone", "phone", "shipping_address.phone"),
        ("customer.defaultPhoneNumber", "phone", "shippingAddress.phone"),
        "Jonas", "Berg", "+12125550104",
    ),
    (("customer", "phone"), ("customer", "phone"), "Elsa", "Berg", "+18025550103"),
]  # fmt: skip


def _clear(document: dict, paths: tuple[str, ...]) -> dict:
    for path in paths:
        *parents, key = path.split(".")
        node_ = document
        for parent in parents:
            node_ = node_[parent]
        node_[key] = None
    return document


@pytest.mark.parametrize(("rest", "gql", "first", "last", "phone"), GIFT_CASES)
def test_store_api_and_webhook_agree_on_every_contact_fallback(shop_settings, rest, gql, first, last, phone) -> None:
    """One rule (mapping.contact_fallback): the customer's phone, the order's, the shipping address's, billing's;
    the name of the customer, else of the first address with one. The GraphQL node here is the API's view of
    orders_paid__gift_phones (the webhook's own cases run end to end in tests/delivery/test_real_payloads.py)."""
    gift = json.loads(fixture("shopify", "orders_paid__gift_phones.json"))
    from_webhook = validate_canonical(order_candidate(_clear(gift, rest), signing.SHOP_DOMAIN, "order.paid"))

    order = node("order__paid.json")
    order["phone"] = "+12125550102"
    order["customer"] = {
        **order["customer"],
        "email": "jonas.berg@example.com",
        "firstName": "Jonas",
        "lastName": "Berg",
        "defaultPhoneNumber": {"phoneNumber": "+12125550101"},
    }
    order["shippingAddress"] = {"firstName": "Elsa", "lastName": "Berg", "phone": "+18025550103"}
    order["billingAddress"] = {"firstName": "Jonas", "lastName": "Berg", "phone": "+12125550104"}
    [state] = ShopifyReader(shop_settings)._order_states(_clear(order, gql))
    from_api = validate_canonical(state.candidate)

    for event in (from_webhook, from_api):
        customer = event["customer"]
        assert (customer["first_name"], customer["last_name"], customer["phone"]) == (first, last, phone)
