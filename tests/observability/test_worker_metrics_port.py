"""The delivery worker's own `/metrics` and `/healthz` (BRIDGE_WORKER_METRICS_BIND), for deployments where a
worker shares no metrics directory with a web (Kubernetes pods): a real `storebridge worker` answers a real
scrape with the bridge's metric families and the counters only it records, while the web's scrape (another
directory) shows none of them; a taken port stops start-up with one line naming the setting; the listener
stays bounded (a few connections at a time, idle ones closed) and its `/healthz` follows the heartbeat."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from bridge.errors import SettingsError
from bridge.settings import load_settings
from bridge.storage import Database
from bridge.worker_http import MAX_CONCURRENT, WorkerHttp, _Handler
from tests.helpers.delivery import bridge_executable, delivery_rows, subprocess_env, wait_until
from tests.helpers.live_server import free_port
from tests.observability.helpers import Samples, scrape, series, value
from tests.observability.test_metrics_multiprocess import _custom_paid, _post, _quarantined

WORKER_ONLY = ("bridge_deliveries_finished_total", "bridge_delivery_attempts_total", "bridge_events_interpreted_total")


def _names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


@pytest.mark.slow
def test_a_worker_in_its_own_metrics_directory_serves_its_own_counters(processes, bridge_env, tmp_path):
    """Web and worker as two pods would run them: separate metrics directories, one database."""
    web = processes["start_web"]({**bridge_env, "BRIDGE_METRICS_DIR": str(tmp_path / "web-pod")})
    port = free_port()
    worker = processes["start_worker"](
        {
            **bridge_env,
            "BRIDGE_METRICS_DIR": str(tmp_path / "worker-pod"),
            "BRIDGE_WORKER_METRICS_BIND": f"127.0.0.1:{port}",
        }
    )
    worker_url = f"http://127.0.0.1:{port}"

    def listening() -> bool:
        assert worker.proc.poll() is None, worker.output()[-3000:]
        try:
            return requests.get(f"{worker_url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(listening, 30, interval=0.1, describe=lambda: worker.output()[-3000:])

    assert _post(web.url, _custom_paid(1)) == 202
    assert _post(web.url, _custom_paid(2)) == 202
    assert _post(web.url, _quarantined()) == 202
    db = Database(bridge_env["BRIDGE_DATABASE_URL"])
    try:
        wait_until(
            lambda: (rows := delivery_rows(db)) and all(r["status"] in ("done", "dry_run") for r in rows),
            30,
            describe=lambda: f"{delivery_rows(db)}\n{worker.output()[-3000:]}",
        )
    finally:
        db.dispose()

    def worker_counted() -> Samples | None:
        samples = scrape(worker_url)
        done = value(samples, "bridge_deliveries_finished_total", destination="activecampaign", state="done")
        return samples if done else None

    mine = wait_until(worker_counted, 10, interval=0.2, describe="the worker's scrape counts its deliveries")
    assert value(mine, "bridge_metrics_database_up") == 1.0
    assert value(mine, "bridge_queue_depth", destination="activecampaign") == 0.0
    # The raw Shopify event is interpreted (and quarantined) by the worker, not by the web that stored it.
    assert (
        value(mine, "bridge_events_interpreted_total", source="shopify", kind="order.paid", outcome="quarantined") == 1
    )
    assert value(mine, "bridge_delivery_attempts_total", destination="activecampaign", status_class="2xx") >= 2
    assert not series(mine, "bridge_events_received_total"), "webhooks are the web pod's figures, not the worker's"

    theirs = scrape(web.url)
    assert series(theirs, "bridge_events_received_total"), "the web pod counts its webhooks"
    for name in WORKER_ONLY:
        assert not series(theirs, name), f"{name} belongs to the worker pod's scrape only"

    health = requests.get(f"{worker_url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    head = requests.head(f"{worker_url}/metrics", timeout=5)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["Content-Length"]) > 0
    assert requests.get(f"{worker_url}/admin/", timeout=5).status_code == 404
    assert requests.post(f"{worker_url}/metrics", timeout=5).status_code == 501  # GET and HEAD only

    assert worker.terminate() == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{worker_url}/metrics", timeout=2)
    assert "Traceback" not in worker.output()


@pytest.mark.slow
def test_a_taken_port_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = subprocess_env(
            {
                "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}",
                "BRIDGE_WORKER_METRICS_BIND": f"127.0.0.1:{port}",
            }
        )
        done = subprocess.run(
            [bridge_executable(), "worker"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"error: BRIDGE_WORKER_METRICS_BIND=127.0.0.1:{port}: cannot listen (Address already in use)" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_setting_is_a_host_and_port_and_off_by_default() -> None:
    assert load_settings({}, env_file=None).worker_metrics_bind is None
    for good in ("0.0.0.0:9102", "127.0.0.1:1", "[::]:9102", "worker.internal:65535"):
        assert load_settings({"BRIDGE_WORKER_METRICS_BIND": good}, env_file=None).worker_metrics_bind == good
    for bad in ("9102", ":9102", "0.0.0.0:0", "0.0.0.0:65536", "unix:/run/x.sock", "[::1]9102", "a b:80"):
        with pytest.raises(SettingsError) as caught:
            load_settings({"BRIDGE_WORKER_METRICS_BIND": bad}, env_file=None)
        assert set(caught.value.problems) == {"BRIDGE_WORKER_METRICS_BIND"}, bad


def _closed(conn: socket.socket) -> bool:
    """True when the server closed `conn` without answering (EOF or reset); waits up to the socket's timeout."""
    try:
        return conn.recv(100) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The listener in this process on a free port, its heartbeat directory under tmp_path (no /metrics here:
    this process's prometheus_client mode is not the worker's)."""
    directory = tmp_path / "metrics"
    directory.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    monkeypatch.setattr(_Handler, "timeout", 0.5)
    db = Database(f"sqlite:///{tmp_path / 'bridge.db'}")
    server = WorkerHttp("127.0.0.1:0", db, lease_seconds=10)
    server.start()
    try:
        yield server, directory
    finally:
        server.close()
        db.dispose()


def _write_record(path) -> None:
    """A live worker's heartbeat record: the database just took a write, every thread alive."""
    now = time.time()
    record = {
        "pid": 4242,
        "written_at": now,
        "database_ok_at": now,
        "threads": {"housekeeping": True, "deliver-0": True},
    }
    path.write_text(json.dumps(record))


