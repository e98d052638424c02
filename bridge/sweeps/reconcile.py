"""Reconciliation (spec §13): for each store API configured, read everything changed since the watermark
minus an overlap, and store every state the bridge has not seen as an event (`origin: reconcile`). One runner
at a time across hosts (the sweep's lease row); a source's first run reaches back 7 days."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.errors import BridgeError, DeliveryError, StorageUnavailable
from bridge.metrics import reconcile_finished
from bridge.platforms import StoreReader, build_readers
from bridge.settings import Settings
from bridge.storage import Database, Storage
from bridge.sweeps.recorder import RECONCILE, Tally, record_states
from bridge.timeutil import utcnow
from bridge.vocabulary import SweepOutcome

log = logging.getLogger("bridge.reconcile")
#: How far before the watermark each run starts again: states an API indexes late are still caught.
OVERLAP = timedelta(minutes=15)
#: Where a source's first run starts (no watermark yet).
FIRST_REACH = timedelta(days=7)
LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class RunResult:
    """One source's reconciliation run."""

    source: str
    outcome: str  # ok | failed | busy
    seen: int
    recovered: int
    since: datetime | None
    error: str | None = None


def sweep_name(source: str) -> str:
    """The store_sweeps row of a source's reconciliation."""
    return f"reconcile:{source}"


class Reconciler:
    """Runs reconciliation for every configured store API."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        owner: str,
        *,
        readers: dict[str, StoreReader] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        storage = Storage.of(db)
        self.events = storage.events
        self.sweeps = storage.sweeps
        self.owner = owner
        self.readers = build_readers(settings) if readers is None else readers
        self.clock = clock

    def run_once(self, only: str | None = None) -> list[RunResult]:
        """One run per configured source (or just `only`)."""
        return [self.run_source(name) for name in self.readers if only in (None, name)]

    def run_source(self, source: str) -> RunResult:
        """One run of one source: skipped (`busy`) while another runner holds its lease."""
        reader = self.readers[source]
        name = sweep_name(source)
        started = self.clock()
        if not self.sweeps.acquire(name, self.owner, started, LEASE_SECONDS):
            return RunResult(source, SweepOutcome.BUSY, 0, 0, None)
        sweep = self.sweeps.get(name)
        since = sweep.watermark - OVERLAP if sweep and sweep.watermark else started - FIRST_REACH
        self.sweeps.started(name, self.owner, started)
        live_after = started - timedelta(seconds=self.settings.reconcile_live_window)
        tally = Tally()
        try:
            for page in reader.pages(since, None):
                tally.add(
                    record_states(self.events, page.states, origin=RECONCILE, now=self.clock(), live_after=live_after)
                )
                self.sweeps.acquire(name, self.owner, self.clock(), LEASE_SECONDS)
        except (DeliveryError, OSError, StorageUnavailable) as exc:
            error = str(exc.message if isinstance(exc, BridgeError | DeliveryError) else exc)[:500]
            log.warning("reconciliation failed", extra={"source": source, "error": error, "seen": tally.seen})
            return self._failed(name, source, since, tally, error)
        except Exception as exc:  # a bug, or a shape nothing foresaw: reported, and the next run tries again
            log.exception("reconciliation crashed", extra={"source": source})
            return self._failed(name, source, since, tally, f"internal error: {type(exc).__name__}")
        except BaseException:
            self.sweeps.release(name, self.owner, self.clock())
            raise
        # The next run starts where this one started (minus the overlap): whatever changed during it is read then.
        self.sweeps.finished(
            name,
            self.owner,
            self.clock(),
            outcome=SweepOutcome.OK,
            seen=tally.seen,
            recovered=tally.created,
            watermark=started,
        )
        reconcile_finished(source, SweepOutcome.OK, tally.created)
        log.info(
            "reconciliation run",
            extra={"source": source, "since": since.isoformat(), "seen": tally.seen, "recovered": tally.created},
        )
        return RunResult(source, SweepOutcome.OK, tally.seen, tally.created, since)

    def _failed(self, name: str, source: str, since: datetime, tally: Tally, error: str) -> RunResult:
        """Record a failed run (the watermark stays, so the next run covers the gap) and give the lease back."""
        reconcile_finished(source, SweepOutcome.FAILED, tally.created)
        try:
            self.sweeps.finished(
                name,
                self.owner,
                self.clock(),
                outcome=SweepOutcome.FAILED,
                seen=tally.seen,
                recovered=tally.created,
                error=error,
            )
        except StorageUnavailable:
            log.warning("could not record the failed reconciliation run", extra={"source": source})
        return RunResult(source, SweepOutcome.FAILED, tally.seen, tally.created, since, error)
