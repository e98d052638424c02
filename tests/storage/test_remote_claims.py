"""The create claim (spec §8, one create per record): exactly one of many concurrent claimants wins, a stale
claim is taken over once, and a released one can be taken again. Real database, both backends."""

from __future__ import annotations

import threading
from datetime import timedelta

from bridge.storage.remote import RemoteRecords
from bridge.timeutil import utcnow

CLAIMANTS = 8


def test_exactly_one_of_many_concurrent_claimants_wins(db):
    records = RemoteRecords(db, "ac:test")
    barrier = threading.Barrier(CLAIMANTS)
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        now = utcnow()
        won = records.claim("customer", "1|pat@example.com", now, now - timedelta(seconds=60))
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim) for _ in range(CLAIMANTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False] * (CLAIMANTS - 1) + [True]
    assert records.get("customer", "1|pat@example.com").remote_id is None


def test_stale_claim_is_taken_over_once_and_a_stored_id_ends_the_claim(db):
    records = RemoteRecords(db, "ac:test")
    start = utcnow()
    assert records.claim("customer", "k", start, start - timedelta(seconds=60))
    later = start + timedelta(seconds=61)
    assert records.claim("customer", "k", later, later - timedelta(seconds=60)), "a dead holder's claim is taken over"
    assert not records.claim("customer", "k", later, later - timedelta(seconds=60)), "taken over once, not twice"
    records.put("customer", "k", "10001", "customer", later, detail="pat@example.com")
    much_later = later + timedelta(hours=1)
    assert not records.claim("customer", "k", much_later, much_later - timedelta(seconds=60))
    known = records.get("customer", "k")
    assert (known.remote_id, known.detail) == ("10001", "pat@example.com")


def test_released_claim_can_be_taken_again_and_forget_drops_other_keys(db):
    records = RemoteRecords(db, "ac:test")
    now = utcnow()
    assert records.claim("customer", "a", now, now - timedelta(seconds=60))
    records.release("customer", "a")
    assert records.get("customer", "a") is None
    assert records.claim("customer", "a", now, now - timedelta(seconds=60))

    for key in ("1|old@example.com", "1|id:7", "1|new@example.com"):
        records.put("customer", key, "10001", "customer", now)
    records.put("customer", "1|other@example.com", "10002", "customer", now)
    records.forget_remote("customer", "10001", keep="1|new@example.com")
    assert records.get("customer", "1|old@example.com") is None and records.get("customer", "1|id:7") is None
    assert records.get("customer", "1|new@example.com").remote_id == "10001"
    assert records.get("customer", "1|other@example.com").remote_id == "10002"
