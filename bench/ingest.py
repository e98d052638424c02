"""Ingest benchmark: the bridge against the durable floor, side by side, in one run, with wrk.

Starts two servers under gunicorn with the same settings (`-c bridge/gunicorn_conf.py`, the same
BRIDGE_WEB_WORKERS / BRIDGE_WEB_THREADS environment):

- the bridge, through `bridge web --bind` (SQLite file, WAL, synchronous=FULL);
- bench/reference_app.py, the floor: verify the Shopify HMAC, insert the raw body into a SQLite WAL table
  with synchronous=FULL, answer 202.

Both get the same requests from wrk: signed Shopify `orders/paid` bodies (tests/platforms/shopify/fixtures/
orders_paid__basic.json), each a distinct order state — its own `updated_at`, signed by wrk itself
(bench/wrk_hmac.lua) — with a fresh `X-Shopify-Webhook-Id`, so the bridge stores every request (a retry of
the same state would be answered "duplicate"). The targets
alternate (A/B, then B/A) for several rounds; the script prints requests/s and p50/p99 latency per round and
overall, the ratio bridge/floor, and checks that each database holds one row per 2xx.

    .venv/bin/python bench/ingest.py                       # 3 rounds x 10 s at 16 connections
    .venv/bin/python bench/ingest.py --rounds 5 --duration 20 --connections 16

wrk is a Debian package: `apt-get update && apt-get install -y wrk`.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    BRIDGE,
    ROOT,
    WRK_INSTALL,
    WrkRun,
    bridge_env,
    free_port,
    process,
    ready,
    wait_until,
    write_wrk_script,
    wrk,
)

from tests.helpers.signing import SHOPIFY_SECRET

GUNICORN_CONF = "python:bridge.gunicorn_conf"
TARGET_RPS_RATIO = 0.8
#: The bridge's p99 may be at most this multiple of the floor's, measured in the same run (issue 11).
TARGET_P99_FACTOR = 2.0


def load(url: str, script: Path, args: argparse.Namespace, seconds: int, prefix: str, target: str) -> WrkRun:
    return wrk(
        url,
        script,
        seconds=seconds,
        connections=args.connections,
        threads=args.threads,
        prefix=prefix,
        target=target,
    )


def count_rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed names


def per_process(log: Path) -> dict[int, int]:
    """Requests served by each gunicorn worker (the bridge's request log lines, by pid): an even spread is what
    `worker_connections = threads` in the gunicorn config buys; before it, one process could take them all."""
    counts: collections.Counter[int] = collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        if '"msg": "request"' in line:
            with contextlib.suppress(ValueError, KeyError):
                counts[json.loads(line)["pid"]] += 1
    return dict(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target per round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load per target first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--web-workers", help="BRIDGE_WEB_WORKERS for both (default: bridge/gunicorn_conf.py's)")
    parser.add_argument("--web-threads", help="BRIDGE_WEB_THREADS for both (default: bridge/gunicorn_conf.py's)")
    parser.add_argument("--log-level", default="INFO", help="BRIDGE_LOG_LEVEL for both (default: INFO, production)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, logs)")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit(WRK_INSTALL)

    tmp = Path(tempfile.mkdtemp(prefix="bridge-ingest-", dir="/var/tmp"))
    bridge_db, floor_db = tmp / "bridge.db", tmp / "floor.db"
    script = write_wrk_script(tmp, SHOPIFY_SECRET)

    shared = {"BRIDGE_LOG_LEVEL": args.log_level}
    if args.web_workers:
        shared["BRIDGE_WEB_WORKERS"] = args.web_workers
    if args.web_threads:
        shared["BRIDGE_WEB_THREADS"] = args.web_threads
    env = {**bridge_env(f"sqlite:///{bridge_db}", BRIDGE_SHOPIFY_SECRET=SHOPIFY_SECRET), **shared}
    floor_env = {**env, "REFERENCE_DB": str(floor_db), "REFERENCE_SECRET": SHOPIFY_SECRET}
    bridge_port, floor_port = free_port(), free_port()
    targets = {"bridge": f"http://127.0.0.1:{bridge_port}", "floor": f"http://127.0.0.1:{floor_port}"}
    floor_argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        GUNICORN_CONF,
        "--bind",
        f"127.0.0.1:{floor_port}",
        "--pythonpath",
        str(ROOT / "bench"),
        "reference_app:create_app()",
    ]
    workers = env.get("BRIDGE_WEB_WORKERS") or f"2x{os.cpu_count()} cores"
    print(
        f"ingest benchmark: {args.rounds} rounds x {args.duration:g} s per target, {args.connections} connections, "
        f"wrk -t{args.threads}; gunicorn {GUNICORN_CONF} (workers {workers}, threads "
        f"{env.get('BRIDGE_WEB_THREADS') or 'default 4'}), log level {args.log_level}; databases in {tmp}",
        flush=True,
    )
    runs: list[WrkRun] = []
    ok_total = {"bridge": 0, "floor": 0}
    try:
        with (
            process([BRIDGE, "web", "--bind", f"127.0.0.1:{bridge_port}"], env, log=tmp / "bridge.log"),
            process(floor_argv, floor_env, log=tmp / "floor.log"),
        ):
            for url in targets.values():
                wait_until(lambda u=url: ready(u), timeout=30)
            for name, url in targets.items():
                if args.warmup > 0:
                    warm = load(url, script, args, args.warmup, "0", name)
                    ok_total[name] += warm.ok
            for round_no in range(args.rounds):
                order = ["bridge", "floor"] if round_no % 2 == 0 else ["floor", "bridge"]
                for name in order:
                    run = load(targets[name], script, args, args.duration, str(round_no + 1), name)
                    runs.append(run)
                    ok_total[name] += run.ok
                    print(
                        f"  round {round_no + 1} {name:>6}: {run.rps:8.1f} req/s  p50 {run.p50_ms:6.2f} ms  "
                        f"p99 {run.p99_ms:6.2f} ms  max {run.max_ms:7.2f} ms  non-2xx {run.non2xx}  "
                        f"socket errors {run.socket_errors}",
                        flush=True,
                    )
        stored = {"bridge": count_rows(bridge_db, "events"), "floor": count_rows(floor_db, "webhooks")}
        by_process = per_process(tmp / "bridge.log")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    summary = {}
    for name in ("bridge", "floor"):
        mine = [r for r in runs if r.target == name]
        summary[name] = (
            sum(r.requests for r in mine) / sum(r.seconds for r in mine),
            statistics.median(r.p50_ms for r in mine),
            statistics.median(r.p99_ms for r in mine),
            max(r.p99_ms for r in mine),
        )
        rps, p50, p99, worst = summary[name]
        print(
            f"{name:>8}: {rps:8.1f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms (median of rounds; worst {worst:.2f})"
        )
    ratio = summary["bridge"][0] / summary["floor"][0]
    bridge_rounds = [r.rps for r in runs if r.target == "bridge"]
    spread = (max(bridge_rounds) - min(bridge_rounds)) / statistics.mean(bridge_rounds)
    p99, floor_p99 = summary["bridge"][2], summary["floor"][2]
    met = "MET" if ratio >= TARGET_RPS_RATIO and p99 <= TARGET_P99_FACTOR * floor_p99 else "NOT MET"
    print(
        f"   ratio: bridge/floor = {ratio:.3f} (target >= {TARGET_RPS_RATIO}); bridge rounds "
        f"{', '.join(f'{x:.0f}' for x in bridge_rounds)} req/s (spread {spread:.0%} of the mean); bridge p99 "
        f"{p99:.2f} ms vs floor p99 {floor_p99:.2f} ms (target <= {TARGET_P99_FACTOR:g}x): {met}"
    )
    if by_process:
        print(f"  bridge requests per web process: {sorted(by_process.values(), reverse=True)}")
    # wrk abandons the requests in flight when a run ends: the server may have stored them without wrk counting
    # the 2xx. So every 2xx has its row, and at most `connections` rows per wrk run are unaccounted for.
    slack = args.connections * (args.rounds + (1 if args.warmup > 0 else 0))
    for name in ("bridge", "floor"):
        extra = stored[name] - ok_total[name]
        verdict = "OK" if 0 <= extra <= slack else "MISMATCH"
        print(
            f" {name:>7} rows: {stored[name]} stored for {ok_total[name]} 2xx answers counted by wrk "
            f"(+{extra} in flight when wrk stopped; allowed 0..{slack}): {verdict}"
        )
        if verdict != "OK":
            sys.exit(1)


if __name__ == "__main__":
    main()
