"""Property (spec §8): for a random set of checkout and order events of one checkout, every arrival order gives
the same ActiveCampaign and EcartAPI outcome.

Each example draws the events (checkout states with or without an email and a completion, a paid order, its
cancellation, a refund) and some permutations of them. Every permutation is played as its own checkout (its
own token, order id and customer), all queued through the Shopify webhook before a worker starts, so the
queue holds exactly that arrival order; then the abandonment delay passes and the fakes' final state for each
permutation is compared with the chronological one's. Runs on SQLite and PostgreSQL (tests/delivery).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from bridge.storage.tables import timers
from tests.fakes import FakeActiveCampaign
from tests.fakes.fixtures import serve_ac
from tests.helpers import signing
from tests.helpers.delivery import InProcessWorker, event_rows, wait_final, wait_until
from tests.helpers.env import fixture

T0 = datetime(2026, 10, 14, 18, 0, tzinfo=UTC)
_counter = itertools.count(1)


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_AC_RATE": "40", "BRIDGE_ABANDON_AFTER": "1"}


@pytest.fixture
def fake_ac() -> Iterator[FakeActiveCampaign]:
    yield from serve_ac(rate=50)  # strict as ever, a faster account: many checkouts per example


@dataclass(frozen=True)
class Step:
    """One event: a checkout state (`index`, tent quantity, email?, completed?) or an order event."""

    kind: str  # checkout | paid | cancelled | refunded
    index: int = 0
    quantity: int = 1
    email: bool = True
    completed: bool = False


@dataclass(frozen=True)
class Run:
    """One permutation played as its own checkout."""

    token: str
    order_id: str
    email: str
    customer_id: int


def new_run() -> Run:
    n = next(_counter)
    return Run(f"prop{n:06d}checkout", f"77{n:08d}", f"buyer{n}@example.com", 9_000_000 + n)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def body_for(step: Step, run: Run) -> tuple[str, dict[str, Any]]:
    """The Shopify topic and body of `step` in `run`."""
    if step.kind == "checkout":
        body = json.loads(fixture("shopify", "checkouts_update__with_email.json"))
        body.update(token=run.token, updated_at=at(step.index), total_price=f"{100 + step.index}.00")
        body["line_items"][0]["quantity"] = step.quantity
        body["customer"].update(id=run.customer_id, email=run.email)
        body["email"] = run.email
        if not step.email:
            body.pop("email"), body.pop("customer")
        body["completed_at"] = at(step.index) if step.completed else None
        return "checkouts/update", body
    if step.kind == "refunded":
        body = json.loads(fixture("shopify", "refunds_create__basic.json"))
        body.update(id=int(run.order_id) + 1, order_id=int(run.order_id), processed_at=at(30), created_at=at(30))
        return "refunds/create", body
    body = json.loads(fixture("shopify", "orders_paid__basic.json"))
    body.update(id=int(run.order_id), checkout_token=run.token, email=run.email, contact_email=run.email)
    body["customer"].update(id=run.customer_id, email=run.email)
    if step.kind == "cancelled":
        body.update(cancelled_at=at(20), updated_at=at(20))
        return "orders/cancelled", body
    body["updated_at"] = at(10)
    return "orders/paid", body


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Step], list[list[int]]]:
    """Chronological steps and a few arrival orders of them (indexes into the steps)."""
    count = draw(st.integers(1, 3))
    steps = [
        Step("checkout", index=i, quantity=draw(st.integers(1, 4)), email=draw(st.booleans())) for i in range(count)
    ]
    if draw(st.booleans()):  # the newest state is the completed checkout
        steps[-1] = Step("checkout", index=count - 1, quantity=steps[-1].quantity, email=True, completed=True)
    steps += [Step(kind) for kind in ("paid", "cancelled", "refunded") if draw(st.booleans())]
    orders = draw(st.lists(st.permutations(range(len(steps))), min_size=1, max_size=3))
    return steps, [list(range(len(steps))), list(reversed(range(len(steps)))), *orders]


def outcome(fake_ac: FakeActiveCampaign, fake_ecart: Any, run: Run) -> dict[str, Any]:
    """What the fakes ended with for one run, with the run's own ids taken out."""
    mine = [
        o for o in fake_ac.orders() if run.token == o.get("externalcheckoutid") or run.order_id == o.get("externalid")
    ]
    records = sorted(
        (
            "order" if o.get("externalid") else "cart",
            o["state"],
            tuple(p["quantity"] for p in o["orderProducts"]),
            o["totalPrice"],
            o["email"] == run.email,
            fake_ac.customers(id=o["customerid"])[0]["email"] == run.email,
        )
        for o in mine
    )
    creates = [
        r
        for r in fake_ac.calls("POST", "/api/3/ecomOrders")
        if r.status == 201
        and r.json["ecomOrder"].get("externalcheckoutid", r.json["ecomOrder"].get("externalid"))
        in (run.token, run.order_id)
    ]
    return {
        "ac": records,
        "ac_creates": len(creates),
        "ac_customers": len(fake_ac.customers(email=run.email)),
        "ecart": (fake_ecart.order(run.order_id) or {}).get("status"),
    }


