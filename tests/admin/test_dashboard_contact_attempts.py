"""The dashboard's event page shows the contact and list calls (spec §9) like any other attempt."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.admin.dashboard_fixtures import login_fixture, worker_fixture  # noqa: F401 - fixtures
from tests.fakes import FakeActiveCampaign
from tests.helpers.delivery import DELIVERY_TIMINGS, post_shopify, wait_final


@pytest.fixture
def admin_overrides(fake_ac: FakeActiveCampaign) -> dict[str, str | None]:
    fake_ac.contact_book.preload_list(4, "Customers")
    return {
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_STATUSES": "none",
        "BRIDGE_AC_CONTACT_SYNC": "on",
        "BRIDGE_AC_LIST_ID": "4",
        **DELIVERY_TIMINGS,
    }


def test_event_page_lists_contact_sync_and_list_calls(
    client: FlaskClient, db, fake_ac: FakeActiveCampaign, worker, login: Callable[[], str]
) -> None:
    event_id = post_shopify(client, "orders_paid__basic.json")
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"
    contact = fake_ac.contact_book.contact("maya.okafor@example.com")
    login()
    page = html.unescape(client.get(f"/admin/events/{event_id}").text)
    for path in (
        "/api/3/contact/sync",
        f"/api/3/contacts/{contact['id']}/contactLists",
        "/api/3/contactLists",
        "/api/3/ecomCustomers",
        "/api/3/ecomOrders",
    ):
        assert path in page, path
    assert '"firstName": "Maya"' in page  # the request excerpt of the sync
    assert "subscribed to list 4" in page  # the delivery's note
    assert fake_ac.token not in page
