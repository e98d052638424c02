"""The dashboard overview shows each store API's last reconciliation run and the events it recovered."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from bridge.settings import Settings
from bridge.storage import Database
from bridge.sweeps.reconcile import Reconciler
from tests.admin.dashboard_fixtures import login_fixture  # noqa: F401 - fixture
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.store_data import shopify_orders


@pytest.fixture
def shopify_admin() -> Iterator[FakeShopifyAdmin]:
    fake = FakeShopifyAdmin().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def admin_overrides(shopify_admin: FakeShopifyAdmin) -> dict[str, str | None]:
    return {"BRIDGE_SHOPIFY_SHOP": shopify_admin.url, "BRIDGE_SHOPIFY_ADMIN_TOKEN": shopify_admin.token}


def test_overview_shows_the_last_run_and_recovered_events(
    client: FlaskClient,
    db: Database,
    settings: Settings,
    shopify_admin: FakeShopifyAdmin,
    login: Callable[[], str],
) -> None:
    login()
    before = client.get("/admin/").text
    assert "<h2>Reconciliation</h2>" in before and "never" in before and "7 days back" in before
    for node in shopify_orders(4, start=datetime.now(UTC) - timedelta(hours=2)):
        shopify_admin.add_order(node)
    Reconciler(settings, db, "test").run_once()
    page = client.get("/admin/").text
    row = page[page.index("<strong>shopify</strong>") :].split("</tr>")[0]
    assert 'class="badge s-ok"' in row
    assert '<td data-label="Recovered last run">4</td>' in row and '<td data-label="Recovered in all">4</td>' in row
    assert shopify_admin.token not in page
