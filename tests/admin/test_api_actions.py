"""The admin JSON API, acting: replay, retry, bulk jobs, pause and resume change what they should — checked in
the database (bridge.storage, AdminService) and at the strict fakes, with a real in-process worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from bridge.storage.throttles import Throttles
from tests.admin.test_api import call, configured_secrets, ids
from tests.fakes import FakeActiveCampaign, FakeEcartAPI
from tests.helpers.delivery import (
    DELIVERY_TIMINGS,
    InProcessWorker,
    custom_order,
    delivery_rows,
    event_rows,
    post_custom,
    post_shopify,
    wait_final,
    wait_until,
)
from tests.helpers.env import fixture
from tests.helpers.webhooks import resign

POS_ORDER = "5874133024822"  # orders_paid__no_checkout: no checkout, so one AC order and one EcartAPI update
ORDERS = "/api/3/ecomOrders"
AC = "activecampaign"


@pytest.fixture
def admin_overrides(fake_ac: FakeActiveCampaign, fake_ecart: FakeEcartAPI) -> dict[str, str | None]:
    """Live destinations: the strict fakes, with short delivery timings."""
    fake_ecart.seed_order(POS_ORDER)
    return {
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_URL": fake_ecart.url,
        "BRIDGE_ECART_TOKEN": fake_ecart.token,
        **DELIVERY_TIMINGS,
    }


@pytest.fixture
def worker(start_worker: Callable[..., InProcessWorker]) -> InProcessWorker:
    return start_worker()


def ac_leg(db, event_id: int) -> dict[str, Any]:
    """The newest AC delivery of an event."""
    return [d for d in delivery_rows(db, event_id) if d["destination"] == AC][-1]


def dead_order(client, db, fake_ac: FakeActiveCampaign) -> tuple[int, dict[str, Any]]:
    """A paid order whose AC leg AC rejects once with a 422 (dead at once); returns (event id, the dead leg)."""
    fake_ac.fail_next(422, body={"errors": [{"title": "bad", "code": "field_invalid"}]}, method="POST",
                      path_prefix=ORDERS)  # fmt: skip
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, event_id, legs=2)
    assert (legs[AC]["status"], legs["ecartapi"]["status"]) == ("dead", "done")
    return event_id, legs[AC]


def wait_job(client, job_id: int) -> dict[str, Any]:
    """Poll a bulk job until it is no longer running."""

    def finished() -> dict[str, Any] | None:
        job = call(client, "GET", f"/admin/api/jobs/{job_id}").get_json()
        return job if job["status"] != "running" else None

    return wait_until(finished, timeout=15, interval=0.05)


def test_dead_delivery_detail_filter_and_retry(client, db, app, settings, fake_ac, worker):
    event_id, dead = dead_order(client, db, fake_ac)
    response = call(client, "GET", f"/admin/api/events/{event_id}")
    secrets = configured_secrets(settings)
    assert fake_ac.token in secrets and settings.ecart_token in secrets
    assert not [s for s in secrets if s in response.get_data(as_text=True)], "a secret in the attempts shown"
    detail = response.get_json()
    assert detail["status"] == "dead"
    shown = {d["destination"]: d for d in detail["deliveries"]}
    assert (shown[AC]["id"], shown[AC]["status"], shown[AC]["last_status"]) == (dead["id"], "dead", 422)
    rejected = [a for a in detail["attempts"] if a["status_code"] == 422]
    assert len(rejected) == 1 and rejected[0]["delivery_id"] == dead["id"]
    assert "field_invalid" in rejected[0]["response"] and rejected[0]["request"]  # request and response excerpts
    assert {a["destination"] for a in detail["attempts"]} == {AC, "ecartapi"}
    assert ids(client, destination_status="dead") == [event_id]
    assert ids(client, status="dead") == [event_id]

    response = call(client, "POST", f"/admin/api/deliveries/{dead['id']}/retry")
    assert response.status_code == 202
    assert response.get_json()["id"] == dead["id"] and response.get_json()["status"] in ("pending", "in_flight", "done")
    assert wait_final(db, event_id, legs=2)[AC]["status"] == "done"
    assert event_rows(db, id=event_id)[0]["status"] == "done"
    assert len(fake_ac.orders()) == 1
    assert app.extensions["bridge.admin"].delivery(dead["id"])["status"] == "done"

    assert call(client, "POST", "/admin/api/deliveries/999999/retry").status_code == 404


def test_pause_holds_deliveries_and_resume_sends_them(client, db, app, fake_ac, worker):
    paused = call(client, "POST", f"/admin/api/destinations/{AC}/pause")
    assert paused.status_code == 200 and paused.get_json()["paused"] is True
    assert Throttles(db).all()[AC].manual_pause is True

    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    wait_until(lambda: len(delivery_rows(db, event_id)) == 2)
    wait_until(lambda: {d["destination"]: d["status"] for d in delivery_rows(db, event_id)}["ecartapi"] == "done")
    time.sleep(0.5)  # the worker is idle, not blocked: nothing may reach AC while it is paused
    assert fake_ac.requests == []
    leg = ac_leg(db, event_id)
    assert leg["status"] == "pending" and leg["attempts"] == 0

    conflict = call(client, "POST", f"/admin/api/deliveries/{leg['id']}/retry")
    assert conflict.status_code == 409 and conflict.get_json()["error"] == "conflict"
    state = {d["name"]: d for d in call(client, "GET", "/admin/api/destinations").get_json()["items"]}
    assert state[AC]["paused"] is True and state[AC]["queue_depth"] == 1 and state[AC]["mode"] == "live"
    assert state[AC]["oldest_pending_age_seconds"] >= 0.5
    assert state["ecartapi"]["paused"] is False and state["ecartapi"]["queue_depth"] == 0

    resumed = call(client, "POST", f"/admin/api/destinations/{AC}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["paused"] is False
    assert Throttles(db).all()[AC].manual_pause is False
    assert wait_final(db, event_id, legs=2)[AC]["status"] == "done"
    assert [d["paused"] for d in app.extensions["bridge.admin"].destinations()] == [False, False]

    assert call(client, "POST", "/admin/api/destinations/mailchimp/pause").status_code == 404


def test_replay_plans_again_without_duplicates(client, db, fake_ac, worker):
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    first = wait_final(db, event_id, legs=2)
    response = call(client, "POST", f"/admin/api/events/{event_id}/replay")
    assert response.status_code == 202
    assert response.get_json() == {"event_id": event_id, "status": "accepted", "message": "queued for planning again"}
    wait_until(lambda: len(delivery_rows(db, event_id)) == 4, describe=lambda: str(delivery_rows(db, event_id)))
    again = wait_final(db, event_id, legs=4)
    assert again[AC]["id"] != first[AC]["id"] and again[AC]["status"] == "done"
    assert len(fake_ac.orders()) == 1, "a replay created a second AC order"
    assert call(client, "POST", "/admin/api/events/424242/replay").status_code == 404


def test_replay_of_a_quarantined_event_reports_it_is_still_invalid(client, db):
    document = json.loads(fixture("shopify", "orders_paid__no_checkout.json"))
    body, headers = resign("shopify", {**document, "currency": "XXX"}, topic="orders/paid")
    event_id = int(client.post("/webhooks/shopify", data=body, headers=headers).get_json()["event_id"])
    response = call(client, "POST", f"/admin/api/events/{event_id}/replay")
    assert response.status_code == 202
    outcome = response.get_json()
    assert (outcome["event_id"], outcome["status"]) == (event_id, "quarantined")
    assert "still invalid" in outcome["message"] and "currency" in outcome["message"]
    assert event_rows(db, id=event_id)[0]["status"] == "quarantined"

    response = call(client, "POST", "/admin/api/bulk", json={"action": "replay", "filter": {"status": "quarantined"}})
    job = wait_job(client, response.get_json()["job_id"])
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 1, 1, 1)


def test_bulk_replay_runs_to_done(client, db):
    custom = [post_custom(client, "order.paid", custom_order(f"B-{n}", "2026-10-01T10:00:00+00:00")) for n in range(3)]
    other = post_shopify(client, "orders_paid__no_checkout.json")
    response = call(client, "POST", "/admin/api/bulk", json={"action": "replay", "filter": {"source": "custom"}})
    assert response.status_code == 202
    job = wait_job(client, response.get_json()["job_id"])
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 3, 3, 0)
    assert job["params"] == {"action": "replay", "filter": {"source": "custom"}}
    # No worker runs here: replayed events wait, requeued, with a note; the Shopify event is untouched.
    assert [(r["status"], r["note"]) for r in event_rows(db, source="custom")] == [("accepted", "replayed")] * 3
    assert sorted(r["id"] for r in event_rows(db, source="custom")) == custom
    assert event_rows(db, id=other)[0]["note"] is None


def test_bulk_retry_dead_requeues_dead_deliveries(client, db, fake_ac, fake_ecart, worker):
    event_id, dead = dead_order(client, db, fake_ac)
    fake_ecart.seed_order("OK-1")
    healthy = post_custom(client, "order.paid", custom_order("OK-1", "2026-10-01T10:00:00+00:00"))
    assert {leg["status"] for leg in wait_final(db, healthy).values()} == {"done"}
    response = call(client, "POST", "/admin/api/bulk", json={"action": "retry_dead", "filter": {}})
    assert response.status_code == 202
    job = wait_job(client, response.get_json()["job_id"])
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 1, 1, 0)  # only the dead event
    assert wait_final(db, event_id, legs=2)[AC]["status"] == "done"
    assert ac_leg(db, event_id)["id"] == dead["id"]  # the same delivery, sent again
    assert ids(client, destination_status="dead") == []
