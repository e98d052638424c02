"""Deliveries claimed together (spec §14, `BRIDGE_AC_BATCH`): a worker thread that claimed several ready AC
order deliveries at once (`DeliveryStore.claim_batch`) runs each on a thread of its own, through the ordinary
path of one delivery, with a batcher made for the group, so their orders go to AC in one `bulkUpsertOrders`
as soon as every member has joined the batch or finished without an upsert. And the attempt record of a call:
one call made for a whole batch is every order's attempt, written in one transaction."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.canonical import load_canonical
from bridge.delivery.group_commit import GroupCommit
from bridge.delivery.prefetch import GroupReads
from bridge.destinations.activecampaign.batching import GROUP_LINGER, OrderBatcher
from bridge.destinations.http import CallLog
from bridge.errors import StorageUnavailable
from bridge.logs import log_attempt
from bridge.metrics import attempt_recorded
from bridge.storage.deliveries import AttemptRecord, Claimed, DeliveryStore, Finish
from bridge.storage.events import EventRecord

if TYPE_CHECKING:
    from bridge.delivery.executor import Executor

log = logging.getLogger("bridge.delivery")


@dataclass
class Group:
    """What the members of one claimed group share: the batch their orders go out in, their events (read, and
    loaded), what they read before their call (`reads`) and the transaction their outcomes go in."""

    batcher: OrderBatcher
    records: dict[int, EventRecord] = field(default_factory=dict)
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    reads: GroupReads | None = None
    commit: GroupCommit | None = None
    succeeded: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def first_success(self, destination: str) -> bool:
        """True once per destination: the circuit's success bookkeeping is done once for the group."""
        with self._lock:
            first = destination not in self.succeeded
            self.succeeded.add(destination)
        return first

    def finish(self, claimed: Claimed, finish: Finish) -> bool:
        """Hand a member's outcome to the group's transaction (False: the member writes it alone)."""
        self.batcher.leave()  # a member finishing without an upsert must not hold the batch back
        return self.commit.finish(claimed, finish) if self.commit is not None else False


def run_group(executor: Executor, claimed_group: list[Claimed]) -> None:
    """Run `claimed_group` (leases held by the calling thread) and wait for every member to finish."""
    if len(claimed_group) == 1:
        executor.run(claimed_group[0])
        return
    group = Group(OrderBatcher(executor.ac_batcher.limit, linger=GROUP_LINGER, members=len(claimed_group)))
    try:
        group.records = executor.events.get_many([c.event_id for c in claimed_group])  # one read, not one each
        group.events = _loaded(group.records)
        group.reads = _prefetch(executor, claimed_group, group.events)
    except StorageUnavailable:
        pass  # each member reads its own (and handles the database being away)
    except Exception:  # reading ahead is an optimisation: a bug in it must not cost the group its deliveries
        log.exception("group reads failed; each delivery reads its own")
    group.commit = GroupCommit(executor.deliveries, executor.leases, executor.owner, len(claimed_group))

    def member(claimed: Claimed) -> None:
        try:
            executor.run(claimed, group)
        except Exception:  # run() records every outcome it can; nothing may escape a member's thread
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
        finally:
            group.batcher.leave()
            if group.commit is not None:
                group.commit.leave()
            executor.leases.drop(claimed.id)  # recorded (or left to lapse): the heartbeat stops renewing it

    threads = [threading.Thread(target=member, args=(c,), name=f"order-{c.id}", daemon=True) for c in claimed_group[1:]]
    for thread in threads:
        thread.start()
    member(claimed_group[0])
    for thread in threads:
        thread.join()
    if group.batcher.limit < executor.ac_batcher.limit:  # AC refused a batch as too large: later groups stay below
        executor.ac_batcher.limit = group.batcher.limit


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


def _prefetch(executor: Executor, claimed_group: list[Claimed], events: dict[int, dict[str, Any]]) -> GroupReads:
    """One query per table for what the members will read before their call (prefetch.py)."""
    from bridge.delivery.executor import version_subject  # executor.py imports this module

    members = [
        (c.destination, version_subject(c.destination, c.lane, e["kind"], e.get("refund_id")), e)
        for c in claimed_group
        if (e := events.get(c.event_id)) is not None
    ]
    settings = executor.settings
    return GroupReads.load(executor.applied, executor.ac_records, executor.ac_state, members, settings.ac_connection_id)


class AttemptLog:
    """Records a delivery's calls as its attempts (an `HttpCaller`'s `record`)."""

    def __init__(self, deliveries: DeliveryStore, claimed: Claimed) -> None:
        self.deliveries = deliveries
        self.claimed = claimed

    def __call__(self, call: CallLog) -> None:
        self.record_many([self], call)

    def row(self, call: CallLog) -> AttemptRecord:
        """The attempt record of `call` for this delivery."""
        c = self.claimed
        return AttemptRecord(delivery_id=c.id, event_id=c.event_id, destination=c.destination, **call.__dict__)

    @staticmethod
    def record_many(logs: list[AttemptLog], call: CallLog) -> None:
        """One call made for several deliveries (a batch): every delivery's attempt in one transaction."""
        logs[0].deliveries.record_attempts([each.row(call) for each in logs])
        for each in logs:
            attempt_recorded(each.claimed.destination, call)
            log_attempt(log, each.claimed, call)
