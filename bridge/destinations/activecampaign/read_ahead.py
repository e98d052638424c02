"""What the order deliveries of a claimed group read before their call, read for the whole group at once (spec
§14): the GraphQL order states and revenue records, the order and checkout mappings and the store's
connection, one query per table instead of one round trip per order and kind.

A value read ahead is served once, to the delivery whose lane owns it, and forgotten when that delivery writes
its key; any later read goes to the database. A key two members of the group would read (two orders of one
checkout) is not read ahead: each reads it live, as without a group. So a delivery sees exactly what it would
have read itself: nothing else writes its lane's keys while it holds the lane's head. A store's connection,
once mapped, never changes: every member may take it from here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bridge.destinations.activecampaign.orders_graphql import KEY_TYPE as ORDER_STATE
from bridge.destinations.activecampaign.orders_graphql import leg_revenue_key
from bridge.destinations.activecampaign.revenue import KEY_TYPE as REVENUE
from bridge.storage.remote import RemoteRecord, RemoteRecords, RemoteState

Key = tuple[str, str]


class _Served:
    """Values read ahead: each handed out once (`take`), or dropped unread when its key is written (`drop`);
    `shared` keys are handed to every reader until written."""

    def __init__(self, found: dict[Key, Any], keys: set[Key], shared: set[Key] | None = None) -> None:
        self.found = found
        self.keys = set(keys)
        self.shared = (shared or set()) & self.keys
        self._lock = threading.Lock()

    def take(self, key: Key) -> tuple[bool, Any]:
        with self._lock:
            if key in self.shared:
                return True, self.found.get(key)
            if key not in self.keys:
                return False, None
            self.keys.discard(key)
            return True, self.found.get(key)

    def drop(self, key: Key) -> None:
        with self._lock:
            self.keys.discard(key)
            self.shared.discard(key)

    def drop_type(self, key_type: str) -> None:
        with self._lock:
            self.keys = {k for k in self.keys if k[0] != key_type}
            self.shared = {k for k in self.shared if k[0] != key_type}


class ReadAheadRecords:
    """`RemoteRecords` whose first read of a key read ahead costs no query."""

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
        self.served.drop_type(key_type)
        self.backing.forget_remote(key_type, remote_id, keep)


class ReadAheadState:
    """`RemoteState` whose first read of a key read ahead costs no query."""

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


def read_ahead(
    records: RemoteRecords, state: RemoteState, events: Sequence[dict[str, Any]], connection_id: str | None
) -> tuple[ReadAheadRecords, ReadAheadState]:
    """Read ahead for the group's order `events` (canonical): every key one member alone will read, one query
    per table. `connection_id`: BRIDGE_AC_CONNECTION_ID (None: each store's own, mapped)."""
    orders = [event for event in events if event.get("order_id")]
    stores = sorted({event.get("store") or "storebridge" for event in orders})
    connections: dict[str, str] = {store: connection_id for store in stores} if connection_id else {}
    found: dict[Key, Any] = {}
    if not connection_id and stores:
        found = records.get_many([("connection", store) for store in stores])
        connections = {
            store: str(record.remote_id)
            for store in stores
            if (record := found.get(("connection", store))) is not None and record.remote_id is not None
        }
    record_keys: list[Key] = []
    state_keys: list[Key] = []
    for event in orders:
        state_keys.append((REVENUE, leg_revenue_key(event)))
        connection = connections.get(event.get("store") or "storebridge")
        if connection is None:
            continue  # made on the first order's call: read live
        record_keys.append(("order", f"{connection}|{event['order_id']}"))
        state_keys.append((ORDER_STATE, f"{connection}|{event['order_id']}"))
        if event.get("checkout_id"):
            record_keys.append(("checkout", f"{connection}|{event['checkout_id']}"))
    record_keys, state_keys = _alone(record_keys), _alone(state_keys)
    found.update(records.get_many(record_keys))
    shared = {("connection", store) for store in connections} if not connection_id else set()
    return (
        ReadAheadRecords(records, _Served(found, set(record_keys) | shared, shared)),
        ReadAheadState(state, _Served(state.get_many(state_keys), set(state_keys))),
    )


def _alone(keys: list[Key]) -> list[Key]:
    """The keys only one member reads (two orders of one checkout, say, read theirs live)."""
    counts = Counter(keys)
    return [key for key in keys if counts[key] == 1]
