"""Shared fixtures: a migrated database, settings, the Flask app and its test client; and the split between
the fast unit layer (`make test-fast`) and the rest (`make test` runs both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import create_app
from bridge.settings import Settings
from bridge.storage import Database
from tests.helpers.env import make_settings

#: Folders whose tests run a worker, real processes or real waits (seconds each): every test in them is `slow`
#: unless its module is in UNIT_MODULES or it is marked `unit` (virtual time, no worker). `make test-fast` runs
#: `-m "not slow"`.
SLOW_FOLDERS = ("delivery", "deploy", "observability", "reliability", "scale")
#: Modules outside those folders whose tests start processes, a worker, a browser or a server, or wait: each of
#: their tests took 0.3 s or more on average in a whole-suite run (the junit report of `make test`).
SLOW_MODULES = frozenset(
    {
        "admin/test_api_actions.py",
        "admin/test_browser.py",
        "admin/test_dashboard.py",
        "admin/test_dashboard_contact_attempts.py",
        "admin/test_dashboard_pages.py",
        "admin/test_dashboard_reconciliation.py",
        "admin/test_dashboard_unshowable.py",
        "admin/test_dashboard_words.py",
        "admin/test_session_key.py",
        "alerts/test_worker_alerts.py",
        "cli/test_check_stores.py",
        "cli/test_first_run.py",
        "cli/test_outbound_safety.py",
        "cli/test_readme_try_it.py",
        "cli/test_replay_setup_check.py",
        "cli/test_settings_words.py",
        "cli/test_token_pause_cli.py",
        "platforms/shopify/test_reader.py",
        "privacy/test_compliance.py",
        "privacy/test_forget.py",
        "privacy/test_logs.py",
        "privacy/test_migration.py",
        "privacy/test_retention.py",
        "privacy/test_table_metrics.py",
        "storage/test_pool.py",
        "storage/test_server_secrets.py",
        "storage/test_throttles.py",
        "sweeps/test_backfill.py",
        "sweeps/test_backfill_bulk.py",
        "sweeps/test_backfill_graphql.py",
        "sweeps/test_cli.py",
        "sweeps/test_reconcile.py",
        "test_gunicorn_roundtrip.py",
        "web/test_health.py",
        "web/test_openapi.py",
        "web/test_readyz_writes.py",
        "web/test_request_garbage.py",
    }
)
#: Modules inside SLOW_FOLDERS with no worker and no real wait (under 0.3 s a test).
UNIT_MODULES = frozenset(
    {
        "delivery/test_clock.py",
        "delivery/test_revenue_listing.py",
        "deploy/test_alert_rules.py",
        "deploy/test_deploy.py",
        "deploy/test_kubernetes.py",
        "observability/test_logs.py",
        "observability/test_metrics.py",
        "reliability/test_hostile_corpus.py",
    }
)
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` every test of a SLOW_FOLDERS folder (but UNIT_MODULES) and of SLOW_MODULES, except those
    marked `unit`."""
    for item in items:
        module = item.path.relative_to(_TESTS).as_posix() if item.path.is_relative_to(_TESTS) else ""
        folder = module.split("/")[0]
        slow = module in SLOW_MODULES or (folder in SLOW_FOLDERS and module not in UNIT_MODULES)
        if slow and item.get_closest_marker("unit") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bridge.db"


@pytest.fixture
def database_url(db_path: Path) -> str:
    """SQLite by default; tests/storage and tests/delivery run on PostgreSQL too (tests/helpers/backends.py)."""
    return f"sqlite:///{db_path}"


@pytest.fixture
def settings(db_path: Path, database_url: str) -> Settings:
    return make_settings(db_path, BRIDGE_DATABASE_URL=database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url, timeout=settings.db_timeout)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database) -> Flask:
    return create_app(settings, db=db)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
