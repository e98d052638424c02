"""Background admin jobs (bulk replay): a row per job so progress is visible from every web process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from bridge.storage.session import Session
from bridge.storage.tables import admin_jobs
from bridge.vocabulary import JobStatus


class Jobs:
    """Create, advance and read admin jobs."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def create(self, kind: str, params: dict[str, Any], total: int, now: datetime) -> int:
        """A new running job of `total` items; returns its id. Committed before this returns (every web process
        can show it at once). Not idempotent: each call is a new job."""
        with self.db.write() as conn:
            return int(
                conn.execute(
                    insert(admin_jobs)
                    .values(kind=kind, params=params, status=JobStatus.RUNNING, total=total, done=0, failed=0,
                            created_at=now, updated_at=now)
                    .returning(admin_jobs.c.id)
                ).scalar_one()
            )  # fmt: skip

    def advance(self, job_id: int, *, done: int, failed: int, now: datetime, status: str = JobStatus.RUNNING,
                message: str | None = None) -> None:  # fmt: skip
        """Record progress (and, at the end, the final status). One UPDATE, last writer wins: a job has one
        runner, so there is no other."""
        with self.db.write() as conn:
            conn.execute(
                update(admin_jobs)
                .where(admin_jobs.c.id == job_id)
                .values(done=done, failed=failed, status=status, message=message, updated_at=now)
            )

    def get(self, job_id: int) -> dict[str, Any] | None:
        """One job."""
        with self.db.read() as conn:
            row = conn.execute(select(admin_jobs).where(admin_jobs.c.id == job_id)).first()
        return dict(row._mapping) if row else None

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest jobs first."""
        with self.db.read() as conn:
            rows = conn.execute(select(admin_jobs).order_by(admin_jobs.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]
