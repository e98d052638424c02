"""Backlog benchmark: the drain rate at a 100,000-event backlog against the rate at a 1,000-event backlog.

For each backend (SQLite file, PostgreSQL schema) and each backlog size: a fresh database gets SIZE accepted
`order.paid` events of one returning customer (inserted through Events, 1,000 per transaction, not over
HTTP), which the planner turns into SIZE pending AC deliveries — the backlog an AC outage leaves behind. A
fake ActiveCampaign without a rate limit (its own process, `python -m tests.fakes.activecampaign --rate 0`)
takes the calls; BRIDGE_AC_RATE=1000 keeps the pacer out of the way. Then `bridge worker` starts and the
script measures deliveries/s over the same window at every size: after the first --warmup deliveries, the
next --window deliveries (or --seconds, whichever ends first). It also prints the claim query's plan and
its time at each size (the query `Deliveries.claim` runs, captured as it runs). On PostgreSQL the backlog
is ANALYZEd before the workers start, as autovacuum would have done while a real backlog built up
(--no-analyze keeps the stale statistics of the bulk load).

    .venv/bin/python bench/backlog.py                                  # 1,000 and 100,000, both backends
    .venv/bin/python bench/backlog.py --sizes 1000,100000 --backends sqlite --workers 1
    .venv/bin/python bench/backlog.py --backends postgresql --no-analyze        # the statistics of a bulk load
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from common import BRIDGE, ROOT, bridge_env, process
from sqlalchemy import event, func, select, text

from bridge.delivery.planner import Planner
from bridge.settings import load_settings
from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from bridge.storage.tables import deliveries
from bridge.timeutil import utcnow
from tests.helpers.backlog import insert_events, versions

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Result:
    backend: str
    size: int
    rate: float
    window: int
    seconds: float
    calls_per_delivery: float
    claim_ms: float
    plan: str


@contextmanager
def database(backend: str, tmp: Path) -> Any:
    """A fresh database URL: a new SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def fake_ac(log: Path) -> Any:
    """The fake ActiveCampaign in its own process, without a rate limit; yields (url, process)."""
    argv = [sys.executable, "-m", "tests.fakes.activecampaign", "--port", "0", "--rate", "0", "--preload-connection"]
    with log.open("w") as err:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("READY "):
                raise RuntimeError(f"the fake did not start: {line!r} {log.read_text()[-2000:]}")
            yield line.split()[1], proc
        finally:
            proc.terminate()
            proc.wait(30)


def fake_requests(proc: subprocess.Popen[str]) -> int:
    """Stop the fake; the number of requests it answered (from its JSON summary line)."""
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    summary = json.loads(out.strip().splitlines()[-1])
    return int(summary["requests"])


def done_count(db: Database) -> int:
    with db.read() as conn:
        return int(
            conn.execute(select(func.count()).select_from(deliveries).where(deliveries.c.status == "done")).scalar()
        )


