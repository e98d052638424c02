"""Delivery end-to-end fixtures: the strict fakes, settings pointing at them, app/client, workers.

`db`, `app` and `client` come from tests/conftest.py and are built on the `settings` defined here. Every test
runs on SQLite and on PostgreSQL (`database_url`).
"""

from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401
from tests.helpers.backends import database_url  # noqa: F401
from tests.helpers.delivery_fixtures import (  # noqa: F401
    delivery_env,
    env_overrides,
    settings,
    spawn_worker,
    start_worker,
    worker,
)
