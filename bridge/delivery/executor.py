"""Runs one claimed delivery: stale check, the destination runner, then the outcome into the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests

from bridge.canonical import load_canonical
from bridge.causes import answer_message, exception_cause, http_cause, status_words
from bridge.clock import SYSTEM, Clock
from bridge.delivery.account import token_fingerprint
from bridge.delivery.groups import AttemptLog, Group, run_group
from bridge.delivery.leases import HeldLeases
from bridge.delivery.outcomes import Outcomes
from bridge.delivery.pacing import Interrupted, Paused, SharedPacer
from bridge.destinations import registry
from bridge.destinations.base import Destination, RunContext, Runner, Sender
from bridge.errors import (
    DeliveryError,
    PermanentError,
    RedirectRefused,
    RetryableError,
    StorageUnavailable,
    TokenRejected,
)
from bridge.outbound.http import DEFAULT_PAUSE, TOKEN_STATUSES, HttpCaller, make_session
from bridge.redaction import mask_personal, without_emails
from bridge.settings import Settings
from bridge.storage import Database, Storage
from bridge.storage.deliveries import Delivery
from bridge.vocabulary import DeliveryStatus

log = logging.getLogger("bridge.delivery")
#: A delivery the database failed in the middle of is due again this much later (not an attempt spent).
STORAGE_RETRY = 1.0


@dataclass
class Executor:
    """Everything needed to run deliveries; shared by the worker threads of one process."""

    settings: Settings
    db: Database
    stop: threading.Event
    owner: str
    leases: HeldLeases = field(default=None)  # type: ignore[assignment]  # made from settings when not given
    clock: Clock = SYSTEM

    def __post_init__(self) -> None:
        storage = Storage.of(self.db)
        self.events = storage.events
        self.deliveries = storage.deliveries
        self.applied = storage.applied_versions
        self.throttles = storage.throttles
        if self.leases is None:
            self.leases = HeldLeases(self.settings.lease_seconds, self.clock.monotonic)
        self.outcomes = Outcomes(
            self.settings, self.deliveries, self.applied, self.throttles, self.leases, self.stop, self.owner, self.clock
        )
        self._local = threading.local()
        # Each destination's state in this process (its mappings, its batcher), shared by the delivery threads.
        self.senders: dict[str, Sender] = {d.name: d.sender(self.settings, self.db) for d in registry.destinations()}

    def _session(self) -> requests.Session:
        # One Session per thread: requests' Session is not documented as thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session("storebridge/0.1 (+https://github.com/storebridge)")
        return session

    # -- one delivery --------------------------------------------------------------------------------------

    def group_sizes(self) -> dict[str, int]:
        """How many deliveries of a destination one claim may take to run together (`claim_batch`): what each
        destination's sender says (e.g. AC orders in one `bulkUpsertOrders`); one where it says nothing."""
        sizes = {name: sender.group_size() for name, sender in self.senders.items()}
        return {name: size for name, size in sizes.items() if size > 1}

    def run_group(self, group: list[Delivery]) -> None:
        """Run deliveries claimed together, each on its own thread through its own path (stale check, lease,
        outcome, attempts), sharing what their destination's sender gives the group (groups.py)."""
        run_group(self, group)

    def run(self, claimed: Delivery, group: Group | None = None) -> str | None:
        """Run a delivery this process holds the lease of (in `leases`); returns its new status, or None when
        the outcome could not be recorded (the lease then lapses and the delivery returns to the queue).
        `group`: the claimed group it runs in (its event read, its reads done ahead, its outcomes' transaction)."""
        try:
            return self._run(claimed, group)
        except StorageUnavailable:
            # The database failed before or after a call, not the destination: back to the queue, attempt
            # not spent. A call that did happen is found by the idempotent lookup next time.
            log.warning("database unavailable mid-delivery", extra={"delivery_id": claimed.id})
            return self.outcomes.release(claimed, self.clock.now() + timedelta(seconds=STORAGE_RETRY))
        except Exception as exc:  # a bug outside the destination runner (bookkeeping): retried like a failed call
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
            return self.outcomes.retry(claimed, None, f"internal error: {type(exc).__name__}: {exc}", None)

    def _run(self, claimed: Delivery, group: Group | None) -> str | None:
        destination, sender = registry.find(claimed.destination), self.senders.get(claimed.destination)
        if destination is None or sender is None:  # a row of a destination this process does not deliver to
            return self.outcomes.finish(
                claimed, DeliveryStatus.DEAD, error=f"no destination {claimed.destination!r} is registered"
            )
        together = group.finish if group is not None else None
        record = group.records.get(claimed.event_id) if group is not None else None
        if record is None:
            record = self.events.get(claimed.event_id)
        if record is None or not record.payload:
            return self.outcomes.finish(
                claimed, DeliveryStatus.DEAD, error="event missing or without canonical payload", together=together
            )
        loaded = group.events.get(claimed.event_id) if group is not None else None
        event = loaded if loaded is not None else load_canonical(record.payload)
        version: datetime = event.get("updated_at") or event["occurred_at"]
        subject = destination.version_subject(claimed.lane, event["kind"], event.get("refund_id"))
        known, applied = group.applied(claimed.destination, subject) if group is not None else (False, None)
        if not known:
            applied = self.applied.get(claimed.destination, subject)
        if applied is not None and version < applied:
            note = f"stale: event version {version.isoformat()} older than applied {applied.isoformat()}"
            return self.outcomes.finish(claimed, DeliveryStatus.STALE, note=note, together=together)
        dry_run = not destination.live(self.settings)
        started = time.perf_counter()
        try:
            event = sender.prepare(event, record)
            caller = self._caller(destination, claimed, dry_run, self.leases.checker(claimed.id))
            shared = group.shared if group is not None else None
            runner: Runner = sender.runner(RunContext(caller, dry_run, record, shared))
            try:
                result = runner.run(event)
            except BaseException:
                sender.failed(runner)  # e.g. what the destination already holds is remembered all the same
                raise
        except Interrupted:
            return self.outcomes.release(claimed, None)
        except Paused as exc:
            # Not an attempt: the destination was paused while this call waited for its slot. It waits in the
            # queue until the pause ends, or the operator resumes the destination (which makes it due now).
            return self.outcomes.release(
                claimed, self.outcomes.after(exc.until - self.clock.time() if exc.until else 1.0)
            )
        except TokenRejected as exc:
            # The account, not this delivery: the destination pauses and this delivery waits, unspent.
            fingerprint = token_fingerprint(self.settings, claimed.destination)
            return self.outcomes.token_rejected(claimed, self._cause(exc), fingerprint)
        except PermanentError as exc:
            self._answered(claimed, group)
            return self.outcomes.finish(
                claimed,
                DeliveryStatus.DEAD,
                code=exc.status,
                error=dead_cause(exc),
                cause=self._cause(exc),
                together=together,
            )
        except RetryableError as exc:
            if exc.status == 429:
                # Not a failure: the destination is up and asked us to slow down. Come back when it said.
                wait = exc.retry_after or DEFAULT_PAUSE
                log.warning(
                    "rate limited; delivery waits",
                    extra={"delivery_id": claimed.id, "destination": claimed.destination, "wait_seconds": wait},
                )
                return self.outcomes.later(claimed, exc.status, exc.message, wait)
            cause = self._cause(exc)
            self.outcomes.health(claimed.destination, ok=False, cause=cause, failure=exc)
            return self.outcomes.retry(claimed, exc.status, f"{exc.message}", exc.retry_after, cause=cause)
        except StorageUnavailable:
            raise  # not the runner's fault: run() gives the delivery back
        except Exception as exc:  # the per-delivery guard: a bug must not kill the worker or lose the delivery
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
            return self.outcomes.retry(claimed, None, f"internal error: {type(exc).__name__}: {exc}", None)
        if not dry_run:
            self._answered(claimed, group)
        status = (
            DeliveryStatus.DRY_RUN
            if dry_run
            else (DeliveryStatus.DONE if result.status == DeliveryStatus.DONE else DeliveryStatus.SKIPPED)
        )
        log.info(
            "delivered",
            extra={
                "delivery_id": claimed.id,
                "event_id": claimed.event_id,
                "destination": claimed.destination,
                "outcome": status,
                "note": mask_personal(result.note),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        applied_version = (subject, version) if status == DeliveryStatus.DONE else None
        writes = sender.writes(runner)  # e.g. AC's order state, stored with the outcome: one write per order
        return self.outcomes.finish(
            claimed, status, note=result.note, applied=applied_version, writes=writes, together=together
        )

    def _answered(self, claimed: Delivery, group: Group | None) -> None:
        """The destination answered: the circuit's success bookkeeping (a read), once a group."""
        if group is None or group.first_success(claimed.destination):
            self.outcomes.health(claimed.destination, ok=True)

    def _cause(self, exc: DeliveryError) -> str:
        """The failure in plain words for the log: the status and the destination's own message (email
        addresses left out), or what went wrong on the network ("cannot resolve host …")."""
        if isinstance(exc, RedirectRefused):
            return exc.message
        if exc.status is not None:
            return without_emails(http_cause(exc.status, exc.body))
        failure = exc.__cause__
        if failure is None:
            return exc.message
        request = getattr(failure, "request", None)
        return exception_cause(failure, url=getattr(request, "url", None), timeout=self.settings.http_timeout)

    def _caller(
        self, destination: Destination, claimed: Delivery, dry_run: bool, lease_ok: Callable[[], bool]
    ) -> HttpCaller:
        """The delivery's HTTP caller: its destination's headers, paced at its rate across processes, every
        call recorded as the delivery's attempt (or, in a dry-run, recorded and not sent)."""
        return HttpCaller(
            session=self._session(),
            headers=destination.headers(self.settings),
            timeout=self.settings.http_timeout,
            record=AttemptLog(self.deliveries, claimed),
            pacer=SharedPacer(
                self.throttles, destination.name, destination.rate(self.settings), self.stop, lease_ok, self.clock
            ),
            dry_run=dry_run,
            max_retry_after=self.settings.max_retry_after,
            token_statuses=TOKEN_STATUSES,
        )


def dead_cause(exc: PermanentError) -> str:
    """What a dead delivery's "why" says: the error in words, with the service's own message from the answer
    when the error does not already carry it (never the raw JSON body)."""
    message = exc.message
    said = answer_message(exc.body) if exc.body else ""
    if said and said not in message:
        message = f"{message}: {said}"
    if exc.status is not None and "HTTP" not in message:
        message = f"HTTP {status_words(exc.status)}: {message}"
    return message
