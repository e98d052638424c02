"""bridge.metrics in one process (the Flask test client, no PROMETHEUS_MULTIPROC_DIR: the default registry),
the scrape-time database gauges, and the shared-directory wiring the CLI uses."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge import metrics
from bridge.storage.throttles import Throttles
from tests.helpers import signing
from tests.helpers.delivery import custom_order, post_custom
from tests.helpers.env import fixture
from tests.observability.helpers import Samples, value


def _scrape(client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == metrics.CONTENT_TYPE
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
    return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)


def test_webhook_outcomes_are_counted_without_multiprocess_mode(client, monkeypatch) -> None:
    monkeypatch.delenv(metrics.MULTIPROC_VARIABLE, raising=False)
    before = _scrape(client)
    post_custom(client, "order.paid", custom_order("m-1", "2026-11-20T10:00:00+00:00"))
    body = fixture("shopify", "orders_paid__basic.json")
    wrong = signing.shopify_headers(body, "orders/paid", secret="wrong")
    for _ in range(2):
        assert client.post("/webhooks/shopify", data=body, headers=wrong).status_code == 401
    assert (
        client.post("/webhooks/shopify", data=b"[]", headers=signing.shopify_headers(b"[]", "orders/paid")).status_code
        == 400
    )
    assert client.post("/webhooks/elsewhere", data=b"{}").status_code == 404
    after = _scrape(client)
    events = "bridge_events_received_total"
    assert _delta(after, before, events, source="custom", kind="order.paid", outcome="accepted") == 1
    assert _delta(after, before, events, source="shopify", kind="none", outcome="rejected_401") == 2
    assert _delta(after, before, events, source="shopify", kind="none", outcome="rejected_400") == 1
    assert _delta(after, before, events, source="unknown", kind="none", outcome="rejected_404") == 1
    assert _delta(after, before, "bridge_ingest_duration_seconds_count", source="shopify") == 3
    assert value(after, "bridge_events_unplanned") == 1
    assert value(after, "bridge_metrics_database_up") == 1


def test_database_gauges_are_read_at_scrape_time(client, db) -> None:
    throttles = Throttles(db)
    throttles.record_failure("ecartapi", threshold=1, cooldown=60, now=time.time())
    throttles.set_manual_pause("activecampaign", True)
    samples = _scrape(client)
    assert value(samples, "bridge_circuit_open", destination="ecartapi") == 1
    assert value(samples, "bridge_circuit_consecutive_failures", destination="ecartapi") == 1
    assert value(samples, "bridge_circuit_open", destination="activecampaign") == 0
    assert value(samples, "bridge_destination_paused", destination="activecampaign", reason="manual") == 1
    assert value(samples, "bridge_queue_depth", destination="activecampaign") == 0


def test_a_scrape_answers_while_the_database_is_down(client, db, tmp_path) -> None:
    db.dispose()
    (tmp_path / "bridge.db").unlink()
    (tmp_path / "bridge.db").mkdir()  # no longer a database file
    samples = _scrape(client)
    assert value(samples, "bridge_metrics_database_up") == 0
    assert value(samples, "bridge_queue_depth", destination="activecampaign") is None


def test_the_default_directory_is_stable_per_database(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env: dict[str, str] = {}
    relative = metrics.metrics_dir("sqlite:///bridge.db", env, env_file=None)
    assert relative == metrics.metrics_dir(f"sqlite:///{tmp_path / 'bridge.db'}", env, env_file=None)
    assert relative.parent == Path(tempfile.gettempdir())
    assert relative != metrics.metrics_dir("sqlite:///other.db", env, env_file=None)
    pg = "postgresql+psycopg://bridge:{}@db.internal:5432/bridge"
    assert metrics.metrics_dir(pg.format("one"), env, None) == metrics.metrics_dir(pg.format("two"), env, None)
    assert metrics.metrics_dir(pg.format("x"), {metrics.METRICS_DIR_VARIABLE: "/srv/m"}, None) == Path("/srv/m")
    (tmp_path / ".env").write_text(f"{metrics.METRICS_DIR_VARIABLE}={tmp_path / 'from-dotenv'}\n")
    assert metrics.metrics_dir(pg.format("x"), env, ".env") == tmp_path / "from-dotenv"


def test_enable_sets_the_variable_and_clears_only_dead_processes_files(tmp_path, monkeypatch) -> None:
    # setenv records the variable's absence, so teardown removes what enable_multiprocess() sets below;
    # delenv(raising=False) on an absent variable would record nothing and leak it into later tests.
    monkeypatch.setenv(metrics.MULTIPROC_VARIABLE, str(tmp_path))
    shared = tmp_path / "metrics"
    shared.mkdir()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead_pid, live_pid = int(finished.stdout), os.getppid()
    for name in (f"counter_{dead_pid}.db", f"histogram_{dead_pid}.db", f"counter_{live_pid}.db", "junk.db"):
        (shared / name).write_bytes(b"")
    env = {metrics.METRICS_DIR_VARIABLE: str(shared)}
    assert metrics.enable_multiprocess("sqlite:///x.db", clear=False, environ=env) == shared
    assert os.environ[metrics.MULTIPROC_VARIABLE] == str(shared)
    assert len(list(shared.glob("*.db"))) == 4  # the worker never clears
    metrics.enable_multiprocess("sqlite:///x.db", clear=True, environ=env)
    assert sorted(p.name for p in shared.glob("*.db")) == [f"counter_{live_pid}.db"]


@pytest.mark.parametrize(
    ("outcome", "status", "expected"),
    [
        ("dry_run", None, "dry_run"),
        ("error", None, "error"),
        ("ok", 201, "2xx"),
        ("retry", 429, "4xx"),
        ("retry", 503, "5xx"),
    ],
)
def test_status_classes(outcome: str, status: int | None, expected: str) -> None:
    assert metrics.status_class(outcome, status) == expected
