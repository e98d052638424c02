"""`bridge backfill` and `bridge reconcile --once` as an operator runs them (subprocesses against the fakes),
the `reconciliation` line of `bridge check`, and /metrics. SQLite only: the sweeps themselves run on both
backends in the other modules."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bridge.settings import Settings
from bridge.storage import Database
from bridge.sweeps.reconcile import Reconciler
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.delivery import bridge_executable, event_rows, run_cli, subprocess_env
from tests.helpers.store_data import shopify_orders

LONG_AGO = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def database_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


def test_reconcile_once_and_the_check_line(
    db: Database, delivery_env: dict[str, str], shopify_admin: FakeShopifyAdmin, tmp_path: Path
) -> None:
    for node in shopify_orders(2, start=datetime.now(UTC) - timedelta(hours=1)):
        shopify_admin.add_order(node)
    done = run_cli(["reconcile", "--once", "--source", "shopify"], delivery_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "shopify: ok, 2 read, 2 recovered"
    assert len(event_rows(db, origin="reconcile")) == 2

    check = run_cli(["check"], delivery_env, tmp_path)
    [line] = [ln for ln in check.stdout.splitlines() if ln.startswith("reconciliation")]
    assert line.startswith("reconciliation: ok - not scheduled (BRIDGE_RECONCILE_INTERVAL=0); ")
    assert "shopify: last run " in line and " ok, 2 recovered (2 in all)" in line
    assert "woocommerce: no run yet" in line

    shopify_admin.token = "revoked"
    failed = run_cli(["reconcile", "--once", "--source", "shopify"], delivery_env, tmp_path)
    assert failed.returncode == 1 and "shopify: failed" in failed.stdout and "Traceback" not in failed.stderr
    check = run_cli(["check"], delivery_env, tmp_path)
    assert check.returncode == 1
    assert any(ln.startswith("reconciliation: FAILED") for ln in check.stdout.splitlines())
    assert shopify_admin.token not in check.stdout + failed.stdout


def test_reconcile_needs_once(delivery_env: dict[str, str], tmp_path: Path) -> None:
    done = run_cli(["reconcile"], delivery_env, tmp_path)
    assert done.returncode == 2 and "--once" in done.stderr


def test_backfill_twice_creates_nothing_new(
    db: Database, delivery_env: dict[str, str], shopify_admin: FakeShopifyAdmin, tmp_path: Path
) -> None:
    for node in shopify_orders(60, start=LONG_AGO):
        shopify_admin.add_order(node)
    args = ["backfill", "--source", "shopify", "--since", "2026-02-01", "--until", "2026-04-01"]
    first = run_cli(args, delivery_env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("shopify: 60 read, 60 new events, ")
    assert first.stderr == ""  # no progress line when stderr is not a terminal
    second = run_cli(args, delivery_env, tmp_path)
    assert second.stdout.startswith("shopify: 60 read, 0 new events, ")
    assert len(event_rows(db, origin="backfill")) == 60
    query = shopify_admin.calls("POST")[0].json["variables"]["query"]
    assert query == "updated_at:>='2026-02-01T00:00:00Z' AND updated_at:<'2026-04-01T00:00:00Z'"


def test_backfill_shows_progress_on_a_terminal(
    delivery_env: dict[str, str], shopify_admin: FakeShopifyAdmin, tmp_path: Path
) -> None:
    for node in shopify_orders(120, start=LONG_AGO):
        shopify_admin.add_order(node)
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [bridge_executable(), "backfill", "--source", "shopify"],
            env=subprocess_env(delivery_env),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    text = shown.decode()
    # The default page: 10 orders of up to 10 line items (Shopify prices it at 982 of its 1,000 points).
    assert "\rshopify: page 1, 10 read, 10 new, " in text and "/s" in text
    assert "page 12, 120 read, 120 new" in text
    assert len(shopify_admin.bulk.operations) == 1  # read through a bulk export, with the paged reader's progress
    assert "\rshopify: bulk export RUNNING, " in text  # and the export's own while it runs


def test_a_failed_bulk_export_is_said_in_plain_words_and_a_rerun_exports_again(
    db: Database, delivery_env: dict[str, str], shopify_admin: FakeShopifyAdmin, tmp_path: Path
) -> None:
    for node in shopify_orders(60, start=LONG_AGO):
        shopify_admin.add_order(node)
    shopify_admin.bulk.running_polls = 0  # ends at the first poll: no wait in a subprocess
    shopify_admin.bulk.fail_next("ACCESS_DENIED")
    failed = run_cli(["backfill", "--source", "shopify"], delivery_env, tmp_path)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith(
        "error: shopify: the bulk export gid://shopify/BulkOperation/1 FAILED (ACCESS_DENIED) after 0 objects; "
        "run the backfill again to start a new export"
    )
    again = run_cli(["backfill", "--source", "shopify"], delivery_env, tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("shopify: 60 read, 60 new events (resumed)")
    assert len(shopify_admin.bulk.operations) == 2 and len(event_rows(db, origin="backfill")) == 60


def test_ctrl_c_stops_a_backfill_which_then_runs_again(
    db: Database, delivery_env: dict[str, str], shopify_admin: FakeShopifyAdmin, tmp_path: Path
) -> None:
    for node in shopify_orders(10, start=LONG_AGO):
        shopify_admin.add_order(node)
    hold = shopify_admin.hold_next(method="POST", path_prefix="/admin/api/")
    proc = subprocess.Popen(
        [bridge_executable(), "backfill", "--source", "shopify"],
        env=subprocess_env(delivery_env),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert hold.wait(timeout=20)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shopify_admin.release()
    assert proc.returncode == 130 and "interrupted; run the same command again to resume" in err
    assert "Traceback" not in err
    again = run_cli(["backfill", "--source", "shopify"], delivery_env, tmp_path)  # the lease was given back
    assert again.returncode == 0 and again.stdout.startswith("shopify: 10 read, 10 new events")


def test_metrics_count_runs_and_recovered_events(
    settings: Settings, db: Database, client: FlaskClient, shopify_admin: FakeShopifyAdmin
) -> None:
    for node in shopify_orders(3, start=datetime.now(UTC) - timedelta(hours=1)):
        shopify_admin.add_order(node)
    Reconciler(settings, db, "test").run_once("shopify")
    text = client.get("/metrics").get_data(as_text=True)
    runs = [ln for ln in text.splitlines() if ln.startswith("bridge_reconcile_runs_total{")]
    recovered = [ln for ln in text.splitlines() if ln.startswith("bridge_reconcile_events_recovered_total{")]
    assert any('source="shopify"' in ln and 'outcome="ok"' in ln for ln in runs), runs
    [line] = [ln for ln in recovered if 'source="shopify"' in ln]
    assert float(line.rsplit(" ", 1)[1]) >= 3
