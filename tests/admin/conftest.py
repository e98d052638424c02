"""Shared fixtures for the admin tests (API, dashboard, browser): an app with BRIDGE_ADMIN_TOKEN set, its client,
and a helper to post signed webhooks so there is something to look at.

A test module changes the environment by overriding `admin_overrides` (a value of None removes a variable).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bridge.settings import Settings, load_settings
from bridge.storage import Database
from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401 - the strict fakes, for tests that deliver
from tests.helpers.delivery_fixtures import start_worker  # noqa: F401 - an in-process worker on this app's settings
from tests.helpers.env import base_env, fixture
from tests.helpers.webhooks import headers_for, interpret_stored

ADMIN_TOKEN = "admin-token-0123456789abcdef"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def admin_overrides() -> dict[str, str | None]:
    """Per-module changes to the admin test environment."""
    return {}


@pytest.fixture
def settings(db_path: Path, database_url: str, admin_overrides: dict[str, str | None]) -> Settings:
    """Every source configured, destinations in dry-run, the admin surface on (BRIDGE_ADMIN_TOKEN)."""
    env: dict[str, str | None] = {
        **base_env(db_path, BRIDGE_DATABASE_URL=database_url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN),
        **admin_overrides,
    }
    return load_settings({k: v for k, v in env.items() if v is not None}, env_file=None)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """`Authorization: Bearer <the configured admin token>`."""
    return dict(ADMIN_HEADERS)


@pytest.fixture
def post_webhook(client: FlaskClient, db: Database) -> Callable[..., int]:
    """`post_webhook(source, fixture_name, expect=202)`: post a fixture signed as the platform would, and let the
    worker's first step interpret it (raw platform events become accepted or quarantined); the event id."""

    def post(source: str, name: str, *, expect: int = 202, topic: str | None = None) -> int:
        body = fixture(source, name)
        response = client.post(
            f"/webhooks/{source}", data=body, headers=headers_for(source, body, name=name, topic=topic)
        )
        assert response.status_code == expect, (response.status_code, response.get_json())
        interpret_stored(client, db)
        return int(response.get_json()["event_id"])

    return post
