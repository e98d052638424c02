"""A real gunicorn (`bridge web`, two workers) receives one signed webhook per source and stores them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bridge.storage import Database, Events
from tests.helpers.env import base_env, fixture
from tests.helpers.live_server import free_port
from tests.helpers.webhooks import headers_for, interpret_all

pytestmark = pytest.mark.slow

# source, fixture, kind, order id
DELIVERIES = [
    ("shopify", "orders_paid__kwd.json", "order.paid", "5874160975926"),
    ("woocommerce", "order_updated__refunded.json", "order.refunded", "4823"),
    ("ecartapi", "order__cancelled.json", "order.cancelled", "5912345744438"),
    ("custom", "checkout_updated__basic.json", "checkout.updated", None),
]


def _bridge_script() -> str:
    script = Path(sys.executable).with_name("bridge")
    return str(script) if script.exists() else (shutil.which("bridge") or "bridge")


def _wait_ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"/readyz not ready after {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


def test_gunicorn_roundtrip(tmp_path):
    db_path = tmp_path / "bridge.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(base_env(db_path), BRIDGE_WEB_WORKERS="2", BRIDGE_WEB_THREADS="2")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [_bridge_script(), "web", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path,  # no .env here; the packaged gunicorn config is used
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base, process, log)
        answers = {}
        with requests.Session() as session:
            for source, name, _kind, _order in DELIVERIES:
                body = fixture(source, name)
                response = session.post(
                    f"{base}/webhooks/{source}", data=body, headers=headers_for(source, body, name=name), timeout=10
                )
                assert response.status_code == 202, (source, response.text)
                assert response.json()["status"] == "accepted"
                answers[source] = int(response.json()["event_id"])
            # a redelivery hits whichever worker: still one event
            body = fixture("woocommerce", "order_updated__refunded.json")
            again = session.post(
                f"{base}/webhooks/woocommerce",
                data=body,
                headers=headers_for("woocommerce", body, name="order_updated__refunded.json"),
                timeout=10,
            )
            assert again.status_code == 200
            assert again.json() == {"status": "duplicate", "event_id": str(answers["woocommerce"])}
    finally:
        returncode = _stop(process)

    assert returncode == 0, log.read_text(errors="replace")[-3000:]
    db = Database(f"sqlite:///{db_path}")
    try:
        events = Events(db)
        assert len(events.list()) == len(DELIVERIES)
        interpret_all(db)  # the worker's first step: platform events were stored raw
        for source, name, kind, order_id in DELIVERIES:
            record = events.get(answers[source])
            assert (record.source, record.kind, record.order_id, record.status) == (source, kind, order_id, "accepted")
            assert record.body == fixture(source, name)
            assert record.payload["kind"] == kind
        assert events.get(answers["shopify"]).payload["total"] == 26190  # KWD "26.190"
        assert events.get(answers["woocommerce"]).payload["total"] == 2500
    finally:
        db.dispose()
