"""Where the webhook request path spends its CPU: cProfile over the real app (Flask test client, SQLite file,
log level INFO), signed Shopify `orders/paid` bodies, each a distinct order state (its own `updated_at`; a
retry of the same state is a duplicate) with a fresh webhook id, signed before the clock starts.

    .venv/bin/python bench/profile_ingest.py                   # 2,000 requests, top 30 by own time
    .venv/bin/python bench/profile_ingest.py --sort cumulative --top 45
    .venv/bin/python bench/profile_ingest.py --postgres --top 0    # the same against a fresh PostgreSQL schema

Prints the CPU per request without the profiler (time.process_time; the fsync is off-CPU) and the ack's wall
time (p50/p99 of the unprofiled requests, one at a time; `--rounds N` repeats that), then the profile. The
test client adds ≈ 0.3 ms per request that gunicorn would spend elsewhere. `--postgres` uses the `test`
database at 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import logging
import pstats
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.app import create_app  # noqa: E402
from bridge.settings import load_settings  # noqa: E402
from bridge.storage import Database  # noqa: E402
from tests.helpers.postgres import fresh_schema  # noqa: E402
from tests.helpers.signing import SHOPIFY_SECRET, shopify_headers  # noqa: E402

FIXTURE = ROOT / "tests" / "platforms" / "shopify" / "fixtures" / "orders_paid__basic.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="unprofiled rounds of --requests each")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema at 127.0.0.1:5432/test, not SQLite")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = tempfile.mkdtemp(prefix="bridge-profile-")
        url = stack.enter_context(fresh_schema()) if args.postgres else f"sqlite:///{tmp}/bridge.db"
        run(args, url, tmp)


def run(args: argparse.Namespace, url: str, tmp: str) -> None:
    env = {
        "BRIDGE_DATABASE_URL": url,
        "BRIDGE_SHOPIFY_SECRET": SHOPIFY_SECRET,
        "BRIDGE_LOG_LEVEL": "INFO",
        "BRIDGE_METRICS_DIR": f"{tmp}/metrics",
    }
    settings = load_settings(env, env_file=None)
    db = Database(settings.database_url)
    db.upgrade()
    client = create_app(settings, db=db).test_client()
    logging.getLogger().handlers[:] = [logging.NullHandler()]  # format the line, do not print it
    order = json.loads(FIXTURE.read_bytes())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    serial = iter(range(10**9))

    def signed(count: int) -> list[tuple[bytes, dict[str, str]]]:
        requests = []
        for _ in range(count):
            order["updated_at"] = (start + timedelta(seconds=next(serial))).isoformat()
            body = json.dumps(order).encode()
            headers = shopify_headers(body, "orders/paid")
            headers["X-Shopify-Webhook-Id"] = str(uuid.uuid4())
            requests.append((body, headers))
        return requests

    def post(batch: list[tuple[bytes, dict[str, str]]]) -> list[float]:
        walls = []
        for body, headers in batch:
            began = time.perf_counter()
            response = client.post("/webhooks/shopify", data=body, headers=headers)
            walls.append(time.perf_counter() - began)
            assert response.status_code == 202, response.data
        return walls

    post(signed(200))  # warm-up
    for _ in range(args.rounds):
        batch = signed(args.requests)
        started = time.process_time()
        walls = sorted(post(batch))
        cpu = (time.process_time() - started) / args.requests * 1000
        p50, p99 = walls[len(walls) // 2], walls[min(len(walls) - 1, int(len(walls) * 0.99))]
        print(f"CPU per request, unprofiled: {cpu:.3f} ms; ack wall p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    db.dispose()
    if args.top <= 0:
        return
    profile = cProfile.Profile()
    batch = signed(args.requests)
    profile.enable()
    post(batch)
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
