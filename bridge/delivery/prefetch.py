"""What the deliveries of a claimed group read before their call, read for the whole group at once (spec §14):
the applied versions, the AC order states and revenue records, the order and checkout mappings, and the
store's connection, one query each instead of one round trip per order and kind.

A prefetched value is served once, to the delivery whose lane owns it (a key two members of the group would
read is not prefetched: it is read live, as without a group), and forgotten when that delivery writes the key;
any later read goes to the database. So a delivery sees exactly what it would have read itself: nothing else
writes its lane's keys while it holds the lane's head.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.orders_graphql import KEY_TYPE as ORDER_STATE
from bridge.destinations.activecampaign.revenue import KEY_TYPE as REVENUE
from bridge.storage.remote import AppliedVersions, RemoteRecord, RemoteRecords, RemoteState


class _Served:
    """Values read ahead, each handed out once (`take`) or dropped when its key is written (`drop`)."""

    def __init__(self, found: dict[Any, Any], keys: set[Any]) -> None:
        self.found = found
        self.keys = keys

    def take(self, key: Any) -> tuple[bool, Any]:
        if key not in self.keys:
            return False, None
        self.keys.discard(key)
        return True, self.found.get(key)

    def drop(self, key: Any) -> None:
        self.keys.discard(key)


class PrefetchedRecords:
    """`RemoteRecords` whose first read of a prefetched key costs no query."""

    def __init__(self, backing: RemoteRecords, served: _Served) -> None:
        self.backing = backing
        self.served = served

    def get(self, key_type: str, key: str) -> RemoteRecord | None:
        known, value = self.served.take((key_type, key))
        return value if known else self.backing.get(key_type, key)

    def mark_creating(self, key_type: str, key: str, now: Any) -> None:
        self.served.drop((key_type, key))
        self.backing.mark_creating(key_type, key, now)

    def put(
        self, key_type: str, key: str, remote_id: str, record_kind: str, now: Any, detail: str | None = None
    ) -> None:
        self.served.drop((key_type, key))
        self.backing.put(key_type, key, remote_id, record_kind, now, detail)

    def claim(self, key_type: str, key: str, now: Any, stale_before: Any) -> bool:
        self.served.drop((key_type, key))
        return self.backing.claim(key_type, key, now, stale_before)

    def release(self, key_type: str, key: str) -> None:
        self.served.drop((key_type, key))
        self.backing.release(key_type, key)

    def forget_remote(self, key_type: str, remote_id: str, keep: str) -> None:
        for key in [k for k in self.served.keys if k[0] == key_type]:
            self.served.drop(key)
        self.backing.forget_remote(key_type, remote_id, keep)


class PrefetchedState:
    """`RemoteState` whose first read of a prefetched key costs no query."""

    def __init__(self, backing: RemoteState, served: _Served) -> None:
        self.backing = backing
        self.served = served

    def get(self, key_type: str, key: str) -> dict[str, Any] | None:
        known, value = self.served.take((key_type, key))
        return value if known else self.backing.get(key_type, key)

    def put(self, key_type: str, key: str, data: dict[str, Any], now: Any) -> None:
        self.put_many([(key_type, key, data)], now)

    def put_many(self, documents: list[tuple[str, str, dict[str, Any]]], now: Any) -> None:
        for key_type, key, _ in documents:
            self.served.drop((key_type, key))
        self.backing.put_many(documents, now)


class GroupReads:
    """The reads of one claimed group (`load`), and the views its deliveries read through."""

    def __init__(self, applied: _Served, records: PrefetchedRecords, state: PrefetchedState) -> None:
        self._applied = applied
        self.records = records
        self.state = state

    def applied(self, store: AppliedVersions, destination: str, subject: str) -> datetime | None:
        """The version applied for (destination, subject), prefetched or read now."""
        known, value = self._applied.take((destination, subject))
        return value if known else store.get(destination, subject)

    @classmethod
    def load(
        cls,
        applied: AppliedVersions,
        records: RemoteRecords,
        state: RemoteState,
        members: list[tuple[str, str, dict[str, Any]]],
        connection_id: str | None,
    ) -> GroupReads:
        """Read ahead for `members` (destination, version subject, loaded event): every key one member alone
        will read, one query per table. `connection_id`: BRIDGE_AC_CONNECTION_ID (None: the store's own)."""
        subjects = Counter((destination, subject) for destination, subject, _ in members)
        single = [key for key, n in subjects.items() if n == 1]
        versions: dict[Any, Any] = {}
        for destination in {d for d, _ in single}:
            found = applied.get_many(destination, [s for d, s in single if d == destination])
            versions.update({(destination, s): v for s, v in found.items()})

        orders = [event for destination, _, event in members if destination == ac.NAME and event.get("order_id")]
        stores = sorted({event.get("store") or "storebridge" for event in orders})
        connections = {store: connection_id for store in stores} if connection_id else {}
        known: dict[Any, Any] = {}
        if not connection_id and stores:
            known = records.get_many([("connection", store) for store in stores])
            connections = {s: str(known[("connection", s)].remote_id) for s in stores if _mapped(known, s)}
        record_keys: list[tuple[str, str]] = []
        state_keys: list[tuple[str, str]] = []
        for event in orders:
            store = event.get("store") or "storebridge"
            state_keys.append((REVENUE, ac.revenue_key(event)))
            connection = connections.get(store)
            if connection is None:
                continue
            record_keys.append(("order", f"{connection}|{event['order_id']}"))
            state_keys.append((ORDER_STATE, f"{connection}|{event['order_id']}"))
            if event.get("checkout_id"):
                record_keys.append(("checkout", f"{connection}|{event['checkout_id']}"))
        record_keys = _alone(record_keys)
        state_keys = _alone(state_keys)
        known.update(records.get_many(record_keys))
        # The connection, once mapped, never changes: every member may take it from here.
        served_records = {("connection", s) for s in connections if not connection_id} | set(record_keys)
        return cls(
            _Served(versions, set(single)),
            PrefetchedRecords(records, _Shared(known, served_records, {("connection", s) for s in connections})),
            PrefetchedState(state, _Served(state.get_many(state_keys), set(state_keys))),
        )


class _Shared(_Served):
    """`_Served` whose `shared` keys are served to every reader (a store's connection, set once)."""

    def __init__(self, found: dict[Any, Any], keys: set[Any], shared: set[Any]) -> None:
        super().__init__(found, keys)
        self.shared = shared & keys

    def take(self, key: Any) -> tuple[bool, Any]:
        if key in self.shared:
            return True, self.found.get(key)
        return super().take(key)

    def drop(self, key: Any) -> None:
        self.shared.discard(key)
        super().drop(key)


def _mapped(known: dict[Any, Any], store: str) -> bool:
    record = known.get(("connection", store))
    return record is not None and record.remote_id is not None


def _alone(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The keys only one member reads (two orders of one checkout, say, read theirs live)."""
    counts = Counter(keys)
    return [key for key in keys if counts[key] == 1]
