"""ActiveCampaign parity, the contact (spec §9): `contact/sync` with names and phone before the ecom objects,
consent as a list subscription that never overrides an unsubscribe, and no call for unchanged details.
Everything goes through real HTTP against the strict fake AC."""

from __future__ import annotations

import time

import pytest

from tests.helpers.delivery import (
    attempt_rows,
    custom_order,
    post_custom,
    post_shopify,
    summary,
    wait_final,
)

LIST = "3"
MAYA = "maya.okafor@example.com"  # orders_paid__basic: consent "subscribed", phone +17185550142


PARITY = {
    "BRIDGE_AC_CONNECTION_ID": "1",
    "BRIDGE_AC_CONTACT_SYNC": "on",
    "BRIDGE_AC_LIST_ID": LIST,
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "",  # custom orders: the AC leg only
}


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return PARITY


@pytest.fixture
def ac(fake_ac):
    fake_ac.contact_book.preload_list(LIST, "Customers")
    return fake_ac


def _ac_only(client, db, data, **extra):
    event_id = post_custom(client, "order.paid", custom_order(**data, **extra))
    return event_id, wait_final(db, event_id, legs=1)["activecampaign"]


def test_new_buyer_with_consent_is_synced_subscribed_then_ordered(client, db, ac, worker):
    event_id = post_shopify(client, "orders_paid__basic.json")
    leg = wait_final(db, event_id, legs=1)["activecampaign"]
    assert leg["status"] == "done", leg

    contact = ac.contact_book.contact(MAYA)
    assert summary(ac.requests) == [
        ("POST", "/api/3/contact/sync", 201),
        ("GET", f"/api/3/contacts/{contact['id']}/contactLists", 200),
        ("POST", "/api/3/contactLists", 201),
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", "/api/3/ecomOrders", 201),
    ]
    assert ac.requests[0].json == {
        "contact": {"email": MAYA, "firstName": "Maya", "lastName": "Okafor", "phone": "+17185550142"}
    }
    assert (contact["firstName"], contact["lastName"], contact["phone"]) == ("Maya", "Okafor", "+17185550142")
    assert ac.requests[2].json == {"contactList": {"list": int(LIST), "contact": int(contact["id"]), "status": 1}}
    assert ac.contact_book.status(MAYA, LIST) == "1"
    assert "synced" in leg["note"] and f"subscribed to list {LIST}" in leg["note"]

    # Every call is an attempt of the delivery, so `bridge events show` and the dashboard list them all.
    urls = [a["url"] for a in attempt_rows(db, delivery_id=leg["id"])]
    assert [u.split("/api/3/")[1] for u in urls] == [
        "contact/sync",
        f"contacts/{contact['id']}/contactLists",
        "contactLists",
        "ecomCustomers",
        "ecomOrders",
    ]


def test_unsubscribed_contact_is_never_resubscribed(client, db, ac, worker):
    ident = ac.contact_book.preload_contact("pat@example.com", list_status={LIST: "2"}, firstName="Pat")
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "U-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "last_name": "Lee", "accepts_marketing": True},
    )
    assert leg["status"] == "done", leg
    assert summary(ac.requests) == [
        ("POST", "/api/3/contact/sync", 200),
        ("GET", f"/api/3/contacts/{ident}/contactLists", 200),
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", "/api/3/ecomOrders", 201),
    ]
    assert ac.contact_book.status("pat@example.com", LIST) == "2"
    assert "not re-subscribed" in leg["note"]

    # The unsubscribe is remembered: the next order with the same details costs no contact call at all.
    before = len(ac.requests)
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "U-2", "updated_at": "2026-10-02T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "last_name": "Lee", "accepts_marketing": True},
    )
    assert summary(ac.requests[before:]) == [("POST", "/api/3/ecomOrders", 201)]
    assert ac.contact_book.status("pat@example.com", LIST) == "2"


@pytest.mark.parametrize("consent", [False, None], ids=["declined", "unknown"])
def test_buyer_without_consent_is_never_subscribed(client, db, ac, worker, consent):
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "N-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "accepts_marketing": consent},
    )
    assert leg["status"] == "done", leg
    assert summary(ac.requests) == [
        ("POST", "/api/3/contact/sync", 201),
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", "/api/3/ecomOrders", 201),
    ]
    assert ac.contact_book.status("pat@example.com", LIST) is None


