"""SQLite's stalled database (issue 18 item 4): another process holds the write lock. `storebridge web` answers
every webhook, and /readyz, 503 within BRIDGE_DB_TIMEOUT plus a little, however many of a process's threads
queue for the lock at once (they queue in-process first, then at SQLite's lock: the two waits share one
budget), and takes webhooks again once the lock is released."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.helpers import signing
from tests.helpers.env import base_env, fixture

TIMEOUT = 2.0
MARGIN = 3.0  # generous, for a loaded machine
CONCURRENT = 5


def _webhook(url: str, n: int) -> tuple[requests.Response, float]:
    when = datetime(2026, 10, 14, tzinfo=UTC) + timedelta(seconds=n)
    body = json.dumps({**json.loads(fixture("shopify", "orders_paid__basic.json")), "updated_at": when.isoformat()})
    headers = signing.shopify_headers(body.encode(), "orders/paid", webhook_id=f"lock-{n}")
    began = time.monotonic()
    response = requests.post(f"{url}/webhooks/shopify", data=body, headers=headers, timeout=TIMEOUT * 10)
    return response, time.monotonic() - began


def _readyz(url: str) -> tuple[requests.Response, float]:
    began = time.monotonic()
    response = requests.get(f"{url}/readyz", timeout=TIMEOUT * 10)
    return response, time.monotonic() - began


@pytest.mark.slow
def test_foreign_write_lock_gives_503_within_the_timeout(db_path, migrated, start_web):
    env = base_env(db_path, BRIDGE_DB_TIMEOUT=f"{TIMEOUT:g}", BRIDGE_WEB_WORKERS="1", BRIDGE_WEB_THREADS="8")
    web = start_web(env).wait_ready()
    assert _webhook(web.url, 0)[0].status_code == 202
    time.sleep(5.1)  # /readyz re-probes writes at most every 5 s: let the next one probe

    with closing(sqlite3.connect(str(db_path), isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")
        try:
            with ThreadPoolExecutor(CONCURRENT + 1) as pool:
                hooks = [pool.submit(_webhook, web.url, n) for n in range(1, CONCURRENT + 1)]
                ready = pool.submit(_readyz, web.url)
                answers = [("webhook", *f.result()) for f in hooks] + [("/readyz", *ready.result())]
        finally:
            locker.execute("ROLLBACK")

    for what, response, elapsed in answers:
        print(f"{what} under a foreign write lock: {response.status_code} after {elapsed:.2f} s (timeout {TIMEOUT:g})")
        assert response.status_code == 503, response.text
        assert elapsed < TIMEOUT + MARGIN, f"{what} took {elapsed:.2f} s"
    for _what, response, _elapsed in answers[:-1]:
        assert response.json()["error"] == "unavailable"
        assert int(response.headers["Retry-After"]) > 0
    assert answers[-1][1].json()["error"] == "database not writable"
    # The stores retry: every one of them is stored now.
    assert [_webhook(web.url, n)[0].status_code for n in range(1, CONCURRENT + 1)] == [202] * CONCURRENT
