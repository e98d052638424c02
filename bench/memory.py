"""Memory benchmark: the resident memory of each gunicorn worker stays flat over 100,000 webhooks.

Starts `bridge web` (gunicorn with bridge/gunicorn_conf.py, SQLite on disk) and drives it with wrk (signed
Shopify `orders/paid`, a fresh webhook id per request, so every request is stored). Samples VmRSS of every
gunicorn worker (/proc/<pid>/status) after the first, the middle and the last batch of requests; prints
them and the growth between the middle (50,000) and the end (100,000). Requests are counted as stored events.

    .venv/bin/python bench/memory.py                         # 100,000 requests, samples at 10k, 50k, 100k
    .venv/bin/python bench/memory.py --requests 20000

wrk is a Debian package: `apt-get update && apt-get install -y wrk`.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from common import BRIDGE, WRK_INSTALL, bridge_env, free_port, process, ready, wait_until, write_wrk_script, wrk

from tests.helpers.procfs import children, rss_kib
from tests.helpers.signing import SHOPIFY_SECRET


def stored(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--first-sample", type=int, default=10_000, help="an early sample, for context")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--chunk", type=int, default=10, help="seconds per wrk run between checks")
    parser.add_argument("--log-level", default="INFO", help="BRIDGE_LOG_LEVEL (default: INFO, production)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(WRK_INSTALL)

    tmp = Path(tempfile.mkdtemp(prefix="bridge-memory-", dir="/var/tmp"))
    db_path = tmp / "bridge.db"
    script = write_wrk_script(tmp, SHOPIFY_SECRET)
    env = {
        **bridge_env(f"sqlite:///{db_path}", BRIDGE_SHOPIFY_SECRET=SHOPIFY_SECRET),
        "BRIDGE_LOG_LEVEL": args.log_level,
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    middle = args.requests // 2
    marks = sorted({args.first_sample, middle, args.requests})
    samples: dict[int, dict[int, int]] = {}
    print(f"memory benchmark: {args.requests} requests, {args.connections} connections; databases in {tmp}")
    started = time.monotonic()
    try:
        with process([BRIDGE, "web", "--bind", f"127.0.0.1:{port}"], env, log=tmp / "web.log") as web:
            wait_until(lambda: ready(url), timeout=60)
            workers = children(web.pid)
            print(f"gunicorn master {web.pid}, workers {workers}")
            run = 0
            for mark in marks:
                while stored(db_path) < mark:
                    left = mark - stored(db_path)
                    last = wrk(
                        url,
                        script,
                        seconds=max(1, min(args.chunk, int(left / 150) + 1)),
                        connections=args.connections,
                        threads=args.threads,
                        prefix=str(run + 1),
                    )
                    run += 1
                    if last.non2xx or last.socket_errors:
                        print(f"  wrk run {run}: {last.non2xx} non-2xx, {last.socket_errors} socket errors")
                now = children(web.pid)
                if now != workers:
                    sys.exit(
                        f"the workers changed ({workers} -> {now}): a worker restarted, the samples do not compare"
                    )
                samples[mark] = {pid: rss_kib(pid) for pid in workers}
                count = stored(db_path)
                rss = "  ".join(f"{pid}: {kib / 1024:6.1f} MiB" for pid, kib in samples[mark].items())
                print(
                    f"  after {count:>7} stored ({time.monotonic() - started:5.0f} s, last {last.rps:.0f} req/s): {rss}"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    deltas = {pid: samples[args.requests][pid] - samples[middle][pid] for pid in samples[middle]}
    for pid, delta in deltas.items():
        print(
            f"  worker {pid}: {samples[middle][pid] / 1024:.1f} MiB at {middle}, "
            f"{samples[args.requests][pid] / 1024:.1f} MiB at {args.requests}: {delta / 1024:+.2f} MiB"
        )
    worst = max(deltas.values())
    print(f"growth between {middle} and {args.requests} requests: at most {worst / 1024:+.2f} MiB per worker")


if __name__ == "__main__":
    main()
