"""The retry decision, as a pure function of the failure, the attempt number and the delivery's age."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: No wait is longer than this (ten years), whatever the settings: date arithmetic stays far from overflow.
LONGEST = 10 * 365 * 86400.0


@dataclass(frozen=True)
class RetryAt:
    """Try again at `when`."""

    when: datetime


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying: the delivery is dead."""

    reason: str


def jitter(delay: float) -> float:
    """±20% so that a burst of failures does not come back as a burst."""
    return delay * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff from `schedule` (the last step repeats) until `max_age` after the first attempt.

    With the defaults: about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly, for up to 3 days. A
    destination's `Retry-After` wins when it asks for longer.
    """

    schedule: Sequence[float]
    max_age: float
    spread: Callable[[float], float] = jitter

    def decide(
        self, *, attempt: int, first_attempt_at: datetime, now: datetime, retry_after: float | None = None
    ) -> RetryAt | GiveUp:
        """What to do after failed attempt number `attempt` (1-based)."""
        step = self.schedule[min(max(attempt, 1), len(self.schedule)) - 1]
        asked = retry_after if retry_after is not None and not math.isnan(retry_after) else 0.0
        # Bounded before any date arithmetic: a wait past the delivery's age limit gives up the same way
        # whether it is a day too long or infinite, and `now + timedelta` must never overflow.
        delay = min(max(self.spread(step), asked), self.max_age + 1.0, LONGEST)
        when = now + timedelta(seconds=delay)
        if (when - first_attempt_at).total_seconds() > self.max_age:
            return GiveUp(f"still failing {self.max_age:.0f} s after the first attempt")
        return RetryAt(when)
