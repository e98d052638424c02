"""`/metrics` shows stored rows and bytes per table (spec §16) on SQLite (dbstat) and PostgreSQL
(pg_total_relation_size), read at most once a minute (injected clock)."""

from __future__ import annotations

import re
import time

import pytest

from bridge.storage.sizes import CACHE_SECONDS, length_estimate, table_sizes
from tests.privacy.people import Person, post_signed


def gauge(text: str, name: str, table: str) -> float:
    match = re.search(rf'^{name}\{{table="{table}"\}} (\S+)$', text, re.MULTILINE)
    assert match, f"{name}{{table={table}}} missing"
    return float(match.group(1))


def test_metrics_show_rows_and_bytes_per_table(client, db) -> None:
    assert post_signed(client, Person(1).order_body(1), "orders/paid").status_code == 202
    text = client.get("/metrics").text

    assert gauge(text, "bridge_table_rows", "events") == 1
    assert gauge(text, "bridge_table_rows", "deliveries") == 0
    assert gauge(text, "bridge_table_bytes", "events") > 0
    method = "dbstat" if db.is_sqlite else "pg_total_relation_size"
    assert f'bridge_table_bytes_method{{method="{method}"}} 1.0' in text

    # Cached for a minute: a second event shows on the next reading after that.
    assert post_signed(client, Person(1).order_body(2), "orders/paid").status_code == 202
    assert gauge(client.get("/metrics").text, "bridge_table_rows", "events") == 1
    assert table_sizes(db, now=time.monotonic() + CACHE_SECONDS + 1).rows["events"] == 2


def test_the_estimate_without_dbstat_counts_what_the_rows_hold(client, db) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's fallback (a build without dbstat); PostgreSQL always measures")
    body = Person(2).order_body(1)
    assert post_signed(client, body, "orders/paid").status_code == 202
    with db.read() as conn:
        estimate = length_estimate(conn, "events")
    assert len(body) < estimate < len(body) + 2000  # the body, its headers, keys and timestamps
