"""The Shopify Admin API reader against the strict fake over real HTTP: cursors, the cost throttle and
the single-query limit, auth errors, 5xx retried, checkpoints, big orders."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from bridge.canonical import validate_canonical
from bridge.errors import PermanentError
from bridge.platforms.shopify import queries
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.settings import Settings
from tests.fakes import graphql_cost
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.env import fixture
from tests.helpers.store_data import shopify_orders

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def no_sleep(seconds: float) -> None:
    """Waits are observed, not slept: the fakes' clocks are real, so retries still see fresh state."""


def test_shopify_pages_through_orders_with_cursors_under_the_cost_limit(
    store_settings: Settings, shopify_admin: FakeShopifyAdmin
) -> None:
    for node in shopify_orders(120, start=START):
        shopify_admin.add_order(node)
    reader = ShopifyReader(store_settings, page_size=50)
    pages = list(reader.pages(START - timedelta(hours=1), None))
    ids = [s.document["legacyResourceId"] for p in pages for s in p.states]
    assert len(ids) == len(set(ids)) == 120
    calls = shopify_admin.calls("POST")
    assert [c.json["variables"]["first"] for c in calls] == [10] * 12 + [15]  # 12 order pages + 1 checkout page
    # Priced as Shopify prices them (the fake works the cost out from the document), every page fits.
    assert all(graphql_cost.requested_cost(c.json["query"], c.json["variables"]) <= 1000 for c in calls)
    assert calls[0].headers["X-Shopify-Access-Token"] == shopify_admin.token
    assert calls[0].path == f"/admin/api/{store_settings.shopify_api_version}/graphql.json"
    assert "updated_at:>='2026-11-01T11:00:00Z'" in calls[0].json["variables"]["query"]
    assert pages[-1].resume is None and pages[0].resume["phase"] == "orders"
    assert all(s.store == shopify_admin.shop_domain for p in pages for s in p.states)


@pytest.mark.parametrize("line_items", [0, 1, 10, 50, 190])
def test_shopify_page_size_is_cut_to_fit_the_single_query_limit(store_settings: Settings, line_items: int) -> None:
    reader = ShopifyReader(store_settings, page_size=250, line_items=line_items)
    for phase, document in (("orders", queries.ORDERS), ("checkouts", queries.ABANDONED_CHECKOUTS)):
        size = reader.page_sizes[phase]
        variables = {"first": size, "lineItems": line_items}
        # The estimate is Shopify's own price, and one more node would not fit.
        assert queries.estimated_cost(size, line_items, phase) == graphql_cost.requested_cost(document, variables)
        assert queries.estimated_cost(size, line_items, phase) <= queries.MAX_QUERY_COST
        assert size == 250 or queries.estimated_cost(size + 1, line_items, phase) > queries.MAX_QUERY_COST


def test_shopify_asks_for_less_when_the_store_prices_a_page_over_its_limit(
    store_settings: Settings, shopify_admin: FakeShopifyAdmin
) -> None:
    # Either way round: Shopify may price a page higher than the bridge's estimate (a lower limit here).
    for node in shopify_orders(30, start=START):
        shopify_admin.add_order(node)
    shopify_admin.max_cost = 400
    reader = ShopifyReader(store_settings, page_size=50)
    ids = [s.document["legacyResourceId"] for p in reader.pages(START - timedelta(hours=1), None) for s in p.states]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 30
    asked = [c.json["variables"]["first"] for c in shopify_admin.calls("POST")]
    # 10 orders priced 982 are refused; 10 x 400 / 982 = 4 fit. 15 checkouts (977) likewise become 6.
    assert asked == [10] + [4] * 8 + [15, 6]
    assert reader.page_sizes == {"orders": 4, "checkouts": 6}


def test_shopify_a_page_that_never_fits_is_a_permanent_error(
    store_settings: Settings, shopify_admin: FakeShopifyAdmin
) -> None:
    shopify_admin.add_order(shopify_orders(1, start=START)[0])
    shopify_admin.max_cost = 10
    with pytest.raises(PermanentError, match="exceeds the single query max cost"):
        list(ShopifyReader(store_settings).pages(START - timedelta(hours=1), None))


