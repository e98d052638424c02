"""Drills: ActiveCampaign down (503) for a stretch, then back; a storm of 429s with Retry-After.

Outage: everything is delivered once AC is back, and promptly; the circuit breaker bounds the calls spent
while AC is down; each order's versions still reach AC in order. 429 storm: after every 429 nothing reaches
the account until its Retry-After has passed, and everything is delivered afterwards.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest
from werkzeug.wrappers import Request, Response

from bridge.outbound.http import DEFAULT_PAUSE
from bridge.settings import load_settings
from tests.fakes import FakeActiveCampaign
from tests.fakes.base import json_response
from tests.helpers.backlog import insert_events, order_total, versions
from tests.helpers.delivery import InProcessWorker, attempt_rows, delivery_rows, wait_until
from tests.reliability.conftest import all_final, drill_env, written_totals


class OutageActiveCampaign(FakeActiveCampaign):
    """The strict fake, answering every request 503 (no Retry-After) until `down_until` (monotonic)."""

    def __init__(self) -> None:
        super().__init__(rate=None)
        self.down_until = 0.0

    def _check_auth(self, request: Request) -> Response | None:
        if time.monotonic() < self.down_until:
            return json_response({"message": "Service Unavailable"}, 503)
        return super()._check_auth(request)


@pytest.mark.slow
def test_outage_ends_with_everything_delivered_in_order_and_few_calls_spent(db_path, migrated):
    orders, count, threshold, cooldown, threads, outage = 5, 4, 3, 1.0, 4, 6.0
    fake = OutageActiveCampaign().start()
    fake.preload_connection()
    try:
        env = drill_env(
            db_path,
            fake,
            BRIDGE_AC_RATE="100",
            BRIDGE_CIRCUIT_THRESHOLD=str(threshold),
            BRIDGE_CIRCUIT_COOLDOWN=str(cooldown),
            BRIDGE_WORKER_THREADS=str(threads),
        )
        worker = InProcessWorker(load_settings(env, env_file=None), migrated).start()
        try:
            fake.down_until = time.monotonic() + outage
            insert_events(migrated, versions(orders, count))
            wait_until(lambda: time.monotonic() >= fake.down_until, timeout=outage + 1)
            back = time.monotonic()
            wait_until(lambda: all_final(migrated, orders * count), timeout=30, interval=0.1)
            recovered_in = time.monotonic() - back
        finally:
            worker.stop()
        during = [c for c in fake.calls() if c.status == 503]
        print(f"outage {outage:g} s: {len(during)} calls answered 503; all delivered {recovered_in:.1f} s after")

        assert {d["status"] for d in delivery_rows(migrated)} == {"done"}
        # Without the breaker every delivery would retry on the 0.3/0.6 s schedule: ~20 x 10 = 200 calls.
        # With it: `threshold` failures open the circuit, then at most one probe per thread per cooldown.
        bound = threshold + threads * (math.ceil(outage / cooldown) + 1)
        assert 0 < len(during) <= bound, f"{len(during)} calls during the outage (bound {bound})"
        # Promptly: a 503 without Retry-After pauses AC for DEFAULT_PAUSE, so the first try after the outage
        # comes at most that (or a cooldown) after the last failed one; its success closes the circuit and makes
        # every backed-off delivery due at once. The 20 deliveries then take a few seconds at most.
        assert recovered_in < DEFAULT_PAUSE + cooldown + 5
        written = written_totals(fake)
        for order_no in range(orders):
            totals = written[f"o{order_no}"]
            assert set(totals) == {order_total(order_no, v) for v in range(count)}
            assert totals == sorted(totals), f"o{order_no} out of order: {totals}"
        assert len(fake.orders()) == orders
    finally:
        fake.stop()
    assert not fake.errors, fake.errors


@pytest.mark.slow
def test_429_storm_no_request_before_retry_after(db_path, migrated, fast_ac):
    storm, retry_after, orders = 4, 1, 8
    env = drill_env(db_path, fast_ac, BRIDGE_AC_RATE="10", BRIDGE_WORKER_THREADS="4")
    fast_ac.force_429(count=storm, retry_after=retry_after)
    insert_events(migrated, versions(orders, 1))
    worker = InProcessWorker(load_settings(env, env_file=None), migrated).start()
    try:
        wait_until(lambda: all_final(migrated, orders), timeout=30, interval=0.1)
    finally:
        worker.stop()

    assert {d["status"] for d in delivery_rows(migrated)} == {"done"}
    assert fast_ac.count_429 == storm
    assert len(fast_ac.orders()) == orders and len(fast_ac.customers()) == orders
    # The storm lasted as long as its pauses: each forced 429 caught the first request after the last pause.
    calls = sorted(fast_ac.calls(), key=lambda c: c.at)
    limited = [c for c in calls if c.status == 429]
    assert calls[-1].at - limited[0].at >= (storm - 1) * retry_after

    # No request sent after the bridge received a 429 and before its Retry-After passed. (Requests it had
    # already sent when the 429 came back cannot know: they are not counted.)
    attempts = attempt_rows(migrated)
    early = []
    for limited_at in [
        a["started_at"] + timedelta(milliseconds=a["duration_ms"]) for a in attempts if a["status_code"] == 429
    ]:
        early += [
            f"{a['method']} {a['url']} sent {(a['started_at'] - limited_at).total_seconds() * 1000:.0f} ms after a 429"
            for a in attempts
            if limited_at < a["started_at"] < limited_at + timedelta(seconds=retry_after)
        ]
    assert not early, "requests sent inside Retry-After: " + "; ".join(early)
