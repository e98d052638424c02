"""Delivery benchmark: drain a backlog against the strict fake ActiveCampaign at its rate limit.

Prints, for new and for returning customers: AC calls/s as a fraction of BRIDGE_AC_RATE, 429s received, AC
calls per event (and how many of them were contact or list calls: contact sync is on by default, buyers have
a name, a phone and marketing consent, and `--list-id` subscribes them); then the p50/p90 latency from a
webhook's 2xx to its first AC call when the worker is idle.

    .venv/bin/python bench/drain.py --events 150 --workers 1
    .venv/bin/python bench/drain.py --events 150 --contact-sync off --list-id 0   # Deep Data only
    .venv/bin/python bench/drain.py --events 1000 --threads 64 --latency-samples 0   # GraphQL, batched (§14)
    .venv/bin/python bench/drain.py --events 150 --order-api v3                      # v3 order calls

Under `--order-api graphql` (the default) orders go through `upsertOrder` / `bulkUpsertOrders`: the batch size
is bounded by `--batch` and by the orders in flight at once (`--threads` per worker process).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests
from common import BRIDGE, bridge_env, free_port, order_paid, post_custom, process, wait_until

from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from bridge.vocabulary import FINAL
from tests.fakes import FakeActiveCampaign
from tests.helpers.postgres import fresh_schema


def drain(
    args: argparse.Namespace,
    fake: FakeActiveCampaign,
    url: str,
    env: dict[str, str],
    db: Database,
    label: str,
    emails: list[str],
    first_order: int,
    expected: int,
) -> None:
    """Post a backlog with no worker running, then time the worker(s) draining it."""
    session = requests.Session()
    for i in range(args.events):
        event = order_paid(f"{first_order + i}", emails[i % len(emails)], person=True)
        post_custom(url, event, session).raise_for_status()
    fake_before = len(fake.requests)
    deliveries = Deliveries(db)

    def finished() -> bool:
        counts = deliveries.count_by_status()
        return sum(n for (d, s), n in counts.items() if d == "activecampaign" and s in FINAL) >= expected

    started = time.monotonic()
    with ExitStack() as stack:
        if args.planned:
            # A backlog after an outage is planned already: plan it with AC paused, then time the drain.
            command = [BRIDGE, "destinations", "pause", "activecampaign"]
            subprocess.run(command, env=env, check=True, capture_output=True)
        for _ in range(args.workers):
            stack.enter_context(process([BRIDGE, "worker"], env, args.log))
        if args.planned:

            def planned() -> bool:
                counts = deliveries.count_by_status()
                return sum(n for (d, _), n in counts.items() if d == "activecampaign") >= expected

            wait_until(planned, timeout=600, interval=0.5)
            command = [BRIDGE, "destinations", "resume", "activecampaign"]
            subprocess.run(command, env=env, check=True, capture_output=True)
            started = time.monotonic()
        wait_until(finished, timeout=args.events * 3 / args.rate + 60, interval=0.2)
    elapsed = time.monotonic() - started
    done_at = time.monotonic()
    calls = fake.requests[fake_before:]
    span = calls[-1].at - calls[0].at if len(calls) > 1 else elapsed
    rate = (len(calls) - 1) / span if span > 0 else 0.0
    contact = sum(1 for c in calls if c.path.startswith(("/api/3/contact", "/api/3/contactLists")))
    print(
        f"{label:>10}: {args.events} events, {len(calls)} AC calls in {span:.1f} s -> {rate:.2f} calls/s = "
        f"{rate / args.rate:.3f} of the limit; 429s: {sum(1 for c in calls if c.status == 429)}; "
        f"calls/event {len(calls) / args.events:.2f} (contact/list {contact / args.events:.2f}); "
        f"peak in any 1 s window: {fake.peak_in_window}; "
        f"orders/s {args.events / (done_at - started):.1f} (worker start to last delivery finished)"
    )


def idle_latency(args: argparse.Namespace, fake: FakeActiveCampaign, url: str, env: dict[str, str]) -> None:
    session = requests.Session()
    latencies = []
    with process([BRIDGE, "worker"], env):
        time.sleep(1.5)
        for i in range(args.latency_samples):
            order_id = f"lat-{i}"
            before = len(fake.requests)
            post_custom(url, order_paid(order_id, "returning-0@example.com"), session).raise_for_status()
            acked = time.time()
            first = wait_until(
                lambda b=before: fake.requests[b] if len(fake.requests) > b else None, timeout=10, interval=0.002
            )
            latencies.append((first.wall - acked) * 1000)
            time.sleep(0.4)
    if not latencies:
        return
    latencies.sort()
    print(
        f"   latency: 2xx -> first AC call, idle worker, {len(latencies)} samples: "
        f"p50 {statistics.median(latencies):.0f} ms, p90 {latencies[int(len(latencies) * 0.9) - 1]:.0f} ms, "
        f"max {latencies[-1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=150)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--latency-samples", type=int, default=20)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema at 127.0.0.1:5432 (dropped after)")
    parser.add_argument("--contact-sync", choices=("on", "off"), default="on", help="BRIDGE_AC_CONTACT_SYNC")
    parser.add_argument("--list-id", type=int, default=1, help="BRIDGE_AC_LIST_ID (0: none)")
    parser.add_argument("--order-api", choices=("graphql", "v3"), default="graphql", help="BRIDGE_AC_ORDER_API")
    parser.add_argument("--batch", type=int, default=50, help="BRIDGE_AC_BATCH")
    parser.add_argument("--threads", type=int, default=4, help="BRIDGE_WORKER_THREADS")
    parser.add_argument(
        "--planned", action="store_true", help="time the drain of a backlog already planned (AC paused meanwhile)"
    )
    parser.add_argument("--log", type=Path, help="append the worker processes' output to this file")
    parser.add_argument("--phases", default="new,returning", help="which backlogs to drain (comma-separated)")
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="bridge-drain-"))
        db_url = args.database_url or f"sqlite:///{tmp / 'bridge.db'}"
        if args.postgres:
            db_url = stack.enter_context(fresh_schema())
        run(args, db_url)


def run(args: argparse.Namespace, db_url: str) -> None:
    """Start the fake, the web process and the backlogs' workers on `db_url`, and print the figures."""
    fake = FakeActiveCampaign(rate=args.rate).start()
    if args.list_id:
        fake.contact_book.preload_list(args.list_id, "Bench buyers")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = bridge_env(
        db_url,
        BRIDGE_AC_URL=fake.base_url,
        BRIDGE_AC_TOKEN="test-ac-token",
        BRIDGE_AC_RATE=str(args.rate),
        BRIDGE_WEB_WORKERS="2",
        BRIDGE_AC_CONTACT_SYNC=args.contact_sync,
        BRIDGE_AC_ORDER_API=args.order_api,
        BRIDGE_AC_BATCH=str(args.batch),
        BRIDGE_WORKER_THREADS=str(args.threads),
        **({"BRIDGE_AC_LIST_ID": str(args.list_id)} if args.list_id else {}),
    )
    db = Database(db_url)
    db.upgrade()
    print(
        f"drain benchmark: limit {args.rate}/s, {args.workers} worker process(es), database "
        f"{db.url.get_backend_name()}, contact sync {args.contact_sync}, list {args.list_id or 'none'}, "
        f"order API {args.order_api}, batch {args.batch}, {args.threads} threads"
    )
    try:
        with process([BRIDGE, "web", "--bind", f"127.0.0.1:{port}"], env):
            wait_until(lambda: _ready(url), timeout=30)
            new = [f"new-{i}@example.com" for i in range(args.events)]
            phases = args.phases.split(",")
            expected = 0
            if "new" in phases:
                expected += args.events
                drain(args, fake, url, env, db, "new", new, 1_000_000, expected)
            if "returning" in phases:
                expected += args.events
                returning = new[: max(1, args.events // 10)]
                drain(args, fake, url, env, db, "returning", returning, 2_000_000, expected)
            idle_latency(args, fake, url, env)
    finally:
        fake.stop()
        db.dispose()


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
