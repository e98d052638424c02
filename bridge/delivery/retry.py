"""The retry decision, as a pure function of the failure, the attempt number and the delivery's age."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


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
        delay = max(self.spread(step), retry_after or 0.0)
        when = now + timedelta(seconds=delay)
        if when - first_attempt_at > timedelta(seconds=self.max_age):
            return GiveUp(f"still failing {self.max_age:.0f} s after the first attempt")
        return RetryAt(when)
