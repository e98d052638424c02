"""Batched GraphQL orders (spec §14, `BRIDGE_AC_BATCH`): a backlog goes out in `bulkUpsertOrders` calls of at
most the batch size, each order's outcome recorded on its own delivery; a refused order dies alone; a batch AC
refuses as too large is split; two states of one order never share a batch out of order."""

from __future__ import annotations

import pytest
import sqlalchemy

from bridge.errors import StorageUnavailable
from bridge.replay import Replayer
from bridge.storage.throttles import Throttles
from tests.helpers.delivery import attempt_rows, custom_order, delivery_rows, post_custom, wait_final, wait_until

BATCH = {
    "BRIDGE_AC_ORDER_API": "graphql",
    "BRIDGE_AC_CONNECTION_ID": "1",
    "BRIDGE_AC_REVENUE": "net",
    "BRIDGE_ECART_STATUSES": "",
    "BRIDGE_AC_BATCH": "5",
    "BRIDGE_WORKER_THREADS": "8",
}


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    return BATCH


def _backlog(client, count: int, prefix: str = "B") -> list[int]:
    return [
        post_custom(
            client, "order.paid", custom_order(f"{prefix}-{i}", "2026-10-01T10:00:00+00:00", email=f"b{i}@example.com")
        )
        for i in range(count)
    ]


def _orders_per_call(fake_ac) -> list[list[str]]:
    out = []
    for call in fake_ac.graphql.calls():
        variables = call["variables"]
        out.append([o["storeOrderId"] for o in variables.get("orders") or [variables["order"]]])
    return out


def test_a_backlog_goes_out_in_batches_and_each_order_is_recorded(client, db, fake_ac, start_worker):
    events = _backlog(client, 12)
    start_worker()
    legs = [wait_final(db, e, legs=1)["activecampaign"] for e in events]
    assert [leg["status"] for leg in legs] == ["done"] * 12, legs
    calls = _orders_per_call(fake_ac)
    # Each order went (a lease lost on a loaded machine may send one again: the upsert is keyed, no duplicate).
    assert {i for call in calls for i in call} == {f"B-{i}" for i in range(12)}
    assert max(len(c) for c in calls) > 1 and all(len(c) <= 5 for c in calls), calls
    assert len(calls) < 12
    assert len(fake_ac.graphql.all_orders()) == 12
    # Every delivery of a batch has the bulk call in its own attempts, with its outcome.
    bulk = next(c for c in calls if len(c) > 1)
    (event_id,) = [e for e, i in zip(events, range(12), strict=True) if f"B-{i}" == bulk[0]]
    (attempt,) = [a for a in attempt_rows(db, event_id=event_id) if "bulkUpsertOrders" in (a["request"] or "")]
    assert attempt["outcome"] == "ok" and attempt["status_code"] == 200


def test_a_refused_order_dies_alone(client, db, fake_ac, start_worker):
    fake_ac.graphql.refuse["B-3"] = "storeCreatedDate is in the future"
    events = _backlog(client, 8)
    start_worker()
    legs = {i: wait_final(db, e, legs=1)["activecampaign"] for i, e in enumerate(events)}
    assert legs[3]["status"] == "dead" and "storeCreatedDate is in the future" in legs[3]["last_error"], legs[3]
    assert all(leg["status"] == "done" for i, leg in legs.items() if i != 3), legs
    assert any(len(c) > 1 and "B-3" in c for c in _orders_per_call(fake_ac))  # it was refused inside a batch


def test_a_batch_refused_as_too_large_is_split(client, db, fake_ac, start_worker):
    fake_ac.graphql.max_batch = 2
    events = _backlog(client, 10)
    start_worker()
    assert all(wait_final(db, e, legs=1)["activecampaign"]["status"] == "done" for e in events)
    calls = _orders_per_call(fake_ac)
    too_big = [c for c in calls if len(c) > 2]
    assert fake_ac.graphql.too_large == len(too_big) >= 1, calls  # refused, then split
    assert len(fake_ac.graphql.all_orders()) == 10


