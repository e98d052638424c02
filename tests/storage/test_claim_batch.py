"""Claiming a group of deliveries at once (spec §14, `BRIDGE_AC_BATCH`): one transaction takes the next due
delivery and up to `batch - 1` more due lane heads of the same destination, never two of one lane, never one
behind an unfinished delivery of its lane, never another destination's. Real database, both backends."""

from __future__ import annotations

from bridge.storage import Storage
from bridge.storage.deliveries import Deliveries, NewDelivery
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus
from tests.helpers.backlog import insert_events, versions


def test_a_group_is_lane_heads_of_the_first_deliverys_destination(db):
    insert_events(db, versions(6, 2))  # events 1-6: version 0 of orders 0-5; 7-12: version 1
    store = Deliveries(db)
    now = utcnow()
    with Storage.of(db).transaction() as tx:
        for event_id in range(1, 13):
            lane = f"ac|order|{(event_id - 1) % 6}"
            tx.deliveries.add(
                event_id, [NewDelivery("activecampaign", lane), NewDelivery("ecartapi", f"ecart|{event_id}")], now
            )

    group = store.claim_batch("w1", utcnow(), 30.0, frozenset(), {"activecampaign": 4})
    assert [c.destination for c in group] == ["activecampaign"] * 4
    assert [c.event_id for c in group] == [1, 2, 3, 4], "the oldest due, one per lane"
    assert len({c.lane for c in group}) == 4
    assert all(store.get(c.id)["status"] == DeliveryStatus.IN_FLIGHT and c.attempts == 1 for c in group)

    rest = store.claim_batch("w2", utcnow(), 30.0, frozenset(), {"activecampaign": 50})
    # The first due is event 1's EcartAPI leg: no group for a destination without a size, only itself.
    assert [(c.event_id, c.destination) for c in rest] == [(1, "ecartapi")]

    more = store.claim_batch("w2", utcnow(), 30.0, frozenset({"ecartapi"}), {"activecampaign": 50})
    # Orders 4 and 5 head their lanes; versions 1 of orders 0-3 wait behind the deliveries in flight.
    assert sorted(c.event_id for c in more) == [5, 6]
    assert store.claim_batch("w3", utcnow(), 30.0, frozenset({"ecartapi"}), {"activecampaign": 50}) == []


def test_claim_still_takes_one(db):
    insert_events(db, versions(3, 1))
    store = Deliveries(db)
    with Storage.of(db).transaction() as tx:
        for event_id in range(1, 4):
            tx.deliveries.add(event_id, [NewDelivery("activecampaign", f"lane-{event_id}")], utcnow())
    claimed = store.claim("w1", utcnow(), 30.0, frozenset())
    assert claimed is not None and claimed.event_id == 1
    assert [c.event_id for c in store.claim_batch("w1", utcnow(), 30.0, frozenset())] == [2]
