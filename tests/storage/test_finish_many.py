"""A claimed group's outcomes written together (`Deliveries.finish_many`, spec §14): each recorded as `finish`
records it (status, note, event settled, its writes), one whose lease is another worker's left out with its
writes, two upserts of one key applied in order, a version never lowered. And the group's reads ahead
(`get_many`) find what the one-key reads find. Real database, both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bridge.storage import Storage
from bridge.storage.deliveries import Finish, NewDelivery
from bridge.storage.remote import AppliedVersions, RemoteRecords, RemoteState
from bridge.storage.tables import deliveries
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus
from tests.helpers.backlog import insert_events, versions


def test_a_groups_outcomes_are_recorded_together_and_a_lost_lease_is_left_out(db):
    insert_events(db, versions(3, 1))
    storage = Storage.of(db)
    for event_id in range(1, 4):
        storage.deliveries.add(event_id, [NewDelivery("activecampaign", f"lane-{event_id}")], utcnow())
    group = storage.deliveries.claim_batch("w1", utcnow(), 30.0, frozenset(), {"activecampaign": 3})
    assert len(group) == 3
    lost = group[2]
    with db.write() as conn:  # another worker reclaimed the third
        conn.execute(update(deliveries).where(deliveries.c.id == lost.id).values(lease_owner="w2"))

    state = RemoteState(db, "ac:test")
    applied = AppliedVersions(db)
    now = utcnow()
    old, new = now - timedelta(hours=1), now
    outcomes = [
        Finish(
            c.id,
            DeliveryStatus.DONE,
            now,
            note=f"note {c.id}",
            also=[
                *state.statements([("revenue", f"order-{c.id}", {"v": c.id})], now),
                *state.statements([("revenue", "shared", {"v": c.id})], now),  # one key twice: the later wins
                applied.bump_statement("activecampaign", f"subject-{c.id}", new),
                applied.bump_statement("activecampaign", f"subject-{c.id}", old),  # never lowered
            ],
        )
        for c in group
    ]
    recorded = storage.deliveries.finish_many("w1", outcomes)

    assert recorded == {group[0].id, group[1].id}
    for claimed in group[:2]:
        row = storage.deliveries.get(claimed.id)
        assert (row["status"], row["lease_owner"], row["note"]) == ("done", None, f"note {claimed.id}")
        assert state.get("revenue", f"order-{claimed.id}") == {"v": claimed.id}
        assert applied.get("activecampaign", f"subject-{claimed.id}") == new
    assert state.get("revenue", "shared") == {"v": group[1].id}
    assert storage.deliveries.get(lost.id)["status"] == "in_flight", "another worker's delivery is not touched"
    assert state.get("revenue", f"order-{lost.id}") is None, "nor are its writes made"
    assert applied.get("activecampaign", f"subject-{lost.id}") is None
    assert storage.events.get(group[0].event_id).status == storage.events.get(group[1].event_id).status == "done"
    assert storage.events.get(lost.event_id).status != "done"


def test_reads_ahead_find_what_single_reads_find(db):
    now = utcnow()
    records = RemoteRecords(db, "ac:test")
    state = RemoteState(db, "ac:test")
    applied = AppliedVersions(db)
    records.put("connection", "shop", "7", "connection", now)
    records.put("order", "7|1", "70", "order", now)
    records.put("checkout", "7|1", "71", "cart", now)
    state.put("gql-order", "7|1", {"input": {"a": 1}}, now)
    applied.bump("activecampaign", "lane|order.paid", now)

    keys = [("connection", "shop"), ("order", "7|1"), ("order", "7|2"), ("checkout", "7|1"), ("checkout", "7|2")]
    assert records.get_many(keys) == {k: records.get(*k) for k in keys if records.get(*k) is not None}
    assert set(records.get_many(keys)) == {("connection", "shop"), ("order", "7|1"), ("checkout", "7|1")}
    assert state.get_many([("gql-order", "7|1"), ("revenue", "7|1")]) == {("gql-order", "7|1"): {"input": {"a": 1}}}
    assert applied.get_many("activecampaign", ["lane|order.paid", "other"]) == {"lane|order.paid": now}
