"""Spec §6 `/metrics` in prometheus_client multiprocess mode: a real `bridge web` with two gunicorn workers and a
`bridge worker` share one metrics directory, so one scrape (served by either gunicorn worker) sums what every
process counted, and the gauges read from the database give the same figure from every process."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.storage import Database
from bridge.storage.throttles import Throttles
from tests.helpers.delivery import FINAL, attempt_rows, custom_order, delivery_rows, wait_until
from tests.helpers.env import fixture
from tests.helpers.signing import custom_headers
from tests.helpers.webhooks import resign
from tests.observability.helpers import Samples, aware, json_lines, scrape, series, shopify_wrong_signature, value

pytestmark = pytest.mark.slow

EVENTS = "bridge_events_received_total"
Request = tuple[str, bytes, dict[str, str]]


def _custom_paid(number: int) -> Request:
    data = custom_order(f"ord-{number}", "2026-11-20T10:00:00+00:00", email=f"buyer{number}@example.com")
    envelope = {"type": "order.paid", "timestamp": datetime.now(UTC).isoformat(), "data": data}
    body = json.dumps(envelope).encode()
    return "custom", body, custom_headers(body)


def _quarantined() -> Request:
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["currency"] = "XXX"
    body, headers = resign("shopify", document, name="orders_paid__basic.json")
    return "shopify", body, headers


def _unsigned() -> Request:
    body = fixture("shopify", "orders_paid__basic.json")
    return "shopify", body, shopify_wrong_signature(body)


def _post(url: str, request: Request) -> int:
    source, body, headers = request
    with requests.Session() as session:  # a fresh connection each time, so either gunicorn worker may take it
        return session.post(f"{url}/webhooks/{source}", data=body, headers=headers, timeout=10).status_code


def _post_all(url: str, batch: list[Request]) -> list[int]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda r: _post(url, r), batch))


def _webhook_lines(log: Path) -> list[dict[str, Any]]:
    return [e for e in json_lines(log) if e.get("msg") == "request" and e["path"].startswith("/webhooks/")]


def _events(samples: Samples) -> dict[tuple[str, str, str], float]:
    return {
        (labels["source"], labels["kind"], labels["outcome"]): v
        for labels, v in ((dict(k), v) for k, v in series(samples, EVENTS).items())
    }


def test_counters_sum_across_gunicorn_workers_and_the_delivery_worker(processes, bridge_env, fake_ac, tmp_path):
    # AC is live without an EcartAPI token: EcartAPI legs are planned (dry-run) only when asked for.
    bridge_env = {**bridge_env, "BRIDGE_ECART_STATUSES": "paid=paid,cancelled=cancelled,refunded=refunded"}
    web = processes["start_web"](bridge_env)
    db = Database(bridge_env["BRIDGE_DATABASE_URL"])
    throttles = Throttles(db)
    throttles.set_manual_pause("activecampaign", True)  # AC deliveries wait in the queue until resumed

    # 3 accepted, 1 quarantined and 2 rejected 401 at once over fresh connections, then 1 duplicate.
    paid = [_custom_paid(n) for n in range(3)]
    assert sorted(_post_all(web.url, [*paid, _quarantined(), _unsigned(), _unsigned()])) == [202] * 4 + [401] * 2
    assert _post(web.url, paid[0]) == 200
    rejected = 2
    # Both gunicorn workers must have counted some: more 401s over fresh connections until the log shows two.
    while len({e["pid"] for e in _webhook_lines(web.log_path)}) < 2 and rejected < 800:
        assert set(_post_all(web.url, [_unsigned()] * 16)) == {401}
        rejected += 16
    lines = _webhook_lines(web.log_path)
    by_pid = Counter(e["pid"] for e in lines)
    assert len(by_pid) == 2, by_pid

    expected = {
        ("custom", "order.paid", "accepted"): 3,
        ("custom", "order.paid", "duplicate"): 1,
        # Stored raw and answered `accepted`; the worker quarantines it (spec §10), counted below.
        ("shopify", "order.paid", "accepted"): 1,
        ("shopify", "none", "rejected_401"): rejected,
    }
    scrapes = [scrape(web.url) for _ in range(6)]  # whichever worker answers, the figures are the same
    for samples in scrapes:
        assert _events(samples) == expected
        assert value(samples, "bridge_ingest_duration_seconds_count", source="custom") == 4
        assert value(samples, "bridge_ingest_duration_seconds_count", source="shopify") == 1 + rejected
        assert value(samples, "bridge_events_unplanned") == 4  # the raw Shopify event waits to be interpreted
        assert value(samples, "bridge_queue_depth", destination="activecampaign") == 0
        assert value(samples, "bridge_destination_paused", destination="activecampaign", reason="manual") == 1
    logged = Counter((e["source"], e["kind"] or "none", e["outcome"]) for e in lines)
    assert logged == expected  # one log line per request, and the per-process counts add up to the metric

    # The worker plans: EcartAPI legs run as dry-runs, AC legs wait (paused) and show as queue depth and age.
    worker = processes["start_worker"](bridge_env)

    def planned() -> bool:
        rows = delivery_rows(db)
        ac = [r for r in rows if r["destination"] == "activecampaign"]
        ecart = [r for r in rows if r["destination"] == "ecartapi"]
        return len(ac) == 3 and [r["status"] for r in ecart] == ["dry_run"] * 3

    wait_until(planned, 20, describe=lambda: f"{delivery_rows(db)}\n{worker.output()[-3000:]}")
    oldest = min(aware(r["created_at"]) for r in delivery_rows(db) if r["destination"] == "activecampaign")
    before = datetime.now(UTC)
    samples = scrape(web.url)
    after = datetime.now(UTC)
    assert value(samples, "bridge_queue_depth", destination="activecampaign") == 3
    assert value(samples, "bridge_queue_depth", destination="ecartapi") == 0
    age = value(samples, "bridge_queue_oldest_pending_age_seconds", destination="activecampaign")
    assert (before - oldest).total_seconds() - 0.01 <= age <= (after - oldest).total_seconds() + 0.01
    assert value(samples, "bridge_queue_oldest_pending_age_seconds", destination="ecartapi") == 0
    assert value(samples, "bridge_deliveries_by_status", destination="activecampaign", status="pending") == 3
    assert value(samples, "bridge_deliveries_by_status", destination="ecartapi", status="dry_run") == 3
    assert value(samples, "bridge_events_unplanned") == 0
    assert value(samples, "bridge_deliveries_finished_total", destination="ecartapi", state="dry_run") == 3
    interpreted = "bridge_events_interpreted_total"
    assert value(samples, interpreted, source="shopify", kind="order.paid", outcome="quarantined") == 1
    assert value(samples, "bridge_delivery_attempts_total", destination="ecartapi", status_class="dry_run") == 3
    assert value(samples, "bridge_deliveries_finished_total", destination="activecampaign", state="done") is None

    # Resume AC, with one 429 on the way: everything is delivered, and the worker's counts show in the web's scrape.
    fake_ac.force_429(1, retry_after=1)
    throttles.set_manual_pause("activecampaign", False)
    wait_until(
        lambda: all(r["status"] in FINAL for r in delivery_rows(db)),
        30,
        describe=lambda: f"{delivery_rows(db)}\n{worker.output()[-3000:]}",
    )
    assert {r["status"] for r in delivery_rows(db) if r["destination"] == "activecampaign"} == {"done"}
    samples = scrape(web.url)
    assert value(samples, "bridge_deliveries_finished_total", destination="activecampaign", state="done") == 3
    assert value(samples, "bridge_deliveries_finished_total", destination="ecartapi", state="dry_run") == 3
    ac_attempts = [a for a in attempt_rows(db) if a["destination"] == "activecampaign"]
    classes = Counter(f"{a['status_code'] // 100}xx" for a in ac_attempts)
    assert classes["4xx"] == 1 and classes["2xx"] == len(fake_ac.calls()) - 1, (classes, len(fake_ac.calls()))
    for status_class, count in classes.items():
        labels = {"destination": "activecampaign", "status_class": status_class}
        assert value(samples, "bridge_delivery_attempts_total", **labels) == count
    assert value(samples, "bridge_delivery_attempt_duration_seconds_count", destination="activecampaign") == len(
        ac_attempts
    )
    assert value(samples, "bridge_ratelimited_responses_total", destination="activecampaign") == 1 == fake_ac.count_429
    assert value(samples, "bridge_ratelimit_wait_seconds_total", destination="activecampaign") > 0
    assert value(samples, "bridge_queue_depth", destination="activecampaign") == 0
    assert value(samples, "bridge_queue_oldest_pending_age_seconds", destination="activecampaign") == 0
    assert value(samples, "bridge_destination_paused", destination="activecampaign", reason="") == 0
    assert value(samples, "bridge_circuit_open", destination="activecampaign") == 0
    assert _events(samples) == expected  # unchanged by the worker
    metric_files = {p.name.split("_")[0] for p in (tmp_path / "metrics").glob("*.db")}
    assert metric_files == {"counter", "histogram"}
    assert len({p.name for p in (tmp_path / "metrics").glob("counter_*.db")}) == 3  # two web workers + the worker
    db.dispose()
