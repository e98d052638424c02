"""Privacy end-to-end fixtures (spec §16): the delivery set-up (strict fakes, app, workers) on SQLite and on
PostgreSQL."""

import pytest

from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401
from tests.helpers.backends import database_url  # noqa: F401
from tests.helpers.delivery_fixtures import (  # noqa: F401
    delivery_env,
    settings,
    spawn_worker,
    start_worker,
    worker,
)
from tests.privacy.people import ADMIN_TOKEN


@pytest.fixture(params=["v3", "graphql"])
def order_api(request: pytest.FixtureRequest) -> str:
    """Both AC order APIs: the GraphQL one keeps an order state of its own, which must hold no person either."""
    return str(request.param)


@pytest.fixture
def env_overrides(order_api: str) -> dict[str, str]:
    """Live AC (contact sync on, for the v3 contact state), no EcartAPI, the admin token, the order API."""
    return {
        "BRIDGE_ECART_STATUSES": "",
        "BRIDGE_AC_CONTACT_SYNC": "on",
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BRIDGE_AC_ORDER_API": order_api,
    }
