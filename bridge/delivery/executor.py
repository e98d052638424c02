"""Runs one claimed delivery: stale check, the destination leg, then the outcome into the database."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from bridge.canonical import load_canonical
from bridge.delivery.pacing import Interrupted, Paused, SharedPacer
from bridge.delivery.retry import GiveUp, RetryPolicy
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.contacts import ContactSync
from bridge.destinations.activecampaign.revenue import NET, Revenue
from bridge.destinations.activecampaign.state import MemoryState
from bridge.destinations.ecartapi import deliver as ecart
from bridge.destinations.http import DEFAULT_PAUSE, CallLog, HttpCaller, make_session
from bridge.errors import PermanentError, RetryableError
from bridge.logs import log_attempt
from bridge.metrics import attempt_recorded, delivery_finished
from bridge.settings import Settings
from bridge.storage import Database, EventStore
from bridge.storage.deliveries import DEAD, DONE, DRY_RUN, PENDING, SKIPPED, AttemptRecord, Claimed, DeliveryStore
from bridge.storage.remote import AppliedVersions, RemoteRecord, RemoteRecords, RemoteState
from bridge.storage.throttles import Throttles
from bridge.timeutil import utcnow

log = logging.getLogger("bridge.delivery")


class MemoryRecords:
    """RemoteRecords stand-in for dry-runs: ids made up during a dry-run must never reach the database."""

    def __init__(self, backing: RemoteRecords) -> None:
        self.backing = backing
        self.local: dict[tuple[str, str], RemoteRecord] = {}

    def get(self, key_type: str, key: str) -> RemoteRecord | None:
        return self.local.get((key_type, key)) or self.backing.get(key_type, key)

    def mark_creating(self, key_type: str, key: str, now: Any) -> None:
        """Nothing is really created in a dry-run."""

    def put(
        self, key_type: str, key: str, remote_id: str, record_kind: str, now: Any, detail: str | None = None
    ) -> None:
        self.local[(key_type, key)] = RemoteRecord(remote_id, record_kind, detail)

    def claim(self, key_type: str, key: str, now: Any, stale_before: Any) -> bool:
        """A dry-run creates nothing, so there is nothing to race for."""
        return True

    def release(self, key_type: str, key: str) -> None:
        """Nothing was claimed."""

    def forget_remote(self, key_type: str, remote_id: str, keep: str) -> None:
        """Dry-run ids are never remembered in the database."""


def version_subject(destination: str, lane: str, kind: str, refund_id: str | None = None) -> str:
    """What "older than already applied" compares within. EcartAPI: the order, whatever the event (a late
    `paid` after `cancelled` is stale). ActiveCampaign: the lane *and* kind, because a cart and the order that
    converts it share a lane but are different states (a cart after its order is skipped by the mapping);
    each refund on its own, since an older refund arriving late still counts (revenue.py adds them up)."""
    if destination == ecart.NAME:
        return lane
    return f"{lane}|{kind}|{refund_id}" if refund_id else f"{lane}|{kind}"


@dataclass
class Executor:
    """Everything needed to run deliveries; shared by the worker threads of one process."""

    settings: Settings
    db: Database
    stop: threading.Event
    owner: str

    def __post_init__(self) -> None:
        self.events = EventStore(self.db)
        self.deliveries = DeliveryStore(self.db)
        self.applied = AppliedVersions(self.db)
        self.throttles = Throttles(self.db)
        self.policy = RetryPolicy(self.settings.retry_schedule, self.settings.retry_max_age)
        self.ac_records = RemoteRecords(self.db, f"ac:{self.settings.ac_url or 'dry-run'}")
        self.ac_state = RemoteState(self.db, f"ac:{self.settings.ac_url or 'dry-run'}")
        self._local = threading.local()
        self.renewed_at = time.monotonic()  # the heartbeat's last successful renewal (worker.py)

    def lease_ok(self, claimed_at: float) -> Callable[[], bool]:
        """Whether a lease taken at `claimed_at` (monotonic) is surely still ours: renewed or taken within the
        last two thirds of its length. A worker whose heartbeat stalled (database trouble, a starved process)
        must not send: another worker may have reclaimed the delivery and be sending it too."""
        margin = self.settings.lease_seconds * 2 / 3
        return lambda: time.monotonic() - max(claimed_at, self.renewed_at) < margin

    def _session(self) -> requests.Session:
        # One Session per thread: requests' Session is not documented as thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session("storebridge/0.1 (+https://github.com/storebridge)")
        return session

    # -- one delivery --------------------------------------------------------------------------------------

    def run(self, claimed: Claimed) -> str:
        """Run a delivery this process holds the lease of; returns its new status."""
        record = self.events.get(claimed.event_id)
        if record is None or not record.payload:
            return self._finish(claimed, DEAD, error="event missing or without canonical payload")
        event = load_canonical(record.payload)
        version: datetime = event.get("updated_at") or event["occurred_at"]
        subject = version_subject(claimed.destination, claimed.lane, event["kind"], event.get("refund_id"))
        applied = self.applied.get(claimed.destination, subject)
        if applied is not None and version < applied:
            note = f"stale: event version {version.isoformat()} older than applied {applied.isoformat()}"
            return self._finish(claimed, "stale", note=note)
        dry_run = not self._enabled(claimed.destination)
        started = time.perf_counter()
        try:
            # History reaches AC with `source: 0`, so no automation fires for it (spec §13).
            ac_source = 0 if record.historical else self.settings.ac_source
            result = self._leg(claimed, dry_run, self.lease_ok(time.monotonic()), ac_source).run(event)
        except Interrupted:
            self.deliveries.release(claimed.id, self.owner, utcnow())
            return PENDING
        except Paused as exc:
            # Not an attempt: the destination was paused while this call waited for its slot. It waits in the
            # queue until the pause ends, or the operator resumes the destination (which makes it due now).
            resume = self._after(exc.until - time.time() if exc.until else 1.0)
            self.deliveries.release(claimed.id, self.owner, utcnow(), next_attempt_at=resume)
            return PENDING
        except PermanentError as exc:
            self._health(claimed.destination, ok=True)
            return self._finish(claimed, DEAD, code=exc.status, error=f"{exc.message}: {exc.body or ''}".strip())
        except RetryableError as exc:
            if exc.status == 429:
                # Not a failure: the destination is up and asked us to slow down. Come back when it said.
                return self._later(claimed, exc.status, exc.message, exc.retry_after or DEFAULT_PAUSE)
            self._health(claimed.destination, ok=False)
            return self._retry(claimed, exc.status, f"{exc.message}", exc.retry_after)
        except Exception as exc:  # the per-delivery guard: a bug must not kill the worker or lose the delivery
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
            return self._retry(claimed, None, f"internal error: {type(exc).__name__}: {exc}", None)
        if not dry_run:
            self._health(claimed.destination, ok=True)
            if result.status == DONE:
                self.applied.bump(claimed.destination, subject, version)
        status = DRY_RUN if dry_run else (DONE if result.status == DONE else SKIPPED)
        log.info(
            "delivered",
            extra={
                "delivery_id": claimed.id,
                "event_id": claimed.event_id,
                "destination": claimed.destination,
                "outcome": status,
                "note": result.note,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return self._finish(claimed, status, note=result.note)

    def _enabled(self, destination: str) -> bool:
        return self.settings.ac_enabled if destination == ac.NAME else self.settings.ecart_enabled

    def _leg(
        self, claimed: Claimed, dry_run: bool, lease_ok: Callable[[], bool], ac_source: int
    ) -> ac.ActiveCampaignLeg | ecart.EcartAPILeg:
        def record(call: CallLog) -> None:
            self.deliveries.record_attempt(
                AttemptRecord(
                    delivery_id=claimed.id, event_id=claimed.event_id, destination=claimed.destination, **call.__dict__
                )
            )
            attempt_recorded(claimed.destination, call)
            log_attempt(log, claimed, call)

        if claimed.destination == ac.NAME:
            caller = HttpCaller(
                session=self._session(),
                headers={"Api-Token": self.settings.ac_token or "", "Accept": "application/json"},
                timeout=self.settings.http_timeout,
                record=record,
                pacer=SharedPacer(self.throttles, ac.NAME, self.settings.ac_rate, self.stop, lease_ok),
                dry_run=dry_run,
                max_retry_after=self.settings.max_retry_after,
            )
            records = MemoryRecords(self.ac_records) if dry_run else self.ac_records
            state = MemoryState(self.ac_state) if dry_run else self.ac_state
            client = ActiveCampaignClient(caller, self.settings.ac_url or "https://activecampaign.invalid")
            contacts = ContactSync(client, state, sync=self.settings.ac_contact_sync, list_id=self.settings.ac_list_id)
            return ac.ActiveCampaignLeg(
                client,
                records,
                connection_id=self.settings.ac_connection_id,
                source=ac_source,
                contacts=contacts,
                revenue=Revenue(client, state, mode=NET) if self.settings.ac_revenue == NET else None,
                claim_seconds=self.settings.lease_seconds,
            )
        caller = HttpCaller(
            session=self._session(),
            headers={"Authorization": f"Bearer {self.settings.ecart_token or ''}", "Accept": "application/json"},
            timeout=self.settings.http_timeout,
            record=record,
            pacer=SharedPacer(self.throttles, ecart.NAME, None, self.stop, lease_ok),
            dry_run=dry_run,
            max_retry_after=self.settings.max_retry_after,
        )
        return ecart.EcartAPILeg(caller, self.settings.ecart_url, dict(self.settings.ecart_statuses))

    # -- outcomes ------------------------------------------------------------------------------------------

    def _after(self, seconds: float) -> datetime:
        """`seconds` from now, bounded by BRIDGE_MAX_RETRY_AFTER (whatever a destination or a stored pause
        said, a delivery is never put off longer, and the date arithmetic cannot overflow)."""
        bounded = seconds if math.isfinite(seconds) else self.settings.max_retry_after
        return utcnow() + timedelta(seconds=min(max(bounded, 0.0), self.settings.max_retry_after))

    def _later(self, claimed: Claimed, status: int, error: str, delay: float) -> str:
        now = utcnow()
        self.deliveries.finish(
            claimed.id,
            self.owner,
            status=PENDING,
            now=now,
            next_attempt_at=self._after(delay),
            last_status=status,
            last_error=error,
        )
        return PENDING

    def _retry(self, claimed: Claimed, status: int | None, error: str, retry_after: float | None) -> str:
        now = utcnow()
        decision = self.policy.decide(
            attempt=claimed.attempts, first_attempt_at=claimed.first_attempt_at, now=now, retry_after=retry_after
        )
        if isinstance(decision, GiveUp):
            return self._finish(claimed, DEAD, code=status, error=f"{error}; {decision.reason}")
        self.deliveries.finish(
            claimed.id,
            self.owner,
            status=PENDING,
            now=now,
            next_attempt_at=decision.when,
            last_status=status,
            last_error=error,
        )
        log.info(
            "delivery will retry",
            extra={
                "delivery_id": claimed.id,
                "event_id": claimed.event_id,
                "destination": claimed.destination,
                "status": status,
                "error": error,
                "retry_at": decision.when.isoformat(),
            },
        )
        return PENDING

    def _finish(
        self,
        claimed: Claimed,
        outcome: str,
        *,
        code: int | None = None,
        error: str | None = None,
        note: str | None = None,
    ) -> str:
        self.deliveries.finish(
            claimed.id, self.owner, status=outcome, now=utcnow(), last_status=code, last_error=error, note=note
        )
        delivery_finished(claimed.destination, outcome)
        if outcome == DEAD:
            log.warning(
                "delivery dead",
                extra={
                    "delivery_id": claimed.id,
                    "event_id": claimed.event_id,
                    "destination": claimed.destination,
                    "http_status": code,
                    "error": error,
                },
            )
        return outcome

    def _health(self, destination: str, *, ok: bool) -> None:
        now = time.time()
        if ok:
            if self.throttles.record_success(destination):
                self._resume(destination)
        else:
            self.throttles.record_failure(
                destination, self.settings.circuit_threshold, self.settings.circuit_cooldown, now
            )

    def _resume(self, destination: str) -> None:
        """After an outage, deliveries that backed off during it go now instead of hours later."""
        count = self.deliveries.hurry(destination, utcnow())
        log.info("destination recovered", extra={"destination": destination, "resumed_deliveries": count})