def test_two_states_of_one_order_are_never_in_one_batch(client, db, fake_ac, start_worker):
    paid = post_custom(client, "order.paid", custom_order("S-1", "2026-10-01T10:00:00+00:00"))
    data = {"store": "shop.example", "order_id": "S-1", "currency": "USD"}
    data |= {"occurred_at": "2026-10-02T10:00:00+00:00", "updated_at": "2026-10-02T10:00:00+00:00"}
    cancelled = post_custom(client, "order.cancelled", data)
    others = _backlog(client, 6)
    start_worker()
    for event in (paid, cancelled, *others):
        assert wait_final(db, event, legs=1)["activecampaign"]["status"] == "done"
    calls = _orders_per_call(fake_ac)
    assert all(c.count("S-1") <= 1 for c in calls)
    assert len([c for c in calls if "S-1" in c]) >= 2  # paid, then (in a later call) cancelled
    assert fake_ac.graphql.order(1, "S-1")["normalizedStatus"] == "CANCELLED"


@pytest.mark.parametrize("env_overrides", [{**BATCH, "BRIDGE_WORKER_THREADS": "1"}])
def test_one_delivery_thread_claims_a_whole_batch(client, db, fake_ac, start_worker, env_overrides):
    """A ready backlog is claimed in groups of `BRIDGE_AC_BATCH`: one thread alone sends full batches (orders
    no longer have to be in flight on separate threads at the same moment to share a call)."""
    throttles = Throttles(db)
    throttles.set_manual_pause("activecampaign", True)  # the backlog is planned whole before any claim
    events = _backlog(client, 10, prefix="G")
    start_worker()
    assert wait_until(lambda: len(delivery_rows(db)) == 10, timeout=30)
    throttles.set_manual_pause("activecampaign", False)
    assert all(wait_final(db, e, legs=1)["activecampaign"]["status"] == "done" for e in events)
    calls = _orders_per_call(fake_ac)
    assert sorted(len(c) for c in calls) == [5, 5], calls
    assert len(fake_ac.graphql.all_orders()) == 10


@pytest.mark.parametrize(
    "env_overrides",
    [{**BATCH, "BRIDGE_WORKER_THREADS": "1", "BRIDGE_CIRCUIT_THRESHOLD": "3", "BRIDGE_RETRY_SCHEDULE": "60"}],
)
def test_one_failed_batch_call_is_one_failure_for_the_circuit(client, db, fake_ac, start_worker, env_overrides):
    """A bulk call that fails carries five deliveries; it is one failed call, not five: the circuit (threshold
    3) stays closed. Counting each member opened it for a minute after a single timed-out batch."""
    throttles = Throttles(db)
    throttles.set_manual_pause("activecampaign", True)
    events = _backlog(client, 5, prefix="F")
    start_worker()
    assert wait_until(lambda: len(delivery_rows(db)) == 5, timeout=30)
    fake_ac.fail_next(500, path_prefix="/api/3/ecom/graphql")
    throttles.set_manual_pause("activecampaign", False)
    assert wait_until(lambda: len([a for e in events for a in attempt_rows(db, event_id=e)]) == 5, timeout=30)
    assert wait_until(lambda: throttles.get("activecampaign").consecutive_failures >= 1, timeout=10)
    assert [len(c) for c in _orders_per_call(fake_ac)] == [5]  # one call carried all five
    state = throttles.get("activecampaign")
    assert state.consecutive_failures == 1 and state.circuit_open_until == 0, state


@pytest.mark.parametrize("env_overrides", [{**BATCH, "BRIDGE_WORKER_THREADS": "1"}])
def test_a_groups_reads_and_outcomes_take_one_statement_per_table(client, db, fake_ac, start_worker, env_overrides):
    """Two groups of five orders: each group reads the applied versions and the order states and revenue
    records in one query per table (not one per order), and writes its five outcomes in one update of the
    deliveries (an executemany), not five transactions."""
    throttles = Throttles(db)
    throttles.set_manual_pause("activecampaign", True)
    events = _backlog(client, 10, prefix="R")
    start_worker()
    assert wait_until(lambda: len(delivery_rows(db)) == 10, timeout=30)
    seen: list[tuple[str, bool]] = []

    def count(_conn, _cursor, statement, _parameters, _context, executemany):
        seen.append((" ".join(statement.split()), executemany))

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", count)
    try:
        throttles.set_manual_pause("activecampaign", False)
        assert all(wait_final(db, e, legs=1)["activecampaign"]["status"] == "done" for e in events)
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", count)
    assert sorted(len(c) for c in _orders_per_call(fake_ac)) == [5, 5]

    def matching(prefix: str) -> list[tuple[str, bool]]:
        return [s for s in seen if s[0].upper().startswith(prefix)]

    state_reads = matching("SELECT REMOTE_STATE.KEY_TYPE")
    single_state_reads = matching("SELECT REMOTE_STATE.DATA")
    version_reads = matching("SELECT APPLIED_VERSIONS.SUBJECT, APPLIED_VERSIONS.VERSION_AT")
    single_version_reads = matching("SELECT APPLIED_VERSIONS.VERSION_AT")
    finishes = [s for s in matching("UPDATE DELIVERIES SET STATUS") if "LAST_ERROR" in s[0].upper()]
    assert len(state_reads) == 2 and not single_state_reads, (state_reads, single_state_reads)
    assert len(version_reads) == 2 and not single_version_reads, (version_reads, single_version_reads)
    assert len(finishes) == 2 and all(many for _, many in finishes), finishes


