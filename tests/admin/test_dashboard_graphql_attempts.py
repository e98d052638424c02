"""The dashboard's event page and `storebridge events show` show GraphQL calls like v3 calls (spec §14): the
mutation, the order ids, the outcome."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from bridge.destinations.activecampaign import graphql_text
from tests.admin.dashboard_fixtures import login_fixture, worker_fixture  # noqa: F401 - fixtures
from tests.fakes import FakeActiveCampaign
from tests.helpers.delivery import DELIVERY_TIMINGS, post_shopify, wait_final

POS_ORDER = "5874133024822"  # orders_paid__no_checkout


@pytest.fixture
def admin_overrides(fake_ac: FakeActiveCampaign) -> dict[str, str | None]:
    return {
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_STATUSES": "none",
        "BRIDGE_AC_ORDER_API": "graphql",
        **DELIVERY_TIMINGS,
    }


def test_event_page_says_which_mutation_for_which_order_and_how_it_ended(
    client: FlaskClient, db, fake_ac: FakeActiveCampaign, worker, login: Callable[[], str]
) -> None:
    fake_ac.graphql.fail_next.append({"message": "Internal server error"})
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    assert wait_final(db, event_id, legs=1)["activecampaign"]["status"] == "done"
    login()
    page = html.unescape(client.get(f"/admin/events/{event_id}").text)
    assert "/api/3/ecom/graphql" in page
    assert f"upsertOrder {POS_ORDER}: refused: Internal server error" in page
    assert f"upsertOrder {POS_ORDER}: ok" in page
    assert "o-failed" in page  # a 200 with errors is a failed attempt, not an ok one
    assert fake_ac.token not in page


@pytest.mark.parametrize(
    ("request_text", "response", "said"),
    [
        ('{"query": "mutation UpsertOrder(...) { upsertOrder(...) }", "variables": {"order": {"storeOrderId": "7"}}}',
         '{"data": {"upsertOrder": {"id": "1"}}}', "upsertOrder 7: ok"),
        ('{"query": "mutation B { bulkUpsertOrders }", "variables": {"orders": [{"storeOrderId": "1"}, '
         '{"storeOrderId": "2"}, {"storeOrderId": "3"}]}}',
         '{"data": {"bulkUpsertOrders": [{"id": "1"}, null, {"id": "3"}]}, "errors": [{"message": "bad email", '
         '"path": ["bulkUpsertOrders", 1]}]}',
         "bulkUpsertOrders 3 orders (1, 2, 3): 2 ok, 1 refused (#1: bad email)"),
        ('{"query": "query G { getOrder }", "variables": {"connection": 1, "order": "x"}}',
         '{"data": {"getOrder": null}}', "getOrder x: ok"),
        ('{"query": "mutation { upsertOrder', "cut short", "upsertOrder: answer not readable"),
    ],
)  # fmt: skip
def test_graphql_calls_in_words(request_text, response, said):
    assert graphql_text.summary("https://a.example/api/3/ecom/graphql", request_text, response) == said
    assert graphql_text.summary("https://a.example/api/3/ecomOrders", request_text, response) is None
