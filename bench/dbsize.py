"""Database size per event, and its level under a steady stream with retention on (spec §16), both backends.

A fresh database gets --per-day Shopify `orders/paid` events a simulated day (each a personalised copy of the
basic fixture, its canonical payload as the worker makes it, two finished deliveries and three attempts with
request/response excerpts the size of AC's and EcartAPI's), for --days days; at the end of each day the
retention pass runs with the simulated time (`Retention.prune(now=…)`, injected, no sleeping). Bytes are the
`/metrics` figures (`bridge.storage.sizes.measure`: PostgreSQL pg_total_relation_size, SQLite dbstat), summed
over every table; SQLite's file size is printed too (freed pages are reused, the file does not shrink).

    .venv/bin/python bench/dbsize.py                                   # 1,000 a day, 45 days, retention 15
    .venv/bin/python bench/dbsize.py --per-day 2000 --days 50 --retention 30 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.backlog import database
from bridge.storage import Database
from bridge.storage.retention import Retention
from bridge.storage.sizes import measure
from bridge.storage.tables import applied_versions, attempts, deliveries, events
from tests.privacy.people import Person

START = datetime(2026, 1, 1, tzinfo=UTC)


def rows_for(n: int, at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One finished order event (its row, its deliveries' rows without ids, its attempts' shapes)."""
    body = Person(n % 9000 + 1).order_body(n % 9999)
    document = json.loads(body)
    payload = {"kind": "order.paid", "store": "acme.myshopify.com", "order_id": str(document["id"]),
               "email": document["email"], "customer": document["customer"], "line_items": document["line_items"],
               "billing_address": document.get("billing_address"), "total": 12900, "currency": "USD"}  # fmt: skip
    event = {"source": "shopify", "topic": "orders/paid", "dedupe_key": f"shopify|acme|order|{n}|v1",
             "delivery_key": f"shopify|webhook|{uuid.uuid4()}", "status": "done", "received_at": at,
             "occurred_at": at, "headers": {"X-Shopify-Topic": "orders/paid"}, "body": body, "payload": payload,
             "kind": "order.paid", "store": "acme.myshopify.com", "order_id": str(document["id"])}  # fmt: skip
    legs = [{"destination": d, "lane": f"{d}|{n}", "status": "done", "attempts": 1, "next_attempt_at": at,
             "created_at": at, "updated_at": at, "note": "order created"}
            for d in ("activecampaign", "ecartapi")]  # fmt: skip
    request = json.dumps({"ecomOrder": {"email": document["email"], "orderProducts": document["line_items"]}})
    lookup = f"https://acme.api-us1.com/api/3/ecomCustomers?filters[email]={document['email']}"
    calls = [("GET", lookup, ""), ("POST", "https://acme.api-us1.com/api/3/ecomOrders", request[:4000]),
             ("PUT", f"https://api.ecartapi.com/api/v2/orders/{n}", request[:1500])]  # fmt: skip
    shaped = [{"method": m, "url": u, "request": r, "response": r[:1000], "destination": "activecampaign",
               "started_at": at, "duration_ms": 120, "status_code": 201, "outcome": "ok"}
              for m, u, r in calls]  # fmt: skip
    return event, legs, shaped


def load_day(db: Database, day: int, per_day: int) -> None:
    """One simulated day of events, 500 per transaction."""
    for start in range(0, per_day, 500):
        with db.write() as conn:
            for i in range(start, min(per_day, start + 500)):
                n = day * per_day + i
                at = START + timedelta(days=day, seconds=i * 86400 / per_day)
                event, legs, calls = rows_for(n, at)
                event_id = conn.execute(events.insert().values(**event).returning(events.c.id)).scalar_one()
                ids = [conn.execute(deliveries.insert().values(event_id=event_id, **leg).returning(deliveries.c.id))
                       .scalar_one() for leg in legs]  # fmt: skip
                conn.execute(attempts.insert(), [{**c, "event_id": event_id, "delivery_id": ids[0]} for c in calls])
                conn.execute(
                    applied_versions.insert().values(destination="activecampaign", subject=f"o{n}", version_at=at)
                )


def run(backend: str, per_day: int, days: int, retention: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        db = Database(url, timeout=30)
        db.upgrade()
        print(f"\n{backend}: {per_day}/day for {days} days, BRIDGE_RETENTION_DAYS={retention:g}")
        print(f"{'day':>4} {'events':>8} {'bodies kept':>11} {'MiB':>8} {'file MiB':>8}")
        per_event = level = 0.0
        for day in range(days):
            load_day(db, day, per_day)
            Retention(db, batch_size=500).prune(START + timedelta(days=day + 1), retention)
            if not db.is_sqlite:  # what autovacuum does on a live server: erased space becomes reusable
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM")
            sizes = measure(db)
            total = sum(sizes.bytes.values())
            kept = sizes.rows["events"] - _pruned(db)
            if day + 1 == min(days, int(retention)):
                per_event = total / sizes.rows["events"]  # nothing pruned yet: every event whole
            level = total
            file_mib = _file_mib(url)
            if day % 5 == 4 or day == days - 1:
                print(f"{day + 1:>4} {sizes.rows['events']:>8} {kept:>11} {total / 2**20:>8.1f} {file_mib:>8}")
        pruned = days * per_day - kept
        after = (level - per_event * kept) / max(1, pruned)
        print(
            f"bytes per event with its bodies: {per_event:,.0f}; per pruned event: {after:,.0f} "
            f"({sizes.method}); level ~ {per_day} * ({retention:g} * {per_event:,.0f} + days beyond * {after:,.0f})"
        )
        db.dispose()
        return {"backend": backend, "bytes_per_event": per_event, "bytes_per_pruned_event": after}


def _pruned(db: Database) -> int:
    with db.read() as conn:
        query = select(func.count()).select_from(events).where(events.c.pruned_at.is_not(None))
        return int(conn.execute(query).scalar_one())


def _file_mib(url: str) -> str:
    if not url.startswith("sqlite:///"):
        return "-"
    path = url.removeprefix("sqlite:///")
    total = sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))
    return f"{total / 2**20:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--retention", type=float, default=15)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run(backend, args.per_day, args.days, args.retention)


if __name__ == "__main__":
    main()
