"""Deliveries claimed together (spec §14, `BRIDGE_AC_BATCH`): a worker thread that claimed several ready
deliveries of one destination at once (`Deliveries.claim_batch`, as many as its sender's `group_size`)
runs each on a thread of its own, through the ordinary path of one delivery, sharing what the sender makes
for the group (AC: a batcher, so their orders go in one `bulkUpsertOrders` as soon as every member has joined
the batch or finished without an upsert). And the attempt record of a call: one call made for a whole batch
is every order's attempt, written in one transaction."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.canonical import load_canonical
from bridge.delivery.group_commit import GroupCommit
from bridge.destinations import registry
from bridge.errors import StorageUnavailable
from bridge.logs import log_attempt
from bridge.metrics import attempt_recorded
from bridge.storage.deliveries import Deliveries, Delivery, Finish
from bridge.storage.events import EventRecord
from bridge.vocabulary import Attempt

if TYPE_CHECKING:
    from bridge.delivery.executor import Executor

log = logging.getLogger("bridge.delivery")


@dataclass
class Group:
    """What the members of one claimed group share: what their sender made for them (`shared`: AC's batch and
    reads done ahead), their events (read and loaded), the versions applied before them (each served once, to
    its own member), and the transaction their final outcomes go in."""

    shared: Any
    commit: GroupCommit
    #: The sender's `leave` for this group: the calling member will not join the group's call.
    leave: Callable[[], None]
    records: dict[int, EventRecord] = field(default_factory=dict)
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    versions: dict[tuple[str, str], datetime | None] = field(default_factory=dict)
    _succeeded: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def applied(self, destination: str, subject: str) -> tuple[bool, datetime | None]:
        """(True, the version applied) when read ahead for this member; (False, None): read it now."""
        with self._lock:
            if (destination, subject) not in self.versions:
                return False, None
            return True, self.versions.pop((destination, subject))

    def finish(self, finish: Finish) -> bool:
        """Hand a member's final outcome to the group's transaction (False: the member records it alone). A
        member finishing without joining the group's call (a replay that changes nothing) first says so, or
        the call would wait for it while it waits for the others' outcomes."""
        self.leave()
        return self.commit.finish(finish)

    def first_success(self, destination: str) -> bool:
        """True once per destination: the circuit's success bookkeeping (a read) is done once a group."""
        with self._lock:
            first = destination not in self._succeeded
            self._succeeded.add(destination)
        return first


def run_group(executor: Executor, claimed_group: list[Delivery]) -> None:
    """Run `claimed_group` (leases held by the calling thread) and wait for every member to finish."""
    if len(claimed_group) == 1:
        executor.run(claimed_group[0])
        return
    sender = executor.senders[claimed_group[0].destination]
    commit = GroupCommit(executor.deliveries, executor.leases, executor.owner, len(claimed_group))
    records: dict[int, EventRecord] = {}
    with contextlib.suppress(StorageUnavailable):  # each member then reads its own (and handles the outage)
        records = executor.events.get_many([c.event_id for c in claimed_group])  # one read instead of one each
    events = _loaded(records)
    shared = sender.group(len(claimed_group), list(events.values()))
    versions = _versions(executor, claimed_group, events)
    group = Group(shared, commit, lambda: sender.leave(shared), records, events, versions)

    def member(claimed: Delivery) -> None:
        try:
            executor.run(claimed, group)
        except Exception:  # run() records every outcome it can; nothing may escape a member's thread
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
        finally:
            group.leave()
            commit.leave()
            executor.leases.drop(claimed.id)  # recorded (or left to lapse): the heartbeat stops renewing it

    threads = [threading.Thread(target=member, args=(c,), name=f"order-{c.id}", daemon=True) for c in claimed_group[1:]]
    for thread in threads:
        thread.start()
    member(claimed_group[0])
    for thread in threads:
        thread.join()
    sender.group_done(group.shared)  # e.g. AC refused a batch as too large: later groups stay below


def _loaded(records: dict[int, EventRecord]) -> dict[int, dict[str, Any]]:
    """The canonical events of `records` (one that does not load is left to its member, which records why)."""
    events = {}
    for event_id, record in records.items():
        try:
            if record.payload:
                events[event_id] = load_canonical(record.payload)
        except Exception:  # noqa: S112 - the member loads it again and fails the delivery with the reason
            continue
    return events


def _versions(
    executor: Executor, claimed_group: list[Delivery], events: dict[int, dict[str, Any]]
) -> dict[tuple[str, str], datetime | None]:
    """The versions applied for the members' subjects, one query a destination (a subject two members share is
    left out: each reads it live, after the other's outcome)."""
    subjects: Counter[tuple[str, str]] = Counter()
    for claimed in claimed_group:
        event = events.get(claimed.event_id)
        destination = registry.find(claimed.destination)
        if event is not None and destination is not None:
            subject = destination.version_subject(claimed.lane, event["kind"], event.get("refund_id"))
            subjects[(claimed.destination, subject)] += 1
    alone = [key for key, n in subjects.items() if n == 1]
    versions: dict[tuple[str, str], datetime | None] = {key: None for key in alone}
    try:
        for name in {d for d, _ in alone}:
            found = executor.applied.get_many(name, [s for d, s in alone if d == name])
            versions.update({(name, subject): version for subject, version in found.items()})
    except StorageUnavailable:
        return {}
    return versions


class AttemptLog:
    """Records a delivery's calls as its attempts (an `HttpCaller`'s `record`)."""

    def __init__(self, deliveries: Deliveries, claimed: Delivery) -> None:
        self.deliveries = deliveries
        self.claimed = claimed

    def __call__(self, call: Attempt) -> None:
        self.record_many([self], call)

    @staticmethod
    def record_many(logs: list[AttemptLog], call: Attempt) -> None:
        """One call made for several deliveries (a batch): every delivery's attempt in one transaction."""
        logs[0].deliveries.record_attempts(call, [each.claimed for each in logs])
        for each in logs:
            attempt_recorded(each.claimed.destination, call)
            log_attempt(log, each.claimed, call)
