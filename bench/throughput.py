"""Delivery throughput by backend and number of worker processes, against a fake AC with a high limit.

For each backend (SQLite file, PostgreSQL schema) and 1, 2, 4 `bridge worker` processes: post a backlog of
returning-customer orders with no worker running, start the workers, time the drain. Prints events/s.

    .venv/bin/python bench/throughput.py --events 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import psycopg
import requests
from common import BRIDGE, bridge_env, free_port, order_paid, post_custom, process, wait_until

from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from bridge.vocabulary import FINAL
from tests.fakes import FakeActiveCampaign

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def database(backend: str, tmp: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}", schema


def run(backend: str, workers: int, events: int, tmp: Path, fake: FakeActiveCampaign) -> float:
    db_url, schema = database(backend, tmp)
    db = Database(db_url)
    db.upgrade()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bridge_env(
        db_url,
        BRIDGE_AC_URL=fake.base_url,
        BRIDGE_AC_TOKEN="test-ac-token",
        BRIDGE_AC_RATE="1000",
        BRIDGE_AC_CONNECTION_ID="1",
        BRIDGE_ECART_STATUSES="none",
        BRIDGE_WEB_WORKERS="2",
    )
    try:
        with process([BRIDGE, "web", "--bind", f"127.0.0.1:{port}"], env):
            wait_until(lambda: _ready(url), timeout=30)
            session = requests.Session()
            # Warm the customer mapping so every backlog event is one AC call (returning customers).
            post_custom(url, order_paid("warm", "returning@example.com"), session).raise_for_status()
            with process([BRIDGE, "worker"], env):
                wait_until(lambda: _finished(db, 1), timeout=30)
            for i in range(events):
                post_custom(url, order_paid(f"{backend}-{workers}-{i}", "returning@example.com"), session)
        started = time.monotonic()
        with ExitStack() as stack:
            for _ in range(workers):
                stack.enter_context(process([BRIDGE, "worker"], env))
            try:
                wait_until(lambda: _finished(db, events + 1), timeout=events + 120, interval=0.1)
            except TimeoutError:
                raise TimeoutError(f"not drained: {Deliveries(db).count_by_status()}") from None
        return events / (time.monotonic() - started)
    finally:
        db.dispose()
        if schema:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _finished(db: Database, expected: int) -> bool:
    counts = Deliveries(db).count_by_status()
    return sum(n for (_d, s), n in counts.items() if s in FINAL) >= expected


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bridge-throughput-"))
    fake = FakeActiveCampaign(rate=None, record=False).start()
    fake.preload_connection(externalid="bench.example")
    print(f"throughput: {args.events} returning-customer orders per run, fake AC without a limit (1 call/event)")
    try:
        for backend in args.backends.split(","):
            for workers in (int(w) for w in args.workers.split(",")):
                rate = run(backend, workers, args.events, tmp, fake)
                print(f"{backend:>10}  {workers} worker process(es): {rate:7.1f} events/s", flush=True)
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
