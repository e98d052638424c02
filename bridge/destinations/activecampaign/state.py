"""What the AC runner remembers beyond record ids (`RemoteState`), and its in-memory stand-in for dry-runs."""

from __future__ import annotations

import copy
from typing import Any, Protocol


class StateStore(Protocol):
    """The slice of `bridge.storage.remote.RemoteState` the AC runner uses."""

    def get(self, key_type: str, key: str) -> dict[str, Any] | None: ...

    def put(self, key_type: str, key: str, data: dict[str, Any], now: Any) -> None: ...

    def put_many(self, documents: list[tuple[str, str, dict[str, Any]]], now: Any) -> None: ...


class MemoryState:
    """Reads through to the real store, writes only to memory: a dry-run must not record a sync it never made."""

    def __init__(self, backing: StateStore | None = None) -> None:
        self.backing = backing
        self.local: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key_type: str, key: str) -> dict[str, Any] | None:
        if (key_type, key) in self.local:
            return copy.deepcopy(self.local[(key_type, key)])
        return self.backing.get(key_type, key) if self.backing is not None else None

    def put(self, key_type: str, key: str, data: dict[str, Any], now: Any) -> None:
        self.local[(key_type, key)] = copy.deepcopy(data)

    def put_many(self, documents: list[tuple[str, str, dict[str, Any]]], now: Any) -> None:
        for key_type, key, data in documents:
            self.put(key_type, key, data, now)


class DeferredState:
    """A delivery's view of `RemoteState` whose writes wait for its outcome: the worker stores them in the
    outcome's own transaction (one write per order in a drain), or at once when the delivery fails after a
    call (`flush`). Lost with a crash in between, a state is sent again: `upsertOrder` is idempotent."""

    def __init__(self, backing: StateStore) -> None:
        self.backing = backing
        self.local: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, key_type: str, key: str) -> dict[str, Any] | None:
        if (key_type, key) in self.local:
            return copy.deepcopy(self.local[(key_type, key)])
        return self.backing.get(key_type, key)

    def put(self, key_type: str, key: str, data: dict[str, Any], now: Any) -> None:
        self.local[(key_type, key)] = copy.deepcopy(data)

    def put_many(self, documents: list[tuple[str, str, dict[str, Any]]], now: Any) -> None:
        for key_type, key, data in documents:
            self.put(key_type, key, data, now)

    def taken(self) -> list[tuple[str, str, dict[str, Any]]]:
        """The documents written so far, handed over once (the next call returns only newer ones)."""
        documents = [(key_type, key, data) for (key_type, key), data in self.local.items()]
        self.local.clear()
        return documents

    def flush(self, now: Any) -> None:
        """Store what was written, now (the delivery failed after a call: AC holds it all the same)."""
        documents = self.taken()
        if documents:
            self.backing.put_many(documents, now)
