"""ActiveCampaign's state in one worker process, and each delivery's runner built on it. Two implementations,
chosen by `BRIDGE_AC_ORDER_API`: `v3` (orders to v3 Deep Data) and `graphql` (orders through the eComm GraphQL
API, in batches where several are ready: batching.py), carts on v3 under both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.destinations.activecampaign import addresses, statuses
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.batching import GROUP_LINGER, OrderBatcher
from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.contacts import ContactSync
from bridge.destinations.activecampaign.deliver import Records
from bridge.destinations.activecampaign.graphql import GraphQLClient
from bridge.destinations.activecampaign.order_input import creation_source
from bridge.destinations.activecampaign.orders_graphql import GraphQLOrders
from bridge.destinations.activecampaign.read_ahead import read_ahead
from bridge.destinations.activecampaign.revenue import NET, Revenue
from bridge.destinations.activecampaign.state import DeferredState, MemoryState, StateStore
from bridge.destinations.base import RunContext, Runner, Sender
from bridge.errors import StorageUnavailable
from bridge.settings import Settings
from bridge.storage import Database, Storage
from bridge.storage.events import EventRecord
from bridge.storage.remote import RemoteRecord
from bridge.timeutil import utcnow

if TYPE_CHECKING:
    from bridge.settings import Settings

NOWHERE = "https://activecampaign.invalid"


class MemoryRecords:
    """RemoteRecords stand-in for dry-runs: ids made up during a dry-run must never reach the database."""

    def __init__(self, backing: Records) -> None:
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


@dataclass(frozen=True)
class OrderGroup:
    """What the order deliveries claimed together share: their batch, and the views they read through."""

    batcher: OrderBatcher
    records: Records
    state: StateStore


class V3Sender(Sender):
    """`BRIDGE_AC_ORDER_API=v3`: carts and orders through v3 Deep Data, one delivery at a time."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        storage = Storage.of(db)
        self.records = storage.remote_records(f"ac:{settings.ac_url or 'dry-run'}")
        self.state = storage.remote_state(f"ac:{settings.ac_url or 'dry-run'}")

    def runner(self, context: RunContext) -> Runner:
        settings, dry_run = self.settings, context.dry_run
        # History reaches AC with `source: 0`, so no automation fires for it (spec §13).
        source = 0 if context.record.historical else settings.ac_source
        # A claimed group's members read what the group read ahead for them (read_ahead.py).
        group = context.group if isinstance(context.group, OrderGroup) else None
        live_records: Records = group.records if group else self.records
        live_state: StateStore = group.state if group else self.state
        records = MemoryRecords(live_records) if dry_run else live_records
        state = MemoryState(live_state) if dry_run else live_state
        client = ActiveCampaignClient(context.caller, settings.ac_url or NOWHERE)
        return ac.ActiveCampaignRunner(
            client,
            records,
            connection_id=settings.ac_connection_id,
            source=source,
            contacts=ContactSync(client, state, sync=settings.ac_contact_sync, list_id=settings.ac_list_id),
            revenue=Revenue(client, state, mode=NET) if settings.ac_revenue == NET else None,
            claim_seconds=settings.lease_seconds,
            graphql=self.orders(context, state, source),
        )

    def orders(self, context: RunContext, state: StateStore, source: int) -> GraphQLOrders | None:
        """The GraphQL orders path of the runner (none under v3)."""
        return None


class GraphQLSender(V3Sender):
    """`BRIDGE_AC_ORDER_API=graphql`: orders through `upsertOrder`, or together in one `bulkUpsertOrders` when
    several are ready; carts as under v3."""

    def __init__(self, settings: Settings, db: Database) -> None:
        super().__init__(settings, db)
        # One per process: the delivery threads' GraphQL orders meet here and go out in bulk (BRIDGE_AC_BATCH).
        self.batcher = OrderBatcher(settings.ac_batch)

    def prepare(self, event: dict[str, Any], record: EventRecord) -> dict[str, Any]:
        """The store's own status word goes to AC verbatim (`storeStatus`, statuses.py), and its addresses."""
        return {
            **event,
            "source_name": record.source,
            "store_status": statuses.store_status(record.source, record.body),
            "addresses": addresses.from_body(record.source, record.body),
        }

    def orders(self, context: RunContext, state: StateStore, source: int) -> GraphQLOrders | None:
        return GraphQLOrders(
            GraphQLClient(context.caller, self.settings.ac_url or NOWHERE),
            state if context.dry_run else DeferredState(state),
            creation_source=creation_source(source),
            net=self.settings.ac_revenue == NET,
            batcher=context.group.batcher if isinstance(context.group, OrderGroup) else self.batcher,
        )

    def failed(self, runner: Runner) -> None:
        """What AC already holds is remembered all the same."""
        deferred = _deferred(runner)
        if deferred is not None:
            deferred.flush(utcnow())

    def writes(self, runner: Runner) -> list[Any]:
        """The order state this delivery sent is stored with its outcome: one write per order (state.py)."""
        deferred = _deferred(runner)
        return self.state.statements(deferred.taken(), utcnow()) if deferred is not None else []

    def group_size(self) -> int:
        """AC orders, up to `BRIDGE_AC_BATCH` (lowered when AC refused a batch as too large); live only."""
        return self.batcher.limit if self.settings.ac_enabled else 1

    def group(self, members: int, events: Sequence[dict[str, Any]] = ()) -> OrderGroup:
        """One batch for the group's orders, and their reads done ahead in one query per table (a failure
        there leaves each member to read its own)."""
        batcher = OrderBatcher(self.batcher.limit, linger=GROUP_LINGER, members=members)
        try:
            records, state = read_ahead(self.records, self.state, events, self.settings.ac_connection_id)
        except StorageUnavailable:
            return OrderGroup(batcher, self.records, self.state)
        return OrderGroup(batcher, records, state)

    def leave(self, group: Any) -> None:
        if isinstance(group, OrderGroup):
            group.batcher.leave()

    def group_done(self, group: Any) -> None:
        """AC refused a batch as too large: later groups stay below."""
        if isinstance(group, OrderGroup) and group.batcher.limit < self.batcher.limit:
            self.batcher.limit = group.batcher.limit


def _deferred(runner: Runner) -> DeferredState | None:
    graphql = runner.graphql if isinstance(runner, ac.ActiveCampaignRunner) else None
    return graphql.state if graphql is not None and isinstance(graphql.state, DeferredState) else None
