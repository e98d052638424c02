"""The leases a worker holds (bridge/delivery/leases.py): renewed only for live threads, surely ours for two
thirds of their length, and outcome writes that ride out a database blip but give up before the lease may
have been reclaimed. The blips are real: another SQLite connection holding the write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.delivery.leases import HeldLeases
from bridge.errors import StorageUnavailable
from bridge.storage import Database
from bridge.storage.deliveries import Deliveries, Delivery, NewDelivery
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus
from tests.helpers.backlog import insert_events, versions
from tests.helpers.delivery import delivery_rows


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_lease_is_surely_ours_for_two_thirds_of_its_length_after_it_was_taken_or_extended() -> None:
    clock = Clock()
    leases = HeldLeases(3.0, clock)
    leases.hold(7, clock.now)
    clock.now += 1.9
    assert leases.ok(7)
    clock.now += 0.2  # 2.1 s > 2 s
    assert not leases.ok(7)
    leases.extended([7], clock.now - 0.5)  # a renewal that started half a second ago
    assert leases.ok(7) and leases.checker(7)()
    clock.now += 1.6
    assert not leases.ok(7)
    assert not leases.ok(8)  # never held
    leases.drop(7)
    assert not leases.ok(7) and leases.renewable() == []


def test_only_leases_of_live_threads_are_renewable() -> None:
    leases = HeldLeases(3.0)
    leases.hold(1, leases.clock())  # held by this (live) thread
    finished = threading.Thread(target=lambda: leases.hold(2, leases.clock()))
    finished.start()
    finished.join()  # its thread is gone without dropping it: nobody works on delivery 2
    assert leases.renewable() == [1]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'bridge.db'}", timeout=0.2)
    database.upgrade()
    yield database
    database.dispose()


def _claimed(db: Database, owner: str) -> Delivery:
    insert_events(db, versions(1, 1))
    store = Deliveries(db)
    store.add(1, [NewDelivery("activecampaign", "lane")], utcnow())
    claimed = store.claim(owner, utcnow(), 3.0, frozenset())
    assert claimed is not None
    return claimed


def _lock_for(path: str, seconds: float) -> threading.Thread:
    """Another connection takes the write lock now and holds it for `seconds`."""
    taken = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, timeout=5, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread


def test_an_outcome_write_rides_out_a_short_lock(sqlite_db: Database) -> None:
    claimed = _claimed(sqlite_db, "me")
    leases = HeldLeases(3.0)  # surely ours for 2 s
    leases.hold(claimed.id, leases.clock())
    store = Deliveries(sqlite_db)
    locker = _lock_for(str(sqlite_db.url.database), 0.8)

    def write() -> bool:
        return store.finish(claimed.id, "me", status=DeliveryStatus.DONE, now=utcnow())

    assert leases.write(claimed.id, write, threading.Event().wait) == (True, True)
    locker.join()
    assert delivery_rows(sqlite_db)[0]["status"] == DeliveryStatus.DONE


def test_an_outcome_write_gives_up_before_the_lease_may_be_reclaimed(sqlite_db: Database) -> None:
    claimed = _claimed(sqlite_db, "me")
    leases = HeldLeases(1.5)  # surely ours for 1 s
    leases.hold(claimed.id, leases.clock())
    store = Deliveries(sqlite_db)
    locker = _lock_for(str(sqlite_db.url.database), 2.5)
    tries: list[float] = []

    def write() -> bool:
        tries.append(leases.clock())
        return store.finish(claimed.id, "me", status=DeliveryStatus.DONE, now=utcnow())

    assert leases.write(claimed.id, write, threading.Event().wait) == (False, None)
    assert len(tries) >= 2  # retried while the lease was surely ours
    locker.join()
    # Nothing written after the lease may have run out: the delivery waits, in flight, for its lease to expire.
    row = delivery_rows(sqlite_db)[0]
    assert row["status"] == "in_flight" and row["lease_owner"] == "me"


def test_an_outcome_write_stops_retrying_when_the_worker_stops() -> None:
    leases = HeldLeases(60.0)
    leases.hold(1, leases.clock())
    stop = threading.Event()
    stop.set()

    def refused() -> None:
        raise StorageUnavailable()

    started = time.monotonic()
    assert leases.write(1, refused, stop.wait) == (False, None)
    assert time.monotonic() - started < 1.0


def test_the_heartbeat_renews_only_the_given_leases_still_ours(sqlite_db: Database) -> None:
    claimed = _claimed(sqlite_db, "me")
    store = Deliveries(sqlite_db)
    before = delivery_rows(sqlite_db)[0]["lease_expires_at"]
    assert store.renew("me", [], utcnow(), 60.0) == []  # nothing held: still a write that proves the database
    assert store.renew("someone-else", [claimed.id], utcnow(), 60.0) == []
    assert delivery_rows(sqlite_db)[0]["lease_expires_at"] == before
    assert store.renew("me", [claimed.id, 999], utcnow(), 60.0) == [claimed.id]
    assert delivery_rows(sqlite_db)[0]["lease_expires_at"] > before
