"""Deliveries claimed together (spec §14, `BRIDGE_AC_BATCH`): a worker thread that claimed several ready
deliveries of one destination at once (`Deliveries.claim_batch`, as many as its sender's `group_size`)
runs each on a thread of its own, through the ordinary path of one delivery, sharing what the sender makes
for the group (AC: a batcher, so their orders go in one `bulkUpsertOrders` as soon as every member has joined
the batch or finished without an upsert). And the attempt record of a call: one call made for a whole batch
is every order's attempt, written in one transaction."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from bridge.errors import StorageUnavailable
from bridge.logs import log_attempt
from bridge.metrics import attempt_recorded
from bridge.storage.deliveries import Deliveries, Delivery
from bridge.vocabulary import Attempt

if TYPE_CHECKING:
    from bridge.delivery.executor import Executor

log = logging.getLogger("bridge.delivery")


def run_group(executor: Executor, group: list[Delivery]) -> None:
    """Run `group` (leases held by the calling thread) and wait for every member to finish."""
    if len(group) == 1:
        executor.run(group[0])
        return
    sender = executor.senders[group[0].destination]
    shared = sender.group(len(group))
    try:
        records = executor.events.get_many([c.event_id for c in group])  # one read instead of one each
    except StorageUnavailable:
        records = {}  # each member reads its own (and handles the database being away)

    def member(claimed: Delivery) -> None:
        try:
            executor.run(claimed, shared, records.get(claimed.event_id))
        except Exception:  # run() records every outcome it can; nothing may escape a member's thread
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
        finally:
            sender.leave(shared)
            executor.leases.drop(claimed.id)  # recorded (or left to lapse): the heartbeat stops renewing it

    threads = [threading.Thread(target=member, args=(c,), name=f"order-{c.id}", daemon=True) for c in group[1:]]
    for thread in threads:
        thread.start()
    member(group[0])
    for thread in threads:
        thread.join()
    sender.group_done(shared)  # e.g. AC refused a batch as too large: later groups stay below


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
