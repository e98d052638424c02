"""Runs one claimed delivery: stale check, the destination leg, then the outcome into the database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from bridge.canonical import load_canonical
from bridge.causes import answer_message, exception_cause, http_cause, status_words
from bridge.delivery.account import token_fingerprint
from bridge.delivery.groups import AttemptLog, Group, run_group
from bridge.delivery.leases import HeldLeases
from bridge.delivery.outcomes import Outcomes
from bridge.delivery.pacing import Interrupted, Paused, SharedPacer
from bridge.delivery.prefetch import GroupReads
from bridge.destinations.activecampaign import addresses, statuses
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.batching import OrderBatcher
from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.contacts import ContactSync
from bridge.destinations.activecampaign.graphql import GraphQLClient
from bridge.destinations.activecampaign.order_input import creation_source
from bridge.destinations.activecampaign.orders_graphql import GraphQLOrders
from bridge.destinations.activecampaign.revenue import NET, Revenue
from bridge.destinations.activecampaign.state import DeferredState, MemoryState
from bridge.destinations.ecartapi import deliver as ecart
from bridge.destinations.http import DEFAULT_PAUSE, TOKEN_STATUSES, HttpCaller, make_session
from bridge.errors import (
    DeliveryError,
    PermanentError,
    RedirectRefused,
    RetryableError,
    StorageUnavailable,
    TokenRejected,
)
from bridge.logs import mask_personal, without_emails
from bridge.settings import Settings
from bridge.storage import Database, EventStore
from bridge.storage.deliveries import DEAD, DONE, DRY_RUN, SKIPPED, Claimed, DeliveryStore
from bridge.storage.remote import AppliedVersions, RemoteRecord, RemoteRecords, RemoteState
from bridge.storage.throttles import Throttles
from bridge.timeutil import utcnow

log = logging.getLogger("bridge.delivery")
#: A delivery the database failed in the middle of is due again this much later (not an attempt spent).
STORAGE_RETRY = 1.0


class MemoryRecords:
    """RemoteRecords stand-in for dry-runs: ids made up during a dry-run must never reach the database."""

    def __init__(self, backing: ac.Records) -> None:
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
    leases: HeldLeases = field(default=None)  # type: ignore[assignment] - made from settings when not given

    def __post_init__(self) -> None:
        self.events = EventStore(self.db)
        self.deliveries = DeliveryStore(self.db)
        self.applied = AppliedVersions(self.db)
        self.throttles = Throttles(self.db)
        self.ac_records = RemoteRecords(self.db, f"ac:{self.settings.ac_url or 'dry-run'}")
        self.ac_state = RemoteState(self.db, f"ac:{self.settings.ac_url or 'dry-run'}")
        if self.leases is None:
            self.leases = HeldLeases(self.settings.lease_seconds)
        self.outcomes = Outcomes(
            self.settings, self.deliveries, self.applied, self.throttles, self.leases, self.stop, self.owner
        )
        self._local = threading.local()
        # One per process: the delivery threads' GraphQL orders meet here and go out in bulk (BRIDGE_AC_BATCH).
        self.ac_batcher = OrderBatcher(self.settings.ac_batch)

    def _session(self) -> requests.Session:
        # One Session per thread: requests' Session is not documented as thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session("storebridge/0.1 (+https://github.com/storebridge)")
        return session

    # -- one delivery --------------------------------------------------------------------------------------

    def group_sizes(self) -> dict[str, int]:
        """How many deliveries of a destination one claim may take to run together (`claim_batch`): AC orders
        under `BRIDGE_AC_ORDER_API=graphql`, up to `BRIDGE_AC_BATCH` (lowered when AC refused a batch as too
        large); one otherwise."""
        if self.settings.ac_order_api != "graphql" or not self.settings.ac_enabled or self.ac_batcher.limit <= 1:
            return {}
        return {ac.NAME: self.ac_batcher.limit}

    def run_group(self, group: list[Claimed]) -> None:
        """Run deliveries claimed together, each on its own thread through its own path (stale check, lease,
        outcome, attempts), their GraphQL orders in one `bulkUpsertOrders` (groups.py)."""
        run_group(self, group)

    def run(self, claimed: Claimed, group: Group | None = None) -> str | None:
        """Run a delivery this process holds the lease of (in `leases`); returns its new status, or None when
        the outcome could not be recorded (the lease then lapses and the delivery returns to the queue).
        `group`: the claimed group it runs in (its batcher, its event and reads, its outcomes' transaction)."""
        try:
            return self._run(claimed, group)
        except StorageUnavailable:
            # The database failed before or after a call, not the destination: back to the queue, attempt
            # not spent. A call that did happen is found by the idempotent lookup next time.
            log.warning("database unavailable mid-delivery", extra={"delivery_id": claimed.id})
            return self.outcomes.release(claimed, utcnow() + timedelta(seconds=STORAGE_RETRY))
        except Exception as exc:  # a bug outside the destination leg (bookkeeping): retried like a failed call
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
            return self.outcomes.retry(claimed, None, f"internal error: {type(exc).__name__}: {exc}", None)

    def _run(self, claimed: Claimed, group: Group | None) -> str | None:
        record = group.records.get(claimed.event_id) if group else None
        if record is None:
            record = self.events.get(claimed.event_id)
        if record is None or not record.payload:
            return self.outcomes.finish(claimed, DEAD, error="event missing or without canonical payload")
        event = group.events.get(claimed.event_id) if group else None
        event = event if event is not None else load_canonical(record.payload)
        version: datetime = event.get("updated_at") or event["occurred_at"]
        subject = version_subject(claimed.destination, claimed.lane, event["kind"], event.get("refund_id"))
        reads = group.reads if group else None
        if reads is not None:
            applied = reads.applied(self.applied, claimed.destination, subject)
        else:
            applied = self.applied.get(claimed.destination, subject)
        if applied is not None and version < applied:
            note = f"stale: event version {version.isoformat()} older than applied {applied.isoformat()}"
            return self.outcomes.finish(claimed, "stale", note=note, group=group)
        dry_run = not self._enabled(claimed.destination)
        started = time.perf_counter()
        try:
            # History reaches AC with `source: 0`, so no automation fires for it (spec §13).
            ac_source = 0 if record.historical else self.settings.ac_source
            if claimed.destination == ac.NAME and self.settings.ac_order_api == "graphql":
                # The store's own status word goes to AC verbatim (`storeStatus`, statuses.py).
                event = {
                    **event,
                    "source_name": record.source,
                    "store_status": statuses.store_status(record.source, record.body),
                    "addresses": addresses.from_body(record.source, record.body),
                }
            batcher = group.batcher if group else self.ac_batcher
            leg = self._leg(claimed, dry_run, self.leases.checker(claimed.id), ac_source, batcher, reads)
            deferred = leg.graphql.state if isinstance(leg, ac.ActiveCampaignLeg) and leg.graphql else None
            try:
                result = leg.run(event)
            except BaseException:
                if isinstance(deferred, DeferredState):  # what AC already holds is remembered all the same
                    deferred.flush(utcnow())
                raise
        except Interrupted:
            return self.outcomes.release(claimed, None)
        except Paused as exc:
            # Not an attempt: the destination was paused while this call waited for its slot. It waits in the
            # queue until the pause ends, or the operator resumes the destination (which makes it due now).
            return self.outcomes.release(claimed, self.outcomes.after(exc.until - time.time() if exc.until else 1.0))
        except TokenRejected as exc:
            # The account, not this delivery: the destination pauses and this delivery waits, unspent.
            fingerprint = token_fingerprint(self.settings, claimed.destination)
            return self.outcomes.token_rejected(claimed, self._cause(exc), fingerprint)
        except PermanentError as exc:
            self.outcomes.health(claimed.destination, ok=True)
            return self.outcomes.finish(claimed, DEAD, code=exc.status, error=dead_cause(exc), cause=self._cause(exc))
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
            self.outcomes.health(claimed.destination, ok=False, cause=cause)
            return self.outcomes.retry(claimed, exc.status, f"{exc.message}", exc.retry_after, cause=cause)
        except StorageUnavailable:
            raise  # not the leg's fault: run() gives the delivery back
        except Exception as exc:  # the per-delivery guard: a bug must not kill the worker or lose the delivery
            log.exception("delivery crashed", extra={"delivery_id": claimed.id, "event_id": claimed.event_id})
            return self.outcomes.retry(claimed, None, f"internal error: {type(exc).__name__}: {exc}", None)
        if not dry_run and (group is None or group.first_success(claimed.destination)):
            self.outcomes.health(claimed.destination, ok=True)  # once a group: a read of the circuit's state
        status = DRY_RUN if dry_run else (DONE if result.status == DONE else SKIPPED)
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
        applied_version = (subject, version) if status == DONE else None
        # The order state this delivery sent is stored with its outcome: one write per order (state.py).
        writes = self.ac_state.statements(deferred.taken(), utcnow()) if isinstance(deferred, DeferredState) else []
        return self.outcomes.finish(
            claimed, status, note=result.note, applied=applied_version, writes=writes, group=group
        )

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

    def _enabled(self, destination: str) -> bool:
        return self.settings.ac_enabled if destination == ac.NAME else self.settings.ecart_enabled

    def _leg(
        self,
        claimed: Claimed,
        dry_run: bool,
        lease_ok: Callable[[], bool],
        ac_source: int,
        batcher: OrderBatcher,
        reads: GroupReads | None = None,
    ) -> ac.ActiveCampaignLeg | ecart.EcartAPILeg:
        record = AttemptLog(self.deliveries, claimed)

        if claimed.destination == ac.NAME:
            caller = HttpCaller(
                session=self._session(),
                headers={"Api-Token": self.settings.ac_token or "", "Accept": "application/json"},
                timeout=self.settings.http_timeout,
                record=record,
                pacer=SharedPacer(self.throttles, ac.NAME, self.settings.ac_rate, self.stop, lease_ok),
                dry_run=dry_run,
                max_retry_after=self.settings.max_retry_after,
                token_statuses=TOKEN_STATUSES,
            )
            # A claimed group's members read what the group read ahead for them (prefetch.py).
            ac_records = reads.records if reads else self.ac_records
            ac_state = reads.state if reads else self.ac_state
            records = MemoryRecords(ac_records) if dry_run else ac_records
            state = MemoryState(ac_state) if dry_run else ac_state
            client = ActiveCampaignClient(caller, self.settings.ac_url or "https://activecampaign.invalid")
            contacts = ContactSync(client, state, sync=self.settings.ac_contact_sync, list_id=self.settings.ac_list_id)
            graphql = None
            if self.settings.ac_order_api == "graphql":
                gql = GraphQLClient(caller, self.settings.ac_url or "https://activecampaign.invalid")
                net = self.settings.ac_revenue == NET
                graphql = GraphQLOrders(
                    gql,
                    state if dry_run else DeferredState(state),
                    creation_source=creation_source(ac_source),
                    net=net,
                    batcher=batcher,
                )
            return ac.ActiveCampaignLeg(
                client,
                records,
                connection_id=self.settings.ac_connection_id,
                source=ac_source,
                contacts=contacts,
                revenue=Revenue(client, state, mode=NET) if self.settings.ac_revenue == NET else None,
                claim_seconds=self.settings.lease_seconds,
                graphql=graphql,
            )
        caller = HttpCaller(
            session=self._session(),
            headers={"Authorization": f"Bearer {self.settings.ecart_token or ''}", "Accept": "application/json"},
            timeout=self.settings.http_timeout,
            record=record,
            pacer=SharedPacer(self.throttles, ecart.NAME, None, self.stop, lease_ok),
            dry_run=dry_run,
            max_retry_after=self.settings.max_retry_after,
            token_statuses=TOKEN_STATUSES,
        )
        return ecart.EcartAPILeg(caller, self.settings.ecart_url, dict(self.settings.ecart_statuses))


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
