"""Retention (spec §16) on SQLite and PostgreSQL, with injected time: after a pass, no table holds a pruned
buyer's email, name, phone or street, while the events are still listed, a store's redelivery is still
`duplicate`, and a replay says the body is gone; an event with pending work keeps its body."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import timedelta

from sqlalchemy import func, select

from bridge.delivery.planner import Planner
from bridge.settings import load_settings
from bridge.storage.retention import Retention
from bridge.storage.tables import applied_versions, events
from bridge.timeutil import utcnow
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers.delivery import bridge_executable, event_rows, subprocess_env, wait_final, wait_until
from tests.privacy.people import ADMIN_TOKEN, Person, post_signed
from tests.privacy.search import find_anywhere

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LATER = timedelta(days=31)


def deliver(client, db, person: Person, order_no: int = 1, webhook_id: str | None = None) -> int:
    response = post_signed(client, person.order_body(order_no), "orders/paid", webhook_id=webhook_id)
    assert response.status_code == 202, response.get_json()
    event_id = int(response.get_json()["event_id"])
    assert wait_final(db, event_id)["activecampaign"]["status"] == "done"
    return event_id


def test_pruning_erases_the_personal_data_and_keeps_ids_statuses_and_dedupe(client, db, worker) -> None:
    alice, bob = Person(11), Person(12)
    first = deliver(client, db, alice, webhook_id="wh-alice-1")
    second = deliver(client, db, bob)
    assert {n for _, _, n in find_anywhere(db, alice.personal())} == {v.lower() for v in alice.personal()}

    counts = Retention(db, batch_size=1).prune(utcnow() + LATER, 30)

    assert counts.events == 2 and counts.batches == 2 and counts.attempts >= 2
    assert find_anywhere(db, alice.personal() + bob.personal()) == []
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(applied_versions)).scalar_one() == 0
    # Still listed, with their status, keys and ids; bodies gone.
    rows = {r["id"]: r for r in event_rows(db)}
    assert {rows[first]["status"], rows[second]["status"]} == {"done"}
    assert rows[first]["body"] == b"" and rows[first]["payload"] is None and rows[first]["pruned_at"] is not None
    listed = client.get("/admin/api/events", headers=ADMIN).get_json()["items"]
    assert {int(e["id"]) for e in listed} >= {first, second}
    # A late redelivery (same webhook id, or the same order state under a new one) is still a duplicate.
    for webhook_id in ("wh-alice-1", None):
        again = post_signed(client, alice.order_body(1), "orders/paid", webhook_id=webhook_id)
        assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
        assert int(again.get_json()["event_id"]) == first
    # A replay says the body is gone, and changes nothing.
    replay = client.post(f"/admin/api/events/{first}/replay", headers=ADMIN)
    assert replay.status_code == 409 and "erased" in replay.get_json()["message"]
    assert event_rows(db, id=first)[0]["status"] == "done"
    # The dashboard still shows the event, saying nothing of what is gone.
    form = client.get("/admin/login")
    login = {"csrf_token": csrf_of(form.text), "token": ADMIN["Authorization"].split()[1]}
    assert client.post("/admin/login", data=login).status_code == 303
    assert client.get(f"/admin/events/{first}").status_code == 200
    # A second pass finds nothing more to do.
    assert Retention(db).prune(utcnow() + LATER, 30).events == 0


def test_an_event_with_pending_work_keeps_its_body(client, db, settings) -> None:
    person = Person(21)
    response = post_signed(client, person.order_body(1), "orders/paid")
    event_id = int(response.get_json()["event_id"])
    Planner(settings, db).plan_pending()  # deliveries pending, no worker to send them
    unread = post_signed(client, person.order_body(2), "orders/paid")  # received, not even interpreted
    with db.write() as conn:  # long finished by the clock: only the open work protects them
        conn.execute(events.update().values(received_at=utcnow() - timedelta(days=90)))

    counts = Retention(db).prune(utcnow(), 30)

    assert counts.events == 0
    rows = {r["id"]: r for r in event_rows(db)}
    assert rows[event_id]["body"] == person.order_body(1) and rows[event_id]["pruned_at"] is None
    assert rows[int(unread.get_json()["event_id"])]["body"] == person.order_body(2)


def test_retention_zero_is_off_and_the_worker_bound_is_per_pass(client, db, worker) -> None:
    deliver(client, db, Person(31))
    deliver(client, db, Person(32))
    assert Retention(db).prune(utcnow() + LATER * 100, 0).events == 0
    assert Retention(db, batch_size=1).prune(utcnow() + LATER, 30, max_batches=1).events == 1


def test_db_prune_command_counts_then_prunes(client, db, worker, delivery_env) -> None:
    person = Person(41)
    deliver(client, db, person)
    env = subprocess_env({**delivery_env, "BRIDGE_RETENTION_DAYS": "0.000001"})  # a tenth of a second

    def run(*args: str) -> dict:
        done = subprocess.run(
            [bridge_executable(), "db", "prune", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    dry = run("--dry-run")
    assert dry["dry_run"] is True and dry["events"] == 1 and dry["attempts"] >= 1
    assert find_anywhere(db, person.personal()) != []
    real = run()
    assert real["events"] == 1 and real["dry_run"] is False
    assert find_anywhere(db, person.personal()) == []
    assert run()["events"] == 0


def test_the_worker_prunes_on_its_own(client, db, start_worker, delivery_env) -> None:
    first = start_worker()
    person = Person(45)
    event_id = deliver(client, db, person)
    first.stop()
    # Older than the tenth of a second of retention below, every row of it: the order state is written after
    # the event arrived, so a pass starting at once could find the event prunable and the state not yet.
    time.sleep(0.3)
    # A worker whose retention is a tenth of a second runs a pass as it starts (then every PRUNE_INTERVAL).
    start_worker(load_settings({**delivery_env, "BRIDGE_RETENTION_DAYS": "0.000001"}, env_file=None))
    wait_until(lambda: event_rows(db, id=event_id)[0]["pruned_at"] is not None, describe="the event was not pruned")
    assert find_anywhere(db, person.personal()) == []