def test_healthz_follows_the_heartbeat(listener) -> None:
    server, directory = listener
    url = f"http://127.0.0.1:{server.address[1]}/healthz"
    assert requests.get(url, timeout=5).status_code == 503  # no worker has beaten yet
    beat = directory / "worker_4242.heartbeat"
    _write_record(beat)
    assert requests.get(url, timeout=5).json() == {"status": "ok"}
    stale = time.time() - 16  # older than lease_seconds + 5
    os.utime(beat, (stale, stale))
    answer = requests.get(url, timeout=5)
    assert answer.status_code == 503 and json.loads(answer.text) == {"status": "unhealthy"}


def test_connections_beyond_the_bound_are_closed_and_idle_ones_time_out(listener) -> None:
    server, directory = listener
    _write_record(directory / "worker_4242.heartbeat")
    address = ("127.0.0.1", server.address[1])
    idle = [socket.create_connection(address, timeout=10) for _ in range(MAX_CONCURRENT)]
    try:
        time.sleep(0.1)  # every idle connection has its slot
        extra = socket.create_connection(address, timeout=10)
        assert _closed(extra), "a connection over the bound is closed without an answer"
        extra.close()
        for conn in idle:  # each idle connection is dropped after the handler's socket timeout
            assert _closed(conn)
    finally:
        for conn in idle:
            conn.close()
    wait_until(lambda: requests.get(f"http://{address[0]}:{address[1]}/healthz", timeout=5).status_code == 200, 10)
