"""Retries, permanent failures, 429 pauses, a SIGKILLed worker, the circuit breaker and stale events."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import text

from bridge.delivery.executor import Executor
from bridge.delivery.pacing import Interrupted, SharedPacer
from bridge.errors import RetryableError
from bridge.outbound.http import HttpCaller, make_session
from bridge.replay import Replayer
from bridge.storage.deliveries import Deliveries
from bridge.storage.throttles import Throttles
from tests.helpers.delivery import (
    attempt_rows,
    custom_order,
    delivery_rows,
    event_rows,
    post_custom,
    post_shopify,
    summary,
    wait_final,
    wait_until,
)

POS_ORDER = "5874133024822"  # orders_paid__no_checkout
ORDERS = "/api/3/ecomOrders"


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {"BRIDGE_AC_CONNECTION_ID": "1"}


def ac_leg(db, event_id: int) -> dict:
    return next(d for d in delivery_rows(db, event_id) if d["destination"] == "activecampaign")


def ac_attempts(db, event_id: int) -> list[tuple[str, int | None, str]]:
    return [
        (a["method"], a["status_code"], a["outcome"])
        for a in attempt_rows(db, event_id=event_id)
        if a["destination"] == "activecampaign"
    ]


@pytest.mark.parametrize("status", [500, 502, 408])
def test_transient_error_is_retried_then_delivered(client, db, fake_ac, fake_ecart, worker, status):
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.fail_next(status, method="POST", path_prefix=ORDERS)
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    leg = wait_final(db, event_id, legs=2)["activecampaign"]

    assert (leg["status"], leg["attempts"]) == ("done", 2)
    assert summary(fake_ac.requests) == [
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", ORDERS, status),
        ("GET", ORDERS, 200),  # the create's outcome is unknown: look it up before sending it again
        ("POST", ORDERS, 201),
    ]
    assert fake_ac.requests[2].query == {"filters[connectionid]": "1", "filters[externalid]": POS_ORDER}
    assert fake_ac.requests[2].at - fake_ac.requests[1].at >= 0.3 * 0.8, "retried before the backoff"
    assert ac_attempts(db, event_id) == [
        ("POST", 201, "ok"),
        ("POST", status, "retry"),
        ("GET", 200, "ok"),
        ("POST", 201, "ok"),
    ]
    rows = attempt_rows(db, event_id=event_id)
    assert all("test-ac-token" not in json.dumps(r, default=str) for r in rows), "secrets in the attempt log"
    assert len(fake_ac.orders()) == 1


def test_lost_response_is_looked_up_and_updated_not_created_twice(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.drop_next("POST", ORDERS)  # AC creates the order, the bridge never hears back
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    assert wait_final(db, event_id, legs=2)["activecampaign"]["status"] == "done"

    (order,) = fake_ac.orders()
    assert summary(fake_ac.requests) == [
        ("POST", "/api/3/ecomCustomers", 201),
        ("POST", ORDERS, 0),
        ("GET", ORDERS, 200),
        ("PUT", f"{ORDERS}/{order['id']}", 200),
    ]
    assert fake_ac.requests[1].outcome == "dropped"


def test_validation_error_is_dead_at_once_with_the_response_body(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.fail_next(422, body={"errors": [{"title": "bad", "code": "field_invalid"}]}, method="POST",
                      path_prefix=ORDERS)  # fmt: skip
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, event_id, legs=2)
    leg = legs["activecampaign"]
    assert (leg["status"], leg["attempts"]) == ("dead", 1)
    # The delivery's why is AC's message in words; the whole answer stays on the attempt.
    assert leg["last_error"] == "HTTP 422 refused as invalid: bad"
    responses = [a["response"] for a in Deliveries(db).attempts_for_event(event_id) if a["status_code"] == 422]
    assert '"title": "bad"' in responses[0] and "field_invalid" in responses[0]
    assert legs["ecartapi"]["status"] == "done"

    time.sleep(0.6)  # longer than the first retry delay (0.3 s ± 20%): nothing more may be sent
    assert summary(fake_ac.requests) == [("POST", "/api/3/ecomCustomers", 201), ("POST", ORDERS, 422)]
    assert ac_attempts(db, event_id) == [("POST", 201, "ok"), ("POST", 422, "failed")]
    assert delivery_rows(db, event_id)[0]["attempts"] == 1


def test_dead_delivery_records_the_http_status(client, db, fake_ac, worker):
    fake_ac.fail_next(422, body={"errors": [{"title": "bad", "code": "field_invalid"}]}, method="POST",
                      path_prefix=ORDERS)  # fmt: skip
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    leg = wait_final(db, event_id, legs=2)["activecampaign"]
    assert leg["status"] == "dead"
    assert leg["last_status"] == 422


def test_429_pauses_for_retry_after_then_delivers(client, db, fake_ac, fake_ecart, worker):
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.force_429(count=1, retry_after=2)
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    leg = wait_final(db, event_id, legs=2, timeout=15)["activecampaign"]
    assert (leg["status"], leg["attempts"]) == ("done", 2)

    limited, *after = fake_ac.requests
    assert (limited.status, limited.outcome) == (429, "forced_429")
    assert after and min(r.at for r in after) - limited.at >= 2.0, "a request reached AC during Retry-After"
    assert summary(after) == [("POST", "/api/3/ecomCustomers", 201), ("POST", ORDERS, 201)]
    assert fake_ac.count_429 == 1


def test_worker_killed_during_create_does_not_duplicate(client, db, fake_ac, fake_ecart, spawn_worker):
    fake_ecart.seed_order(POS_ORDER)
    hold = fake_ac.hold_next("POST", ORDERS, after_commit=True)  # AC creates the order and holds the answer
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    first = spawn_worker()
    assert hold.wait(timeout=20), "the worker never sent the create:\n" + first.output()
    first.kill()
    hold.release()
    assert len(fake_ac.orders()) == 1

    second = spawn_worker()
    legs = wait_final(db, event_id, legs=2, timeout=20)
    assert legs["activecampaign"]["status"] == "done", second.output()
    (order,) = fake_ac.orders()
    assert len(fake_ac.calls("POST", ORDERS)) == 1, summary(fake_ac.requests)
    assert summary(fake_ac.calls(path_prefix=ORDERS))[1:] == [
        ("GET", ORDERS, 200),
        ("PUT", f"{ORDERS}/{order['id']}", 200),
    ]
    assert order["externalid"] == POS_ORDER and order["puts"] == 1
    assert legs["activecampaign"]["attempts"] == 2
    assert fake_ecart.statuses(POS_ORDER) == ["paid"]


@pytest.mark.parametrize("status, headers", [(500, None), (503, {"Retry-After": "1"})], ids=["500", "503"])
def test_circuit_breaker_pauses_then_recovers(client, db, fake_ac, start_worker, settings, status, headers):
    fake_ac.rate = None  # this test is about failures, not the rate limit
    fake_ac.fail_next(status, count=2, headers=headers)
    first = post_custom(client, "order.paid", custom_order("ord-a", "2026-10-01T12:00:00+00:00", email="a@ex.com"))
    start_worker(replace(settings, circuit_threshold=2))
    opened = fake_ac.wait_calls(2, status=status, timeout=10)[-1]  # 2 consecutive failures: the circuit opens
    time.sleep(0.3)
    later = [
        post_custom(client, "order.paid", custom_order(f"ord-{n}", "2026-10-01T12:00:00+00:00", email=f"{n}@ex.com"))
        for n in ("b", "c")
    ]
    for event_id in (first, *later):
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "done"

    quiet = [(r.path, round(r.at - opened.at, 3)) for r in fake_ac.requests if 0 < r.at - opened.at < 1.0]
    assert quiet == [], "AC was called while the circuit was open (cool-down 1 s)"
    assert [ac_leg(db, e)["attempts"] for e in (first, *later)] == [3, 1, 1], "paused deliveries spent attempts"
    assert sorted(summary(fake_ac.requests)) == sorted(
        [("POST", "/api/3/ecomCustomers", status)] * 2 + [("POST", "/api/3/ecomCustomers", 201)] * 3
        + [("POST", ORDERS, 201)] * 3
    )  # fmt: skip
    assert sorted(o["externalid"] for o in fake_ac.orders()) == ["ord-a", "ord-b", "ord-c"]


def queue_orders(client, count: int) -> list[int]:
    """`count` paid orders of different people, queued before any worker runs."""
    return [
        post_custom(client, "order.paid", custom_order(f"ord-{n}", "2026-10-01T12:00:00+00:00", email=f"p{n}@ex.com"))
        for n in range(count)
    ]


def wait_for_queued_sends(db, seconds: float) -> None:
    """Wait until the shared AC schedule is booked `seconds` ahead: deliveries are holding future send slots."""
    throttles = Throttles(db)

    def booked() -> bool:
        state = throttles.all().get("activecampaign")
        return state is not None and state.next_slot_at - time.time() > seconds

    wait_until(booked, 10, interval=0.005, describe="no send slots booked ahead")


def test_429_pauses_the_whole_account_including_sends_already_scheduled(client, db, fake_ac, start_worker, settings):
    fake_ac.rate = None  # only the forced 429 below
    ids = queue_orders(client, 6)
    start_worker(replace(settings, ecart_statuses={}, worker_threads=6))
    wait_for_queued_sends(db, 0.8)  # about four requests are waiting for their slots
    fake_ac.force_429(count=1, retry_after=1)
    for event_id in ids:
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "done"

    limited = fake_ac.calls(status=429)[0]
    during = [(r.path, round(r.at - limited.at, 3)) for r in fake_ac.requests if 0 < r.at - limited.at < 1.0]
    assert during == [], "requests reached AC while the account was paused by Retry-After: 1"


def test_open_circuit_holds_back_sends_already_scheduled(client, db, fake_ac, start_worker, settings):
    fake_ac.rate = None
    ids = queue_orders(client, 6)
    start_worker(replace(settings, ecart_statuses={}, worker_threads=6, circuit_threshold=2))
    wait_for_queued_sends(db, 0.8)
    fake_ac.fail_next(500, count=2)
    for event_id in ids:
        assert wait_final(db, event_id, timeout=20)["activecampaign"]["status"] == "done"

    opened = fake_ac.calls(status=500)[1]
    # A call another thread had already sent before the circuit opened may reach the fake a moment later on a
    # loaded machine (the suite runs on 2 processes); anything later than that was held back.
    during = [(r.path, round(r.at - opened.at, 3)) for r in fake_ac.requests if 0.3 < r.at - opened.at < 1.0]
    assert during == [], "requests reached AC while the circuit was open"


def _hold_database_busy(db) -> Callable[[], None]:
    """Block every writer of the throttle row from another connection; returns the function that lets go."""
    if db.is_sqlite:
        busy = sqlite3.connect(db.url.database, timeout=5, isolation_level=None)
        busy.execute("BEGIN IMMEDIATE")
        return lambda: (busy.execute("COMMIT"), busy.close())
    conn = db.engine.connect()
    transaction = conn.begin()
    conn.execute(text("LOCK TABLE throttles IN EXCLUSIVE MODE"))
    return lambda: (transaction.commit(), conn.close())


def test_sends_never_exceed_the_limit_after_the_database_was_busy(db):
    """A burst of senders released at once (the database was locked while they booked their slots) still
    sends at most 5 in any second, and all get through within about two seconds."""
    throttles = Throttles(db)
    throttles.reserve_slot("activecampaign", 0.0)  # an idle schedule: no slot booked ahead
    stop, went = threading.Event(), []

    def send() -> None:
        pacer = SharedPacer(throttles, "activecampaign", 5.0, stop)
        pacer.wait()
        went.append(time.monotonic())
        pacer.finished()

    release = _hold_database_busy(db)  # another process commits a batch, an ingest burst, a checkpoint...
    senders = [threading.Thread(target=send) for _ in range(8)]
    for sender in senders:
        sender.start()
    time.sleep(0.6)
    release()
    for sender in senders:
        sender.join(10)
    went.sort()
    in_any_second = max(sum(1 for t in went if start <= t < start + 1.0) for start in went)
    assert len(went) == 8 and in_any_second <= 5, [round(t - went[0], 3) for t in went]
    assert went[-1] - went[0] < 2.5, [round(t - went[0], 3) for t in went]


def test_replayed_dead_event_is_done_once_its_new_delivery_succeeds(client, db, fake_ac, fake_ecart, worker):
    """Replay gives an event fresh deliveries; the old dead one is history and must not keep it dead."""
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.fail_next(422, body={"errors": [{"title": "bad", "code": "field_invalid"}]}, method="POST",
                      path_prefix=ORDERS)  # fmt: skip
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    wait_final(db, event_id)
    assert event_rows(db, id=event_id)[0]["status"] == "dead"
    Replayer(worker.worker.settings, db).replay(event_id)
    wait_until(lambda: event_rows(db, id=event_id)[0]["status"] == "done", timeout=15,
               describe=lambda: str(delivery_rows(db, event_id)))  # fmt: skip
    assert [r["status"] for r in delivery_rows(db, event_id) if r["destination"] == "activecampaign"] == [
        "dead",
        "done",
    ]


def test_no_send_is_admitted_while_a_pause_is_stored(db):
    """Another process stored a Retry-After pause: admission itself refuses until it ends."""
    throttles = Throttles(db)
    throttles.pause("activecampaign", time.time() + 1.0)
    ticket, wait = Throttles(db).admit("activecampaign", 5, 1.0, 120.0)  # a fresh object: nothing held locally
    assert ticket is None and 0.8 < wait <= 1.0


class RecordingPacer:
    """A pacer that logs what the caller asks of it; `clear()` answers from `clear_answers` in turn."""

    def __init__(self, clear_answers: list[bool]) -> None:
        self.log: list[str] = []
        self.clear_answers = clear_answers

    def wait(self) -> None:
        self.log.append("wait")

    def clear(self) -> bool:
        self.log.append("clear")
        return self.clear_answers.pop(0) if self.clear_answers else True

    def finished(self) -> None:
        self.log.append("finished")

    def hold(self, seconds: float) -> None:
        self.log.append(f"hold {seconds:g}")

    def pause(self, seconds: float) -> None:
        self.log.append(f"pause {seconds:g}")


def test_a_429_pauses_senders_before_anything_else_and_a_late_pause_sends_nothing(fake_ac):
    """The pause goes out before the slot is given back and the attempt recorded (so no thread of this process
    slips into the gap); a caller whose slot came just before a pause began waits again instead of sending."""
    recorded: list[str] = []
    pacer = RecordingPacer(clear_answers=[False])

    def record(call) -> None:
        recorded.append(call.outcome)
        pacer.log.append("record")

    caller = HttpCaller(
        session=make_session("test"), headers={"Api-Token": "test-ac-token"}, timeout=5, record=record, pacer=pacer
    )
    fake_ac.force_429(count=1, retry_after=3)
    with pytest.raises(RetryableError) as raised:
        caller.call("GET", f"{fake_ac.base_url}/api/3/connections")
    assert raised.value.status == 429 and raised.value.retry_after == 3
    assert pacer.log == ["wait", "clear", "finished", "wait", "clear", "hold 3", "pause 3", "finished", "record"]
    assert len(fake_ac.calls()) == 1 and recorded == ["retry"]


def test_a_worker_whose_heartbeat_stalled_sends_nothing(db, settings):
    """Another worker may have reclaimed the delivery once the lease could have run out: sending would make the
    same write twice. A lease counts as ours for two thirds of its length after the claim or the last renewal."""
    executor = Executor(replace(settings, lease_seconds=3.0), db, threading.Event(), "me")
    leases = executor.leases
    leases.hold(1, time.monotonic())
    assert leases.checker(1)()  # just claimed
    leases.hold(2, time.monotonic() - 2.5)
    stale = leases.checker(2)
    assert not stale()  # claimed 2.5 s ago, no renewal since
    leases.extended([2], time.monotonic())
    assert stale()  # the heartbeat renewed it

    pacer = SharedPacer(Throttles(db), "activecampaign", 5.0, threading.Event(), lease_ok=lambda: False)
    with pytest.raises(Interrupted):
        pacer.wait()