def explain_claim(db: Database) -> tuple[float, str]:
    """Run Deliveries.claim once, capturing its SELECT; time that SELECT and show its plan; give it back."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "earlier" in statement and not captured:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        store = Deliveries(db)
        claimed = store.claim("bench-explain", utcnow(), 60, frozenset())
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    if claimed is not None:
        store.release(claimed.id, "bench-explain", utcnow())
    statement, parameters = captured[0]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        times = []
        for _ in range(20):
            started = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
            raw.rollback()
        prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
        raw.rollback()
    finally:
        raw.close()
    plan = "\n".join(f"      {' | '.join(str(c) for c in row)}" for row in rows)
    return statistics.median(times), plan


def run(args: argparse.Namespace, backend: str, size: int, tmp: Path) -> Result:
    with database(backend, tmp) as db_url, fake_ac(tmp / "fake.log") as (ac_url, fake):
        env = bridge_env(
            db_url,
            BRIDGE_AC_URL=ac_url,
            BRIDGE_AC_TOKEN="test-ac-token",
            BRIDGE_AC_RATE="1000",
            BRIDGE_AC_CONNECTION_ID="1",
            BRIDGE_ECART_STATUSES="none",
            BRIDGE_WORKER_THREADS=str(args.threads),
        )
        db = Database(db_url)
        try:
            db.upgrade()
            started = time.monotonic()
            insert_events(db, versions(size, 1, emails=1), batch=1000, validate=False)
            inserted = time.monotonic()
            planner = Planner(load_settings(env, env_file=None), db)
            planned = planner.plan_pending()
            print(
                f"  {backend} {size}: inserted {size} events in {inserted - started:.0f} s, planned {planned} "
                f"deliveries in {time.monotonic() - inserted:.0f} s",
                flush=True,
            )
            if not db.is_sqlite and not args.no_analyze:
                # Fresh statistics, as autovacuum keeps them on a backlog that built up over time. Right after a
                # bulk load they are stale, and PostgreSQL may anti-join the whole backlog on every claim
                # (--no-analyze shows it).
                with db.write() as conn:
                    conn.execute(text("ANALYZE deliveries"))
            claim_ms, plan = explain_claim(db)
            warm_at = min(args.warmup, size // 5)
            window = min(args.window, size - warm_at - size // 10)
            with ExitStack() as stack:
                for n in range(args.workers):
                    stack.enter_context(process([BRIDGE, "worker"], env, log=tmp / f"worker-{backend}-{size}-{n}.log"))
                t0 = poll_until(db, warm_at, timeout=300)
                d0 = done_count(db)
                deadline = t0 + args.seconds
                while (done := done_count(db)) < d0 + window and time.monotonic() < deadline:
                    time.sleep(0.2)
                t1 = time.monotonic()
            total_done = done_count(db)
            requests = fake_requests(fake)
        finally:
            db.dispose()
    return Result(
        backend=backend,
        size=size,
        rate=(done - d0) / (t1 - t0),
        window=done - d0,
        seconds=t1 - t0,
        calls_per_delivery=requests / max(1, total_done),
        claim_ms=claim_ms,
        plan=plan,
    )


def poll_until(db: Database, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while done_count(db) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} deliveries done in {timeout} s")
        time.sleep(0.05)
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1, help="bridge worker processes")
    parser.add_argument("--threads", type=int, default=4, help="BRIDGE_WORKER_THREADS")
    parser.add_argument("--warmup", type=int, default=200, help="deliveries before the window opens")
    parser.add_argument("--window", type=int, default=600, help="deliveries measured")
    parser.add_argument("--seconds", type=float, default=60.0, help="longest window")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL: skip ANALYZE after the bulk load")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="bridge-backlog-", dir="/var/tmp"))
    print(
        f"backlog benchmark: sizes {sizes}, {args.workers} worker process(es) x {args.threads} threads, fake AC "
        f"without a limit, BRIDGE_AC_RATE=1000; window: deliveries {args.warmup}..{args.warmup + args.window} "
        f"(at most {args.seconds:g} s)"
        f"{'; PostgreSQL statistics left stale' if args.no_analyze else ''}",
        flush=True,
    )
    results: list[Result] = []
    try:
        for backend in args.backends.split(","):
            for size in sizes:
                result = run(args, backend, size, tmp)
                results.append(result)
                print(
                    f"{backend:>10} backlog {size:>7}: {result.rate:6.1f} deliveries/s ({result.window} in "
                    f"{result.seconds:.1f} s), {result.calls_per_delivery:.2f} AC calls/delivery, "
                    f"claim query {result.claim_ms:.2f} ms\n    claim plan:\n{result.plan}",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for backend in args.backends.split(","):
        mine = {r.size: r for r in results if r.backend == backend}
        small, large = mine[min(sizes)], mine[max(sizes)]
        ratio = large.rate / small.rate
        verdict = "within 10%" if ratio >= 0.9 else "MORE THAN 10% SLOWER"
        print(
            f"{backend:>10}: {large.rate:.1f}/s at {large.size} vs {small.rate:.1f}/s at {small.size}: "
            f"ratio {ratio:.3f} ({verdict})"
        )


if __name__ == "__main__":
    main()
