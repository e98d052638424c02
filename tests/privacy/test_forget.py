"""`storebridge forget` and `storebridge export` (spec §16) on SQLite and PostgreSQL, through the console
script: one customer is erased from every table and the erasure recorded, another is untouched, and the
forgotten customer's next order still delivers."""

from __future__ import annotations

import json
import subprocess

from sqlalchemy import select

from bridge.privacy import email_digest, subject_digest
from bridge.storage.tables import privacy_requests
from tests.helpers.delivery import bridge_executable, event_rows, subprocess_env
from tests.privacy.people import ADMIN_TOKEN, Person
from tests.privacy.search import find_anywhere
from tests.privacy.test_retention import deliver

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def run(delivery_env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [bridge_executable(), *args], env=subprocess_env(delivery_env), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def requests_recorded(db) -> list[dict]:
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(privacy_requests).order_by(privacy_requests.c.id))]


def test_forget_by_email_erases_one_customer_everywhere_and_leaves_another(
    client, db, worker, delivery_env, order_api: str
) -> None:
    alice, bob = Person(51), Person(52)
    alice_events = [deliver(client, db, alice, 1), deliver(client, db, alice, 2)]
    deliver(client, db, bob, 1)

    exported = run(delivery_env, "export", "--email", alice.email.upper())
    assert sorted(e["id"] for e in exported["events"]) == alice_events
    assert alice.email in exported["events"][0]["body"] and bob.email not in json.dumps(exported)
    # v3: the AC customer mapping and contact state; GraphQL: no mapping (the order makes the contact), one
    # order state per order.
    assert exported["attempts"] and exported["remote_state"]
    assert bool(exported["remote_records"]) == (order_api == "v3")

    outcome = run(delivery_env, "forget", "--email", alice.email.upper())

    assert outcome["erased"]["events"] == 2
    assert outcome["erased"]["remote_state"] == (1 if order_api == "v3" else 2)
    assert (outcome["erased"]["remote_records"] >= 1) == (order_api == "v3")
    assert find_anywhere(db, alice.personal()) == []
    assert {n for _, _, n in find_anywhere(db, bob.personal())} == {v.lower() for v in bob.personal()}
    (record,) = requests_recorded(db)
    assert record["kind"] == "erasure" and record["subject_sha256"] == email_digest(alice.email)
    assert record["origin"] == "cli" and record["detail"]["erased"]["events"] == 2
    assert {r["status"] for r in event_rows(db) if r["id"] in alice_events} == {"done"}

    # Her next order still delivers (AC is asked again who she is), and the export now shows only it.
    again = deliver(client, db, alice, 3)
    assert [e["id"] for e in run(delivery_env, "export", "--email", alice.email)["events"]] == [again]


def test_forget_by_store_customer_id(client, db, worker, delivery_env) -> None:
    carol, dave = Person(61), Person(62)
    deliver(client, db, carol)
    deliver(client, db, dave)

    outcome = run(delivery_env, "forget", "--customer-id", carol.customer_id, "--source", "shopify")

    assert outcome["erased"]["events"] == 1
    assert outcome["subject_sha256"] == subject_digest(f"shopify|{carol.customer_id}")
    assert find_anywhere(db, carol.personal()) == []
    assert find_anywhere(db, dave.personal()) != []


def test_the_admin_api_exports_and_forgets_behind_the_token(client, db, worker) -> None:
    erin, frank = Person(71), Person(72)
    first = deliver(client, db, erin)
    deliver(client, db, frank)
    body = {"email": erin.email}

    assert client.post("/admin/api/privacy/export", json=body).status_code == 401
    assert client.post("/admin/api/privacy/forget", json=body).status_code == 401
    assert client.post("/admin/api/privacy/forget", json={}, headers=ADMIN).status_code == 422
    assert client.post("/admin/api/privacy/forget", json={"customer_id": "1"}, headers=ADMIN).status_code == 422

    exported = client.post("/admin/api/privacy/export", json=body, headers=ADMIN)
    assert exported.status_code == 200 and [e["id"] for e in exported.get_json()["events"]] == [first]

    erased = client.post("/admin/api/privacy/forget", json=body, headers=ADMIN)
    assert erased.status_code == 200 and erased.get_json()["erased"]["events"] == 1
    assert find_anywhere(db, erin.personal()) == [] and find_anywhere(db, frank.personal()) != []
    (recorded,) = client.get("/admin/api/privacy/requests", headers=ADMIN).get_json()["items"]
    assert recorded["subject_sha256"] == email_digest(erin.email) and recorded["origin"] == "admin-api"
    assert client.get("/openapi.json").get_json()["paths"]["/admin/api/privacy/forget"]["post"]
