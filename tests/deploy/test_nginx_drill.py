"""The slow-client drill (issue 12): real nginx with deploy/nginx/storebridge.conf in front of `storebridge
web`. 200 slow or idle connections (slow headers, slow bodies, silent sockets) delay no legitimate webhook by
more than 1 s through nginx, while far fewer of them, aimed at gunicorn directly, stall it: the control that
shows the drill can fail."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.helpers.env import base_env, fixture
from tests.helpers.live_server import free_port
from tests.helpers.signing import shopify_headers
from tests.helpers.slow_clients import SlowClients, wait_port
from tests.helpers.web_process import clean_env, running

pytestmark = pytest.mark.slow

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
SCRIPT = Path(sys.executable).with_name("storebridge")
WORKERS, THREADS = 2, 4
ATTACK = {"header": 100, "body": 60, "idle": 40}  # 200 connections


def nginx_config(tmp: Path, listen: int, upstream: int) -> Path:
    """A main nginx.conf for a non-system run: the shipped server block, only its `listen` moved to a free
    loopback port, and an upstream pointing at the test's `storebridge web`."""
    site = (DEPLOY / "nginx" / "storebridge.conf").read_text()
    shipped_listen = "    listen 80;\n    listen [::]:80;\n"
    assert shipped_listen in site
    (tmp / "site.conf").write_text(site.replace(shipped_listen, f"    listen 127.0.0.1:{listen};\n"))
    upstream_conf = (DEPLOY / "nginx" / "upstream.conf").read_text()
    assert "server web1:8000" in upstream_conf
    lines = [line for line in upstream_conf.splitlines() if "server web" not in line]
    (tmp / "upstream.conf").write_text(
        "\n".join(lines).replace("upstream storebridge {", f"upstream storebridge {{\n    server 127.0.0.1:{upstream};")
    )
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / f"{name}_temp").mkdir()
    temp_paths = "\n".join(f"    {name}_temp_path {tmp}/{name}_temp;" for name in ("fastcgi", "uwsgi", "scgi"))
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body_temp;
    proxy_temp_path {tmp}/proxy_temp;
{temp_paths}
    include {tmp}/upstream.conf;
    include {tmp}/site.conf;
}}
"""
    )
    return conf


def webhook(n: int) -> tuple[bytes, dict[str, str]]:
    """A distinct signed Shopify orders/paid webhook."""
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["id"] = 9_100_000_000_000 + n
    document["order_number"] = 9000 + n
    body = json.dumps(document).encode()
    return body, shopify_headers(body, "orders/paid")


def send_webhooks(base: str, first: int, count: int, threads: int = 4, timeout: float = 10.0) -> list[tuple]:
    """POST `count` distinct webhooks from `threads` clients; returns (status or error, seconds) for each."""
    results: list[tuple] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        with requests.Session() as session:
            for n in range(first + worker, first + count, threads):
                body, headers = webhook(n)
                started = time.monotonic()
                try:
                    status: object = session.post(
                        f"{base}/webhooks/shopify", data=body, headers=headers, timeout=timeout
                    ).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__
                with lock:
                    results.append((status, time.monotonic() - started))

    pool = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


@pytest.fixture
def bridge_web(tmp_path: Path):
    port = free_port()
    env = clean_env(
        **base_env(tmp_path / "bridge.db"), BRIDGE_WEB_WORKERS=str(WORKERS), BRIDGE_WEB_THREADS=str(THREADS)
    )
    with running(
        [str(SCRIPT), "web", "--bind", f"127.0.0.1:{port}"],
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log=tmp_path / "web.log",
        env=env,
        cwd=tmp_path,
    ):
        yield port


@pytest.fixture
def nginx(tmp_path: Path, bridge_web: int):
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package `nginx`; .ci/run installs it)")
    port = free_port()
    run_dir = tmp_path / "nginx"
    run_dir.mkdir()
    conf = nginx_config(run_dir, port, bridge_web)
    test = subprocess.run(
        [NGINX, "-t", "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_port("127.0.0.1", port)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_slow_clients_stall_gunicorn_alone_but_not_through_nginx(bridge_web: int, nginx: int, tmp_path) -> None:
    direct, proxied = f"http://127.0.0.1:{bridge_web}", f"http://127.0.0.1:{nginx}"

    # Baseline through nginx, nobody attacking.
    calm = send_webhooks(proxied, 0, 20)
    assert {status for status, _ in calm} == {202}, calm
    calm_max = max(seconds for _, seconds in calm)

    # Control: a few slow-header clients aimed at gunicorn itself hold every one of its threads.
    with SlowClients("127.0.0.1", bridge_web, {"header": WORKERS * THREADS * 2}):
        time.sleep(0.5)
        stalled = send_webhooks(direct, 100, 4, timeout=3.0)
    assert all(status != 202 or seconds > 1.0 for status, seconds in stalled), stalled

    # The drill: 200 slow and idle connections at nginx while webhooks keep coming.
    with SlowClients("127.0.0.1", nginx, ATTACK) as attack:
        time.sleep(1.0)  # every slow connection is open and trickling
        during = send_webhooks(proxied, 200, 60)
        still_open = sum(1 for conn in attack._conns if conn.sock is not None)
    statuses = {status for status, _ in during}
    worst = max(seconds for _, seconds in during)
    assert statuses == {202}, during
    assert still_open >= 190, "the attack was not holding its connections"
    assert worst <= calm_max + 1.0, f"a webhook took {worst:.2f} s under attack (calm max {calm_max:.2f} s)"
    with closing(sqlite3.connect(tmp_path / "bridge.db")) as conn:
        bodies = [row[0] for row in conn.execute("SELECT body FROM events")]
    orders = {json.loads(body)["id"] - 9_100_000_000_000 for body in bodies}
    assert set(range(20)) | set(range(200, 260)) <= orders, "every acknowledged webhook is stored"
    print(
        f"\nnginx drill: calm max {calm_max * 1000:.0f} ms; direct under {WORKERS * THREADS * 2} slow headers: "
        f"{[(s, round(t, 2)) for s, t in stalled]}; through nginx under {sum(ATTACK.values())} slow/idle: "
        f"max {worst * 1000:.0f} ms, {attack.reopened} reopened"
    )
