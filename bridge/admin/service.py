"""What an operator can see and do; shared by the admin API and the dashboard (which add only HTTP)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from bridge.destinations import registry
from bridge.replay import Replayer, ReplayOutcome
from bridge.settings import Settings
from bridge.storage import Database, Storage
from bridge.storage.lanes import ahead_of
from bridge.storage.queries import EventFilter, Page
from bridge.timeutil import utcnow
from bridge.vocabulary import EventStatus, JobStatus

log = logging.getLogger("bridge.admin")
#: Where `bridge.admin.init_app` keeps the app's AdminService (in `app.extensions`).
ADMIN_KEY = "bridge.admin"
BULK_KINDS = ("replay", "retry_dead")
#: A bulk job keeps the ids of the events it covered (up to this many) so its page can say how they ended.
JOB_EVENT_IDS = 10_000


@dataclass(frozen=True)
class EventDetail:
    """An event with everything that happened to it."""

    event: Any
    deliveries: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    #: Delivery id -> the earlier delivery of the same lane it waits for (pending ones that are held up).
    ahead: dict[int, int] = field(default_factory=dict)


def resumed_message(destination: str, hurried: int) -> str:
    """What the operator is told after a resume (dashboard and command line)."""
    waiting = "1 waiting delivery is" if hurried == 1 else f"{hurried} waiting deliveries are"
    return f"{destination} resumed: {waiting} due now"


class AdminService:
    """Operator actions over the database; no HTTP here."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage = Storage.of(db)
        self.queries = storage.queries
        self.events = storage.events
        self.deliveries = storage.deliveries
        self.throttles = storage.throttles
        self.jobs = storage.jobs
        self.replayer = Replayer(settings, db)

    @staticmethod
    def current() -> AdminService:
        """The admin service of the app handling the current request (built by `bridge.admin.init_app`)."""
        service: AdminService = current_app.extensions[ADMIN_KEY]
        return service

    # -- reading -------------------------------------------------------------------------------------------

    def reconciliation(self) -> list[dict[str, Any]]:
        """Each configured store API's last reconciliation run and events recovered (spec §13)."""
        from bridge.platforms import build_readers
        from bridge.sweeps.status import describe_runs

        return [run.as_dict() for run in describe_runs(self.db, sorted(build_readers(self.settings)))]

    def list_events(self, flt: EventFilter, *, cursor: str | None = None, limit: int = 50) -> Page:
        """Events matching `flt`, newest first."""
        return self.queries.events(flt, cursor=cursor, limit=limit)

    def event_detail(self, event_id: int) -> EventDetail | None:
        """One event, its deliveries and every attempt."""
        record = self.events.get(event_id)
        if record is None:
            return None
        rows = self.deliveries.for_event(event_id)
        return EventDetail(record, rows, self.deliveries.attempts_for_event(event_id), ahead_of(self.db, rows))

    def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        """One delivery, or None."""
        return self.deliveries.get(delivery_id)

    def destinations(self) -> list[dict[str, Any]]:
        """Each destination's state: credentials, pause, circuit, rate budget, queue depth, oldest pending age."""
        now, epoch = utcnow(), time.time()
        queue = self.queries.queue(now)
        states = self.throttles.all()
        result = []
        for destination in registry.destinations():
            name = destination.name
            state = states.get(name)
            enabled = destination.live(self.settings)
            figures = queue.get(name, {"by_status": {}, "depth": 0, "oldest_pending_age": None})
            circuit_until = state.circuit_open_until if state else 0.0
            paused_until = state.paused_until if state else 0.0
            result.append(
                {
                    "name": name,
                    "mode": "live" if enabled else "dry_run",
                    "paused": bool(state and state.manual_pause),
                    # Why: "manual" or "token_rejected", the cause in plain words, and since when (epoch s).
                    "pause_reason": state.pause_reason if state and state.manual_pause else None,
                    "pause_cause": state.pause_cause if state and state.manual_pause else None,
                    "paused_since": state.paused_since if state and state.manual_pause else None,
                    "circuit": {
                        "state": "open" if circuit_until > epoch else "closed",
                        "open_for_seconds": max(0.0, round(circuit_until - epoch, 3)),
                        "consecutive_failures": state.consecutive_failures if state else 0,
                    },
                    "rate": {
                        "limit_per_second": destination.rate(self.settings),
                        "retry_after_seconds": max(0.0, round(paused_until - epoch, 3)),
                        "next_slot_in_seconds": max(0.0, round((state.next_slot_at if state else 0.0) - epoch, 3)),
                    },
                    "queue_depth": figures["depth"],
                    "oldest_pending_age_seconds": figures["oldest_pending_age"],
                    "deliveries": figures["by_status"],
                }
            )
        return result

    # -- acting --------------------------------------------------------------------------------------------

    def replay_event(self, event_id: int) -> ReplayOutcome:
        """Replay one event (quarantined: re-read; otherwise: planned again, idempotently)."""
        outcome = self.replayer.replay(event_id)
        log.info("replay", extra={"event_id": event_id, "outcome": outcome.status})
        return outcome

    def retry_delivery(self, delivery_id: int) -> bool:
        """Send one finished (e.g. dead) delivery again now."""
        retried = self.deliveries.retry(delivery_id)
        log.info("retry delivery", extra={"delivery_id": delivery_id, "retried": retried})
        return retried

    def set_paused(self, destination: str, paused: bool) -> int:
        """Pause or resume a destination: paused deliveries wait, they do not spend attempts.

        Resume is the operator's "go now": it also clears a `Retry-After` pause and an open circuit, and makes
        the destination's waiting deliveries due at once. Returns how many deliveries it hurried (0 on pause).
        """
        if registry.find(destination) is None:
            raise KeyError(destination)
        if paused:
            self.throttles.set_manual_pause(destination, True)
            # A warning: nothing is delivered to it until someone resumes it.
            log.warning("destination paused", extra={"destination": destination, "reason": "manual"})
            return 0
        was = self.throttles.resume(destination)
        hurried = self.deliveries.hurry(destination, utcnow())
        epoch = time.time()
        log.info(
            "destination resumed",
            extra={
                "destination": destination,
                "was_paused": was.manual_pause,
                "cleared_retry_after_seconds": round(max(0.0, was.paused_until - epoch), 3),
                "cleared_circuit": was.circuit_open_until > epoch,
                "resumed_deliveries": hurried,
            },
        )
        return hurried

    def start_bulk(self, kind: str, flt: EventFilter, params: dict[str, Any]) -> int:
        """Start a bulk job over the events matching `flt` in a background thread; returns the job id.

        `replay`: replay each event. `retry_dead`: retry each event's dead deliveries.
        """
        if kind not in BULK_KINDS:
            raise KeyError(kind)
        ids = self.queries.event_ids(flt)
        job_id = self.jobs.create(kind, {**params, "event_ids": ids[:JOB_EVENT_IDS]}, len(ids), utcnow())
        thread = threading.Thread(target=self._run_bulk, args=(job_id, kind, ids), name=f"bulk-{job_id}", daemon=True)
        thread.start()
        return job_id

    def job(self, job_id: int) -> dict[str, Any] | None:
        """A bulk job's progress; `params` is the request that started it (the covered ids kept apart)."""
        found = self.jobs.get(job_id)
        if found is None:
            return None
        params = {k: v for k, v in (found.get("params") or {}).items() if k != "event_ids"}
        return {**found, "params": params}

    def job_outcome(self, job_id: int) -> dict[str, int]:
        """Where the job's events stand now, by status: a finished retry job only requeued its deliveries,
        so whether they worked is read from the events (dead again, done, still being delivered)."""
        found = self.jobs.get(job_id) or {}
        ids = [int(i) for i in (found.get("params") or {}).get("event_ids", [])]
        return self.queries.status_counts(ids) if ids else {}

    def _run_bulk(self, job_id: int, kind: str, ids: list[int]) -> None:
        done = failed = 0
        try:
            for index, event_id in enumerate(ids, start=1):
                if kind == "replay":
                    ok = self.replayer.replay(event_id).status == EventStatus.ACCEPTED
                else:
                    ok = bool(self.deliveries.requeue_dead(event_id=event_id))
                done += 1
                failed += not ok
                if index % 50 == 0:
                    self.jobs.advance(job_id, done=done, failed=failed, now=utcnow())
            self.jobs.advance(job_id, done=done, failed=failed, now=utcnow(), status=JobStatus.DONE)
        except Exception as exc:
            log.exception("bulk job failed", extra={"job_id": job_id})
            self.jobs.advance(
                job_id, done=done, failed=failed, now=utcnow(), status=JobStatus.FAILED, message=type(exc).__name__
            )