def settle(db, event_ids: list[int], runs: list[Run]) -> None:
    """Every event final, every timer of these checkouts no longer armed, every cart event delivered."""
    for event_id in event_ids:
        wait_final(db, event_id, timeout=20)
    tokens = {r.token for r in runs}

    def timers_quiet() -> bool:
        with db.read() as conn:
            rows = conn.execute(select(timers.c.checkout_key, timers.c.status)).all()
        return not any(status == "armed" and key.rsplit("|", 1)[-1] in tokens for key, status in rows)

    wait_until(timers_quiet, timeout=20, describe="abandonment timers still armed")
    for token in tokens:
        for cart in event_rows(db, kind="cart.abandoned", checkout_id=token):
            wait_final(db, cart["id"], timeout=20)


@hypothesis_settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
@example(  # completed (newest) arrives first, an older incomplete update after it
    scenario=([Step("checkout", 0, 1), Step("checkout", 1, 2, completed=True)], [[0, 1], [1, 0]])
)
@example(  # two updates newest-first
    scenario=([Step("checkout", 0, 1), Step("checkout", 1, 3)], [[0, 1], [1, 0]])
)
@example(  # a delayed paid after the cancellation and the refund
    scenario=([Step("checkout", 0, 2), Step("paid"), Step("cancelled"), Step("refunded")], [[0, 1, 2, 3], [3, 2, 0, 1]])
)
def test_every_arrival_order_gives_the_same_outcome(client, db, settings, fake_ac, fake_ecart, scenario):
    steps, orders = scenario
    runs = [new_run() for _ in orders]
    event_ids: list[int] = []
    for run, order in zip(runs, orders, strict=True):
        fake_ecart.seed_order(run.order_id, status="pending")
        for position in order:
            topic, body = body_for(steps[position], run)
            raw = json.dumps(body).encode()
            response = client.post("/webhooks/shopify", data=raw, headers=signing.shopify_headers(raw, topic))
            assert response.status_code == 202, response.get_json()
            event_ids.append(int(response.get_json()["event_id"]))
    worker = InProcessWorker(settings, db).start()  # the queue now holds each run in its arrival order
    try:
        settle(db, event_ids, runs)
    finally:
        worker.stop()

    expected = outcome(fake_ac, fake_ecart, runs[0])
    for run, order in zip(runs[1:], orders[1:], strict=True):
        assert outcome(fake_ac, fake_ecart, run) == expected, f"arrival order {order} of {steps}"
    # And the outcome is the right one, not only the same one.
    checkouts = [s for s in steps if s.kind == "checkout"]
    newest = checkouts[-1]
    purchased = newest.completed or any(s.kind == "paid" for s in steps)
    carts = [r for r in expected["ac"] if r[0] == "cart"]
    if purchased or not newest.email:
        assert carts == []
    else:
        assert carts == [("cart", 2, (newest.quantity, 2), (100 + newest.index) * 100, True, True)]
    last_status = next((s.kind for s in reversed(steps) if s.kind != "checkout"), None)
    assert (expected["ecart"] or {}).get("status") == (last_status or "pending")
