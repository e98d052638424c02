"""PostgreSQL goes away during ingest (a connection-level fault: the test cannot stop the shared server):
the web answers 503 + Retry-After, never a 2xx for an event it did not store, and recovers by itself; the
worker reconnects and delivers everything that was acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from bridge.storage import Database, Events
from tests.fakes import FakeActiveCampaign
from tests.helpers import signing
from tests.helpers.delivery import delivery_rows, wait_until
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    server = TcpProxy(("127.0.0.1", 5432)).start()
    yield server
    server.stop()


def _post(url: str, order: str) -> requests.Response:
    data = {
        "order_id": order,
        "email": "pat@example.com",
        "currency": "USD",
        "total": 1000,
        "updated_at": datetime.now(UTC).isoformat(),
    }
    body = json.dumps({"type": "order.paid", "timestamp": datetime.now(UTC).isoformat(), "data": data}).encode()
    return requests.post(f"{url}/webhooks/custom", data=body, headers=signing.custom_headers(body), timeout=15)


def test_database_outage_gives_503_then_recovers_without_restart(
    pg_url: str, proxy: TcpProxy, fake_ac: FakeActiveCampaign, processes: dict, tmp_path: Path
) -> None:
    via_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    Database(pg_url).upgrade()
    env = {
        "BRIDGE_DATABASE_URL": via_proxy,
        "BRIDGE_WEBHOOK_SECRET": signing.CUSTOM_SECRET,
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": "test-ac-token",
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_STATUSES": "none",
        "BRIDGE_AC_ORDER_API": "v3",  # these tests count v3 order calls; GraphQL orders have their own
        "BRIDGE_DB_TIMEOUT": "1",
        "BRIDGE_WEB_WORKERS": "2",
        "BRIDGE_LOG_LEVEL": "WARNING",
    }
    web = processes["start_web"](env).wait_ready()
    processes["start_worker"](env)

    acked = [f"before-{i}" for i in range(5) if _post(web.url, f"before-{i}").status_code == 202]
    assert len(acked) == 5

    proxy.cut()
    during = [_post(web.url, f"during-{i}") for i in range(5)]
    for response in during:
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable"
        assert int(response.headers["Retry-After"]) > 0
    assert requests.get(f"{web.url}/readyz", timeout=5).status_code == 503

    proxy.restore()
    wait_until(lambda: _post(web.url, "after-0").status_code == 202, timeout=20, interval=0.5)
    acked += ["after-0"] + [f"after-{i}" for i in range(1, 5) if _post(web.url, f"after-{i}").status_code == 202]
    assert len(acked) == 10

    db = Database(pg_url)
    stored = {e.order_id for e in Events(db).list(limit=100)}
    assert stored == set(acked)  # nothing from the outage was stored, everything acknowledged was
    wait_until(
        lambda: len(delivery_rows(db)) == 10 and all(r["status"] == "done" for r in delivery_rows(db)),
        timeout=60,
        interval=0.3,
        describe="deliveries after the outage",
    )
    sent = {r.json["ecomOrder"]["externalid"] for r in fake_ac.calls(method="POST", path_prefix="/api/3/ecomOrders")}
    assert sent == set(acked)
    db.dispose()
