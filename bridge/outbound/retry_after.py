"""Reading a destination's `Retry-After` safely: whatever the header holds (a year, `inf`, `nan`, a date in
the past, junk), the answer is a finite number of seconds no larger than the operator's cap, or None."""

from __future__ import annotations

import logging
import math
import time
from email.utils import parsedate_to_datetime

log = logging.getLogger("bridge.destinations")

#: The longest pause honoured when no setting says otherwise (BRIDGE_MAX_RETRY_AFTER's default).
DEFAULT_MAX_RETRY_AFTER = 3600.0
#: How much of a hostile header value is kept in a log line.
SHOWN = 64


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for: delta-seconds or an HTTP date, not capped yet.

    `inf` and values too large to count stay as asked (`math.inf` at most) so the caller can cap them and say
    so; a date in the past is 0. None when there is no usable value: empty, negative, `nan`, junk.
    """
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return _from_date(value, time.time() if now is None else now)
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds


def _from_date(value: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        # parsedate_to_datetime raises ValueError for junk, TypeError/IndexError for some truncated dates;
        # timestamp() may overflow or hit the platform's range for absurd years.
        return None


def honoured_retry_after(value: str | None, cap: float, *, where: str = "", now: float | None = None) -> float | None:
    """The seconds to wait for a `Retry-After` header value: parsed, then capped at `cap`. A value over the
    cap is logged at WARNING with what was asked and what is honoured (the header is not a secret)."""
    asked = parse_retry_after(value, now)
    if asked is None or asked <= cap:
        return asked
    log.warning(
        "Retry-After longer than BRIDGE_MAX_RETRY_AFTER; waiting the cap instead",
        extra={"retry_after_asked": (value or "")[:SHOWN], "retry_after_honoured": cap, "url": where},
    )
    return cap
