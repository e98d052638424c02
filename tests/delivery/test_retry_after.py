"""A destination's `Retry-After` can be anything (a year, `inf`, `1e12`, `nan`, negative, junk, an HTTP date):
through real HTTP to the strict fake AC and a real worker, it is read safely and honoured up to
BRIDGE_MAX_RETRY_AFTER, nothing raises, no thread dies, no delivery stays in flight; and the operator's resume
(admin API, dashboard, `storebridge destinations resume`) ends the wait at once."""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bridge.delivery.retry import LONGEST, GiveUp, RetryAt, RetryPolicy
from bridge.outbound.retry_after import parse_retry_after
from bridge.storage.tables import throttles as throttles_table
from bridge.storage.throttles import Throttles
from tests.admin.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.admin.dashboard_fixtures import login_fixture  # noqa: F401 - the dashboard's form login
from tests.helpers.delivery import custom_order, delivery_rows, post_custom, run_cli, wait_final, wait_until

AC = "activecampaign"
CAP = 1  # BRIDGE_MAX_RETRY_AFTER in the capped-value tests: long enough to see, short enough to wait for
#: Values that ask for longer than any cap: honoured as the cap, with a WARNING naming both.
HUGE = {
    "a-year": "31536000",
    "inf": "inf",
    "1e12": "1e12",
    "http-date-9999": "Fri, 31 Dec 9999 23:59:59 GMT",
}
#: Values that say nothing usable: the default pause (5 s, itself capped) applies.
UNUSABLE = {"nan": "nan", "negative": "-30", "junk": "soon, maybe", "bad-date": "Mon, 99 Foo 2026 99:99:99 GMT"}
PAST_DATE = "Sun, 06 Nov 1994 08:49:37 GMT"


@pytest.fixture
def env_overrides() -> dict[str, str]:
    return {
        "BRIDGE_AC_CONNECTION_ID": "1",
        "BRIDGE_ECART_STATUSES": "none",  # AC only: the pause is what is under test
        "BRIDGE_MAX_RETRY_AFTER": str(CAP),
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
    }


@contextlib.contextmanager
def thread_crashes() -> Iterator[list[str]]:
    """Every exception that escapes a thread while the block runs (a dead worker thread), by thread name."""
    crashes: list[str] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: crashes.append(
        f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: {args.exc_value}"
    )
    try:
        yield crashes
    finally:
        threading.excepthook = previous


def deliver_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("deliver-") and t.is_alive())


def order(client, name: str) -> int:
    return post_custom(client, "order.paid", custom_order(name, "2026-10-01T12:00:00+00:00", email=f"{name}@ex.com"))


def capped_warnings(caplog: pytest.LogCaptureFixture) -> list[tuple[Any, Any]]:
    return [
        (getattr(r, "retry_after_asked", None), getattr(r, "retry_after_honoured", None))
        for r in caplog.records
        if r.levelno == logging.WARNING and "BRIDGE_MAX_RETRY_AFTER" in r.getMessage()
    ]


