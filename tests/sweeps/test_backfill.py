"""Backfill through real HTTP: Shopify's GraphQL fake -> events -> the worker -> AC with `source: 0`, exactly
once; EcartAPI gets nothing; a rerun sends nothing; an interrupted backfill resumes from its checkpoint."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bridge.delivery.owners import new_owner
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.platforms.woocommerce.reader import WooCommerceReader
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.sweeps import Sweeps
from bridge.sweeps.backfill import Backfill, Progress, sweep_name
from tests.fakes.activecampaign import FakeActiveCampaign
from tests.fakes.ecartapi import FakeEcartAPI
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.fakes.woocommerce_api import FakeWooCommerce
from tests.helpers.delivery import delivery_rows, event_rows, wait_until
from tests.helpers.store_data import shopify_orders, woo_order

LONG_AGO = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def ac_order_posts(fake_ac: FakeActiveCampaign) -> list[dict]:
    return [r.json["ecomOrder"] for r in fake_ac.calls("POST", "/api/3/ecomOrders") if r.status == 201]


def shopify_reader(settings: Settings) -> ShopifyReader:
    # At most 8 line items an order: Shopify prices one order at 48 + 8 x 5 = 88 points, so 11 fit in 1,000.
    # Paged (the bulk export has its own module, test_backfill_bulk.py): these pin the paged reader down.
    return ShopifyReader(settings, page_size=100, line_items=8, bulk_after_pages=None)


PAGE = 11


def test_250_orders_over_23_pages_with_a_throttle_reach_ac_once_with_source_0(
    settings: Settings,
    db: Database,
    shopify_admin: FakeShopifyAdmin,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    start_worker,
) -> None:
    for node in shopify_orders(250, start=LONG_AGO):
        shopify_admin.add_order(node)
        fake_ecart.seed_order(node["legacyResourceId"])

    def throttle_after_the_first_page(progress: Progress) -> None:
        if progress.pages == 1:
            shopify_admin.drain()

    result = Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run(
        throttle_after_the_first_page
    )
    # 23 order pages of 11 (the last of 8), then 1 (empty) checkout page.
    assert (result.pages, result.seen, result.created) == (24, 250, 250)
    assert shopify_admin.throttled >= 1
    posts = [c.json["variables"] for c in shopify_admin.calls("POST") if "orders(" in c.json["query"]]
    assert len(posts) == 23 + shopify_admin.throttled  # a throttled page is asked again, from the same cursor
    assert len({p["after"] for p in posts}) == 23 and {p["first"] for p in posts} == {PAGE}
    rows = event_rows(db, origin="backfill")
    assert len(rows) == 250 and {r["historical"] for r in rows} == {1} and {r["status"] for r in rows} == {"accepted"}

    start_worker()
    wait_until(lambda: len(fake_ac.orders()) == 250, 240, describe=lambda: f"{len(fake_ac.orders())} AC orders")
    bodies = ac_order_posts(fake_ac)
    assert len(bodies) == 250
    assert {b["source"] for b in bodies} == {0}
    assert sorted(b["externalid"] for b in bodies) == sorted(str(9000000000001 + i) for i in range(250))
    assert fake_ecart.calls("PUT") == []  # history is no news for EcartAPI

    again = Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run()
    assert (again.seen, again.created, again.resumed) == (250, 0, False)
    time.sleep(0.5)
    assert len(ac_order_posts(fake_ac)) == 250 and len(fake_ac.orders()) == 250


def test_an_interrupted_backfill_resumes_from_its_checkpoint(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    for node in shopify_orders(250, start=LONG_AGO):
        shopify_admin.add_order(node)

    def ctrl_c_half_way(progress: Progress) -> None:
        if progress.pages == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run(ctrl_c_half_way)
    assert len(event_rows(db, origin="backfill")) == PAGE
    sweep = Sweeps(db).get(sweep_name("shopify"))
    assert sweep is not None and sweep.lease_owner is None  # Ctrl-C gave the lease back
    cursor = sweep.checkpoint["resume"]["after"]
    calls_before = len(shopify_admin.calls("POST"))

    result = Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run()
    assert result.resumed and (result.seen, result.created) == (250, 250)
    assert len(event_rows(db, origin="backfill")) == 250
    resumed_call = shopify_admin.calls("POST")[calls_before]
    assert resumed_call.json["variables"]["after"] == cursor  # not from the beginning
    assert Sweeps(db).get(sweep_name("shopify")).checkpoint is None  # finished: nothing to resume


def test_a_crashed_backfill_on_this_host_is_taken_over(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    shopify_admin.add_order(shopify_orders(1, start=LONG_AGO)[0])
    sweeps = Sweeps(db)
    assert sweeps.acquire(sweep_name("shopify"), "otherhost:1:x", datetime.now(UTC), 120)
    with pytest.raises(Exception, match="already running"):
        Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run()
    dead = Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None, stale_owner=lambda o: True)
    assert dead.run().created == 1


def test_backfilled_abandoned_checkouts_reach_ac_as_carts_with_source_0(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin, fake_ac: FakeActiveCampaign, start_worker
) -> None:
    import json

    from tests.helpers.env import fixture

    shopify_admin.add_checkout(json.loads(fixture("shopify/graphql", "abandoned_checkout__with_email.json")))
    result = Backfill(db, shopify_reader(settings), new_owner(), since=None, until=None).run()
    assert result.created == 1
    [row] = event_rows(db, origin="backfill")
    assert row["kind"] == "cart.abandoned" and row["checkout_id"] == "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3"
    start_worker()
    wait_until(lambda: fake_ac.orders(), 20)
    [cart] = fake_ac.orders()
    assert cart["externalcheckoutid"] == "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3" and cart["source"] == 0
    assert cart.get("abandonedDate")


def test_woocommerce_backfill_in_a_date_range(
    settings: Settings, db: Database, woo_api: FakeWooCommerce, fake_ac: FakeActiveCampaign, start_worker
) -> None:
    for i in range(5):
        woo_api.add_order(woo_order(100 + i, "completed", LONG_AGO + timedelta(days=i), email=f"w{i}@example.com"))
    reader = WooCommerceReader(settings)
    since, until = LONG_AGO + timedelta(days=1), LONG_AGO + timedelta(days=3)
    result = Backfill(db, reader, new_owner(), since=since - timedelta(seconds=1), until=until).run()
    assert result.created == 2  # days 1 and 2; day 3 is at `until` (exclusive)
    start_worker()
    wait_until(lambda: len(fake_ac.orders()) == 2, 20, describe=lambda: str(delivery_rows(db)))
    assert {o["externalid"] for o in fake_ac.orders()} == {"101", "102"}
    assert {b["source"] for b in ac_order_posts(fake_ac)} == {0}