@pytest.mark.parametrize("env_overrides", [{**BATCH, "BRIDGE_WORKER_THREADS": "1"}])
def test_a_member_that_joins_no_call_does_not_hold_its_group_back(
    client, db, fake_ac, start_worker, env_overrides, settings, monkeypatch
):
    """A group of three new orders and two replays that change nothing: the replays finish without a call and
    hand their outcomes over at once, so the others' batch need not wait for them, nor they for it. With both
    waits made long (30 s), the group still finishes at once; before, each side waited for the other."""
    monkeypatch.setattr("bridge.destinations.activecampaign.sender.GROUP_LINGER", 30.0)
    monkeypatch.setattr("bridge.delivery.group_commit.LINGER", 30.0)
    throttles = Throttles(db)
    first = _backlog(client, 2, prefix="K")
    earlier = start_worker()
    assert all(wait_final(db, e, legs=1)["activecampaign"]["status"] == "done" for e in first)
    earlier.stop()  # the group is planned whole before any claim (a running worker could claim part of it)
    throttles.set_manual_pause("activecampaign", True)
    for event_id in first:
        assert Replayer(settings, db).replay(event_id).status == "accepted"
    fresh = _backlog(client, 3, prefix="L")
    start_worker()
    assert wait_until(lambda: len(delivery_rows(db)) == 7, timeout=30)
    throttles.set_manual_pause("activecampaign", False)
    for event_id in fresh:
        assert wait_final(db, event_id, legs=1, timeout=15)["activecampaign"]["status"] == "done"
    for event_id in first:
        replayed = wait_final(db, event_id, legs=2, timeout=15)
        assert delivery_rows(db, event_id)[-1]["status"] == "skipped", replayed
    calls = _orders_per_call(fake_ac)
    assert sorted(len(c) for c in calls)[-1] == 3, calls  # the new orders went in one call


@pytest.mark.parametrize("env_overrides", [{**BATCH, "BRIDGE_WORKER_THREADS": "1"}])
def test_a_group_whose_transaction_fails_records_each_outcome_alone(
    client, db, fake_ac, start_worker, env_overrides, monkeypatch
):
    """The database refuses the group's one transaction: nothing of it is kept, and each member records its own
    outcome instead. Every order is done and in AC once, its event settled."""
    tried = []

    def refuse(self, owner, outcomes):
        tried.append(len(outcomes))
        raise StorageUnavailable("database unavailable: the group's transaction failed")

    monkeypatch.setattr("bridge.storage.deliveries.Deliveries.finish_many", refuse)
    throttles = Throttles(db)
    throttles.set_manual_pause("activecampaign", True)
    events = _backlog(client, 5, prefix="T")
    start_worker()
    assert wait_until(lambda: len(delivery_rows(db)) == 5, timeout=30)
    throttles.set_manual_pause("activecampaign", False)
    assert all(wait_final(db, e, legs=1)["activecampaign"]["status"] == "done" for e in events)
    assert tried and sum(tried) >= 5, tried  # the group's transaction was tried, and refused
    calls = _orders_per_call(fake_ac)
    assert {i for call in calls for i in call} == {f"T-{i}" for i in range(5)} and max(len(c) for c in calls) == 5
    assert len(fake_ac.graphql.all_orders()) == 5  # the upsert is keyed: nothing twice in AC
