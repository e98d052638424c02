"""The store_sweeps table: a lease per sweep (one runner across hosts), reconciliation watermarks, backfill
checkpoints and the figures of the last run (for `storebridge check`, the dashboard and /metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from bridge.storage.session import Session
from bridge.storage.tables import store_sweeps


@dataclass(frozen=True)
class Sweep:
    """One sweep's row."""

    name: str
    watermark: datetime | None
    checkpoint: dict[str, Any] | None
    lease_owner: str | None
    lease_until: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    last_seen: int
    last_recovered: int
    total_recovered: int


class Sweeps:
    """Leases, watermarks and checkpoints of the store sweeps. Each write is one transaction that creates the
    sweep's row first if missing (INSERT … ON CONFLICT DO NOTHING), so none fails on a sweep never run."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def _ensure(self, conn: Any, name: str, now: datetime) -> None:
        statement = self.db.insert_ignoring_conflicts(store_sweeps, "name").values(
            name=name, last_seen=0, last_recovered=0, total_recovered=0, updated_at=now
        )
        conn.execute(statement)

    def acquire(self, name: str, owner: str, now: datetime, seconds: float) -> bool:
        """Take (or renew) the lease of sweep `name` for `seconds`; False while another runner holds it.
        Atomic compare-and-set (one conditional UPDATE): of runners racing for a free lease exactly one wins, on
        every host; an expired lease is taken over."""
        with self.db.write() as conn:
            self._ensure(conn, name, now)
            statement = (
                update(store_sweeps)
                .where(store_sweeps.c.name == name)
                .where(
                    or_(
                        store_sweeps.c.lease_owner.is_(None),
                        store_sweeps.c.lease_owner == owner,
                        store_sweeps.c.lease_until < now,
                    )
                )
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds), updated_at=now)
            )
            return conn.execute(statement).rowcount == 1

    def release(self, name: str, owner: str, now: datetime) -> None:
        """Give the lease back (only if still ours: a no-op otherwise). Idempotent."""
        with self.db.write() as conn:
            conn.execute(
                update(store_sweeps)
                .where(store_sweeps.c.name == name, store_sweeps.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, updated_at=now)
            )

    def get(self, name: str) -> Sweep | None:
        """One sweep's row, or None before its first run."""
        with self.db.read() as conn:
            row = conn.execute(select(store_sweeps).where(store_sweeps.c.name == name)).first()
        return _sweep(row) if row else None

    def all(self) -> list[Sweep]:
        """Every sweep, by name."""
        with self.db.read() as conn:
            rows = conn.execute(select(store_sweeps).order_by(store_sweeps.c.name))
            return [_sweep(r) for r in rows]

    def started(self, name: str, owner: str, now: datetime) -> None:
        """Note the start of a run."""
        self._set(name, owner, now, last_started_at=now)

    def save_checkpoint(self, name: str, owner: str, checkpoint: dict[str, Any] | None, now: datetime) -> None:
        """Where a backfill resumes (None: it finished). Written only while the lease is ours or free."""
        self._set(name, owner, now, checkpoint=checkpoint)

    def finished(
        self,
        name: str,
        owner: str,
        now: datetime,
        *,
        outcome: str,
        seen: int,
        recovered: int,
        watermark: datetime | None = None,
        error: str | None = None,
    ) -> None:
        """Record a run's outcome (and, when it succeeded, the new watermark); the lease is released. One
        transaction; ignored when another runner holds the lease (its run is the one that counts)."""
        values: dict[str, Any] = {
            "last_finished_at": now,
            "last_outcome": outcome,
            "last_error": error,
            "last_seen": seen,
            "last_recovered": recovered,
            "total_recovered": store_sweeps.c.total_recovered + recovered,
            "lease_owner": None,
            "lease_until": None,
        }
        if watermark is not None:
            values["watermark"] = watermark
        self._set(name, owner, now, **values)

    def _set(self, name: str, owner: str, now: datetime, **values: Any) -> None:
        with self.db.write() as conn:
            self._ensure(conn, name, now)
            conn.execute(
                update(store_sweeps)
                .where(store_sweeps.c.name == name)
                .where(or_(store_sweeps.c.lease_owner.is_(None), store_sweeps.c.lease_owner == owner))
                .values(updated_at=now, **values)
            )


def _sweep(row: Any) -> Sweep:
    return Sweep(**{k: row._mapping[k] for k in Sweep.__dataclass_fields__})
