"""Customer identity (spec §8): a registered customer who changes email keeps getting orders into AC, under the
new email, whichever ecomCustomer uniqueness rule AC enforces; a burst of first orders from one new customer
makes exactly one `POST /ecomCustomers`, across threads and across worker processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeActiveCampaign
from tests.fakes.fixtures import serve_ac
from tests.helpers.delivery import custom_order, delivery_rows, post_custom, summary, wait_final

CUSTOMER_ID = "7001"
OLD, NEW = "riley.old@example.com", "riley.new@example.com"


@pytest.fixture(params=["email", "externalid", "both"])
def unique_rule(request: pytest.FixtureRequest) -> str:
    """The ecomCustomer uniqueness rule the fake AC enforces (AC does not document one)."""
    return request.param


@pytest.fixture
def fake_ac(unique_rule: str) -> Iterator[FakeActiveCampaign]:
    yield from serve_ac(customer_unique=unique_rule)


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_WORKER_THREADS": "6", "BRIDGE_ECART_STATUSES": ""}


def registered_order(order_id: str, email: str, updated_at: str) -> dict:
    order = custom_order(order_id, updated_at, email=email)
    order["customer"] = {"external_id": CUSTOMER_ID, "email": email, "first_name": "Riley"}
    return order


def ac_order(fake_ac: FakeActiveCampaign, order_id: str) -> dict:
    (order,) = fake_ac.orders(externalid=order_id)
    return order


def test_registered_customer_who_changes_email_gets_every_order_under_the_new_email(
    client, db, fake_ac, worker, unique_rule
):
    first = post_custom(client, "order.paid", registered_order("9001", OLD, "2026-10-01T10:00:00+00:00"))
    assert wait_final(db, first)["activecampaign"]["status"] == "done"
    assert summary(fake_ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
    assert fake_ac.requests[0].json == {"ecomCustomer": {"connectionid": "1", "externalid": CUSTOMER_ID, "email": OLD}}
    fake_ac.requests.clear()

    second = post_custom(client, "order.paid", registered_order("9002", NEW, "2026-10-05T10:00:00+00:00"))
    assert wait_final(db, second)["activecampaign"]["status"] == "done"
    if unique_rule == "email":
        # AC takes a second record with the same externalid: the new email gets its own ecomCustomer.
        expected = [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
    else:
        # The externalid is taken: nothing has the new email, so the store customer's record is updated to it.
        assert fake_ac.customers(email=OLD) == [] and len(fake_ac.customers()) == 1
        expected = [
            ("POST", "/api/3/ecomCustomers", 422),
            ("GET", "/api/3/ecomCustomers", 200),
            ("GET", "/api/3/ecomCustomers", 200),
            ("PUT", f"/api/3/ecomCustomers/{fake_ac.customers(externalid=CUSTOMER_ID)[0]['id']}", 200),
            ("POST", "/api/3/ecomOrders", 201),
        ]
        assert fake_ac.requests[1].query == {"filters[email]": NEW, "filters[connectionid]": "1"}
        assert fake_ac.requests[2].query == {"filters[externalid]": CUSTOMER_ID, "filters[connectionid]": "1"}
        assert fake_ac.requests[3].json == {"ecomCustomer": {"email": NEW}}
    assert summary(fake_ac.requests) == expected

    order = ac_order(fake_ac, "9002")
    assert order["email"] == NEW
    assert fake_ac.customers(id=order["customerid"])[0]["email"] == NEW
    assert ac_order(fake_ac, "9001")["email"] == OLD

    # Known now, under the new email: a third order costs one call.
    fake_ac.requests.clear()
    third = post_custom(client, "order.paid", registered_order("9003", NEW, "2026-10-06T10:00:00+00:00"))
    assert wait_final(db, third)["activecampaign"]["status"] == "done"
    assert summary(fake_ac.requests) == [("POST", "/api/3/ecomOrders", 201)]
    assert ac_order(fake_ac, "9003")["customerid"] == order["customerid"]
    assert all(row["status"] == "done" for row in delivery_rows(db))


def test_new_email_already_in_ac_as_a_guest_is_used_not_refused(client, db, fake_ac, worker, unique_rule):
    guest = fake_ac.preload_customer(email=NEW, externalid=NEW, connectionid="1")
    event = post_custom(client, "order.paid", registered_order("9101", NEW, "2026-10-01T10:00:00+00:00"))
    assert wait_final(db, event)["activecampaign"]["status"] == "done"
    order = ac_order(fake_ac, "9101")
    assert order["email"] == NEW
    assert fake_ac.customers(id=order["customerid"])[0]["email"] == NEW
    if unique_rule == "externalid":
        # Nothing stops a record for the store customer id beside the guest's: it is created.
        assert summary(fake_ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
        assert order["customerid"] != guest
    else:
        assert summary(fake_ac.requests) == [
            ("POST", "/api/3/ecomCustomers", 422),
            ("GET", "/api/3/ecomCustomers", 200),
            ("POST", "/api/3/ecomOrders", 201),
        ]
        assert order["customerid"] == guest


BURST = 6


def burst_orders(client) -> list[int]:
    email = "first.timer@example.com"
    return [
        post_custom(
            client,
            "order.paid",
            {
                **custom_order(f"95{i:02d}", f"2026-10-01T10:00:{i:02d}+00:00", email=email),
                "customer": {"external_id": "8800", "email": email},
            },
        )
        for i in range(BURST)
    ]


def assert_one_customer_create(db, fake_ac: FakeActiveCampaign, events: list[int]) -> None:
    for event in events:
        assert wait_final(db, event, timeout=30)["activecampaign"]["status"] == "done"
    posts = [r for r in fake_ac.requests if r.path == "/api/3/ecomCustomers"]
    assert [(r.method, r.status) for r in posts] == [("POST", 201)]
    (customer,) = fake_ac.customers()
    orders = fake_ac.orders()
    assert len(orders) == BURST and {o["customerid"] for o in orders} == {customer["id"]}
    # One answered POST per order; a 429 from the fake's 5/s budget (a loaded machine bunches the sends) is
    # asked again and is no second order (the orders above are exactly BURST).
    answered = [r for r in fake_ac.requests if r.path == "/api/3/ecomOrders" and r.status != 429]
    assert len(answered) == BURST


@pytest.mark.parametrize("unique_rule", ["both"], indirect=True)
def test_burst_of_first_orders_creates_the_customer_once_across_threads(client, db, fake_ac, start_worker):
    events = burst_orders(client)  # queued before any worker runs: they start together
    start_worker()
    assert_one_customer_create(db, fake_ac, events)


@pytest.mark.slow
@pytest.mark.parametrize("unique_rule", ["both"], indirect=True)
def test_burst_of_first_orders_creates_the_customer_once_across_processes(client, db, fake_ac, spawn_worker):
    events = burst_orders(client)
    workers = [spawn_worker(), spawn_worker()]
    assert_one_customer_create(db, fake_ac, events)
    assert all(w.proc.poll() is None for w in workers)
