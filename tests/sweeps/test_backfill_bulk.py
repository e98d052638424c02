"""A long Shopify backfill through a bulk export (real HTTP to the strict fake, SQLite and PostgreSQL): exact
counts and pages, a short one stays paged, the stored bodies are the paged reader's byte for byte, a restart
resumes the same export without duplicates, a failed export is reported and its partial file used."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.delivery.owners import new_owner
from bridge.platforms.shopify.bulk import BulkBusy, BulkExport, BulkFailed, orders_query, reassemble
from bridge.platforms.shopify.queries import updated_filter
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.sweeps import Sweeps
from bridge.sweeps.backfill import BEGINNING, Backfill, Progress, sweep_name
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.delivery import event_rows
from tests.helpers.store_data import shopify_orders

LONG_AGO = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ORDERS = 120  # 12 pages of the default 10: more than the 5 pages a backfill reads paged


class Clock:
    """Injected time: the waits the reader asked for, none slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def seed(shop: FakeShopifyAdmin, count: int) -> list[dict]:
    """`count` paid orders; every 10th is partially refunded (a refund state more), one has 25 line items."""
    nodes = shopify_orders(count, start=LONG_AGO)
    for i, node in enumerate(nodes):
        if i % 10 == 3:
            node["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
            node["refunds"] = [
                {
                    "legacyResourceId": str(55000 + i),
                    "createdAt": node["updatedAt"],
                    "totalRefundedSet": {"shopMoney": {"amount": "5.00", "currencyCode": "USD"}},
                }
            ]
        if i == 7:
            line = node["lineItems"]["nodes"][0]
            node["lineItems"]["nodes"] = [
                {**copy.deepcopy(line), "id": f"gid://shopify/LineItem/{880000 + n}", "sku": f"SKU-{n}"}
                for n in range(25)
            ]
        shop.add_order(node)
    return nodes


def job(settings: Settings, db: Database, poll_sleep: object = None) -> Backfill:
    """A backfill of the whole history whose bulk polls wait on injected time."""
    reader = ShopifyReader(settings, poll_sleep=poll_sleep or Clock())  # type: ignore[arg-type]
    return Backfill(db, reader, new_owner(), since=None, until=None)


def bulk_runs(shop: FakeShopifyAdmin) -> list:
    return [c for c in shop.calls("POST") if "bulkOperationRunQuery" in c.json["query"]]


def paged_calls(shop: FakeShopifyAdmin) -> list:
    return [c for c in shop.calls("POST") if "StorebridgeOrders(" in c.json["query"]]


def test_a_long_history_is_read_through_one_bulk_export_with_exact_counts(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)
    clock = Clock()
    shown: list[Progress] = []
    result = job(settings, db, clock).run(shown.append)
    # 120 orders and 12 refunds; 12 pages of 10 orders, then the (empty, paged) abandoned checkouts page.
    assert (result.pages, result.seen, result.created) == (13, 132, 132)
    assert [(p.pages, p.seen) for p in shown[:2]] == [(1, 11), (2, 22)]  # order 4 (index 3) brought its refund
    assert len(bulk_runs(shopify_admin)) == 1 and paged_calls(shopify_admin) == []
    [count] = [c for c in shopify_admin.calls("POST") if "ordersCount" in c.json["query"]]
    assert count.json["variables"]["limit"] == 51  # asks Shopify to count no further than the threshold + 1
    assert clock.waits == [1.0, 1.5]  # polled with a growing wait while the export ran (2 polls)
    assert shopify_admin.bulk.downloads == 1 and shopify_admin.bulk.leaked_token == 0
    rows = event_rows(db, origin="backfill")
    assert len(rows) == 132 and {r["status"] for r in rows} == {"accepted"} and {r["historical"] for r in rows} == {1}
    sweep = Sweeps(db).get(sweep_name("shopify"))
    assert sweep is not None and sweep.checkpoint is None and sweep.last_seen == 132

    again = job(settings, db, clock).run()
    assert (again.seen, again.created) == (132, 0)


def test_the_lease_is_renewed_while_the_export_runs(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)
    shopify_admin.bulk.running_polls = 3
    leases: list[datetime] = []

    def note_the_lease(seconds: float) -> None:
        sweep = Sweeps(db).get(sweep_name("shopify"))
        assert sweep is not None and sweep.lease_until is not None and sweep.checkpoint["resume"]["bulk"]["id"]
        leases.append(sweep.lease_until)
        time.sleep(0.01)

    assert job(settings, db, note_the_lease).run().created == 132
    assert len(leases) == 3 and leases == sorted(set(leases))  # a later lease at every poll


def test_a_short_history_stays_paged(settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin) -> None:
    seed(shopify_admin, 50)  # exactly five pages
    result = job(settings, db).run()
    assert (result.pages, result.seen, result.created) == (6, 55, 55)
    assert bulk_runs(shopify_admin) == [] and len(paged_calls(shopify_admin)) == 5


def test_stored_bodies_are_the_paged_readers_byte_for_byte(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)
    job(settings, db).run()
    stored = {r["dedupe_key"]: bytes(r["body"]) for r in event_rows(db, origin="backfill")}
    paged = ShopifyReader(settings, poll_sleep=Clock(), bulk_after_pages=None)
    states = [s for page in paged.pages(BEGINNING, datetime.now(UTC)) for s in page.states]
    expected = {
        s.dedupe_key: json.dumps(s.document, ensure_ascii=False, separators=(",", ":")).encode() for s in states
    }
    assert len(expected) == 132 and stored == expected
    [big] = [json.loads(b) for b in stored.values() if b"SKU-24" in b]
    assert len(big["lineItems"]["nodes"]) == 25 and big["lineItems"]["pageInfo"]["hasNextPage"] is False


def test_an_interrupted_bulk_backfill_resumes_the_same_export_without_duplicates(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)

    def crash_at_page_4(progress: Progress) -> None:
        if progress.pages == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job(settings, db).run(crash_at_page_4)
    assert len(event_rows(db, origin="backfill")) == 44
    checkpoint = Sweeps(db).get(sweep_name("shopify")).checkpoint
    assert checkpoint["resume"]["bulk"] == {"id": "gid://shopify/BulkOperation/1", "done": 40}

    result = job(settings, db).run()
    assert result.resumed and (result.pages, result.seen, result.created) == (13, 132, 132)
    assert result.read_now == 88  # the orders after the 40 stored, and their refunds
    assert len(bulk_runs(shopify_admin)) == 1 and shopify_admin.bulk.downloads == 2  # the same file again
    rows = event_rows(db, origin="backfill")
    assert len(rows) == 132 and len({r["dedupe_key"] for r in rows}) == 132


def test_a_crash_while_the_export_runs_finds_it_again(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job(settings, db, ctrl_c).run()
    assert Sweeps(db).get(sweep_name("shopify")).checkpoint["resume"]["bulk"]["done"] == 0
    result = job(settings, db).run()
    assert (result.seen, result.created) == (132, 132)
    assert len(bulk_runs(shopify_admin)) == 1  # a second would have been refused: one bulk query at a time


def test_a_failed_export_is_reported_its_partial_file_kept_and_a_rerun_exports_again(
    settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin
) -> None:
    seed(shopify_admin, ORDERS)
    # The partial file stops inside order 8 (index 7, 25 line items) after 10 of its items: orders 1-7 (an order
    # line and its 2 line items each) are whole, order 8 is not and must not be stored half.
    shopify_admin.bulk.fail_next("TIMEOUT", partial_lines=7 * 3 + 1 + 10)
    first = job(settings, db)
    with pytest.raises(BulkFailed) as failed:
        first.run()
    message = str(failed.value)
    assert "bulk export gid://shopify/BulkOperation/1 FAILED (TIMEOUT)" in message
    assert "7 complete orders of its partial file were stored" in message and "run the backfill again" in message
    assert "signature" not in message  # the signed URL is not shown
    assert len(event_rows(db, origin="backfill")) == 7 + 1  # and order 4's refund
    sweep = Sweeps(db).get(sweep_name("shopify"))
    assert sweep.lease_owner is None and sweep.checkpoint["resume"]["bulk"]["done"] == 7

    result = job(settings, db).run()
    assert (result.pages, result.seen, result.created) == (13, 132, 132)  # exact, though 8 were read twice
    assert len(bulk_runs(shopify_admin)) == 2
    rows = event_rows(db, origin="backfill")
    assert len(rows) == 132 and len({r["dedupe_key"] for r in rows}) == 132


def test_an_expired_export_is_replaced(settings: Settings, db: Database, shopify_admin: FakeShopifyAdmin) -> None:
    seed(shopify_admin, ORDERS)

    def crash_at_page_2(progress: Progress) -> None:
        if progress.pages == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job(settings, db).run(crash_at_page_2)
    shopify_admin.bulk.expire("gid://shopify/BulkOperation/1")
    result = job(settings, db).run()
    assert (result.seen, result.created, result.read_now) == (132, 132, 132)
    assert len(bulk_runs(shopify_admin)) == 2


def test_another_bulk_query_running_is_said_plainly(settings: Settings, shopify_admin: FakeShopifyAdmin) -> None:
    seed(shopify_admin, 60)
    reader = ShopifyReader(settings, poll_sleep=Clock())
    export = BulkExport(reader.admin, timeout=5, sleep=Clock())
    other = export.start(orders_query(updated_filter("2026-01-01T00:00:00Z", None)))
    mine = orders_query(updated_filter("2000-01-01T00:00:00Z", None))
    with pytest.raises(BulkBusy, match=f"another bulk query \\({other}\\) is RUNNING on this shop"):
        export.start(mine)
    assert export.start(orders_query(updated_filter("2026-01-01T00:00:00Z", None))) == other  # the same: adopted


def test_the_file_is_read_one_order_at_a_time() -> None:
    consumed = 0

    def file() -> Iterator[dict]:
        nonlocal consumed
        for n in range(100_000):
            consumed += 1
            order = f"gid://shopify/Order/{n // 3}"
            yield {"id": order} if n % 3 == 0 else {"id": f"gid://shopify/LineItem/{n}", "__parentId": order}

    orders = reassemble(file())
    first = next(orders)
    assert consumed == 4  # the order, its two items, and the next order's line that says it is whole
    assert [i["id"] for i in first["lineItems"]["nodes"]] == ["gid://shopify/LineItem/1", "gid://shopify/LineItem/2"]
    assert sum(1 for _ in orders) == 33_333 and consumed == 100_000
