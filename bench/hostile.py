"""Hostile-body benchmark (spec §11): what each hostile request costs the web process.

Starts a real `bridge web` (gunicorn with bridge/gunicorn_conf.py, one worker, one thread, SQLite in a
temporary directory or, with --postgres, a fresh schema at 127.0.0.1:5432; every source configured) and posts
the generated hostile corpus (tests/helpers/hostile.py: every class, every source, correctly signed) to it, one
request at a time, then the same delivery again (a platform's retry). For each request it reads the CPU time
the worker process has used, summed over its threads (/proc/<pid>/task/*/schedstat), before the request and
after its answer. The machine may be shared: CPU time, not wall time, and several rounds. Between rounds the
stored events are deleted, so every round takes the same paths (new event, then its retry).

It prints per class p50 / p99 / max in milliseconds, then per body (source and case, over the rounds) p99 and
max, worst first, and the worker's peak resident memory (VmHWM) and its growth (VmRSS after the corpus minus
VmRSS after a warm-up). Targets: every body's max <= 50 ms, growth <= 50 MB, no 5xx.

    .venv/bin/python bench/hostile.py                  # three rounds of the corpus (plus the retries)
    .venv/bin/python bench/hostile.py --rounds 10 --top 0 --postgres
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import requests
from common import BRIDGE, bridge_env, free_port, process, ready, wait_until

from tests.helpers import hostile, signing
from tests.helpers.postgres import fresh_schema
from tests.helpers.procfs import PROC, children
from tests.helpers.webhooks import SOURCES, headers_for, sample

TARGET_MS = 50.0
TARGET_GROWTH_MB = 50.0
SETTLE = 0.005  # s after the answer before reading the CPU clock: the worker finishes its log line and metrics


def cpu_ns(pid: int) -> int:
    """CPU time `pid` has spent on a CPU, all threads (the first field of each thread's schedstat)."""
    total = 0
    for task in (PROC / str(pid) / "task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that just ended
    return total


def status_kib(pid: int, field: str) -> int:
    """A memory figure (VmRSS, VmHWM) of /proc/<pid>/status, in KiB."""
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise ValueError(f"no {field} for pid {pid}")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def forget_events(database_url: str, tmp: Path) -> None:
    """Delete every stored event (the bench's own database): the next round meets the same paths."""
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(tmp / "bridge.db")) as conn, conn:
            conn.execute("DELETE FROM events")
        return
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="times to post the whole corpus")
    parser.add_argument("--warmup", type=int, default=40, help="ordinary webhooks posted first (not measured)")
    parser.add_argument("--log-level", default="INFO", help="BRIDGE_LOG_LEVEL (default: INFO, production)")
    parser.add_argument("--top", type=int, default=15, help="bodies listed, worst first (0: all)")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema at 127.0.0.1:5432/test, not SQLite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bridge-hostile-", dir="/var/tmp"))
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_schema()) if args.postgres else f"sqlite:///{tmp / 'bridge.db'}"
        ok = run(args, url, tmp)
    sys.exit(0 if ok else 1)


