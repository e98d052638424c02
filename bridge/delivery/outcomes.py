"""A delivery's outcome into the database: done, dead, stale, or pending again (retry later, or given back).

Each write is made while the delivery's lease is surely this worker's, again after the database refused it
(a blip passes unnoticed); when the lease may have run out it gives up, and the lease lapses: the delivery
returns to the queue when it expires and is run again, the destinations' idempotent writes making that safe.
"""

from __future__ import annotations

import logging
import math
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Executable

from bridge.clock import SYSTEM, Clock
from bridge.delivery.account import how_to_fix
from bridge.delivery.leases import HeldLeases
from bridge.delivery.retry import GiveUp, RetryPolicy
from bridge.errors import StorageUnavailable
from bridge.metrics import delivery_finished
from bridge.redaction import mask_personal, without_emails
from bridge.settings import Settings
from bridge.storage.deliveries import Deliveries, Delivery, Finish
from bridge.storage.pauses import pause_for_token
from bridge.storage.remote import AppliedVersions, Upsert
from bridge.storage.throttles import Throttles
from bridge.vocabulary import DeliveryStatus

log = logging.getLogger("bridge.delivery")


class Outcomes:
    """Records the outcomes of one worker process's deliveries. Methods return the delivery's new status, or
    None when it could not be recorded."""

    def __init__(
        self,
        settings: Settings,
        deliveries: Deliveries,
        applied: AppliedVersions,
        throttles: Throttles,
        leases: HeldLeases,
        stop: threading.Event,
        owner: str,
        clock: Clock = SYSTEM,
    ) -> None:
        self.settings = settings
        self.deliveries = deliveries
        self.applied = applied
        self.throttles = throttles
        self.leases = leases
        self.stop = stop
        self.owner = owner
        self.clock = clock
        self.policy = RetryPolicy(settings.retry_schedule, settings.retry_max_age)
        # Failed calls already counted against the circuit (weak: gone with the error).
        self._counted: weakref.WeakSet[object] = weakref.WeakSet()
        self._counted_lock = threading.Lock()

    def after(self, seconds: float) -> datetime:
        """`seconds` from now, bounded by BRIDGE_MAX_RETRY_AFTER (whatever a destination or a stored pause
        said, a delivery is never put off longer, and the date arithmetic cannot overflow)."""
        bounded = seconds if math.isfinite(seconds) else self.settings.max_retry_after
        return self.clock.now() + timedelta(seconds=min(max(bounded, 0.0), self.settings.max_retry_after))

    def record(self, claimed: Delivery, write: Callable[[], object]) -> bool:
        """Run an outcome `write`, again while the database refuses it and the lease is surely ours (a blip
        passes unnoticed); False when it gave up, and the lease lapses."""
        recorded, _ = self.leases.write(claimed.id, write, lambda seconds: self.clock.wait(self.stop, seconds))
        return recorded

    def release(self, claimed: Delivery, next_attempt_at: datetime | None) -> str | None:
        """Give the delivery back unsent (no attempt spent), due at `next_attempt_at` (default: at once)."""

        def write() -> None:
            self.deliveries.release(claimed.id, self.owner, self.clock.now(), next_attempt_at=next_attempt_at)

        return DeliveryStatus.PENDING if self.record(claimed, write) else None

    def later(self, claimed: Delivery, status: int, error: str, delay: float) -> str | None:
        """Pending again in `delay` seconds: the destination asked us to slow down (429), not a failure."""
        due = self.after(delay)

        def write() -> None:
            self.deliveries.finish(
                claimed.id,
                self.owner,
                status=DeliveryStatus.PENDING,
                now=self.clock.now(),
                next_attempt_at=due,
                last_status=status,
                last_error=error,
            )

        return DeliveryStatus.PENDING if self.record(claimed, write) else None

    def retry(
        self, claimed: Delivery, status: int | None, error: str, retry_after: float | None, cause: str | None = None
    ) -> str | None:
        """A failed attempt: pending again on the retry schedule, or dead once the delivery is too old. `cause`
        is the failure in plain words for the log (default: `error`)."""
        decision = self.policy.decide(
            attempt=claimed.attempts,
            first_attempt_at=claimed.first_attempt_at,
            now=self.clock.now(),
            retry_after=retry_after,
        )
        if isinstance(decision, GiveUp):
            return self.finish(
                claimed,
                DeliveryStatus.DEAD,
                code=status,
                error=f"{error}; {decision.reason}",
                cause=f"{cause or error}; {decision.reason}",
            )

        def write() -> None:
            self.deliveries.finish(
                claimed.id,
                self.owner,
                status=DeliveryStatus.PENDING,
                now=self.clock.now(),
                next_attempt_at=decision.when,
                last_status=status,
                last_error=error,
            )

        if not self.record(claimed, write):
            return None
        log.warning(
            "delivery will retry",
            extra={
                "delivery_id": claimed.id,
                "event_id": claimed.event_id,
                "destination": claimed.destination,
                "status": status,
                "error": mask_personal(error),
                "cause": cause or without_emails(error),
                "retry_at": decision.when.isoformat(),
            },
        )
        return DeliveryStatus.PENDING

    def finish(
        self,
        claimed: Delivery,
        outcome: str,
        *,
        code: int | None = None,
        error: str | None = None,
        note: str | None = None,
        applied: tuple[str, datetime] | None = None,
        cause: str | None = None,
        writes: Sequence[Executable | Upsert] = (),
        together: Callable[[Finish], bool] | None = None,
    ) -> str | None:
        """A final outcome; `applied` is the (subject, version) a `done` delivery applied at the destination;
        `cause` says why a dead one failed, in plain words, for the log (default: `error`); `writes`: what the
        delivery itself still has to store (its order state), in the same transaction; `together`: hands the
        outcome to its claimed group's transaction (group_commit.py; False: it is recorded alone)."""

        # The version this delivery applied (idempotent: never lowers it), in the outcome's own transaction.
        bump = [self.applied.bump_statement(claimed.destination, *applied)] if applied is not None else []
        if together is not None:
            finish = Finish(claimed.id, outcome, self.clock.now(), None, code, error, note, [*writes, *bump])
            if together(finish):
                return self._finished(claimed, outcome, code, error, cause)

        def write() -> None:
            self.deliveries.finish(
                claimed.id,
                self.owner,
                status=outcome,
                now=self.clock.now(),
                last_status=code,
                last_error=error,
                note=note,
                also=[*writes, *bump],
            )

        if not self.record(claimed, write):
            return None
        return self._finished(claimed, outcome, code, error, cause)

    def _finished(self, claimed: Delivery, outcome: str, code: int | None, error: str | None, cause: str | None) -> str:
        """Count and log a final outcome once it is recorded."""
        delivery_finished(claimed.destination, outcome)
        if outcome == DeliveryStatus.DEAD:
            why = cause or without_emails(error or "unknown")
            log.error(
                "delivery dead",
                extra={
                    "delivery_id": claimed.id,
                    "event_id": claimed.event_id,
                    "destination": claimed.destination,
                    "http_status": code,
                    "error": mask_personal(error),
                    "cause": why,
                },
            )
        return outcome

    def token_rejected(self, claimed: Delivery, cause: str, token_fingerprint: str) -> str | None:
        """The destination rejected the account's token: pause it (reason "token rejected") and give the
        delivery back unspent; every other delivery to it waits too, none goes dead."""
        try:
            if pause_for_token(self.throttles, claimed.destination, cause, token_fingerprint):
                log.error(
                    "destination paused: token rejected",
                    extra={
                        "destination": claimed.destination,
                        "reason": "token_rejected",
                        "cause": cause,
                        "fix": how_to_fix(claimed.destination),
                    },
                )
        except StorageUnavailable:
            log.warning("database unavailable; the token-rejected pause is recorded on the next try")
        return self.release(claimed, None)

    def health(self, destination: str, *, ok: bool, cause: str | None = None, failure: object = None) -> None:
        """Circuit-breaker bookkeeping: best effort, a database blip must not cost the delivery's outcome.
        `failure`: the error of the failed call; one call that carried many deliveries (a batch) counts as one
        failure, not one per delivery, so a single timed-out batch does not open the circuit."""
        now = self.clock.time()
        if failure is not None:
            with self._counted_lock:
                if failure in self._counted:
                    return
                self._counted.add(failure)
        try:
            if ok:
                if self.throttles.record_success(destination):
                    self._resume(destination)
            elif self.throttles.record_failure(
                destination, self.settings.circuit_threshold, self.settings.circuit_cooldown, now
            ):
                log.warning(
                    "circuit open",
                    extra={
                        "destination": destination,
                        "cause": f"{self.settings.circuit_threshold} or more failures in a row, the last: {cause}",
                        "wait_seconds": self.settings.circuit_cooldown,
                    },
                )
        except StorageUnavailable:
            log.warning("database unavailable; destination health not recorded", extra={"destination": destination})

    def _resume(self, destination: str) -> None:
        """After an outage, deliveries that backed off during it go now instead of hours later."""
        count = self.deliveries.hurry(destination, self.clock.now())
        log.info("destination recovered", extra={"destination": destination, "resumed_deliveries": count})
