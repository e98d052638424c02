"""The delivery worker: a housekeeping thread (plan events, fire timers, reclaim leases), a heartbeat that
keeps alive the leases its live delivery threads work on, and N delivery threads that claim and run deliveries.

No thread dies of an error: every loop catches `Exception` per iteration, logs it and goes on (issue #18). A
delivery whose outcome cannot be recorded is dropped from the heartbeat's renewals, so its lease lapses and
it returns to the queue; the heartbeat record tells `storebridge health` whether the database takes writes and
every delivery thread is alive."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from bridge.clock import SYSTEM, Clock
from bridge.delivery.abandonment import AbandonmentTimers
from bridge.delivery.account import resume_changed_credentials
from bridge.delivery.executor import Executor
from bridge.delivery.leases import HeldLeases
from bridge.delivery.owners import dead_local_owners, new_owner
from bridge.delivery.planner import Planner
from bridge.delivery.wakeup import Waker
from bridge.errors import StorageUnavailable
from bridge.heartbeat import beat
from bridge.settings import Settings
from bridge.storage import Database, Storage

log = logging.getLogger("bridge.worker")
IDLE_WAIT = 0.5
THROTTLE_CACHE = 0.2
#: Seconds between retention passes (spec §16), and the most batches one pass erases: a backlog of old events
#: (retention just turned on) is worked off over several passes, never in one long stretch of writes.
PRUNE_INTERVAL = 300.0
PRUNE_BATCHES = 20


class Worker:
    """One worker process's threads."""

    def __init__(self, settings: Settings, db: Database, stop: threading.Event, clock: Clock = SYSTEM) -> None:
        self.settings = settings
        self.clock = clock  # every reading of now and every timed wait (a VirtualClock in tests)
        self.db = db
        self.stop = stop
        self.owner = new_owner()
        self.leases = HeldLeases(settings.lease_seconds, clock.monotonic)
        self.executor = Executor(settings, db, stop, self.owner, self.leases, clock)
        self.planner = Planner(settings, db)
        self.timers = AbandonmentTimers(db)
        storage = Storage.of(db)
        self.timer_store = storage.timers
        self.deliveries = storage.deliveries
        self.throttles = storage.throttles
        self.retention = storage.retention
        self.work = threading.Condition()
        self._blocked: tuple[float, frozenset[str]] = (0.0, frozenset())
        self.database_ok_at: float | None = None  # wall clock of the heartbeat's last successful write
        self.required: list[threading.Thread] = []  # the threads that must stay alive for the worker to work
        self.heartbeat_dir: Path | None = None  # None: the shared metrics directory (bridge/heartbeat.py)

    def run(self) -> None:
        """Run until `stop` is set; in-flight calls finish and unsent deliveries are released."""
        self._reclaim_dead_local_owners()
        self._resume_changed_credentials()
        housekeeping = threading.Thread(target=self._housekeeping, name="housekeeping", daemon=True)
        delivering = [
            threading.Thread(target=self._deliver, name=f"deliver-{i}", daemon=True)
            for i in range(self.settings.worker_threads)
        ]
        self.required = [housekeeping, *delivering]
        threads = [housekeeping, *delivering]
        if self.settings.reconcile_interval > 0:
            threads.append(threading.Thread(target=self._reconcile, name="reconcile", daemon=True))
        if self.settings.alert_url:
            threads.append(threading.Thread(target=self._alerts, name="alerts", daemon=True))
        # Last: its first record, written at once, must find every required thread started.
        threads.append(threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True))
        log.info("worker started", extra={"owner": self.owner, "threads": self.settings.worker_threads})
        for thread in threads:
            thread.start()
        self.stop.wait()
        with self.work:
            self.work.notify_all()
        for thread in threads:
            thread.join(timeout=self.settings.http_timeout + 5)
        log.info("worker stopped", extra={"owner": self.owner})

    def _reclaim_dead_local_owners(self) -> None:
        try:
            dead = dead_local_owners(self.deliveries.lease_owners())
            if dead:
                reclaimed = self.deliveries.reclaim_expired(self.clock.now(), dead)
                log.info("reclaimed leases of dead local workers", extra={"owners": dead, "deliveries": reclaimed})
        except StorageUnavailable:
            # Their leases expire anyway, and housekeeping reclaims expired leases once the database is back.
            log.warning("database unavailable; leases of dead local workers are left to expire")

    def _resume_changed_credentials(self) -> None:
        try:
            resume_changed_credentials(self.settings, self.throttles, self.deliveries)
        except StorageUnavailable:
            # The pause stays until the next start or the operator's resume; it blocks nothing it should not.
            log.warning("database unavailable; a token-rejected pause is not checked against the new token")

    # -- threads -------------------------------------------------------------------------------------------

    def _housekeeping(self) -> None:
        waker = Waker(self.db, self.stop, self.clock)
        last_reclaim = 0.0
        last_prune = self.clock.monotonic() - PRUNE_INTERVAL  # the first pass at start
        try:
            while not self.stop.is_set():
                try:
                    created = self.planner.plan_pending()
                    if self.timers.has_due() and self.timers.fire_due():
                        created += self.planner.plan_pending()
                    if self.clock.monotonic() - last_reclaim > 1.0:
                        last_reclaim = self.clock.monotonic()
                        created += self.deliveries.reclaim_expired(self.clock.now())
                    if self.clock.monotonic() - last_prune > PRUNE_INTERVAL:
                        last_prune = self.clock.monotonic()
                        self._prune()
                    if created:
                        with self.work:
                            self.work.notify_all()
                    timeout = self._until(self.timer_store.next_fire_at(), self.settings.timer_interval)
                except StorageUnavailable:
                    log.warning("database unavailable; housekeeping waits")
                    timeout = 1.0
                except Exception:
                    log.exception("housekeeping failed; retrying")
                    timeout = 1.0
                try:
                    waker.wait(timeout)
                except Exception:
                    log.exception("waiting for new work failed")
                    self.clock.wait(self.stop, 1.0)
        finally:
            waker.close()

    def _prune(self) -> None:
        """One bounded retention pass (a failure is logged and retried next interval)."""
        counts = self.retention.prune(self.clock.now(), self.settings.retention_days, max_batches=PRUNE_BATCHES)
        if counts.events or counts.applied_versions or counts.timers or counts.remote_state:
            log.info("retention: pruned", extra=counts.as_dict())

    def _reconcile(self) -> None:
        """Reconcile every BRIDGE_RECONCILE_INTERVAL seconds. Every worker host runs
        this loop; each source's lease row lets one of them read the store at a time."""
        from bridge.sweeps.reconcile import Reconciler  # the store readers are only needed with the loop

        try:
            reconciler = Reconciler(self.settings, self.db, self.owner)
        except Exception:
            log.exception("reconciliation cannot start")
            return
        if not reconciler.readers:
            log.info("reconciliation: no store API configured")
            return
        # The first run waits one interval too: a restart loop must not become a loop of store API sweeps
        # (`storebridge reconcile --once` runs one now).
        while not self.clock.wait(self.stop, self.settings.reconcile_interval):
            try:
                if any(r.recovered for r in reconciler.run_once()):
                    with self.work:
                        self.work.notify_all()
            except StorageUnavailable:
                log.warning("database unavailable; reconciliation waits for its next run")
            except Exception:
                log.exception("reconciliation failed")

    def _alerts(self) -> None:
        """Check the alert conditions now and every minute; BRIDGE_ALERT_URL hears what is due."""
        from bridge.alerts.notify import INTERVAL, Alerter

        alerter = Alerter(self.settings, self.db)
        while True:
            try:
                alerter.evaluate(self.clock.now())
            except StorageUnavailable:
                log.warning("database unavailable; alerts are checked at the next round")
            except Exception:
                log.exception("alert check failed")
            if self.clock.wait(self.stop, INTERVAL):
                return

    def _heartbeat(self) -> None:
        """Extend the leases live delivery threads work on, and write the health check's status record. The
        first round runs at once: `storebridge health` need not wait a whole interval after a start."""
        interval = max(0.2, self.settings.lease_seconds / 3)
        while True:
            try:
                self._renew()
            except StorageUnavailable:
                log.warning("database unavailable; leases not renewed")
            except Exception:
                log.exception("lease renewal failed")
            try:
                alive = {thread.name: thread.is_alive() for thread in self.required}
                beat(self.database_ok_at, alive, self.heartbeat_dir)
            except Exception:
                log.exception("heartbeat record not written")
            if self.clock.wait(self.stop, interval):
                return

    def _renew(self) -> None:
        started = self.leases.clock()
        held = self.leases.renewable()
        renewed = self.deliveries.renew(self.owner, held, self.clock.now(), self.settings.lease_seconds)
        self.leases.extended(renewed, started)
        self.database_ok_at = time.time()  # real time: `storebridge health` reads it from another process
        # A delivery finished (and dropped) while the renewal ran is not lost: only those still held count.
        lost = sorted((set(held) - set(renewed)) & set(self.leases.renewable()))
        if lost:
            # Reclaimed by another worker after the heartbeat could not renew in time: the threads holding them
            # see their lease is no longer surely theirs and send nothing more.
            log.warning("leases lost", extra={"deliveries": lost})

    def _deliver(self) -> None:
        while not self.stop.is_set():
            try:
                self._deliver_one()
            except Exception:
                # Whatever went wrong (a bug, the database), this thread goes on with the next delivery.
                log.exception("delivery thread error; going on")
                self.clock.wait(self.stop, 1.0)

    def _deliver_one(self) -> None:
        """Claim one due delivery and run it, or sleep until one may be due."""
        taken_at = self.leases.clock()
        try:
            group = self.deliveries.claim_batch(
                self.owner,
                self.clock.now(),
                self.settings.lease_seconds,
                self._blocked_destinations(),
                self.executor.group_sizes(),
            )
        except StorageUnavailable:
            self.clock.wait(self.stop, 1.0)
            return
        if not group:
            # Sleep until the next retry falls due; due-but-blocked deliveries (their lane head is backing
            # off) are woken by the notify below when a lane moves, or by the planner.
            due = self.deliveries.next_due_at()
            timeout = self._until(due, IDLE_WAIT) if due is not None and due > self.clock.now() else IDLE_WAIT
            with self.work:
                self.clock.wait(self.work, max(0.01, timeout))
            return
        # This thread holds every lease of the group while it waits for the group's threads (the heartbeat renews
        # the leases of live holders).
        for claimed in group:
            self.leases.hold(claimed.id, taken_at)
        try:
            self.executor.run_group(group)
        finally:
            # Recorded, or left to lapse: either way the heartbeat no longer renews it.
            for claimed in group:
                self.leases.drop(claimed.id)
        with self.work:
            self.work.notify_all()  # the next delivery of this lane may be free now

    # -- helpers -------------------------------------------------------------------------------------------

    def _blocked_destinations(self) -> frozenset[str]:
        checked_at, blocked = self._blocked
        now = self.clock.time()
        if now - checked_at > THROTTLE_CACHE:
            blocked = frozenset(name for name, state in self.throttles.all().items() if state.blocked(now))
            self._blocked = (now, blocked)
        return blocked

    def _until(self, when: datetime | None, cap: float) -> float:
        if when is None:
            return cap
        return max(0.0, min(cap, (when - self.clock.now()).total_seconds()))