def run(args: argparse.Namespace, database_url: str, tmp: Path) -> bool:
    env = {
        **bridge_env(
            database_url,
            BRIDGE_SHOPIFY_SECRET=signing.SHOPIFY_SECRET,
            BRIDGE_WOOCOMMERCE_SECRET=signing.WOO_SECRET,
            BRIDGE_ECARTAPI_WEBHOOK_TOKEN=signing.ECART_TOKEN,
            BRIDGE_WEB_WORKERS="1",
            BRIDGE_WEB_THREADS="1",
        ),
        "BRIDGE_LOG_LEVEL": args.log_level,
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    costs: dict[str, list[tuple[float, str, int]]] = defaultdict(list)
    bodies: dict[str, list[float]] = defaultdict(list)  # "source:case" (and "… retry") -> CPU ms per round
    statuses: dict[int, int] = defaultdict(int)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else f"SQLite in {tmp}"
    print(f"hostile-body benchmark: 1 worker, 1 thread, {backend}; load average {os.getloadavg()[0]:.1f} at start")
    with process([BRIDGE, "web", "--bind", f"127.0.0.1:{port}"], env, log=tmp / "web.log") as web:
        wait_until(lambda: ready(url), timeout=60)
        workers = wait_until(lambda: children(web.pid), timeout=10)
        assert len(workers) == 1, workers
        worker = workers[0]
        session = requests.Session()

        def post(source: str, body: bytes, headers: dict[str, str]) -> tuple[float, int]:
            before = cpu_ns(worker)
            response = session.post(f"{url}/webhooks/{source}", data=body, headers=headers, timeout=60)
            time.sleep(SETTLE)
            spent = (cpu_ns(worker) - before) / 1e6
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                print(f"  !! {response.status_code} {response.text[:200]}", file=sys.stderr)
            return spent, response.status_code

        for n in range(args.warmup):
            source = SOURCES[n % len(SOURCES)]
            body, headers = sample(source)
            spent, code = post(source, body, headers)
            if n >= len(SOURCES):  # the first of each source warms the code paths
                costs["ordinary"].append((spent, f"{source}:sample", code))
        rss_start = status_kib(worker, "VmRSS")
        started = time.monotonic()
        for round_number in range(args.rounds):
            if round_number:
                forget_events(database_url, tmp)
            for case in hostile.corpus():
                name = case.label
                headers = headers_for(case.source, case.body)
                spent, code = post(case.source, case.body, headers)
                costs[case.klass].append((spent, name, code))
                bodies[name].append(spent)
                if code == 202:  # the platform retries the same delivery: answered as a duplicate
                    spent, code = post(case.source, case.body, headers)
                    costs["retry"].append((spent, name, code))
                    bodies[f"{name} retry"].append(spent)
        elapsed = time.monotonic() - started
        rss_end, peak = status_kib(worker, "VmRSS"), status_kib(worker, "VmHWM")

    print(
        f"\n{sum(len(v) for k, v in costs.items() if k != 'ordinary')} hostile requests in {elapsed:.0f} s "
        f"({args.rounds} rounds); answers: {dict(sorted(statuses.items()))}; "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(f"\n{'class':<12} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  worst case")
    overall: list[float] = []
    for klass, rows in costs.items():
        values = [spent for spent, _, _ in rows]
        worst = max(rows)
        if klass != "ordinary":
            overall += values
        print(
            f"{klass:<12} {len(values):>4} {statistics.median(values):>8.1f} {percentile(values, 0.99):>8.1f} "
            f"{worst[0]:>8.1f}  {worst[1]} ({worst[2]})"
        )
    print(
        f"{'all hostile':<12} {len(overall):>4} {statistics.median(overall):>8.1f} "
        f"{percentile(overall, 0.99):>8.1f} {max(overall):>8.1f}"
    )
    ranked = sorted(bodies.items(), key=lambda item: max(item[1]), reverse=True)
    shown = ranked if args.top <= 0 else ranked[: args.top]
    print(f"\nper body over {args.rounds} rounds, worst first ({len(shown)} of {len(ranked)}):")
    print(f"{'body':<44} {'n':>3} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in shown:
        print(
            f"{name:<44} {len(values):>3} {statistics.median(values):>8.1f} {percentile(values, 0.99):>8.1f} "
            f"{max(values):>8.1f}"
        )
    over = [name for name, values in ranked if max(values) > TARGET_MS]
    print(f"bodies whose max is over {TARGET_MS:.0f} ms: {len(over)}{' (' + ', '.join(over) + ')' if over else ''}")
    growth_mb = (rss_end - rss_start) / 1024
    print(
        f"\nworker RSS: {rss_start / 1024:.1f} MB after warm-up, {rss_end / 1024:.1f} MB after the corpus "
        f"(growth {growth_mb:+.1f} MB); peak (VmHWM) {peak / 1024:.1f} MB"
    )
    ok = not over and growth_mb <= TARGET_GROWTH_MB and not any(s >= 500 for s in statuses)
    verdict = "met" if ok else "NOT met"
    print(f"targets (every body's max <= {TARGET_MS:.0f} ms, growth <= {TARGET_GROWTH_MB:.0f} MB, no 5xx): {verdict}")
    return ok


if __name__ == "__main__":
    main()
