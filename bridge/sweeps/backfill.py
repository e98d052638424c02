"""Backfill (spec §13): a store's past orders (and Shopify's abandoned checkouts) as historical events: AC
gets them with `source: 0`, EcartAPI nothing. A checkpoint after every page makes it resumable after Ctrl-C
or a crash; states already stored are skipped, so a second run creates nothing. What is read comes from the
reader's `backfill_pages` (Shopify: one bulk export for a long history, bridge/platforms/shopify/bulk_pages.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.errors import BridgeError
from bridge.platforms import StoreReader
from bridge.storage import Database, Storage
from bridge.sweeps.recorder import BACKFILL, Tally, record_states
from bridge.timeutil import parse_datetime, utcnow
from bridge.vocabulary import SweepOutcome

#: Where a backfill without --since starts: before any of the supported platforms existed.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
LEASE_SECONDS = 120.0


@dataclass(frozen=True)
class Progress:
    """How far a backfill is (for the progress line)."""

    pages: int
    seen: int
    created: int
    elapsed: float
    resumed: bool
    read_now: int = 0  # read by this run (a resumed run's `seen` includes the interrupted one's)

    @property
    def rate(self) -> float:
        """States read per second by this run."""
        return self.read_now / self.elapsed if self.elapsed > 0 else 0.0


def sweep_name(source: str) -> str:
    """The store_sweeps row of a source's backfill."""
    return f"backfill:{source}"


class Backfill:
    """One backfill of one source over [since, until)."""

    def __init__(
        self,
        db: Database,
        reader: StoreReader,
        owner: str,
        *,
        since: datetime | None,
        until: datetime | None,
        stale_owner: Callable[[str], bool] = lambda owner: False,
    ) -> None:
        storage = Storage.of(db)
        self.events = storage.events
        self.sweeps = storage.sweeps
        self.reader = reader
        self.owner = owner
        self.since = since
        self.until = until
        self.stale_owner = stale_owner
        self.name = sweep_name(reader.name)

    def run(self, progress: Callable[[Progress], None] = lambda p: None) -> Progress:
        """Read every page (from the checkpoint, if one for the same range exists) and store what is new."""
        now = utcnow()
        if not self.sweeps.acquire(self.name, self.owner, now, LEASE_SECONDS):
            holder = self.sweeps.get(self.name)
            if holder is None or holder.lease_owner is None or not self.stale_owner(holder.lease_owner):
                owner = holder.lease_owner if holder else "?"
                raise BridgeError(f"a backfill of {self.reader.name} is already running ({owner})")
            self.sweeps.release(self.name, holder.lease_owner, now)  # its process is gone: take over
            if not self.sweeps.acquire(self.name, self.owner, now, LEASE_SECONDS):
                raise BridgeError(f"a backfill of {self.reader.name} is already running")
        try:
            return self._run(progress, now)
        finally:
            self.sweeps.release(self.name, self.owner, utcnow())

    def _run(self, progress: Callable[[Progress], None], now: datetime) -> Progress:
        sweep = self.sweeps.get(self.name)
        wanted = {"since": _text(self.since), "until": _text(self.until)}
        checkpoint: dict[str, Any] | None = sweep.checkpoint if sweep else None
        resumed = bool(checkpoint and checkpoint.get("range") == wanted)
        if resumed and checkpoint is not None:
            until = parse_datetime(checkpoint["until_at"])
            resume, tally = checkpoint.get("resume"), Tally(seen=checkpoint["seen"], created=checkpoint["created"])
            pages = int(checkpoint.get("pages", 0))
        else:
            until, resume, tally, pages = self.until or now, None, Tally(), 0
        since = self.since or BEGINNING
        self.sweeps.started(self.name, self.owner, now)
        clock = time.monotonic()
        base_seen, base_created = tally.seen, tally.created
        for page in self.reader.backfill_pages(since, until, resume):
            if page.restart:  # a new bulk export from the beginning: what was read before is read again
                tally.seen = base_seen = pages = 0
            tally.add(record_states(self.events, page.states, origin=BACKFILL, now=utcnow(), live_after=None))
            pages += 0 if page.checkpoint_only else 1
            point = {
                "range": wanted,
                "until_at": _text(until),
                "resume": page.resume,
                "seen": tally.seen,
                "created": tally.created,
                "pages": pages,
            }
            self.sweeps.save_checkpoint(self.name, self.owner, point if page.resume else None, utcnow())
            self.sweeps.acquire(self.name, self.owner, utcnow(), LEASE_SECONDS)
            if page.checkpoint_only:
                continue
            elapsed = time.monotonic() - clock
            progress(Progress(pages, tally.seen, tally.created, elapsed, resumed, tally.seen - base_seen))
        done = Progress(pages, tally.seen, tally.created, time.monotonic() - clock, resumed, tally.seen - base_seen)
        created_now = tally.created - base_created
        self.sweeps.finished(
            self.name, self.owner, utcnow(), outcome=SweepOutcome.OK, seen=tally.seen, recovered=created_now
        )
        return done


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()
