"""Shared fixtures: a migrated database, settings, the Flask app and its test client."""

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
