"""BRIDGE_ALERT_URL: the worker checks the alert conditions itself and POSTs `{"text": …}` (what Slack and
most chat tools accept) when one starts, at most once per condition per hour while it lasts, and a resolved
message when it clears. The state is in the database (`alert_states`): a restart does not repeat an alert, and
with several worker hosts one of them sends it (each send is claimed by a conditional update first)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import or_, select, update

from bridge.alerts.conditions import current
from bridge.causes import exception_cause, status_words
from bridge.settings import Settings
from bridge.storage import Database
from bridge.storage.tables import alert_states

log = logging.getLogger("bridge.alerts")
#: At most one alert per condition in this long.
REPEAT_AFTER = timedelta(hours=1)
#: How often the worker checks the conditions.
INTERVAL = 60.0
PREFIX = "storebridge"


def post_json(url: str, text: str, timeout: float) -> None:
    """POST `{"text": text}` to `url`; raises on a network failure or a non-2xx answer."""
    response = requests.post(url, json={"text": text}, timeout=timeout, allow_redirects=False)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {status_words(response.status_code)}")


class Alerter:
    """Evaluates the conditions and sends what is due. `send(text)` defaults to a POST to BRIDGE_ALERT_URL."""

    def __init__(self, settings: Settings, db: Database, send: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.db = db
        self.send = send or (lambda text: post_json(settings.alert_url or "", text, settings.http_timeout))
        self._ensure = db.insert_ignoring_conflicts(alert_states, "key")

    def evaluate(self, now: datetime) -> list[str]:
        """Check every condition at `now`; send what is due. Returns the texts sent."""
        active = {c.key: c for c in current(self.settings, self.db, now)}
        rows = self._rows()
        sent: list[str] = []
        for key, condition in active.items():
            row = rows.get(key)
            first_seen = row["first_seen"] if row and row["first_seen"] else None
            if first_seen is None:
                first_seen = now
                self._set(key, now, first_seen=now)
            if (now - first_seen).total_seconds() < condition.for_seconds:
                continue
            text = f"{PREFIX}: {condition.text}"
            if self._claim_firing(key, now) and self._deliver(key, text, now, firing=True, resolved=condition.resolved):
                sent.append(text)
        for key, row in rows.items():
            if key in active:
                continue
            if row["firing"] and self._claim_resolved(key, now):
                text = f"{PREFIX} resolved: {row['text'] or key}"
                if self._deliver(key, text, now, firing=False):
                    sent.append(text)
            elif row["first_seen"] is not None:
                self._set(key, now, first_seen=None)
        return sent

    # -- state ---------------------------------------------------------------------------------------------

    def _rows(self) -> dict[str, dict[str, Any]]:
        with self.db.read() as conn:
            return {row.key: dict(row._mapping) for row in conn.execute(select(alert_states))}

    def _set(self, key: str, now: datetime, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(self._ensure.values(key=key, firing=0, updated_at=now))
            conn.execute(update(alert_states).where(alert_states.c.key == key).values(updated_at=now, **values))

    def _claim_firing(self, key: str, now: datetime) -> bool:
        """Take the right to send `key`'s alert: none sent within REPEAT_AFTER (by any process)."""
        with self.db.write() as conn:
            claimed = conn.execute(
                update(alert_states)
                .where(
                    alert_states.c.key == key,
                    or_(alert_states.c.notified_at.is_(None), alert_states.c.notified_at <= now - REPEAT_AFTER),
                )
                .values(notified_at=now, updated_at=now)
            ).rowcount
        return claimed == 1

    def _claim_resolved(self, key: str, now: datetime) -> bool:
        with self.db.write() as conn:
            claimed = conn.execute(
                update(alert_states)
                .where(alert_states.c.key == key, alert_states.c.firing == 1)
                .values(firing=0, first_seen=None, updated_at=now)
            ).rowcount
        return claimed == 1

    def _deliver(self, key: str, text: str, now: datetime, *, firing: bool, resolved: str | None = None) -> bool:
        """Send `text`; record the outcome. A failed send is given back, to be tried at the next check."""
        try:
            self.send(text)
        except Exception as exc:
            cause = exception_cause(exc) if isinstance(exc, requests.RequestException) else str(exc)
            # Never the URL: an incoming-webhook URL is the credential.
            log.warning("alert not delivered; tried again at the next check", extra={"alert": key, "cause": cause})
            with self.db.write() as conn:
                undo = {"notified_at": None} if firing else {"firing": 1}
                conn.execute(update(alert_states).where(alert_states.c.key == key).values(**undo))
            return False
        if firing:
            self._set(key, now, firing=1, text=resolved)
            log.warning("alert sent", extra={"alert": key, "text": text})
        else:
            log.info("alert resolved", extra={"alert": key, "text": text})
        return True
