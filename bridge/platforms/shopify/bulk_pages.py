"""A Shopify backfill's orders through one bulk export when the history is longer than a few pages.

The choice: `ordersCount` with the backfill's own filter (one point of the cost bucket, capped at the threshold
+ 1 so Shopify stops counting early). More than BULK_AFTER_PAGES pages of orders (50 with the default page of
10) go through a bulk export: paged reads on a standard plan take about 3 s a page under the cost throttle, so
five pages cost about as long as a small export takes to be created, run and downloaded; beyond that, bulk
wins by far. Fewer stay paged. Reconciliation always pages.

The export's orders are handed on in pages of the paged reader's size, each with a checkpoint `{"phase":
"orders", "bulk": {"id": <operation>, "done": <orders stored>}}`: an interrupted backfill finds the same
operation again (Shopify keeps its file seven days), downloads it again and skips the orders already stored.
An operation that failed, was cancelled or expired is replaced by a new export from the beginning. Abandoned
checkouts follow, paged, as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.platforms.reader import Page
from bridge.platforms.shopify import queries
from bridge.platforms.shopify.bulk import BulkExport, failure, orders_query, reassemble, running

if TYPE_CHECKING:
    from bridge.platforms.shopify.reader import ShopifyReader

BULK_AFTER_PAGES = 5
CHECKOUTS = {"phase": "checkouts", "after": None}
GONE = ("FAILED", "CANCELED", "EXPIRED")


def backfill_pages(
    reader: ShopifyReader, since: datetime, until: datetime | None, resume: dict[str, Any] | None
) -> Iterator[Page]:
    """The backfill's pages: bulk for a long history (or to resume a bulk export), else the paged reader's."""
    search = queries.updated_filter(reader.iso(since), reader.iso(until) if until else None)
    bulk_state = (resume or {}).get("bulk")
    if resume is None and reader.bulk_after_pages is not None and _longer_than_threshold(reader, search):
        yield from _bulk_orders(reader, search, None)
    elif isinstance(bulk_state, dict):
        yield from _bulk_orders(reader, search, bulk_state)
    else:
        yield from reader.pages(since, until, resume)
        return
    yield from reader.pages(since, until, dict(CHECKOUTS))


def bulk_threshold(reader: ShopifyReader) -> int | None:
    """More orders than this go through a bulk export (None: never)."""
    return None if reader.bulk_after_pages is None else reader.bulk_after_pages * reader.page_size


def _longer_than_threshold(reader: ShopifyReader, search: str) -> bool:
    threshold = bulk_threshold(reader)
    assert threshold is not None
    data = reader.admin.query(
        queries.ORDERS_COUNT, {"query": search, "limit": threshold + 1}, cost=queries.ORDERS_COUNT_COST
    )
    count = (data.get("ordersCount") or {}).get("count")
    return isinstance(count, int) and count > threshold


def _bulk_orders(reader: ShopifyReader, search: str, state: dict[str, Any] | None) -> Iterator[Page]:
    export = BulkExport(
        reader.admin,
        timeout=reader.settings.http_timeout,
        sleep=reader.poll_sleep or time.sleep,
        on_poll=reader.on_bulk_poll,
    )
    reader.last_export = export
    operation_id = state.get("id") if state else None
    done = int(state.get("done") or 0) if state else 0
    known = export.status(operation_id) if isinstance(operation_id, str) else None
    if known is None or known["status"] in GONE:
        # A new export, from the beginning: what an earlier (failed or expired) one handed on is counted again.
        operation_id, done = export.start(orders_query(search)), 0
        yield Page([], {"phase": "orders", "bulk": {"id": operation_id, "done": 0}}, True, restart=state is not None)
    assert isinstance(operation_id, str)
    operation: dict[str, Any] = {}
    for operation in export.wait(operation_id):
        if running(operation):  # the same checkpoint again: the backfill renews its lease while Shopify works
            yield Page([], {"phase": "orders", "bulk": {"id": operation_id, "done": done}}, True)
    complete = operation["status"] == "COMPLETED"
    url = operation.get("url") if complete else operation.get("partialDataUrl")
    if not complete and not url:
        raise failure(operation, partial_read=None)
    # A completed export of nothing has no file (Shopify answers `url: null`).
    orders = reassemble(export.lines(url), complete=complete) if url else iter(())
    chunk: list[dict[str, Any]] = []
    index = 0
    for order in orders:
        index += 1
        if index <= done:
            continue  # stored by the interrupted run
        if len(chunk) == reader.page_size:  # a full page, and more to come (the last page says what follows)
            states = [s for node in chunk for s in reader.order_states(node)]
            yield Page(states, {"phase": "orders", "bulk": {"id": operation_id, "done": index - 1}})
            chunk = []
        chunk.append(order)
    states = [s for node in chunk for s in reader.order_states(node)]
    if not complete:
        if states:
            yield Page(states, {"phase": "orders", "bulk": {"id": operation_id, "done": index}})
        raise failure(operation, partial_read=index)
    yield Page(states, dict(CHECKOUTS))
