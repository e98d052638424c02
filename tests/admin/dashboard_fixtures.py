"""Fixtures and helpers for the dashboard tests (Flask test client and real browser).

Import the fixtures into a test module under their `*_fixture` names (so parameters named after a fixture do
not shadow an import), with the fake they need::

    from tests.admin.dashboard_fixtures import admin_overrides_fixture, dead_event_fixture  # noqa: F401
    from tests.fakes.fixtures import fake_ac  # noqa: F401

`dead_event.fake` is the running fake ActiveCampaign.

`admin_overrides` points ActiveCampaign at the strict fake (EcartAPI updates off), with the short delivery
timings, so `dead_event` can make a real delivery die: the fake answers the order create with a 422.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from bridge.settings import Settings
from bridge.storage import Database
from tests.admin.conftest import ADMIN_TOKEN
from tests.fakes import FakeActiveCampaign
from tests.helpers import signing
from tests.helpers.delivery import DELIVERY_TIMINGS, InProcessWorker, delivery_rows, post_shopify, wait_until

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
__all__ = [
    "DeadEvent",
    "admin_overrides_fixture",
    "csrf_of",
    "dead_event_fixture",
    "delivery_status",
    "login_fixture",
    "secrets_of",
    "worker_fixture",
]

REJECTION = {"errors": [{"title": "The totalPrice field is invalid", "detail": "bad total", "code": "field_invalid"}]}


@dataclass(frozen=True)
class DeadEvent:
    """A Shopify orders/paid event whose ActiveCampaign delivery is dead."""

    event_id: int
    delivery_id: int
    fake: FakeActiveCampaign


def secrets_of(fake: FakeActiveCampaign) -> tuple[str, ...]:
    """Secrets the test environment configures; no page may show any of them."""
    return (ADMIN_TOKEN, fake.token, signing.SHOPIFY_SECRET, signing.WOO_SECRET, signing.ECART_TOKEN)


def delivery_status(db: Database, delivery_id: int) -> str:
    """A delivery's current status."""
    return next(row["status"] for row in delivery_rows(db) if row["id"] == delivery_id)


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered dashboard page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture(name="admin_overrides")
def admin_overrides_fixture(fake_ac: FakeActiveCampaign) -> dict[str, str | None]:
    """The admin environment, with ActiveCampaign live against the fake and no EcartAPI leg."""
    return {
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_ECART_STATUSES": "none",
        **DELIVERY_TIMINGS,
    }


@pytest.fixture(name="worker")
def worker_fixture(settings: Settings, db: Database) -> Iterator[InProcessWorker]:
    """A delivery worker on a thread of the test process; stopped at teardown."""
    running = InProcessWorker(settings, db).start()
    yield running
    running.stop()


@pytest.fixture(name="login")
def login_fixture(client: FlaskClient) -> Callable[[], str]:
    """`login()`: log the test client in through the form; returns the session's CSRF token."""

    def log_in() -> str:
        form = client.get("/admin/login")
        response = client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN})
        assert response.status_code == 303, response.text
        return csrf_of(client.get("/admin/").text)

    return log_in


@pytest.fixture(name="dead_event")
def dead_event_fixture(
    client: FlaskClient, fake_ac: FakeActiveCampaign, worker: InProcessWorker, db: Database
) -> DeadEvent:
    """Post a signed orders/paid webhook while the fake rejects the order create: its AC delivery dies."""
    fake_ac.fail_next(422, body=REJECTION, method="POST", path_prefix="/api/3/ecomOrders")
    event_id = post_shopify(client, "orders_paid__basic.json")

    def dead() -> list[dict]:
        return [row for row in delivery_rows(db, event_id) if row["status"] == "dead"]

    rows = wait_until(dead, timeout=15, describe=lambda: str(delivery_rows(db, event_id)))
    return DeadEvent(event_id, rows[0]["id"], fake_ac)
