"""One destination's shared throttle state as read from its row, and this process's record of a pause it
imposed (see throttles.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row


@dataclass(frozen=True)
class ThrottleState:
    """One destination's shared state."""

    name: str
    next_slot_at: float
    paused_until: float
    consecutive_failures: int
    circuit_open_until: float
    manual_pause: bool
    pause_reason: str | None = None  # with manual_pause: "manual" or "token_rejected" (bridge/storage/pauses.py)
    pause_cause: str | None = None
    paused_since: float | None = None
    pause_fingerprint: str | None = None

    def blocked(self, now: float) -> bool:
        """True while no delivery to this destination should be started."""
        return self.manual_pause or self.circuit_open_until > now or self.paused_until > now


NO_REASON: dict[str, Any] = dict.fromkeys(("pause_reason", "pause_cause", "paused_since", "pause_fingerprint"))


@dataclass
class Hold:
    """One pause this process imposed: until when, and whether the database has it yet."""

    until: float
    committed: int | None = None  # the commit number of its pause, once the database has it


def finite(value: float) -> float:
    """A stored time that can be waited for: infinity (written by an older version for `Retry-After: inf`)
    counts as "now"; it never blocks for ever, and an operator's resume clears it in any case."""
    return value if math.isfinite(value) else 0.0


def state_of(row: Row[Any]) -> ThrottleState:
    """A throttles row as a ThrottleState."""
    m = row._mapping
    return ThrottleState(
        name=m["name"],
        next_slot_at=finite(float(m["next_slot_at"])),
        paused_until=finite(float(m["paused_until"])),
        consecutive_failures=int(m["consecutive_failures"]),
        circuit_open_until=finite(float(m["circuit_open_until"])),
        manual_pause=bool(m["manual_pause"]),
        **{key: m[key] for key in NO_REASON},
    )