CASES = [
    *[pytest.param(value, float(CAP), True, id=f"huge-{name}") for name, value in HUGE.items()],
    *[pytest.param(value, float(CAP), False, id=f"unusable-{name}") for name, value in UNUSABLE.items()],
]


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("value, waited, capped", CASES)
def test_any_retry_after_is_honoured_at_most_up_to_the_cap(
    client, db, fake_ac, worker, caplog, status: int, value: str, waited: float, capped: bool
):
    caplog.set_level(logging.WARNING, logger="bridge.destinations")
    fake_ac.rate = None  # only the injected answer limits
    fake_ac.fail_next(status, headers={"Retry-After": value})
    with thread_crashes() as crashes:
        event_id = order(client, "ord-1")
        leg = wait_final(db, event_id, timeout=25)[AC]  # a year, or a crash, would never get here

    assert crashes == [], "a worker thread died"
    assert len(deliver_threads()) >= worker.worker.settings.worker_threads
    assert (leg["status"], leg["attempts"]) == ("done", 2)
    refused, *after = fake_ac.requests
    assert refused.status == status and refused.outcome == "injected"
    gap = min(r.at for r in after) - refused.at
    assert gap >= waited - 0.05, f"AC was called again {gap:.2f} s after Retry-After: {value}"
    assert capped_warnings(caplog) == ([(value, float(CAP))] if capped else [])
    assert [d["status"] for d in delivery_rows(db)] == ["done"], "a delivery was left in flight"


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_date_in_the_past_means_go_now(client, db, fake_ac, worker, caplog, status: int):
    fake_ac.rate = None
    fake_ac.fail_next(status, headers={"Retry-After": PAST_DATE})
    with thread_crashes() as crashes:
        leg = wait_final(db, order(client, "ord-1"), timeout=25)[AC]
    assert crashes == [] and (leg["status"], leg["attempts"]) == ("done", 2)
    assert capped_warnings(caplog) == []


# -- the operator ends the wait ------------------------------------------------------------------------------


def resume_by_api(client, **_: Any) -> None:
    answer = client.post(f"/admin/api/destinations/{AC}/resume", headers=ADMIN_HEADERS)
    assert answer.status_code == 200, answer.text
    body = answer.get_json()
    assert body["paused"] is False and body["rate"]["retry_after_seconds"] == 0
    assert body["circuit"]["state"] == "closed"


def resume_by_dashboard(client, login: Callable[[], str], **_: Any) -> None:
    csrf = login()
    page = client.get("/admin/").text
    assert "Resume now" in page, "the overview offers no way to end the wait"
    answer = client.post(f"/admin/destinations/{AC}/pause", data={"csrf_token": csrf, "action": "resume"})
    assert answer.status_code == 303
    assert re.search(
        r"activecampaign resumed: [12] waiting deliver(y is|ies are) due now\.",
        client.get(answer.headers["Location"]).text,
    )


