"""Reconciliation through real HTTP: orders whose webhooks never came are recovered, reach AC and EcartAPI,
and the webhook arriving afterwards is a duplicate; a state already received is not stored again; history
(older than the live window) goes to AC with `source: 0` only. Shopify, WooCommerce and EcartAPI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.sweeps import Sweeps
from bridge.sweeps.reconcile import FIRST_REACH, OVERLAP, Reconciler, sweep_name
from tests.fakes.activecampaign import FakeActiveCampaign
from tests.fakes.ecartapi import FakeEcartAPI
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers import signing
from tests.helpers.delivery import PAID_ORDER_ID, event_rows, wait_final, wait_until
from tests.helpers.env import fixture
from tests.helpers.store_data import shopify_orders

# Just after the fixtures' states (orders_paid__basic: 2026-10-14T19:02:14Z; Woo 4817: 14:13:02Z; EcartAPI
# 5912345678902: 2026-10-20T17:24:09Z): inside the live window, so they are live events.
SHOPIFY_NOW = datetime(2026, 10, 14, 20, 0, tzinfo=UTC)
WOO_NOW = datetime(2026, 10, 14, 15, 0, tzinfo=UTC)
ECART_NOW = datetime(2026, 10, 20, 18, 0, tzinfo=UTC)


def at(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def shopify_webhook(client: FlaskClient, shop: str, name: str, topic: str):  # type: ignore[no-untyped-def]
    body = fixture("shopify", name)
    headers = {**signing.shopify_headers(body, topic), "X-Shopify-Shop-Domain": shop}
    return client.post("/webhooks/shopify", data=body, headers=headers)


def woo_webhook(client: FlaskClient, source: str, name: str):  # type: ignore[no-untyped-def]
    body = fixture("woocommerce", name)
    headers = {**signing.woo_headers(body, "order.updated"), "X-WC-Webhook-Source": source}
    return client.post("/webhooks/woocommerce", data=body, headers=headers)


def test_shopify_order_without_webhook_is_recovered_and_its_late_webhook_is_a_duplicate(
    settings: Settings,
    db: Database,
    client: FlaskClient,
    shopify_admin: FakeShopifyAdmin,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    worker,
) -> None:
    shopify_admin.add_order(json.loads(fixture("shopify/graphql", "order__paid.json")))
    fake_ecart.seed_order(PAID_ORDER_ID)
    [run] = Reconciler(settings, db, "test", clock=at(SHOPIFY_NOW)).run_once("shopify")
    assert (run.outcome, run.seen, run.recovered) == ("ok", 1, 1)
    assert run.since == SHOPIFY_NOW - FIRST_REACH  # no watermark yet: 7 days back
    [row] = event_rows(db, origin="reconcile")
    assert row["historical"] == 0 and row["store"] == shopify_admin.shop_domain
    legs = wait_final(db, row["id"], legs=2, timeout=30)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "done"}
    [order] = fake_ac.orders()
    assert order["externalid"] == PAID_ORDER_ID and order["source"] == 1  # live: automations fire
    assert fake_ecart.statuses(PAID_ORDER_ID) == ["paid"]

    late = shopify_webhook(client, shopify_admin.shop_domain, "orders_paid__basic.json", "orders/paid")
    assert late.status_code == 200 and late.get_json() == {"status": "duplicate", "event_id": str(row["id"])}
    assert len(fake_ac.orders()) == 1 and fake_ecart.statuses(PAID_ORDER_ID) == ["paid"]


def test_a_state_already_received_by_webhook_is_not_stored_again(
    settings: Settings, db: Database, client: FlaskClient, shopify_admin: FakeShopifyAdmin
) -> None:
    first = shopify_webhook(client, shopify_admin.shop_domain, "orders_paid__basic.json", "orders/paid")
    assert first.status_code == 202
    shopify_admin.add_order(json.loads(fixture("shopify/graphql", "order__paid.json")))
    shopify_admin.add_checkout(json.loads(fixture("shopify/graphql", "abandoned_checkout__with_email.json")))
    checkout = shopify_webhook(
        client, shopify_admin.shop_domain, "checkouts_update__with_email.json", "checkouts/update"
    )
    assert checkout.status_code == 202
    [run] = Reconciler(settings, db, "test", clock=at(SHOPIFY_NOW)).run_once("shopify")
    assert (run.seen, run.recovered) == (2, 0)
    assert event_rows(db, origin="reconcile") == []


def test_a_later_version_of_a_paid_order_is_not_paid_again_only_its_refund_is_news(
    settings: Settings,
    db: Database,
    client: FlaskClient,
    shopify_admin: FakeShopifyAdmin,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    worker,
) -> None:
    fake_ecart.seed_order(PAID_ORDER_ID)
    paid = shopify_webhook(client, shopify_admin.shop_domain, "orders_paid__basic.json", "orders/paid")
    wait_final(db, int(paid.get_json()["event_id"]), legs=2, timeout=30)
    # The webhook for the refund was lost; the API now shows the order as partially refunded (a later version).
    shopify_admin.add_order(json.loads(fixture("shopify/graphql", "order__partially_refunded.json")))
    [run] = Reconciler(settings, db, "test", clock=at(datetime(2026, 10, 20, 17, 0, tzinfo=UTC))).run_once("shopify")
    assert (run.seen, run.recovered) == (2, 1)
    [row] = event_rows(db, origin="reconcile")
    assert row["kind"] == "order.refunded"
    wait_final(db, row["id"], legs=1, timeout=30)
    # EcartAPI went paid -> refunded; a second "paid" for the later version would have undone the refund.
    wait_until(lambda: fake_ecart.statuses(PAID_ORDER_ID) == ["paid", "refunded"], 10)


def test_the_next_run_starts_at_the_watermark_minus_the_overlap(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    reconciler = Reconciler(settings, db, "test", clock=at(SHOPIFY_NOW))
    reconciler.run_once("shopify")
    later = SHOPIFY_NOW + timedelta(minutes=15)
    reconciler.clock = at(later)
    [run] = reconciler.run_once("shopify")
    assert run.since == SHOPIFY_NOW - OVERLAP
    assert (
        f"updated_at:>='{(SHOPIFY_NOW - OVERLAP):%Y-%m-%dT%H:%M:%SZ}'"
        in (shopify_admin.calls("POST")[-2].json["variables"]["query"])
    )
    assert Sweeps(db).get(sweep_name("shopify")).watermark == later


def test_one_runner_at_a_time(settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin) -> None:
    assert Sweeps(db).acquire(sweep_name("shopify"), "other-host", datetime.now(UTC), 300)
    [run] = Reconciler(settings, db, "me").run_once("shopify")
    assert run.outcome == "busy" and shopify_admin.calls() == []


def test_an_old_state_is_history_source_0_and_no_ecartapi(
    settings: Settings,
    db: Database,
    shopify_admin: FakeShopifyAdmin,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    worker,
) -> None:
    shopify_admin.add_order(json.loads(fixture("shopify/graphql", "order__paid.json")))
    fake_ecart.seed_order(PAID_ORDER_ID)
    two_days_later = SHOPIFY_NOW + timedelta(days=2)  # older than BRIDGE_RECONCILE_LIVE_WINDOW (1 day)
    [run] = Reconciler(settings, db, "test", clock=at(two_days_later)).run_once("shopify")
    assert run.recovered == 1
    [row] = event_rows(db, origin="reconcile")
    assert row["historical"] == 1
    legs = wait_final(db, row["id"], legs=1, timeout=30)
    assert set(legs) == {"activecampaign"}
    assert fake_ac.orders()[0]["source"] == 0 and fake_ecart.calls("PUT") == []


def test_a_failed_run_keeps_the_watermark_and_is_reported(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    shopify_admin.token = "revoked"
    [run] = Reconciler(settings, db, "test", clock=at(SHOPIFY_NOW)).run_once("shopify")
    assert run.outcome == "failed" and "credentials" in (run.error or "")
    sweep = Sweeps(db).get(sweep_name("shopify"))
    assert sweep.watermark is None and sweep.last_outcome == "failed" and sweep.lease_owner is None


def test_woocommerce_order_without_webhook_is_recovered_and_its_late_webhook_is_a_duplicate(
    settings: Settings,
    db: Database,
    client: FlaskClient,
    woo_api: FakeWooCommerce,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    worker,
) -> None:
    woo_api.add_order(json.loads(fixture("woocommerce", "order_updated__processing.json")))
    fake_ecart.seed_order("4817")
    [run] = Reconciler(settings, db, "test", clock=at(WOO_NOW)).run_once("woocommerce")
    assert run.recovered == 1
    [row] = event_rows(db, origin="reconcile")
    legs = wait_final(db, row["id"], legs=2, timeout=30)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "done"}
    assert fake_ac.orders()[0]["externalid"] == "4817" and fake_ecart.statuses("4817") == ["paid"]
    # X-WC-Webhook-Source ends with a slash, BRIDGE_WOOCOMMERCE_URL does not: the same store.
    late = woo_webhook(client, woo_api.url + "/", "order_updated__processing.json")
    assert late.status_code == 200 and late.get_json()["status"] == "duplicate"
    assert late.get_json()["event_id"] == str(row["id"])


def test_ecartapi_order_without_webhook_is_recovered_and_its_late_webhook_is_a_duplicate(
    settings: Settings,
    db: Database,
    client: FlaskClient,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    worker,
) -> None:
    order = json.loads(fixture("ecartapi", "order__paid.json"))
    fake_ecart.seed_order(order.pop("id"), **order)
    [run] = Reconciler(settings, db, "test", clock=at(ECART_NOW)).run_once("ecartapi")
    assert run.recovered == 1
    [row] = event_rows(db, origin="reconcile")
    legs = wait_final(db, row["id"], legs=1, timeout=30)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done"}
    assert fake_ac.orders()[0]["externalid"] == "5912345678902"
    body = fixture("ecartapi", "order__paid.json")
    late = client.post("/webhooks/ecartapi", data=body, headers=signing.ecart_headers())
    assert late.status_code == 200 and late.get_json() == {"status": "duplicate", "event_id": str(row["id"])}


@pytest.fixture
def extra_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"BRIDGE_RECONCILE_INTERVAL": "1"} if "schedule" in request.node.name else {}


def test_the_worker_schedule_recovers_within_one_interval(
    db: Database, shopify_admin: FakeShopifyAdmin, fake_ac: FakeActiveCampaign, fake_ecart: FakeEcartAPI, worker
) -> None:
    recent = datetime.now(UTC) - timedelta(minutes=10)
    for node in shopify_orders(3, start=recent):
        shopify_admin.add_order(node)
        fake_ecart.seed_order(node["legacyResourceId"])
    wait_until(lambda: len(fake_ac.orders()) == 3, 10, describe=lambda: str(event_rows(db)))
    wait_until(lambda: all(fake_ecart.statuses(str(9000000000001 + i)) == ["paid"] for i in range(3)), 10)
    assert {o["source"] for o in fake_ac.orders()} == {1}
    assert len(event_rows(db, origin="reconcile", source="shopify")) == 3