def test_returning_buyer_with_unchanged_details_costs_one_call_per_order(client, db, ac, worker):
    person = {"email": "pat@example.com", "first_name": "Pat", "last_name": "Lee", "accepts_marketing": True}
    _ac_only(client, db, {"order_id": "R-1", "updated_at": "2026-10-01T10:00:00+00:00"}, customer=person)
    assert len(ac.requests) == 5  # sync, list read, subscribe, ecomCustomer, order

    for n in range(2, 5):
        before = len(ac.requests)
        _, leg = _ac_only(
            client, db, {"order_id": f"R-{n}", "updated_at": f"2026-10-0{n}T10:00:00+00:00"}, customer=person
        )
        assert leg["status"] == "done", leg
        assert summary(ac.requests[before:]) == [("POST", "/api/3/ecomOrders", 201)]

    # An order that carries less (no name at all) tells AC nothing new: still one call.
    before = len(ac.requests)
    _ac_only(client, db, {"order_id": "R-5", "updated_at": "2026-10-05T10:00:00+00:00"}, customer=None)
    assert summary(ac.requests[before:]) == [("POST", "/api/3/ecomOrders", 201)]

    # A new phone number is a change: one sync (the list status is known), then the order.
    before = len(ac.requests)
    _ac_only(
        client,
        db,
        {"order_id": "R-9", "updated_at": "2026-10-09T10:00:00+00:00"},
        customer={**person, "phone": "+1 555 0100"},
    )
    assert summary(ac.requests[before:]) == [("POST", "/api/3/contact/sync", 200), ("POST", "/api/3/ecomOrders", 201)]
    assert ac.contact_book.contact("pat@example.com")["phone"] == "+1 555 0100"
    assert ac.contact_book.contact("pat@example.com")["syncs"] == 2


def test_missing_customer_name_comes_from_the_billing_address_and_nothing_is_blanked(client, db, ac, worker):
    ac.contact_book.preload_contact("guest@example.com", firstName="Gus", lastName="Old", phone="+1 555 0199")
    _ac_only(
        client,
        db,
        {"order_id": "G-1", "updated_at": "2026-10-01T10:00:00+00:00", "email": "guest@example.com"},
        customer={"email": "guest@example.com", "first_name": None, "last_name": ""},
        billing={"first_name": "Gustav", "last_name": None, "phone": None},
    )
    (sync,) = ac.calls("POST", "/api/3/contact/sync")
    assert sync.json == {"contact": {"email": "guest@example.com", "firstName": "Gustav"}}  # no null, no ""
    contact = ac.contact_book.contact("guest@example.com")
    assert (contact["firstName"], contact["lastName"], contact["phone"]) == ("Gustav", "Old", "+1 555 0199")


@pytest.mark.parametrize("env_overrides", [{**PARITY, "BRIDGE_AC_CONTACT_SYNC": "off", "BRIDGE_AC_LIST_ID": None}])
def test_contact_sync_off_sends_deep_data_only(client, db, ac, worker, env_overrides):
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "O-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "accepts_marketing": True},
    )
    assert leg["status"] == "done"
    assert summary(ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", "/api/3/ecomOrders", 201)]
    assert ac.contact_book.contact("pat@example.com") is None


@pytest.mark.parametrize("env_overrides", [{**PARITY, "BRIDGE_AC_CONTACT_SYNC": "off"}])
def test_consent_without_contact_sync_sends_the_email_only(client, db, ac, worker, env_overrides):
    # The list needs a contact id: the contact is found or made by email, but no name or phone is sent.
    _ac_only(
        client,
        db,
        {"order_id": "O-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "accepts_marketing": True},
    )
    (sync,) = ac.calls("POST", "/api/3/contact/sync")
    assert sync.json == {"contact": {"email": "pat@example.com"}}
    assert ac.contact_book.status("pat@example.com", LIST) == "1"


@pytest.mark.parametrize("env_overrides", [{**PARITY, "BRIDGE_AC_LIST_ID": "99"}])
def test_an_unknown_list_is_a_note_not_a_lost_order(client, db, ac, worker, env_overrides):
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "L-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "accepts_marketing": True},
    )
    assert leg["status"] == "done", leg
    assert ("POST", "/api/3/contactLists", 422) in summary(ac.requests)
    assert "list 99 subscription refused: HTTP 422" in leg["note"]
    assert len(ac.orders()) == 1


def test_a_retried_delivery_does_not_sync_the_contact_twice(client, db, ac, worker):
    # The order create fails with a 500 after the contact was synced: the retry goes straight to the order.
    ac.fail_next(500, method="POST", path_prefix="/api/3/ecomOrders")
    _, leg = _ac_only(
        client,
        db,
        {"order_id": "T-1", "updated_at": "2026-10-01T10:00:00+00:00"},
        customer={"email": "pat@example.com", "first_name": "Pat", "accepts_marketing": False},
    )
    time.sleep(0.1)
    assert leg["status"] == "done", leg
    assert len(ac.calls("POST", "/api/3/contact/sync")) == 1
    assert ac.contact_book.contact("pat@example.com")["syncs"] == 1
    assert len(ac.orders()) == 1