def resume_by_cli(client, delivery_env: dict[str, str], tmp_path, **_: Any) -> None:
    done = run_cli(["destinations", "resume", AC], delivery_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^{AC} resumed: [12] waiting deliver(y is|ies are) due now$", done.stdout, re.M), done.stdout
    assert f"{AC}: live, running" in done.stdout


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("resume", [resume_by_api, resume_by_dashboard, resume_by_cli], ids=["api", "dashboard", "cli"])
def test_the_operator_ends_a_long_retry_after_and_delivery_proceeds_at_once(
    client, db, fake_ac, start_worker, settings, login, delivery_env, tmp_path, caplog, status: int, resume
):
    caplog.set_level(logging.WARNING, logger="bridge.destinations")
    # The default cap (an hour): far longer than the test waits, so only the resume can end it.
    worker = start_worker(replace(settings, max_retry_after=3600.0))
    fake_ac.rate = None
    fake_ac.fail_next(status, headers={"Retry-After": "31536000"})
    with thread_crashes() as crashes:
        first = order(client, "ord-1")
        fake_ac.wait_calls(1, status=status, timeout=15)
        paused_for = wait_until(
            lambda: max(0.0, Throttles(db).get(AC).paused_until - time.time()), timeout=10, describe="no pause stored"
        )
        assert 3500 < paused_for <= 3600, "Retry-After: 31536000 is honoured as the one-hour cap"
        second = order(client, "ord-2")
        time.sleep(1.0)  # the worker would have sent ord-2 by now, were the account not paused
        assert len(fake_ac.requests) == 1, "AC was called during the pause"
        rows = delivery_rows(db)
        assert [r["status"] for r in rows] == ["pending", "pending"], "a paused delivery is held in flight"

        resume(client=client, login=login, delivery_env=delivery_env, tmp_path=tmp_path)
        legs = [wait_final(db, event_id, timeout=15)[AC] for event_id in (first, second)]

    assert crashes == [] and len(deliver_threads()) >= worker.worker.settings.worker_threads
    assert [(leg["status"], leg["attempts"]) for leg in legs] == [("done", 2), ("done", 1)]
    assert sorted(o["externalid"] for o in fake_ac.orders()) == ["ord-1", "ord-2"]
    assert capped_warnings(caplog) == [("31536000", 3600.0)]


def test_the_command_line_pauses_lists_and_resumes(client, db, fake_ac, worker, delivery_env, tmp_path):
    paused = run_cli(["destinations", "pause", AC], delivery_env, tmp_path)
    assert (paused.returncode, paused.stdout) == (0, f"{AC} paused\n"), paused.stderr
    event_id = order(client, "ord-1")
    time.sleep(1.0)  # the worker would have sent it by now
    assert fake_ac.requests == [] and [d["status"] for d in delivery_rows(db, event_id)] == ["pending"]
    listed = run_cli(["destinations", "list"], delivery_env, tmp_path)
    assert listed.stdout.splitlines() == [
        f"{AC}: live, paused by an operator; 1 queued",
        "ecartapi: live, running; 0 queued",
    ]

    assert run_cli(["destinations", "resume", AC], delivery_env, tmp_path).returncode == 0
    assert wait_final(db, event_id, timeout=15)[AC]["status"] == "done"


# -- the pieces, on their own ---------------------------------------------------------------------------------


NOW = 1_800_000_000.0  # 2027-01-15


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("31536000", 31536000.0),
        ("1e12", 1e12),
        ("inf", math.inf),
        ("Infinity", math.inf),
        ("9" * 400, math.inf),
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799.0 - NOW),
        (PAST_DATE, 0.0),
        ("nan", None),
        ("-30", None),
        ("-inf", None),
        ("", None),
        (None, None),
        ("soon, maybe", None),
        ("Mon, 99 Foo 2026 99:99:99 GMT", None),
        ("Mon, 01 Jan 99999 00:00:00 GMT", None),
        ("Fri, 15 Jan 2027 08:00:30", 30.0),  # no zone: read as UTC
    ],
)
def test_retry_after_values_parse_to_a_number_or_none(value, seconds):
    parsed = parse_retry_after(value, now=NOW)
    assert parsed == pytest.approx(seconds) if seconds is not None else parsed is None


@pytest.mark.parametrize("retry_after", [math.inf, math.nan, 1e12, 1e300, -5.0, None])
@pytest.mark.parametrize("max_age", [60.0, 3 * 86400.0, 1e300])
def test_the_retry_decision_never_overflows(retry_after, max_age):
    policy = RetryPolicy((5.0,), max_age, spread=lambda delay: delay)
    now = datetime(2026, 10, 1, tzinfo=UTC)
    decision = policy.decide(attempt=1, first_attempt_at=now, now=now, retry_after=retry_after)
    if isinstance(decision, RetryAt):
        assert now < decision.when <= now + timedelta(seconds=min(max_age, LONGEST))
    else:
        assert isinstance(decision, GiveUp) and retry_after is not None and retry_after > max_age


def test_an_infinite_pause_stored_by_an_older_version_blocks_nothing_and_resume_clears_a_long_one(db):
    throttles = Throttles(db)
    throttles.pause(AC, time.time() + 10)  # creates the row
    with db.write() as conn:
        conn.execute(update(throttles_table).values(paused_until=math.inf, next_slot_at=math.inf))
    state = throttles.get(AC)
    assert not state.blocked(time.time()) and state.next_slot_at == 0.0
    assert throttles.reserve_slot(AC, 0.2) <= time.time()

    throttles.pause(AC, time.time() + 31536000)
    assert throttles.get(AC).blocked(time.time())
    throttles.resume(AC)
    assert not throttles.get(AC).blocked(time.time())
    ticket, wait = Throttles(db).admit(AC, 5, 1.0, 120.0)
    assert ticket is not None and wait == 0.0
