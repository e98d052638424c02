"""BRIDGE_ALERT_URL: the worker's own alerts reach a local HTTP sink once per condition per hour, then a
resolved message; the state survives a restart (a new Alerter on the same database). Injected time, real
HTTP on loopback, both database backends."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from bridge.alerts.conditions import current
from bridge.alerts.notify import Alerter
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.pauses import pause_for_token
from bridge.storage.tables import deliveries, events, store_sweeps
from bridge.storage.throttles import Throttles
from tests.fakes.alert_sink import AlertSink
from tests.helpers.env import make_settings

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(db_path: Path, database_url: str, sink: AlertSink) -> Settings:
    return make_settings(db_path, BRIDGE_DATABASE_URL=database_url, BRIDGE_ALERT_URL=sink.url, BRIDGE_QUIET_ALERT="24h")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_an_alert_goes_out_once_an_hour_at_most_then_a_resolved_message(
    settings: Settings, db: Database, sink: AlertSink
) -> None:
    Throttles(db).set_manual_pause("activecampaign", True)
    alerter = Alerter(settings, db)
    assert alerter.evaluate(at(0)) == []  # a pause alerts after 5 minutes
    assert alerter.evaluate(at(4)) == []
    assert sink.texts == []
    alerter.evaluate(at(6))
    assert sink.texts == ["storebridge: activecampaign is paused (paused by an operator); its deliveries wait"]
    assert alerter.evaluate(at(20)) == []
    # A restarted worker: the state is in the database, the alert is not repeated within the hour.
    assert Alerter(settings, db).evaluate(at(40)) == []
    assert len(sink.texts) == 1
    # Still paused an hour later: one reminder.
    assert Alerter(settings, db).evaluate(at(67)) == [sink.texts[0]] and len(sink.texts) == 2
    Throttles(db).resume("activecampaign")
    alerter.evaluate(at(70))
    assert sink.texts[2:] == ["storebridge resolved: activecampaign is no longer paused"]
    assert alerter.evaluate(at(71)) == [] and alerter.evaluate(at(200)) == []
    assert len(sink.texts) == 3


def test_a_failed_post_is_tried_again_at_the_next_check(
    settings: Settings, db: Database, sink: AlertSink, caplog: pytest.LogCaptureFixture
) -> None:
    _failed_reconciliation(db, "shopify", "HTTP 401 token rejected")
    sink.fail_next()
    with caplog.at_level(logging.WARNING, logger="bridge.alerts"):
        assert Alerter(settings, db).evaluate(at(0)) == []
    [warning] = [r for r in caplog.records if r.getMessage() == "alert not delivered; tried again at the next check"]
    assert warning.levelno == logging.WARNING and warning.cause == "HTTP 500 server error"  # type: ignore[attr-defined]
    assert sink.url not in caplog.text  # an incoming-webhook URL is a credential
    Alerter(settings, db).evaluate(at(1))
    assert sink.texts == ["storebridge: reconciliation of shopify is failing: HTTP 401 token rejected"]


def test_each_condition_in_words_without_personal_data(settings: Settings, db: Database) -> None:
    _webhook(db, "woocommerce", T0 - timedelta(hours=30))
    _failed_reconciliation(db, "shopify", "customer pat@example.com: HTTP 500")
    with db.write() as conn:
        base = {"lane": "x", "attempts": 1, "next_attempt_at": at(0), "created_at": at(-20), "updated_at": at(-1)}
        conn.execute(insert(deliveries).values(event_id=1, destination="activecampaign", status="pending", **base))
        conn.execute(
            insert(deliveries).values(event_id=1, destination="ecartapi", status="dead", last_status=422, **base)
        )
    pause_for_token(Throttles(db), "ecartapi", "HTTP 401 token rejected: Invalid token", "0123abcd")
    texts = {c.key: c.text for c in current(settings, db, at(0))}
    assert texts == {
        "backlog:activecampaign": "deliveries to activecampaign are backing up: the oldest has waited 20 min, 1 queued",
        "dead:ecartapi": "1 delivery to ecartapi went dead in the last 15 min (e.g. HTTP 422 refused as invalid): "
        "see the dashboard's dead list, fix the cause, then retry them",
        "paused:ecartapi": "ecartapi is paused (token rejected: HTTP 401 token rejected: Invalid token); "
        "its deliveries wait",
        "reconcile:shopify": "reconciliation of shopify is failing: customer [email]: HTTP 500",
        "quiet:woocommerce": "no webhook from woocommerce for 30.0 h (the last at 2026-12-06 03:00 UTC): the store "
        "may have disabled or deleted its webhook; check it in the store's settings",
    }
    # Not quiet within BRIDGE_QUIET_ALERT (24 h).
    assert "quiet:woocommerce" not in {c.key for c in current(settings, db, T0 - timedelta(hours=7))}


def _webhook(db: Database, source: str, received_at: datetime) -> None:
    with db.write() as conn:
        conn.execute(
            insert(events).values(
                source=source,
                topic="order.updated",
                dedupe_key=f"{source}:{received_at.isoformat()}",
                origin="webhook",
                status="quarantined",
                received_at=received_at,
                headers={},
                body=b"{}",
            )
        )


def _failed_reconciliation(db: Database, source: str, error: str) -> None:
    with db.write() as conn:
        conn.execute(
            insert(store_sweeps).values(
                name=f"reconcile:{source}", last_outcome="failed", last_error=error, updated_at=T0
            )
        )
