"""A worker's delivery threads outlive what goes wrong in one delivery, and the health record tells when one
did not (issue #18). SQLite and PostgreSQL.

The real-process drills (a PostgreSQL restart, terminated sessions, a foreign SQLite lock) are in
tests/reliability/test_database_blips.py and test_worker_health.py; these run the worker in-process so that a
fault no real database produces on demand (a bug, a thread that dies) can be injected into one delivery.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from bridge.heartbeat import judge, read_status
from bridge.storage.deliveries import Delivery
from tests.fakes import FakeActiveCampaign
from tests.helpers.delivery import (
    InProcessWorker,
    attempt_rows,
    custom_order,
    post_custom,
    run_cli,
    wait_final,
    wait_until,
)

LEASE = 1.0


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_STATUSES": "none",
        "BRIDGE_WORKER_THREADS": "2",
        "BRIDGE_LEASE_SECONDS": str(LEASE),
    }


@pytest.fixture
def running(settings, db, tmp_path: Path):
    """An in-process worker, not started yet (the test injects its fault first); stopped at teardown."""
    worker = InProcessWorker(settings, db)
    worker.worker.heartbeat_dir = tmp_path / "metrics"
    worker.worker.heartbeat_dir.mkdir()
    yield worker
    if worker.thread.is_alive():
        worker.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's death is the test
def test_a_dead_delivery_thread_fails_health_and_its_delivery_is_taken_over(
    running: InProcessWorker, client, db, fake_ac: FakeActiveCampaign, delivery_env, tmp_path: Path
) -> None:
    worker = running.worker
    real_run = worker.executor.run
    died: list[tuple[str, int]] = []

    def run(claimed: Delivery) -> Any:
        if not died:
            died.append((threading.current_thread().name, claimed.id))
            # What no per-iteration `except Exception` catches (a library calling sys.exit): the thread ends.
            raise SystemExit(1)
        return real_run(claimed)

    worker.executor.run = run  # type: ignore[method-assign]
    running.start()
    event_id = post_custom(client, "order.paid", custom_order("o-dead-thread", "2026-11-01T10:00:00+00:00"))

    # Its lease is not renewed (no live thread works on it): it expires, and the other thread delivers it.
    leg = wait_final(db, event_id, legs=1, timeout=20)["activecampaign"]
    assert leg["status"] == "done" and leg["id"] == died[0][1]
    assert [o["externalid"] for o in fake_ac.orders()] == ["o-dead-thread"]

    dead_thread = died[0][0]
    status = wait_until(
        lambda: (s := read_status(worker.heartbeat_dir, os.getpid())) and not s["threads"][dead_thread] and s,
        timeout=10,
    )
    assert [name for name, alive in status["threads"].items() if not alive] == [dead_thread]
    verdict = judge(worker.heartbeat_dir, LEASE + 5)
    assert not verdict.healthy and f"threads dead: {dead_thread}" in verdict.message
    checked = run_cli(
        ["health", "--role", "worker"], {**delivery_env, "BRIDGE_METRICS_DIR": str(worker.heartbeat_dir)}, tmp_path
    )
    assert checked.returncode == 1 and f"threads dead: {dead_thread}" in checked.stderr, checked


def test_a_bug_recording_an_outcome_kills_no_thread_and_the_delivery_is_run_again(
    running: InProcessWorker, client, db, fake_ac: FakeActiveCampaign
) -> None:
    outcomes = running.worker.executor.outcomes
    real_finish = outcomes.deliveries.finish
    broken: list[int] = []

    def finish(delivery_id: int, *args: Any, **kwargs: Any) -> bool:
        if len(broken) < 2:  # the outcome, and the retry record after the crash: a bug in the write itself
            broken.append(delivery_id)
            raise TypeError("a bug in the outcome write")
        return real_finish(delivery_id, *args, **kwargs)

    outcomes.deliveries.finish = finish  # type: ignore[method-assign]
    running.start()
    event_id = post_custom(client, "order.paid", custom_order("o-buggy-write", "2026-11-01T10:00:00+00:00"))

    leg = wait_final(db, event_id, legs=1, timeout=20)["activecampaign"]
    assert leg["status"] == "done" and broken == [leg["id"], leg["id"]]
    # Run twice (the first outcome was lost with the lease), applied at AC once: the second run found the order.
    assert [o["externalid"] for o in fake_ac.orders()] == ["o-buggy-write"]
    creates = [a for a in attempt_rows(db, event_id=event_id) if a["method"] == "POST" and "ecomOrders" in a["url"]]
    assert len(creates) == 1
    assert all(t.is_alive() for t in running.worker.required)
