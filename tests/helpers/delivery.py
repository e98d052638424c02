"""Helpers for the delivery end-to-end tests: polling, posting webhooks, reading the queue, running workers.

Everything here talks to the bridge the way an operator or a platform would (HTTP through the Flask test
client, the database tables, the `bridge` console script); nothing patches the code under test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.delivery.worker import Worker
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.tables import attempts, deliveries, events
from tests.helpers import signing
from tests.helpers.env import fixture

T = TypeVar("T")

#: Short timings that make abandonment, retries, leases and the circuit breaker observable in seconds.
DELIVERY_TIMINGS = {
    "BRIDGE_ABANDON_AFTER": "1",
    "BRIDGE_RETRY_SCHEDULE": "0.3,0.6",
    "BRIDGE_LEASE_SECONDS": "3",
    "BRIDGE_TIMER_INTERVAL": "0.2",
    "BRIDGE_CIRCUIT_COOLDOWN": "1",
    "BRIDGE_HTTP_TIMEOUT": "5",
}
FINAL = ("done", "dead", "stale", "dry_run", "skipped")
CHECKOUT_TOKEN = "0f3c9a7be5d24c81a6f2e9b7d4c8a1e3"  # shared by the Shopify checkout fixtures and orders_paid__basic
PAID_ORDER_ID = "5874120638518"  # orders_paid__basic (refunds_create__basic refunds it)


# -- polling ----------------------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, describe: Callable[[], str] | str = ""
) -> T:
    """Poll `predicate` until it returns something truthy (returned); AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = describe() if callable(describe) else describe
            raise AssertionError(f"condition not met within {timeout} s: {detail}")
        time.sleep(interval)


# -- posting webhooks -------------------------------------------------------------------------------------


def topic_of(name: str, separator: str) -> str:
    """`orders_paid__basic.json` -> `orders/paid` (Shopify) or `order_updated__x.json` -> `order.updated` (Woo)."""
    head, _, tail = name.split("__", 1)[0].partition("_")
    return f"{head}{separator}{tail}"


def _event_id(response: Any, expect: int) -> int:
    assert response.status_code == expect, (response.status_code, response.get_json())
    return int(response.get_json()["event_id"])


def send_shopify(client: FlaskClient, name: str, *, topic: str | None = None, webhook_id: str | None = None) -> Any:
    """POST a Shopify fixture, signed as Shopify does; returns the response."""
    body = fixture("shopify", name)
    headers = signing.shopify_headers(body, topic or topic_of(name, "/"), webhook_id=webhook_id)
    return client.post("/webhooks/shopify", data=body, headers=headers)


def post_shopify(
    client: FlaskClient, name: str, *, topic: str | None = None, webhook_id: str | None = None, expect: int = 202
) -> int:
    """POST a Shopify fixture, signed; returns the event id."""
    return _event_id(send_shopify(client, name, topic=topic, webhook_id=webhook_id), expect)


def post_woo(client: FlaskClient, name: str, *, expect: int = 202) -> int:
    """POST a WooCommerce fixture, signed; returns the event id."""
    body = fixture("woocommerce", name)
    headers = signing.woo_headers(body, topic_of(name, "."))
    return _event_id(client.post("/webhooks/woocommerce", data=body, headers=headers), expect)


def post_ecart(client: FlaskClient, name: str, *, expect: int = 202) -> int:
    """POST an EcartAPI fixture with the webhook token; returns the event id."""
    body = fixture("ecartapi", name)
    return _event_id(client.post("/webhooks/ecartapi", data=body, headers=signing.ecart_headers()), expect)


def post_custom(client: FlaskClient, kind: str, data: Mapping[str, Any], *, expect: int = 202) -> int:
    """POST a canonical event through the `custom` source (Standard Webhooks); returns the event id."""
    envelope = {"type": kind, "timestamp": datetime.now(UTC).isoformat(), "data": dict(data)}
    body = json.dumps(envelope).encode()
    return _event_id(client.post("/webhooks/custom", data=body, headers=signing.custom_headers(body)), expect)


def custom_order(order_id: str, updated_at: str, *, total: int = 5000, email: str = "pat@example.com", **extra: Any):
    """Canonical `data` of a small USD order (one line) for the custom source."""
    data: dict[str, Any] = {
        "store": "shop.example",
        "occurred_at": updated_at,
        "email": email,
        "customer": {"external_id": f"cus-{email}", "email": email},
        "currency": "USD",
        "order_id": order_id,
        "total": total,
        "line_items": [{"external_id": "sku-1", "sku": "SKU-1", "name": "Widget", "quantity": 1, "unit_price": total}],
        "created_at": "2026-10-01T10:00:00+00:00",
        "updated_at": updated_at,
    }
    data.update(extra)
    return data


