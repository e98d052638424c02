"""A Shopify backfill under `BRIDGE_AC_ORDER_API=graphql` (spec §14): the history reaches AC through
`bulkUpsertOrders` batches with `creationSource: HISTORICAL` (no automation fires), each order once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bridge.delivery.owners import new_owner
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.settings import Settings
from bridge.storage import Database
from bridge.sweeps.backfill import Backfill
from tests.fakes.activecampaign import FakeActiveCampaign
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.delivery import delivery_rows, wait_until
from tests.helpers.store_data import shopify_orders

LONG_AGO = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def extra_env() -> dict[str, str]:
    return {"BRIDGE_AC_ORDER_API": "graphql", "BRIDGE_AC_BATCH": "10", "BRIDGE_WORKER_THREADS": "12"}


def test_backfilled_orders_go_in_batches_as_historical(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin, fake_ac: FakeActiveCampaign, start_worker
) -> None:
    for node in shopify_orders(40, start=LONG_AGO):
        shopify_admin.add_order(node)
    result = Backfill(
        db, ShopifyReader(settings, page_size=100, line_items=8), new_owner(), since=None, until=None
    ).run(lambda progress: None)
    assert result.created == 40
    start_worker()
    assert wait_until(lambda: len([r for r in delivery_rows(db) if r["status"] == "done"]) == 40, timeout=60)
    calls = fake_ac.graphql.calls()
    orders = [o for call in calls for o in call["variables"].get("orders") or [call["variables"]["order"]]]
    assert {o["creationSource"] for o in orders} == {"HISTORICAL"}
    assert len({o["storeOrderId"] for o in orders}) == 40 and len(fake_ac.graphql.all_orders()) == 40
    assert max(len(call["variables"].get("orders") or [1]) for call in calls) > 1  # batched
    assert all(len(call["variables"].get("orders") or [1]) <= 10 for call in calls)
    assert fake_ac.graphql.wait_copied()
    assert {o["source"] for o in fake_ac.orders()} == {0} and fake_ac.graphql.purchases == []
