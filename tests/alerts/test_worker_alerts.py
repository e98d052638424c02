"""A real `bridge worker` with BRIDGE_ALERT_URL posts its alerts to a sink on loopback, and a restarted worker
does not repeat them within the hour (the state is in the database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bridge.storage import Database
from bridge.storage.tables import store_sweeps
from bridge.timeutil import utcnow
from tests.alerts.test_notify import _webhook
from tests.fakes.alert_sink import AlertSink
from tests.helpers.delivery import WorkerProcess, wait_until
from tests.helpers.env import base_env


def test_the_worker_alerts_once_and_a_restart_does_not_repeat_it(
    tmp_path: Path, database_url: str, sink: AlertSink
) -> None:
    env = base_env(
        tmp_path / "bridge.db",
        BRIDGE_DATABASE_URL=database_url,
        BRIDGE_ALERT_URL=sink.url,
        BRIDGE_QUIET_ALERT="1d",
        BRIDGE_METRICS_DIR=str(tmp_path / "metrics"),
        BRIDGE_LOG_LEVEL="INFO",
    )
    db = Database(database_url)
    db.upgrade()
    _webhook(db, "shopify", utcnow() - timedelta(hours=49))
    worker = WorkerProcess(env, tmp_path, tmp_path / "worker-1.log")
    try:
        wait_until(lambda: sink.texts, 30, describe=worker.output)
        worker.terminate()
    finally:
        worker.close()
    assert len(sink.texts) == 1 and sink.texts[0].startswith("storebridge: no webhook from shopify for 49.0 h")
    assert sink.url not in worker.log_path.read_text()  # an incoming-webhook URL is a credential

    # Restarted, with a new condition: it alerts that one; the quiet source is not repeated.
    with db.write() as conn:
        conn.execute(
            insert(store_sweeps).values(
                name="reconcile:shopify",
                last_outcome="failed",
                last_error="HTTP 401 token rejected",
                updated_at=utcnow(),
            )
        )
    worker = WorkerProcess(env, tmp_path, tmp_path / "worker-2.log")
    try:
        wait_until(lambda: len(sink.texts) >= 2, 30, describe=worker.output)
        worker.terminate()
    finally:
        worker.close()
    assert sink.texts[1:] == ["storebridge: reconciliation of shopify is failing: HTTP 401 token rejected"]
    db.dispose()
