"""A destination answering a redirect (302/307) to another host: through real HTTP and a real worker, the other
host receives nothing (no `Api-Token`, no `Authorization`, no body), the attempt is recorded as failed with the
`Location` it named, the delivery waits and retries (it does not go dead for a configuration error) and the
circuit breaker keeps a persistent redirect from hammering."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bridge.storage.throttles import Throttles
from tests.fakes.elsewhere import FakeElsewhere
from tests.fakes.fixtures import serve
from tests.helpers.delivery import attempt_rows, delivery_rows, post_shopify, summary, wait_final, wait_until

POS_ORDER = "5874133024822"  # orders_paid__no_checkout: one AC order and one EcartAPI update
AC = "activecampaign"


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1"}


@pytest.fixture
def elsewhere() -> Iterator[FakeElsewhere]:
    yield from serve(FakeElsewhere())


def attempts_of(db, event_id: int, destination: str) -> list[dict]:
    return [a for a in attempt_rows(db, event_id=event_id) if a["destination"] == destination]


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("destination", [AC, "ecartapi"])
def test_a_redirect_is_never_followed_and_is_recorded_as_a_failed_attempt(
    client, db, fake_ac, fake_ecart, elsewhere, worker, status: int, destination: str
):
    fake_ecart.seed_order(POS_ORDER)
    fake = fake_ac if destination == AC else fake_ecart
    first_path = "/api/3/ecomCustomers" if destination == AC else f"/api/v2/orders/{POS_ORDER}"
    location = f"{elsewhere.url}{first_path}"
    # A query may carry an email or a token: the error names the Location without it.
    fake.fail_next(status, count=1, headers={"Location": f"{location}?email=pat%40example.com"}, body={"moved": 1})
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, event_id, legs=2, timeout=20)

    assert elsewhere.requests == [], f"the redirect was followed: {elsewhere.credentials_seen()}"
    redirected, *rest = attempts_of(db, event_id, destination)
    assert (redirected["status_code"], redirected["outcome"]) == (status, "retry")
    assert redirected["url"].startswith(fake.url) and redirected["url"].endswith(first_path)
    assert f"redirect to {location}?… not followed" in redirected["error"]
    assert "pat%40example.com" not in redirected["error"]
    assert rest and rest[0]["outcome"] == "ok", "the redirect was not retried"
    assert (legs[destination]["status"], legs[destination]["attempts"]) == ("done", 2)
    assert fake.requests[0].status == status and fake.requests[0].outcome == "injected"
    if destination == AC:
        assert len(fake_ac.orders()) == 1
    else:
        assert fake_ecart.statuses(POS_ORDER) == ["paid"]


def test_a_persistent_redirect_waits_without_going_dead_or_hammering(
    client, db, fake_ac, fake_ecart, elsewhere, start_worker, settings
):
    """Every AC call redirects until the operator fixes it: the delivery stays pending with the Location in its
    error, the circuit opens after BRIDGE_CIRCUIT_THRESHOLD redirects (one try per cool-down after that), and
    once AC answers again the delivery is done."""
    fake_ac.rate = None
    fake_ecart.seed_order(POS_ORDER)
    location = f"{elsewhere.url}/api/3/ecomCustomers"
    fake_ac.fail_next(302, count=1000, headers={"Location": location})
    start_worker(replace(settings, circuit_threshold=2, circuit_cooldown=1.0))
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    started = time.monotonic()

    def ac_leg() -> dict:
        return next(d for d in delivery_rows(db, event_id) if d["destination"] == AC)

    wait_until(lambda: Throttles(db).get(AC).circuit_open_until > time.time(), timeout=15, describe=ac_leg)
    time.sleep(3.0)
    window = time.monotonic() - started
    leg = wait_until(lambda: (row := ac_leg())["status"] == "pending" and row, timeout=5, describe=ac_leg)
    assert leg["last_status"] == 302 and location in leg["last_error"]
    # Backoff 0.3 s, 0.6 s; then the circuit (threshold 2, cool-down 1 s) allows about one call a second.
    sent = len(fake_ac.requests)
    assert 2 <= sent <= 3 + window, f"{sent} calls in {window:.1f} s while AC redirected"

    fake_ac.cancel_rules()  # the operator fixed the URL: AC answers normally from now on
    assert wait_final(db, event_id, legs=2, timeout=20)[AC]["status"] == "done"
    assert elsewhere.requests == []
    assert all(r.status == 302 for r in fake_ac.requests[:sent])
    assert summary(fake_ac.requests[sent:]) == [
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", "/api/3/ecomOrders", 201),
    ]
