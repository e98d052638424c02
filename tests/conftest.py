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
#: unless it is marked `unit` (virtual time, no worker). `make test-fast` runs `-m "not slow"`.
SLOW_FOLDERS = ("delivery", "deploy", "observability", "reliability", "scale")
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of a SLOW_FOLDERS folder `slow`, except those marked `unit`."""
    for item in items:
        folder = item.path.relative_to(_TESTS).parts[0] if item.path.is_relative_to(_TESTS) else ""
        if folder in SLOW_FOLDERS and item.get_closest_marker("unit") is None:
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
