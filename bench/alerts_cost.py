"""What the alert checks cost on a full database: `Alerter.evaluate` (the worker, once a minute) and the alert
gauges (every /metrics scrape), median of 5, on N events and N deliveries (a tenth of them pending).

    python -m bench.alerts_cost 100000                      # SQLite in a temp dir
    python -m bench.alerts_cost 100000 postgresql+psycopg://…  # an empty PostgreSQL database or schema
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bridge.alerts.gauges import AlertGauges
from bridge.alerts.notify import Alerter
from bridge.storage import Database
from bridge.storage.tables import deliveries, events
from bridge.timeutil import utcnow
from tests.helpers.env import make_settings

SOURCES = ("shopify", "woocommerce", "custom")


def fill(db: Database, n: int) -> None:
    """N webhook events spread over three sources, one delivery each, every tenth still pending."""
    now = utcnow()
    with db.write() as conn:
        for start in range(0, n, 5000):
            batch = range(start, min(n, start + 5000))
            event_rows = [
                {
                    "source": SOURCES[i % 3],
                    "topic": "t",
                    "dedupe_key": f"k{i}",
                    "origin": "webhook",
                    "status": "done",
                    "received_at": now - timedelta(seconds=n - i),
                    "headers": {},
                    "body": b"{}",
                }
                for i in batch
            ]
            conn.execute(insert(events), event_rows)
            delivery_rows = [
                {
                    "event_id": i + 1,
                    "destination": "activecampaign",
                    "lane": f"l{i}",
                    "status": "done" if i % 10 else "pending",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now - timedelta(seconds=n - i),
                    "updated_at": now,
                }
                for i in batch
            ]
            conn.execute(insert(deliveries), delivery_rows)
    if not db.is_sqlite:
        with db.write() as conn:
            conn.execute(text("ANALYZE events"))  # what autovacuum does soon after such a load
            conn.execute(text("ANALYZE deliveries"))


def median_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(n: int, url: str | None) -> None:
    settings = make_settings(Path(tempfile.mkdtemp()) / "bridge.db", **({"BRIDGE_DATABASE_URL": url} if url else {}))
    db = Database(settings.database_url)
    db.upgrade()
    fill(db, n)
    alerter = Alerter(settings, db, send=lambda _text: None)
    print(f"evaluate: n={n} median {median_ms(lambda: alerter.evaluate(utcnow())):.1f} ms")
    print(f"gauges:   n={n} median {median_ms(lambda: list(AlertGauges(db, settings).collect())):.1f} ms")
    db.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
