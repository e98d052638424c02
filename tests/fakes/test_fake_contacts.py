"""The fake AC's contacts, lists and memberships are strict too: driven over real HTTP with ``requests``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes import FakeActiveCampaign

HDR = {"Api-Token": "test-ac-token"}
TIMEOUT = 5


@pytest.fixture
def ac() -> Iterator[FakeActiveCampaign]:
    fake = FakeActiveCampaign(rate=None).start()
    fake.contact_book.preload_list(2, "Newsletter")
    yield fake
    fake.stop()
    assert not fake.errors, fake.errors


def call(fake: FakeActiveCampaign, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{fake.base_url}/api/3/{path}", json=body, headers=HDR, timeout=TIMEOUT)


def test_sync_creates_then_updates_by_email_case_insensitively(ac: FakeActiveCampaign) -> None:
    created = call(ac, "POST", "contact/sync", {"contact": {"email": "Ann@Example.com", "firstName": "Ann"}})
    assert created.status_code == 201
    ident = created.json()["contact"]["id"]
    updated = call(
        ac, "POST", "contact/sync", {"contact": {"email": "ann@example.com", "phone": "+1 555", "lastName": None}}
    )
    assert updated.status_code == 200 and updated.json()["contact"]["id"] == ident
    contact = ac.contact_book.contact("ANN@example.com")
    assert (contact["firstName"], contact["lastName"], contact["phone"]) == ("Ann", "", "+1 555")  # null = absent
    blanked = call(ac, "POST", "contact/sync", {"contact": {"email": "ann@example.com", "firstName": ""}})
    assert blanked.status_code == 200 and ac.contact_book.contact("ann@example.com")["firstName"] == ""


@pytest.mark.parametrize(
    "body, code",
    [
        ({"contact": {"email": "not-an-email"}}, "email_invalid"),
        ({"contact": {"firstName": "No Email"}}, "field_missing"),
        ({"contact": {"email": "a@example.com", "first_name": "typo"}}, "field_invalid"),
        ({"contact": {"email": "a@example.com", "phone": 5550100}}, "field_invalid"),
    ],
)
def test_sync_rejects_bad_contacts_with_acs_error_shape(ac: FakeActiveCampaign, body: dict, code: str) -> None:
    response = call(ac, "POST", "contact/sync", body)
    assert response.status_code == 422
    assert code in [e["code"] for e in response.json()["errors"]]
    assert all("pointer" in e["source"] for e in response.json()["errors"])
    assert call(ac, "POST", "contact/sync", {"contactx": {}}).status_code == 400


def test_list_membership_lifecycle(ac: FakeActiveCampaign) -> None:
    ident = call(ac, "POST", "contact/sync", {"contact": {"email": "b@example.com"}}).json()["contact"]["id"]
    assert call(ac, "GET", f"contacts/{ident}/contactLists").json() == {"contactLists": []}
    first = call(ac, "POST", "contactLists", {"contactList": {"list": 2, "contact": int(ident), "status": 1}})
    assert first.status_code == 201 and first.json()["contactList"]["status"] == "1"
    again = call(ac, "POST", "contactLists", {"contactList": {"list": "2", "contact": ident, "status": "2"}})
    assert again.status_code == 200
    (row,) = call(ac, "GET", f"contacts/{ident}/contactLists").json()["contactLists"]
    assert (row["list"], row["contact"], row["status"]) == ("2", ident, "2")
    assert ac.contact_book.status("b@example.com", 2) == "2"


def test_list_errors(ac: FakeActiveCampaign) -> None:
    ident = call(ac, "POST", "contact/sync", {"contact": {"email": "c@example.com"}}).json()["contact"]["id"]
    unknown_list = call(ac, "POST", "contactLists", {"contactList": {"list": 9, "contact": ident, "status": 1}})
    assert unknown_list.status_code == 422
    assert [(e["code"], e["source"]["pointer"]) for e in unknown_list.json()["errors"]] == [
        ("related_missing", "/data/attributes/list")
    ]
    unknown_contact = call(ac, "POST", "contactLists", {"contactList": {"list": 2, "contact": 999, "status": 1}})
    assert unknown_contact.status_code == 422
    bad_status = call(ac, "POST", "contactLists", {"contactList": {"list": 2, "contact": ident, "status": 3}})
    assert bad_status.status_code == 422
    missing = call(ac, "GET", "contacts/999/contactLists")
    assert missing.status_code == 404 and "No Result found" in missing.json()["message"]
    assert call(ac, "GET", "lists/2").json()["list"]["name"] == "Newsletter"
    assert call(ac, "GET", "lists/9").status_code == 404
    assert call(ac, "GET", "account/entitlements").status_code == 404


def test_contact_routes_share_the_token_check_and_the_rate_budget() -> None:
    with FakeActiveCampaign(rate=5, retry_after=1) as fake:
        wrong = requests.post(
            f"{fake.base_url}/api/3/contact/sync", json={"contact": {"email": "d@example.com"}},
            headers={"Api-Token": "nope"}, timeout=TIMEOUT,
        )  # fmt: skip
        assert wrong.status_code == 403
        # One budget per token for contacts and Deep Data alike: the sixth request in a second is refused.
        statuses = [call(fake, "POST", "contact/sync", {"contact": {"email": "d@example.com"}}).status_code
                    for _ in range(3)]  # fmt: skip
        statuses += [call(fake, "GET", "ecomOrders").status_code for _ in range(3)]
        assert statuses[:5] == [201, 200, 200, 200, 200] and statuses[5] == 429, statuses
        assert fake.contact_book.contact("d@example.com") is not None


def test_reset_forgets_contacts_but_keeps_lists(ac: FakeActiveCampaign) -> None:
    call(ac, "POST", "contact/sync", {"contact": {"email": "e@example.com"}})
    ac.reset()
    assert ac.contact_book.contact("e@example.com") is None
    assert call(ac, "GET", "lists/2").status_code == 200
