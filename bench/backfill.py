"""Backfill benchmark: how fast a Shopify backfill of 10,000 orders reads and stores, against the budget
ActiveCampaign gives the deliveries that follow.

1. Seeds the strict Shopify GraphQL fake with N paid orders (one new customer each) and a cost bucket like
   Shopify's (1,000 points, `--restore-rate` points/s: 100 on standard plans), then runs `Backfill` with the
   default page size: prints pages, THROTTLED answers waited out, and orders/s read and stored.
2. The AC budget: a new customer's order costs 2 AC calls (ecomCustomer + ecomOrder) at BRIDGE_AC_RATE (5/s
   per account), so AC takes at most rate/2 such orders/s; prints the time that means for N orders.
3. With `--drain K`: `--workers` `bridge worker` processes (as in production, each with `--threads` delivery
   threads) deliver the first K backfilled orders to the strict AC fake at its real limit, and the measured
   orders/s is printed beside the budget (GraphQL by default: `bulkUpsertOrders` batches of `--batch`,
   `HISTORICAL`; `--order-api v3` for the Deep Data calls). The end-to-end time (read + store + drain) is
   printed against the spec's 5 minutes.
4. With `--bulk`: the backfill reads the N orders through one bulk export (as `storebridge backfill` does for a
   long history), then the paged reader reads the first `--paged-sample` of them into another database under
   the same bucket; prints both read times and the paged time extrapolated to N. The fake's export "runs" for
   two polls (1 s + 1.5 s of waiting): Shopify's own time to run an export is not modelled.

    .venv/bin/python bench/backfill.py                      # 10,000 orders, paged, restore rate 100 points/s
    .venv/bin/python bench/backfill.py --orders 2000 --drain 60
    .venv/bin/python bench/backfill.py --bulk               # 10,000 orders through bulk, 300 paged beside
    .venv/bin/python bench/backfill.py --bulk --drain 10000 --paged-sample 100   # end to end, batched writes
    .venv/bin/python bench/backfill.py --bulk --drain 10000 --paged-sample 100 --postgres
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import BRIDGE, process, wait_until

from bridge.delivery.owners import new_owner
from bridge.platforms.shopify.reader import ShopifyReader
from bridge.settings import load_settings
from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from bridge.sweeps.backfill import Backfill, Progress
from bridge.timeutil import parse_datetime
from bridge.vocabulary import FINAL
from tests.fakes.activecampaign import FakeActiveCampaign
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.postgres import fresh_schema
from tests.helpers.store_data import shopify_orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--restore-rate", type=float, default=100.0, help="Shopify bucket refill, points/s")
    parser.add_argument("--ac-rate", type=float, default=5.0, help="BRIDGE_AC_RATE (AC allows 5/s per account)")
    parser.add_argument("--drain", type=int, default=0, help="deliver this many backfilled orders to the AC fake")
    parser.add_argument("--bulk", action="store_true", help="read through a bulk export; page a sample beside it")
    parser.add_argument("--order-api", choices=("graphql", "v3"), default="graphql", help="BRIDGE_AC_ORDER_API")
    parser.add_argument("--batch", type=int, default=50, help="BRIDGE_AC_BATCH")
    parser.add_argument("--threads", type=int, default=4, help="BRIDGE_WORKER_THREADS")
    parser.add_argument("--workers", type=int, default=2, help="with --drain: `bridge worker` processes")
    parser.add_argument("--log", type=Path, help="append the worker processes' output to this file")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema at 127.0.0.1:5432 (dropped after)")
    parser.add_argument("--paged-sample", type=int, default=300, help="with --bulk: orders read paged to compare")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        db_url = stack.enter_context(fresh_schema()) if args.postgres else f"sqlite:///{Path(tmp) / 'bridge.db'}"
        shop = FakeShopifyAdmin(restore_rate=args.restore_rate, record=False).start()
        ac = FakeActiveCampaign(rate=args.ac_rate, record=True).start()
        ac.preload_connection()
        try:
            nodes = shopify_orders(args.orders, start=datetime(2025, 1, 1, tzinfo=UTC))
            for node in nodes:
                shop.add_order(node)
            env = {
                "BRIDGE_DATABASE_URL": db_url,
                "BRIDGE_SHOPIFY_SHOP": shop.url,
                "BRIDGE_SHOPIFY_ADMIN_TOKEN": shop.token,
                "BRIDGE_AC_URL": ac.base_url,
                "BRIDGE_AC_TOKEN": ac.token,
                "BRIDGE_AC_CONNECTION_ID": "1",
                "BRIDGE_AC_RATE": str(args.ac_rate),
                "BRIDGE_ECART_STATUSES": "",
                "BRIDGE_RECONCILE_INTERVAL": "0",
                "BRIDGE_LOG_LEVEL": "WARNING",
                "BRIDGE_AC_ORDER_API": args.order_api,
                "BRIDGE_AC_BATCH": str(args.batch),
                "BRIDGE_WORKER_THREADS": str(args.threads),
            }
            settings = load_settings(env, env_file=None)
            print(f"database: {'postgresql' if args.postgres else 'sqlite'}; {args.orders} orders")
            db = Database(settings.database_url)
            db.upgrade()
            # Paged unless --bulk: the default reader would export 10,000 orders in bulk.
            reader = ShopifyReader(settings, bulk_after_pages=5 if args.bulk else None)
            reading = timed_reads(reader)
            last: list[Progress] = []
            started = time.monotonic()
            result = Backfill(db, reader, new_owner(), since=None, until=None).run(last.append)
            elapsed = time.monotonic() - started
            rate = result.seen / elapsed
            how = "one bulk export, handed on" if args.bulk else "paged"
            print(
                f"backfill ({how}): {result.seen} orders read, {result.created} events stored, {result.pages} pages "
                f"of {reader.page_size} in {elapsed:.1f} s = {rate:.0f} orders/s; "
                f"{reader.admin.throttled} THROTTLED answers waited out (bucket 1000, restore {args.restore_rate:g}/s)"
            )
            print(
                f"of which reading (queries, waits, download, parse, mapping) {reading[0]:.1f} s, "
                f"storing the events {elapsed - reading[0]:.1f} s"
            )
            if args.bulk:
                export = reader.last_export
                polls = export.polls if export else 0
                print(f"bulk: {polls} polls, {shop.bulk.downloads} download(s) of the JSONL; 1 bulkOperationRunQuery")
                paged_sample(settings, Path(tmp), nodes, args.paged_sample, args.orders, elapsed)
            # v3: 2 calls per new customer's order; GraphQL: one call carries up to BRIDGE_AC_BATCH orders.
            per_call = args.batch if args.order_api == "graphql" else 0.5
            budget = args.ac_rate * per_call
            print(
                f"AC budget: {args.ac_rate:g} calls/s, {per_call:g} orders a call ({args.order_api}) -> "
                f"{budget:.1f} orders/s; "
                f"{args.orders} orders take {args.orders / budget / 60:.0f} min at AC, "
                f"{elapsed / 60:.1f} min to read ({rate:.0f} orders/s read against {budget:.0f} orders/s AC takes)"
            )
            if args.drain:
                drained = drain(settings, env, db, ac, args, budget)
                total = elapsed + drained
                print(
                    f"end to end: read + store {elapsed:.1f} s + drain {drained:.1f} s = {total:.1f} s "
                    f"({total / 60:.1f} min; target <= 5 min: {'met' if total <= 300 else 'not met'})"
                )
        finally:
            shop.stop()
            ac.stop()


def timed_reads(reader: ShopifyReader) -> list[float]:
    """Wrap the reader so the time spent getting its pages (not storing them) is summed into the list."""
    spent = [0.0]
    original = reader.backfill_pages

    def pages(*args, **kwargs):  # type: ignore[no-untyped-def]
        iterator = original(*args, **kwargs)
        while True:
            started = time.monotonic()
            try:
                page = next(iterator)
            except StopIteration:
                spent[0] += time.monotonic() - started
                return
            spent[0] += time.monotonic() - started
            yield page

    reader.backfill_pages = pages  # type: ignore[method-assign]
    return spent


def paged_sample(settings, tmp: Path, nodes: list[dict], sample: int, orders: int, bulk_time: float) -> None:  # type: ignore[no-untyped-def]
    """Read the first `sample` orders paged, under the same bucket, into another database; compare."""
    until = parse_datetime(nodes[min(sample, len(nodes)) - 1]["updatedAt"]) + timedelta(seconds=1)
    db = Database(f"sqlite:///{tmp / 'paged.db'}")
    db.upgrade()
    reader = ShopifyReader(settings, bulk_after_pages=None)
    started = time.monotonic()
    result = Backfill(db, reader, new_owner(), since=None, until=until).run()
    elapsed = time.monotonic() - started
    whole = elapsed / result.seen * orders
    print(
        f"paged: {result.seen} orders in {elapsed:.1f} s = {result.seen / elapsed:.1f} orders/s -> {orders} orders "
        f"would take {whole / 60:.1f} min; bulk took {bulk_time:.1f} s ({whole / bulk_time:.0f}x faster)"
    )


def drain(settings, env: dict[str, str], db: Database, ac: FakeActiveCampaign, args, budget: float) -> float:  # type: ignore[no-untyped-def]
    """Run `--workers` worker processes until `--drain` orders reached AC; print the measured orders/s (under the
    GraphQL order API: the orders in AC's Custom Object store, the `bulkUpsertOrders` calls and their
    `creationSource`); returns the seconds from the workers' start to the last order in AC."""
    count = args.drain
    deliveries = Deliveries(db)
    graphql = settings.ac_order_api == "graphql"

    def arrived() -> int:
        # A count, not `all_orders()`: a deep copy of 10,000 orders under the fake's lock, five times a second,
        # starves the fake's own request threads.
        return len(ac.graphql.orders) if graphql else len(ac.orders())

    started = time.monotonic()
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")} | env
    with ExitStack() as workers:
        for _ in range(args.workers):
            workers.enter_context(process([BRIDGE, "worker"], worker_env, args.log))
        wait_until(lambda: arrived() >= count, timeout=count / 10 + 120, interval=0.2)
        elapsed = time.monotonic() - started
        calls = [r for r in ac.requests if r.path.startswith("/api/3/ecom")]
        sent: list[list[dict]] = []
        if graphql:
            sent = [c["variables"].get("orders") or [c["variables"].get("order")] for c in ac.graphql.calls()]
            sources = sorted({o["creationSource"] for batch in sent for o in batch if o})
        else:
            sources = sorted({r.json["ecomOrder"]["source"] for r in calls if r.json and "ecomOrder" in r.json})
        span = calls[-1].at - calls[0].at
        orders = arrived()
        print(
            f"drain: {orders} orders to AC in {span:.1f} s = {orders / span:.2f} orders/s "
            f"({orders / span / budget:.2f} of the budget), {len(calls)} AC calls ({len(calls) / orders:.3f} an "
            f"order); 429s: {sum(1 for c in calls if c.status == 429)}; sources sent: {sources}; "
            f"worker start to the last order in AC: {elapsed:.1f} s"
        )
        done = sum(n for (d, s), n in deliveries.count_by_status().items() if s in FINAL)
        ids = [o["storeOrderId"] for batch in sent for o in batch if o]
        again = len(ids) - len(set(ids))
        print(
            f"deliveries final so far: {done}; {args.workers} worker processes x {args.threads} threads; "
            f"orders sent more than once (a call timed out or failed, sent again): {again}"
        )
    return elapsed


if __name__ == "__main__":
    main()
