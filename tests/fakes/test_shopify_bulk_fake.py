"""The Shopify bulk-operation fake is as strict as Shopify: the Admin API token, a bulk document that is one
connection, one bulk query at a time, a signed download that must not carry the token, children after their
parent only when grouped (and the bridge's reader refuses an ungrouped file rather than mis-assemble it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bridge.errors import PermanentError
from bridge.platforms.shopify.bulk import reassemble
from tests.fakes.fixtures import serve
from tests.fakes.shopify_admin import FakeShopifyAdmin
from tests.helpers.store_data import shopify_orders

RUN = (
    "mutation Run($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: %s) "
    "{ bulkOperation { id status } userErrors { field message code } } }"
)
POLL = (
    "query P($id: ID!) { node(id: $id) { ... on BulkOperation "
    "{ id status errorCode objectCount url partialDataUrl } } }"
)
ORDERS = (
    "{ orders(query: \"updated_at:>='2000-01-01T00:00:00Z'\") "
    "{ edges { node { id lineItems { edges { node { id sku } } } } } } }"
)


@pytest.fixture
def shop() -> Iterator[FakeShopifyAdmin]:
    yield from serve(FakeShopifyAdmin(restore_rate=2000.0))


def gql(shop: FakeShopifyAdmin, query: str, variables: dict[str, Any], token: str | None = None) -> requests.Response:
    headers = {"X-Shopify-Access-Token": token or shop.token, "Content-Type": "application/json"}
    url = f"{shop.url}/admin/api/{shop.api_version}/graphql.json"
    return requests.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=10)


def run(shop: FakeShopifyAdmin, document: str, group: bool = True) -> dict[str, Any]:
    answer = gql(shop, RUN % ("true" if group else "false"), {"q": document})
    assert answer.status_code == 200
    return answer.json()["data"]["bulkOperationRunQuery"]


def finish(shop: FakeShopifyAdmin, gid: str) -> dict[str, Any]:
    for _ in range(shop.bulk.running_polls + 1):
        operation = gql(shop, POLL, {"id": gid}).json()["data"]["node"]
    return operation


def test_the_token_is_required(shop: FakeShopifyAdmin) -> None:
    refused = gql(shop, RUN % "true", {"q": ORDERS}, token="shpat_wrong")
    assert refused.status_code == 401 and shop.bulk.operations == {}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{ shop { name } }", "must contain at least one connection"),
        ('{ node(id: "gid://shopify/Order/1") { id } }', "top level `node`"),
        (
            "{ orders { edges { node { id lineItems { edges { node { id "
            "discountAllocations { edges { node { id } } } } } } } } } }",
            "nesting depth greater than 2",
        ),
        ("{ orders { edges { node { id } } ", "Invalid bulk query"),
    ],
)
def test_a_bulk_document_must_be_a_connection(shop: FakeShopifyAdmin, document: str, message: str) -> None:
    answer = run(shop, document)
    assert answer["bulkOperation"] is None and message in answer["userErrors"][0]["message"]


def test_one_bulk_query_at_a_time_then_completed_with_a_signed_file(shop: FakeShopifyAdmin) -> None:
    for node in shopify_orders(3, start=datetime(2026, 3, 1, tzinfo=UTC)):
        shop.add_order(node)
    gid = run(shop, ORDERS)["bulkOperation"]["id"]
    busy = run(shop, ORDERS)
    assert busy["userErrors"] == [
        {
            "field": ["query"],
            "message": f"A bulk query operation for this app and shop is already in progress: {gid}.",
            "code": "OPERATION_IN_PROGRESS",
        }
    ]
    operation = finish(shop, gid)
    assert operation["status"] == "COMPLETED" and operation["objectCount"] == "9"
    url = operation["url"]
    assert requests.get(url, headers={"X-Shopify-Access-Token": shop.token}, timeout=10).status_code == 400
    assert shop.bulk.leaked_token == 1
    assert requests.get(url.replace("signature=", "signature=0"), timeout=10).status_code == 403
    lines = [json.loads(line) for line in requests.get(url, timeout=10).text.splitlines()]
    assert [("__parentId" in line) for line in lines] == [False, True, True] * 3  # children after their parent
    assert [o["lineItems"]["nodes"][0]["sku"] for o in reassemble(lines)] == ["ACM-TENT-2P-GRN"] * 3
    assert run(shop, ORDERS)["bulkOperation"]["status"] == "CREATED"  # the first has finished


def test_ungrouped_children_come_after_every_parent_and_are_not_mis_assembled(shop: FakeShopifyAdmin) -> None:
    for node in shopify_orders(2, start=datetime(2026, 3, 1, tzinfo=UTC)):
        shop.add_order(node)
    operation = finish(shop, run(shop, ORDERS, group=False)["bulkOperation"]["id"])
    lines = [json.loads(line) for line in requests.get(operation["url"], timeout=10).text.splitlines()]
    assert [("__parentId" in line) for line in lines] == [False, False, True, True, True, True]
    with pytest.raises(PermanentError, match="is not the order before it"):
        list(reassemble(lines))


def test_a_failed_operation_has_an_error_code_and_maybe_a_partial_file(shop: FakeShopifyAdmin) -> None:
    for node in shopify_orders(3, start=datetime(2026, 3, 1, tzinfo=UTC)):
        shop.add_order(node)
    shop.bulk.fail_next("TIMEOUT", partial_lines=4)
    operation = finish(shop, run(shop, ORDERS)["bulkOperation"]["id"])
    assert (operation["status"], operation["errorCode"], operation["url"]) == ("FAILED", "TIMEOUT", None)
    lines = [json.loads(line) for line in requests.get(operation["partialDataUrl"], timeout=10).text.splitlines()]
    assert len(lines) == 4
    assert len(list(reassemble(lines, complete=False))) == 1  # the second order may have lost children
