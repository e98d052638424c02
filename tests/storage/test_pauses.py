"""Why a destination is paused, kept with the pause (bridge/storage/pauses.py), and the token-rejected pause
lifted by a worker that starts with another token (bridge/delivery/account.py)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bridge.delivery.account import resume_changed_credentials, token_fingerprint
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.deliveries import Deliveries
from bridge.storage.pauses import fingerprint, pause_for_token, pause_label
from bridge.storage.tables import deliveries
from bridge.storage.throttles import Throttles
from bridge.timeutil import utcnow
from tests.helpers.env import make_settings


def test_the_reason_is_stored_with_the_pause_and_cleared_by_resume(db: Database) -> None:
    throttles = Throttles(db)
    assert pause_for_token(throttles, "activecampaign", "HTTP 403 token rejected (forbidden)", "f1") is True
    assert pause_for_token(throttles, "activecampaign", "HTTP 403 again", "f1") is False  # already paused
    state = throttles.get("activecampaign")
    assert state.blocked(time.time()) and state.manual_pause
    assert (state.pause_reason, state.pause_cause, state.pause_fingerprint) == (
        "token_rejected",
        "HTTP 403 token rejected (forbidden)",
        "f1",
    )
    assert state.paused_since is not None and abs(state.paused_since - time.time()) < 60
    assert pause_label(state, time.time()) == "token_rejected"
    throttles.resume("activecampaign")
    state = throttles.get("activecampaign")
    assert not state.manual_pause and state.pause_reason is None and state.pause_fingerprint is None
    assert pause_label(state, time.time()) == ""
    throttles.set_manual_pause("ecartapi", True)
    assert pause_label(throttles.get("ecartapi"), time.time()) == "manual"
    throttles.pause("ecartapi", time.time() + 30)
    throttles.set_manual_pause("ecartapi", False)
    assert pause_label(throttles.get("ecartapi"), time.time()) == "retry_after"


def test_the_fingerprint_tells_tokens_apart_without_holding_them() -> None:
    assert fingerprint("secret-token-1") != fingerprint("secret-token-2")
    assert fingerprint("secret-token-1") == fingerprint("secret-token-1")
    assert "secret-token-1" not in fingerprint("secret-token-1") and len(fingerprint("x")) == 16


def test_a_worker_with_another_token_resumes_and_hurries_the_waiting_deliveries(
    db: Database, settings: Settings, db_path, caplog: pytest.LogCaptureFixture
) -> None:
    old = make_settings(
        db_path, BRIDGE_DATABASE_URL=settings.database_url, BRIDGE_AC_URL="http://ac", BRIDGE_AC_TOKEN="old-token-1"
    )
    new = make_settings(
        db_path, BRIDGE_DATABASE_URL=settings.database_url, BRIDGE_AC_URL="http://ac", BRIDGE_AC_TOKEN="new-token-2"
    )
    throttles, store = Throttles(db), Deliveries(db)
    later = utcnow() + timedelta(hours=1)
    with db.write() as conn:
        conn.execute(
            insert(deliveries).values(
                event_id=1,
                destination="activecampaign",
                lane="l",
                status="pending",
                attempts=0,
                next_attempt_at=later,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    pause_for_token(throttles, "activecampaign", "HTTP 401 token rejected", token_fingerprint(old, "activecampaign"))
    throttles.set_manual_pause("ecartapi", True)  # an operator's pause is never lifted by a restart
    with caplog.at_level(logging.INFO, logger="bridge.delivery"):
        assert resume_changed_credentials(old, throttles, store) == []  # same token: still paused, said again
    [still] = [r for r in caplog.records if r.getMessage() == "destination paused: token rejected"]
    assert still.levelno == logging.ERROR and still.cause == "HTTP 401 token rejected"  # type: ignore[attr-defined]
    assert throttles.get("activecampaign").manual_pause
    assert resume_changed_credentials(new, throttles, store) == ["activecampaign"]
    assert not throttles.get("activecampaign").manual_pause and throttles.get("ecartapi").manual_pause
    [row] = store.for_event(1)
    assert row["next_attempt_at"] <= utcnow()
