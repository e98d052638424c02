"""The strict fake of AC's eComm GraphQL endpoint, through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes import FakeActiveCampaign
from tests.fakes.fixtures import serve_ac

UPSERT = "mutation($o: OrderInput) { upsertOrder(order: $o) { id storeOrderId normalizedStatus } }"
BULK = "mutation($os: [OrderInput]) { bulkUpsertOrders(orders: $os) { id storeOrderId } }"


@pytest.fixture
def ac() -> Iterator[FakeActiveCampaign]:
    yield from serve_ac(rate=None)


def post(ac: FakeActiveCampaign, query: str, variables: dict[str, Any] | None = None, token: str | None = None):
    return requests.post(
        f"{ac.url}/api/3/ecom/graphql",
        json={"query": query, "variables": variables},
        headers={"Api-Token": token or ac.token},
        timeout=5,
    )


def order(**fields: Any) -> dict[str, Any]:
    return {
        "storeOrderId": "1001",
        "legacyConnectionId": 1,
        "storeCreatedDate": "2026-10-14T17:26:40-04:00",
        "finalAmount": 19.99,
        "currency": "USD",
        "email": "ana@example.com",
        "customerData": {"firstName": "Ana", "lastName": "Lima"},
        "lineItems": [{"legacyConnectionId": 1, "name": "Mug", "quantity": 2, "priceAmount": 19.99}],
        **fields,
    }


def test_upsert_creates_contact_and_customer_at_once_and_copies_into_v3_later(ac):
    ac.graphql.copy_delay = 0.3
    answer = post(ac, UPSERT, {"o": order(normalizedStatus="COMPLETED")})
    assert answer.status_code == 200 and "errors" not in answer.json()
    assert answer.json()["data"]["upsertOrder"]["storeOrderId"] == "1001"
    assert ac.contact_book.contact("ana@example.com")["firstName"] == "Ana"
    assert [c["email"] for c in ac.customers()] == ["ana@example.com"]
    assert ac.orders() == []  # the v3 copy comes later
    assert ac.graphql.wait_copied()
    (v3,) = ac.orders()
    assert (v3["externalid"], v3["totalPrice"], v3["state"]) == ("1001", 1999, 1)
    assert ac.graphql.purchases == [v3["id"]]


def test_upsert_is_keyed_by_connection_and_store_order_id(ac):
    ac.graphql.copy_delay = 0
    post(ac, UPSERT, {"o": order()})
    post(ac, UPSERT, {"o": order(normalizedStatus="CANCELLED", finalAmount=0)})
    (stored,) = ac.graphql.all_orders()
    assert (stored["normalizedStatus"], stored["upserts"]) == ("CANCELLED", 2)
    (v3,) = ac.orders()
    assert v3["totalPrice"] == 0 and len(ac.graphql.purchases) == 1
    got = post(ac, 'query { getOrder(legacyConnectionId: 1, storeOrderId: "1001") { id normalizedStatus } }')
    assert got.json()["data"]["getOrder"] == {"id": stored["id"], "normalizedStatus": "CANCELLED"}
    none = post(ac, 'query { getOrder(legacyConnectionId: 1, storeOrderId: "nope") { id } }')
    assert none.json() == {"data": {"getOrder": None}}


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"o": order(total=5)}, "not to include unknown field 'total'"),
        ({"o": {k: v for k, v in order().items() if k != "finalAmount"}}, "finalAmount"),
        ({"o": order(normalizedStatus="PAID")}, "NormalizedStatus"),
        ({"o": order(storeCreatedDate="2026-10-14")}, "date-time"),
    ],
    ids=["unknown-field", "missing-required", "bad-enum", "bad-date"],
)
def test_an_invalid_document_is_a_200_with_errors(ac, variables, words):
    answer = post(ac, UPSERT, variables)
    assert answer.status_code == 200
    assert words in answer.json()["errors"][0]["message"]
    assert ac.graphql.all_orders() == []


def test_an_unknown_output_field_is_refused_too(ac):
    answer = post(ac, "mutation($o: OrderInput) { upsertOrder(order: $o) { id totalPrice } }", {"o": order()})
    assert answer.status_code == 200 and "totalPrice" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("currency", "amount", "ok"),
    [("USD", 19.99, True), ("USD", 19.999, False), ("JPY", 12800, True), ("JPY", 1.5, False), ("KWD", 12.345, True)],
)
def test_amounts_must_be_exact_to_the_minor_unit(ac, currency, amount, ok):
    body = order(currency=currency, finalAmount=amount, lineItems=[])
    answer = post(ac, UPSERT, {"o": body}).json()
    assert ("errors" not in answer) is ok
    if not ok:
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_bulk_upsert_answers_each_order(ac):
    orders = [order(storeOrderId="1"), order(storeOrderId="2", email="not-an-email"), order(storeOrderId="3")]
    answer = post(ac, BULK, {"os": orders}).json()
    assert [o and o["storeOrderId"] for o in answer["data"]["bulkUpsertOrders"]] == ["1", None, "3"]
    (error,) = answer["errors"]
    assert error["path"] == ["bulkUpsertOrders", 1] and "email" in error["message"]
    ac.graphql.max_batch = 2
    too_many = post(ac, BULK, {"os": orders}).json()
    assert "too many orders" in too_many["errors"][0]["message"]


def test_token_and_budget_are_the_v3_ones():
    with FakeActiveCampaign(rate=5) as ac:
        ac.preload_connection()
        assert post(ac, UPSERT, {"o": order()}, token="wrong").status_code == 403
        statuses = [post(ac, UPSERT, {"o": order()}).status_code for _ in range(3)]
        statuses += [requests.get(f"{ac.url}/api/3/ecomOrders", headers={"Api-Token": ac.token}).status_code]
        statuses += [post(ac, UPSERT, {"o": order()}).status_code for _ in range(3)]
        assert statuses.count(429) >= 2 and statuses[:3] == [200, 200, 200]


@pytest.mark.parametrize("conversion", ["ac", "bridge"])
def test_cart_id_conversion_is_switchable(ac, conversion):
    ac.graphql.cart_conversion = conversion
    ac.graphql.copy_delay = 0
    customer = ac.preload_customer("ana@example.com")
    cart = ac.preload_order(
        externalcheckoutid="chk-1",
        abandonedDate="2026-10-14T17:00:00-04:00",
        source=1,
        email="ana@example.com",
        totalPrice=1999,
        currency="USD",
        connectionid=1,
        customerid=customer,
        externalCreatedDate="2026-10-14T17:00:00Z",
    )
    post(ac, UPSERT, {"o": order(cartId="chk-1")})
    states = sorted((o["id"] == cart, o["state"]) for o in ac.orders())
    if conversion == "ac":
        assert states == [(True, 3)]
    else:
        assert states == [(False, 1), (True, 2)]  # the cart stays abandoned unless the integrator PUTs it
