"""What a destination leg returns when it does not raise."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LegResult:
    """How the leg ended: `done`, or `skipped` with the reason in `note`."""

    status: str
    note: str
