"""The sweeps as operators see them: each source's last reconciliation run and the events it recovered
(`storebridge check`, the dashboard overview)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.storage import Database, Storage


@dataclass(frozen=True)
class RunStatus:
    """One source's reconciliation, as of its last run."""

    source: str
    outcome: str | None
    last_run: datetime | None
    last_recovered: int
    total_recovered: int
    watermark: datetime | None
    error: str | None

    @property
    def text(self) -> str:
        """`shopify: last run 2026-12-02T07:00:00Z ok, 3 recovered (12 in all)`."""
        if self.last_run is None:
            return f"{self.source}: no run yet"
        when = self.last_run.strftime("%Y-%m-%dT%H:%M:%SZ")
        error = f" ({self.error})" if self.error else ""
        return (
            f"{self.source}: last run {when} {self.outcome}{error}, {self.last_recovered} recovered "
            f"({self.total_recovered} in all)"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form (admin API, dashboard)."""
        return {
            "source": self.source,
            "outcome": self.outcome,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "last_recovered": self.last_recovered,
            "total_recovered": self.total_recovered,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "error": self.error,
        }


def describe_runs(db: Database, sources: list[str]) -> list[RunStatus]:
    """The reconciliation status of each of `sources`."""
    sweeps = {s.name: s for s in Storage.of(db).sweeps.all()}
    statuses = []
    for source in sources:
        sweep = sweeps.get(f"reconcile:{source}")
        statuses.append(
            RunStatus(
                source=source,
                outcome=sweep.last_outcome if sweep else None,
                last_run=sweep.last_finished_at if sweep else None,
                last_recovered=sweep.last_recovered if sweep else 0,
                total_recovered=sweep.total_recovered if sweep else 0,
                watermark=sweep.watermark if sweep else None,
                error=sweep.last_error if sweep else None,
            )
        )
    return statuses
