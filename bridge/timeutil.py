"""Time helpers: everything inside the bridge is an aware UTC datetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}|Z")
#: No real timestamp is longer; anything longer is refused before any parsing (spec §11).
MAX_DATE_LENGTH = 64


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(value: str) -> datetime:
    """Parse the date formats stores send: ISO-8601 with or without offset, `Z`, a space before the offset
    (`2021-07-14 16:14:01 +0000`, EcartAPI over Ecwid) or Unix seconds as a string (EcartAPI over Etsy).

    Naive values are UTC: WooCommerce's `*_gmt` fields are documented as UTC, and EcartAPI's local strings
    carry no zone the bridge could know, so they are read as UTC too (see docs/receiving.md).
    """
    if len(value) > MAX_DATE_LENGTH:
        raise ValueError("not a date: longer than 64 characters")  # refused before any parsing
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    head, space, tail = text.rpartition(" ")
    if space and _OFFSET.fullmatch(tail):
        text = head.rstrip() + tail  # `2021-07-14 16:14:01 +0000` → `2021-07-14 16:14:01+0000`
    try:
        if text.isdigit() and len(text) >= 9:
            return datetime.fromtimestamp(int(text), UTC)
        return to_utc(datetime.fromisoformat(text))
    except (OverflowError, OSError) as exc:
        raise ValueError(f"date out of range: {value!r}") from exc


def isoformat(value: datetime) -> str:
    """ISO-8601 with an explicit offset, as ActiveCampaign and the admin API want it."""
    return to_utc(value).isoformat(timespec="seconds")