def test_shopify_the_contact_fields_are_asked_for(store_settings: Settings, shopify_admin: FakeShopifyAdmin) -> None:
    # The fake answers only the fields a query selects, as Shopify does: the mapping reads nothing unasked.
    guest = json.loads(fixture("shopify/graphql", "order__guest.json"))
    shopify_admin.add_order({**guest, "updatedAt": START.isoformat().replace("+00:00", "Z")})
    [state] = [s for p in ShopifyReader(store_settings).pages(START - timedelta(hours=1), None) for s in p.states]
    customer = validate_canonical(state.candidate)["customer"]
    assert (customer["first_name"], customer["last_name"], customer["phone"]) == ("Priya", "Raman", "+447700900123")


def test_shopify_throttled_queries_wait_for_the_bucket_and_resume(
    store_settings: Settings, shopify_admin: FakeShopifyAdmin
) -> None:
    for node in shopify_orders(30, start=START):
        shopify_admin.add_order(node)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    reader = ShopifyReader(store_settings, page_size=10, sleep=sleep)
    pages = reader.pages(START - timedelta(hours=1), None)
    first = next(pages)
    shopify_admin.drain()
    rest = list(pages)
    ids = [s.document["legacyResourceId"] for p in [first, *rest] for s in p.states]
    assert len(set(ids)) == 30
    assert shopify_admin.throttled >= 1 and reader.admin.throttled >= 1
    assert waits and all(w <= 1.0 for w in waits)  # (requested - available) / restoreRate of 2000 points/s


def test_shopify_bad_token_is_a_permanent_error(store_settings: Settings, shopify_admin: FakeShopifyAdmin) -> None:
    shopify_admin.token = "shpat_other"
    with pytest.raises(PermanentError, match="refused the credentials"):
        list(ShopifyReader(store_settings).pages(START, None))
    assert [c.status for c in shopify_admin.calls()] == [401]


def test_shopify_5xx_is_retried(store_settings: Settings, shopify_admin: FakeShopifyAdmin) -> None:
    shopify_admin.add_order(shopify_orders(1, start=START)[0])
    shopify_admin.fail_next(502, count=2, method="POST")
    reader = ShopifyReader(store_settings, sleep=no_sleep)
    states = [s for p in reader.pages(START - timedelta(hours=1), None) for s in p.states]
    assert len(states) == 1
    assert [c.status for c in shopify_admin.calls()][:3] == [502, 502, 200]


def test_shopify_resumes_from_a_checkpoint(store_settings: Settings, shopify_admin: FakeShopifyAdmin) -> None:
    for node in shopify_orders(25, start=START):
        shopify_admin.add_order(node)
    reader = ShopifyReader(store_settings, page_size=10)
    first = next(reader.pages(START - timedelta(hours=1), None))
    rest = list(reader.pages(START - timedelta(hours=1), None, first.resume))
    ids = [s.document["legacyResourceId"] for p in [first, *rest] for s in p.states]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 25


def test_shopify_reads_every_line_item_of_a_big_order(
    store_settings: Settings, shopify_admin: FakeShopifyAdmin
) -> None:
    [order, small] = shopify_orders(2, start=START)
    template = order["lineItems"]["nodes"][0]
    order["lineItems"]["nodes"] = [
        {
            **template,
            "id": f"gid://shopify/LineItem/{900 + i}",
            "sku": f"SKU-{i}",
            "product": {"legacyResourceId": str(800 + i)},
        }
        for i in range(230)
    ]
    shopify_admin.add_order(order)
    shopify_admin.add_order(small)
    states = [s for p in ShopifyReader(store_settings).pages(START - timedelta(hours=1), None) for s in p.states]
    big = next(s for s in states if s.document["legacyResourceId"] == order["legacyResourceId"])
    event = validate_canonical(big.candidate)
    # 10 on the page, then 100 + 100 + 20 by the order's own line-item cursor; in the store's order.
    assert [i["sku"] for i in event["line_items"]] == [f"SKU-{i}" for i in range(230)]
    assert big.document["lineItems"]["pageInfo"]["hasNextPage"] is False  # the stored body is whole
    more = [c.json["variables"] for c in shopify_admin.calls("POST") if "node(" in c.json["query"]]
    assert [(v["id"], v["first"]) for v in more] == [(order["id"], 100)] * 3
    assert len({v["after"] for v in more}) == 3
    small_state = next(s for s in states if s is not big)
    assert len(validate_canonical(small_state.candidate)["line_items"]) == len(small["lineItems"]["nodes"])