# -- reading the queue ------------------------------------------------------------------------------------


def delivery_rows(db: Database, event_id: int | None = None) -> list[dict[str, Any]]:
    """Deliveries (all, or of one event), oldest first."""
    query = select(deliveries).order_by(deliveries.c.id)
    if event_id is not None:
        query = query.where(deliveries.c.event_id == event_id)
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def attempt_rows(db: Database, *, event_id: int | None = None, delivery_id: int | None = None) -> list[dict[str, Any]]:
    """Recorded attempts, oldest first."""
    query = select(attempts).order_by(attempts.c.id)
    if event_id is not None:
        query = query.where(attempts.c.event_id == event_id)
    if delivery_id is not None:
        query = query.where(attempts.c.delivery_id == delivery_id)
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def event_rows(db: Database, **match: Any) -> list[dict[str, Any]]:
    """Events whose columns equal `match`, oldest first."""
    query = select(events).order_by(events.c.id)
    for column, value in match.items():
        query = query.where(events.c[column] == value)
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def by_destination(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deliveries of one event keyed by destination; after a replay, the newest one of each."""
    return {row["destination"]: row for row in sorted(rows, key=lambda r: r["id"])}


def wait_final(db: Database, event_id: int, *, legs: int | None = None, timeout: float = 10.0) -> dict[str, dict]:
    """Wait until the event is planned and every delivery of it is final; returns `by_destination` of them."""

    def settled() -> bool:
        planned = event_rows(db, id=event_id)[0]["status"] not in ("received", "accepted")
        rows = delivery_rows(db, event_id)
        if not planned or (legs is not None and len(rows) != legs):
            return False
        return all(r["status"] in FINAL for r in rows)

    wait_until(settled, timeout, describe=lambda: f"event {event_id}: {delivery_rows(db, event_id)}")
    return by_destination(delivery_rows(db, event_id))


def summary(requests: list[Any]) -> list[tuple[str, str, int]]:
    """(method, path, status) of recorded fake requests, for exact comparisons."""
    return [(r.method, r.path, r.status) for r in requests]


def parse_iso(value: str) -> datetime:
    """An ISO-8601 timestamp that must carry an offset."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no UTC offset"
    return parsed


# -- workers ----------------------------------------------------------------------------------------------


class InProcessWorker:
    """`bridge.delivery.worker.Worker` on a thread of the test process."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.stop_event = threading.Event()
        self.worker = Worker(settings, db, self.stop_event)
        self.thread = threading.Thread(target=self.worker.run, name="test-worker", daemon=True)

    def start(self) -> InProcessWorker:
        self.thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout)
        assert not self.thread.is_alive(), "the worker did not stop"


def bridge_executable() -> str:
    """The `bridge` console script of the interpreter running the tests."""
    candidate = Path(sys.executable).parent / "bridge"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("bridge")
    assert found, "the bridge console script is not installed"
    return found


def subprocess_env(bridge_env: Mapping[str, str]) -> dict[str, str]:
    """The current environment without any BRIDGE_* variable, plus `bridge_env`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(bridge_env)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("BRIDGE_METRICS_DIR", str(_metrics_dir(env.get("BRIDGE_DATABASE_URL", ""))))
    return env


def _metrics_dir(database_url: str) -> Path:
    """Metrics files beside a test's SQLite database (cleaned up with pytest's tmp dirs); per schema for PG."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///")).parent / "metrics"
    tag = "".join(c for c in database_url.rpartition("search_path%3D")[2] if c.isalnum() or c == "_") or "default"
    return Path(tempfile.gettempdir()) / "storebridge-test-metrics" / tag


class WorkerProcess:
    """A `bridge worker` process; always killed (and reaped) by `close()`."""

    def __init__(self, bridge_env: Mapping[str, str], cwd: Path, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [bridge_executable(), "worker"],
            env=subprocess_env(bridge_env),
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> int:
        """SIGKILL, and reap it (a zombie would still look alive to `kill(pid, 0)`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(10)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM (graceful stop); SIGKILL if it does not exit in `timeout` s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return self.kill()

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        try:
            self.kill()
        finally:
            self._log.close()


def run_cli(
    args: list[str], bridge_env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run `bridge ARGS…` as an operator would; returns the completed process (text output)."""
    return subprocess.run(
        [bridge_executable(), *args],
        env=subprocess_env(bridge_env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
