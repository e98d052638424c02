"""Drill: `bridge worker` processes (two at a time) SIGKILLed at random moments, ten times, while they drain
2,000 events for 200 orders.

Afterwards every event is delivered, AC holds exactly one record per order (no duplicate from a call whose
answer died with the worker), every version of every order reached AC, and each order's versions reached it
in order (a replay may repeat a version, never go back to an older one).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict

import pytest

from bridge.storage.deliveries import Deliveries
from tests.helpers.backlog import insert_events, order_total, versions
from tests.helpers.delivery import delivery_rows, event_rows, wait_until
from tests.reliability.conftest import all_final, drill_env, written_totals

ORDERS, VERSIONS, CUSTOMERS = 200, 10, 50
KILLS = 10


def _lease_holders(db) -> dict[int, int]:
    """pid -> deliveries it holds in flight (lease owners are "host:pid:nonce")."""
    held: dict[int, int] = defaultdict(int)
    for d in delivery_rows(db):
        if d["status"] == "in_flight" and d["lease_owner"]:
            held[int(d["lease_owner"].split(":")[1])] += 1
    return held


@pytest.mark.slow
def test_sigkilled_worker_loses_nothing_and_duplicates_nothing(db_path, migrated, fast_ac, spawn):
    seed = int(os.environ.get("DRILL_SEED") or time.time())
    rng = random.Random(seed)
    env = drill_env(db_path, fast_ac, BRIDGE_AC_RATE="1000", BRIDGE_LEASE_SECONDS="5")
    started = time.monotonic()
    # The events arrive while the workers run (and die), so planning is interrupted too.
    feeder = threading.Thread(
        target=insert_events, args=(migrated, versions(ORDERS, VERSIONS, emails=CUSTOMERS)), kwargs={"batch": 100}
    )
    feeder.start()

    # Two workers at a time, so a replacement starts up while the other one keeps delivering.
    alive = [spawn(env), spawn(env)]
    kills_mid_delivery = 0
    for _ in range(KILLS):
        # A random moment while a worker is delivering: once one holds a lease, up to 0.3 s later.
        wait_until(
            lambda: any(_lease_holders(migrated).get(w.pid) for w in alive),
            timeout=60,
            interval=0.01,
            describe=lambda: alive[0].output()[-2000:],
        )
        time.sleep(rng.uniform(0.0, 0.3))
        held = _lease_holders(migrated)
        busy = [w for w in alive if held.get(w.pid)]
        victim = rng.choice(busy or alive)
        assert victim.proc.poll() is None, victim.output()[-3000:]
        victim.kill()
        kills_mid_delivery += bool(held.get(victim.pid))
        alive.remove(victim)
        alive.append(spawn(env))
    killed_at = time.monotonic() - started
    feeder.join(60)
    assert not feeder.is_alive()

    wait_until(
        lambda: all_final(migrated, ORDERS * VERSIONS),
        timeout=150,
        interval=0.2,
        describe=lambda: f"{Deliveries(migrated).count_by_status()}",
    )
    elapsed = time.monotonic() - started
    print(
        f"seed {seed}: {KILLS} kills done at {killed_at:.1f} s ({kills_mid_delivery} mid-delivery), "
        f"all {ORDERS * VERSIONS} delivered at {elapsed:.1f} s"
    )

    # Nothing lost: every event delivered, every delivery done.
    assert {e["status"] for e in event_rows(migrated)} == {"done"}
    assert {d["status"] for d in delivery_rows(migrated)} == {"done"}
    assert kills_mid_delivery >= KILLS // 2, f"only {kills_mid_delivery} kills landed mid-delivery (seed {seed})"

    # Nothing duplicated: one AC order per store order, one ecomCustomer per buyer.
    orders = fast_ac.orders()
    assert len(orders) == ORDERS, f"{len(orders)} AC orders for {ORDERS} store orders (seed {seed})"
    assert len({o["externalid"] for o in orders}) == ORDERS
    assert len(fast_ac.customers()) == CUSTOMERS

    # Every version reached AC, each order's versions in order, and the last one is what AC holds.
    written = written_totals(fast_ac)
    for order_no in range(ORDERS):
        totals = written[f"o{order_no}"]
        expected = [order_total(order_no, v) for v in range(VERSIONS)]
        assert set(totals) == set(expected), f"o{order_no}: versions missing at AC (seed {seed})"
        assert totals == sorted(totals), f"o{order_no}: versions applied out of order {totals} (seed {seed})"
    assert all(o["totalPrice"] == order_total(int(o["externalid"][1:]), VERSIONS - 1) for o in orders)
