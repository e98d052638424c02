"""Drill (issue #18, item 1): the database goes away while a real `bridge worker` has deliveries in flight.

Four deliveries are mid-call when it happens: AC has applied their `POST /ecomOrders` (the fake holds the
answers), and the answers arrive while the database cannot take the outcome. A PostgreSQL restart, its
sessions terminated, or a foreign SQLite write lock held longer than `BRIDGE_DB_TIMEOUT`: afterwards every
acknowledged event is delivered exactly once at AC (one order per store order, one customer per buyer)
within a minute of the database coming back, no worker thread died, and the worker's heartbeat record shows
every delivery thread alive.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bridge.heartbeat import read_status
from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from tests.fakes import FakeActiveCampaign
from tests.helpers.backlog import insert_events, versions
from tests.helpers.delivery import WorkerProcess, delivery_rows, event_rows, wait_until
from tests.helpers.private_postgres import PrivatePostgres, private_pg  # noqa: F401 - pytest fixture
from tests.helpers.procfs import thread_count
from tests.reliability.conftest import all_final, drill_env

pytestmark = pytest.mark.slow

ORDERS, CUSTOMERS, THREADS = 40, 10, 4
ORDER_CREATES = "/api/3/ecomOrders"


@pytest.fixture
def worker_log() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.close()


def _start_worker(env: dict[str, str], tmp_path: Path, started: list[WorkerProcess]) -> WorkerProcess:
    worker = WorkerProcess(env, tmp_path, tmp_path / f"worker-{len(started)}.log")
    started.append(worker)
    return worker


def _blip(
    db: Database,
    fake: FakeActiveCampaign,
    worker: WorkerProcess,
    metrics: Path,
    outage: Callable[[], None],
    recover: Callable[[], None],
) -> None:
    """Hold four order creates at AC, cut the database (`outage`), let the answers arrive, bring it back
    (`recover`); then check that everything got delivered exactly once and no thread died."""
    held = fake.hold_next("POST", ORDER_CREATES, count=THREADS, after_commit=True)
    insert_events(db, versions(ORDERS, 1, emails=CUSTOMERS))
    assert held.wait(timeout=30), worker.output()[-3000:]
    threads = thread_count(worker.pid)

    outage()
    fake.release()  # the four answers reach the worker while it cannot record them
    time.sleep(0.5)
    recover()
    back = time.monotonic()

    wait_until(
        lambda: all_final(db, ORDERS),
        timeout=60,
        interval=0.2,
        describe=lambda: f"{Deliveries(db).count_by_status()}\n{worker.output()[-3000:]}",
    )
    print(f"all {ORDERS} delivered {time.monotonic() - back:.1f} s after the database came back")

    output = worker.output()
    assert worker.proc.poll() is None, output[-3000:]
    assert "Exception in thread" not in output, output[-3000:]
    assert thread_count(worker.pid) == threads
    status = wait_until(lambda: read_status(metrics, worker.pid), timeout=10, describe="heartbeat status")
    delivery_threads = {name: alive for name, alive in status["threads"].items() if name.startswith("deliver-")}
    assert delivery_threads == {f"deliver-{i}": True for i in range(THREADS)}

    assert {d["status"] for d in delivery_rows(db)} == {"done"}
    assert {e["status"] for e in event_rows(db)} == {"done"}
    orders = fake.orders()
    assert sorted(o["externalid"] for o in orders) == sorted(f"o{n}" for n in range(ORDERS))  # no duplicate
    assert len(fake.customers()) == CUSTOMERS


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["restart", "terminate_backends"])
def test_postgres_blip_mid_delivery_loses_and_duplicates_nothing(
    private_pg: PrivatePostgres,  # noqa: F811 - the fixture
    fast_ac: FakeActiveCampaign,
    worker_log: list[WorkerProcess],
    tmp_path: Path,
    fault: str,
) -> None:
    db = Database(private_pg.url)
    db.upgrade()
    metrics = tmp_path / "metrics"
    env = drill_env(
        tmp_path / "unused.db",
        fast_ac,
        BRIDGE_DATABASE_URL=private_pg.url,
        BRIDGE_METRICS_DIR=str(metrics),
        BRIDGE_AC_RATE="1000",
        BRIDGE_LEASE_SECONDS="4",
        BRIDGE_DB_TIMEOUT="1",
        BRIDGE_WORKER_THREADS=str(THREADS),
    )
    worker = _start_worker(env, tmp_path, worker_log)

    if fault == "restart":
        _blip(db, fast_ac, worker, metrics, lambda: private_pg.stop(), lambda: (time.sleep(2), private_pg.start()))
    else:
        # Every session killed every 20 ms for 3 s: transactions die half-way, not only idle pooled connections.
        storm = threading.Event()

        def terminate_all() -> None:
            while not storm.wait(0.02):
                with contextlib.suppress(psycopg.Error):
                    private_pg.terminate_backends()

        killer = threading.Thread(target=terminate_all, daemon=True)
        _blip(db, fast_ac, worker, metrics, killer.start, lambda: (time.sleep(2.5), storm.set(), killer.join(10)))
    db.dispose()


def test_sqlite_foreign_write_lock_mid_delivery_loses_and_duplicates_nothing(
    db_path: Path, migrated: Database, fast_ac: FakeActiveCampaign, worker_log: list[WorkerProcess], tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    env = drill_env(
        db_path,
        fast_ac,
        BRIDGE_METRICS_DIR=str(metrics),
        BRIDGE_AC_RATE="1000",
        BRIDGE_DB_TIMEOUT="1",
        BRIDGE_WORKER_THREADS=str(THREADS),
    )
    worker = _start_worker(env, tmp_path, worker_log)
    lock = sqlite3.connect(db_path, timeout=30, isolation_level=None)

    def take() -> None:
        lock.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock for 8 s

    def give_back() -> None:
        time.sleep(7.5)
        lock.execute("ROLLBACK")

    try:
        _blip(migrated, fast_ac, worker, metrics, take, give_back)
    finally:
        lock.close()
