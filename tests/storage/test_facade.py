"""The storage facade: one per database per process, and `storage.transaction()` running every operation of its
repositories in one transaction (committed together, or not at all). Both backends."""

from __future__ import annotations

import pytest

from bridge.storage import Storage
from bridge.storage.deliveries import NewDelivery
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus, EventStatus
from tests.storage.test_events import new_event


def test_one_facade_per_database(db):
    assert Storage.of(db) is Storage.of(db)
    assert Storage.of(db).db is db


def test_a_transaction_commits_its_operations_together(db):
    storage = Storage.of(db)
    event_id, _ = storage.events.record(new_event())
    with storage.transaction() as tx:
        tx.deliveries.add(event_id, [NewDelivery("activecampaign", "lane")], utcnow())
        tx.events.set_status(event_id, EventStatus.PLANNED, "planned here")
        assert tx.events.get(event_id).status == EventStatus.PLANNED, "the transaction reads its own writes"
    assert storage.events.get(event_id).status == EventStatus.PLANNED
    assert [d["status"] for d in storage.deliveries.for_event(event_id)] == [DeliveryStatus.PENDING]


def test_a_transaction_that_raises_leaves_nothing(db):
    storage = Storage.of(db)
    event_id, _ = storage.events.record(new_event())
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tx.deliveries.add(event_id, [NewDelivery("activecampaign", "lane")], utcnow())
        tx.events.set_status(event_id, EventStatus.PLANNED)
        raise RuntimeError("half-way")
    assert storage.events.get(event_id).status == "accepted"
    assert storage.deliveries.for_event(event_id) == []


def test_insert_inside_a_transaction_is_idempotent_by_identity(db):
    storage = Storage.of(db)
    with storage.transaction() as tx:
        first = tx.events.insert(new_event("k1"))
        again = tx.events.insert(new_event("k1"))
        recorded = tx.events.record(new_event("k1"))
    assert first is not None and again is None and recorded == (first, False)
    assert storage.events.insert_many([new_event("k1"), new_event("k2")])[0] is None


def test_settle_follows_the_newest_delivery_of_each_destination(db):
    storage = Storage.of(db)
    event_id, _ = storage.events.record(new_event())
    with storage.transaction() as tx:
        tx.deliveries.add(event_id, [NewDelivery("activecampaign", "lane")], utcnow())
        tx.events.settle(event_id)
    assert storage.events.get(event_id).status == EventStatus.PLANNED
