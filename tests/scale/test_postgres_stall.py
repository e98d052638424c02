"""A stalled PostgreSQL (issue 18 item 4): the server and its backends SIGSTOPped, every socket left open (its
kernel still acknowledges TCP, so keepalives and server-side timeouts never fire). `storebridge web` with warm
pools must answer webhooks and /readyz 503 within BRIDGE_DB_TIMEOUT plus a little, and take webhooks again
after the thaw without a restart. Runs against a private server (`private_postgres.py`), never the shared one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests

from bridge.errors import StorageUnavailable
from bridge.storage import Database, Events
from tests.helpers import signing
from tests.helpers.delivery import wait_until
from tests.helpers.private_postgres import PrivatePostgres, private_postgres

pytestmark = [pytest.mark.slow]

TIMEOUT = 2.0
#: A generous allowance over BRIDGE_DB_TIMEOUT for a loaded machine (the answer itself takes milliseconds).
MARGIN = 3.0


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    """One private cluster for the module (making one takes seconds); each test thaws it before it ends."""
    with private_postgres() as pg:
        yield pg


def _webhook(url: str, order: str) -> tuple[requests.Response, float]:
    now = datetime.now(UTC).isoformat()
    data = {"order_id": order, "email": "pat@example.com", "currency": "USD", "total": 1000, "updated_at": now}
    body = json.dumps({"type": "order.paid", "timestamp": now, "data": data}).encode()
    began = time.monotonic()
    response = requests.post(
        f"{url}/webhooks/custom", data=body, headers=signing.custom_headers(body), timeout=TIMEOUT + 20
    )
    return response, time.monotonic() - began


def _readyz(url: str) -> tuple[requests.Response, float]:
    began = time.monotonic()
    response = requests.get(f"{url}/readyz", timeout=TIMEOUT + 20)
    return response, time.monotonic() - began


def _assert_503_in_time(what: str, response: requests.Response, elapsed: float) -> None:
    print(f"{what}: {response.status_code} after {elapsed:.2f} s (BRIDGE_DB_TIMEOUT={TIMEOUT:g})")
    assert response.status_code == 503, response.text
    assert elapsed < TIMEOUT + MARGIN, f"{what} took {elapsed:.2f} s"


def test_stalled_postgres_gives_503_within_the_timeout_then_recovers(server: PrivatePostgres, processes: dict) -> None:
    env = {
        "BRIDGE_DATABASE_URL": server.url,
        "BRIDGE_WEBHOOK_SECRET": signing.CUSTOM_SECRET,
        "BRIDGE_DB_TIMEOUT": f"{TIMEOUT:g}",
        "BRIDGE_WEB_WORKERS": "2",
        "BRIDGE_WEB_THREADS": "4",
        "BRIDGE_LOG_LEVEL": "WARNING",
    }
    web = processes["start_web"](env).wait_ready()
    with ThreadPoolExecutor(8) as pool:  # warm both processes' pools, several connections each
        warm = list(pool.map(lambda i: _webhook(web.url, f"warm-{i}")[0].status_code, range(16)))
    assert warm == [202] * 16
    assert _readyz(web.url)[0].status_code == 200

    server.freeze()
    try:
        with ThreadPoolExecutor(6) as pool:
            hooks = [pool.submit(_webhook, web.url, f"frozen-{i}") for i in range(4)]
            ready = pool.submit(_readyz, web.url)
            for future in hooks:
                response, elapsed = future.result()
                _assert_503_in_time("webhook during the stall", response, elapsed)
                assert response.json()["error"] == "unavailable"
                assert int(response.headers["Retry-After"]) > 0
            _assert_503_in_time("/readyz during the stall", *ready.result())
        # Later requests meet a pool whose connections were dropped: they reconnect to the frozen server.
        with ThreadPoolExecutor(2) as pool:
            later = pool.submit(_webhook, web.url, "later")
            ready = pool.submit(_readyz, web.url)
            _assert_503_in_time("webhook later in the stall", *later.result())
            _assert_503_in_time("/readyz later in the stall", *ready.result())
    finally:
        server.thaw()

    wait_until(lambda: _webhook(web.url, "after-0")[0].status_code == 202, timeout=20, interval=0.5)
    assert _readyz(web.url)[0].status_code == 200
    db = Database(server.url)
    stored = {e.order_id for e in Events(db).list(limit=100)}
    db.dispose()
    assert stored == {f"warm-{i}" for i in range(16)} | {"after-0"}  # nothing from the stall was stored


def test_background_operations_are_bounded_too(server: PrivatePostgres) -> None:
    """The worker's database (durable=False, its own longer bound) ends every kind of operation on a stalled
    server with StorageUnavailable, including a reconnect, and works again after the thaw."""
    db = Database(server.url, timeout=TIMEOUT, operation_timeout=1.5, durable=False)
    db.upgrade()
    events = Events(db)
    events.list(limit=1)  # a warm pool
    server.freeze()
    try:
        for name, operation in (
            ("read", lambda: events.list(limit=1)),
            ("prepared read", lambda: events.by_delivery_key("custom:nothing")),
            ("ping after the pool was dropped", db.ping),
        ):
            began = time.monotonic()
            with pytest.raises(StorageUnavailable):
                operation()
            elapsed = time.monotonic() - began
            print(f"{name}: StorageUnavailable after {elapsed:.2f} s (operation bound 1.5 s)")
            assert elapsed < 1.5 + MARGIN
    finally:
        server.thaw()
    wait_until(lambda: _pings(db), timeout=20, interval=0.2)
    db.dispose()


def _pings(db: Database) -> bool:
    try:
        db.ping()
    except StorageUnavailable:
        return False
    return True
