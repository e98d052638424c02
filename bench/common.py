"""Shared pieces of the benchmarks: processes on loopback, signed custom events, waiting, wrk."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.signing import CUSTOM_SECRET, custom_headers  # noqa: E402

BRIDGE = str(Path(sys.executable).with_name("bridge"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bridge_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        BRIDGE_DATABASE_URL=db_url,
        BRIDGE_WEBHOOK_SECRET=CUSTOM_SECRET,
        BRIDGE_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` from the repository root; its output goes to `log` (appended) or nowhere. Stopped on exit."""
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    finally:
        if log is not None:
            out.close()


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def order_paid(order_id: str, email: str, *, minute: int = 0, person: bool = False) -> dict[str, Any]:
    """A custom-source order.paid; with `person`, the buyer has a name, a phone and marketing consent."""
    event: dict[str, Any] = {
        "type": "order.paid",
        "timestamp": "2026-11-20T10:00:00Z",
        "data": {
            "store": "bench.example",
            "order_id": order_id,
            "order_number": order_id,
            "email": email,
            "currency": "USD",
            "total": 4200,
            "updated_at": f"2026-11-20T10:{minute:02d}:00Z",
            "line_items": [{"external_id": "p1", "name": "Thing", "quantity": 1, "unit_price": 4200}],
        },
    }
    if person:
        name = email.split("@")[0]
        event["data"]["customer"] = {
            "email": email,
            "first_name": "Bench",
            "last_name": name,
            "phone": f"+1555{sum(map(ord, name)) % 10_000:04d}",
            "accepts_marketing": True,
        }
    return event


def post_custom(url: str, event: dict[str, Any], session: requests.Session) -> requests.Response:
    body = json.dumps(event).encode()
    return session.post(f"{url}/webhooks/custom", data=body, headers=custom_headers(body), timeout=10)


def secret_b64() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# -- wrk: distinct signed Shopify orders/paid, one per request (bench/ingest.py, bench/memory.py) -------------

SHOPIFY_FIXTURE = ROOT / "tests" / "platforms" / "shopify" / "fixtures" / "orders_paid__basic.json"
WRK_INSTALL = "wrk is not installed. On Debian/Ubuntu: apt-get update && apt-get install -y wrk"
WRK_HMAC = Path(__file__).with_name("wrk_hmac.lua")


@dataclass
class WrkRun:
    """What one wrk run measured (requests counts completed responses; non2xx those with status >= 400)."""

    target: str
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ok(self) -> int:
        return self.requests - self.non2xx


def write_wrk_script(directory: Path, secret: str, shop: str = "acme-outdoor.myshopify.com") -> Path:
    """The Lua script for wrk: the Shopify fixture with its `updated_at` moved to the end, so that wrk can give
    every request its own order state (a new `updated_at`) and sign it (bench/wrk_hmac.lua)."""
    order = json.loads(SHOPIFY_FIXTURE.read_bytes())
    order.pop("updated_at", None)
    prefix = json.dumps(order)[:-1] + ', "updated_at": "'
    prefix_path = directory / "orders_paid.prefix.json"
    prefix_path.write_text(prefix)
    script = directory / "orders_paid.lua"
    settings = {
        "BODY_PREFIX_PATH": str(prefix_path),
        "BODY_SUFFIX": '"}',
        "SECRET": secret,
        "TOPIC": "orders/paid",
        "SHOP": shop,
    }
    header = "".join(f"{name} = {json.dumps(value)}\n" for name, value in settings.items())
    script.write_text(header + WRK_HMAC.read_text())
    return script


def wrk(
    url: str, script: Path, *, seconds: int, connections: int, threads: int, prefix: str, target: str = ""
) -> WrkRun:
    """POST `url`/webhooks/shopify for `seconds` with wrk; `prefix`, a run number, keeps every request's order
    state and webhook id unique across runs."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script)]
    argv += [f"{url}/webhooks/shopify", "--", prefix]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK_RESULT "))
    r = json.loads(line.removeprefix("WRK_RESULT "))
    return WrkRun(
        target=target,
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        non2xx=r["non2xx"],
        socket_errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
    )


def ready(url: str) -> bool:
    """True when `url`/readyz answers 200."""
    try:
        return requests.get(f"{url}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False
