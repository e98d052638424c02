"""Privacy end-to-end fixtures (spec §16): the delivery set-up (strict fakes, app, workers) on SQLite and on
PostgreSQL."""

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
