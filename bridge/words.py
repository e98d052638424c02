"""What the dashboard and the CLI say about a delivery, in the shop's words: why it failed (plain cause, not raw
JSON), what it waits for ("waiting for delivery #12, same order"), and whether it finished with a warning (a
list subscription AC refused). Both read these functions, so the two always say the same thing.

A bottom-layer module: it imports only `bridge.causes` and `bridge.money` (themselves bottom-layer).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from bridge.causes import LONGEST, answer_message, http_cause, status_words
from bridge.money import format_minor
from bridge.vocabulary import DeliveryStatus

__all__ = ["ahead_words", "delivery_state", "format_minor", "money_lines", "plain_error", "warnings_in", "why"]

#: Parts of a delivery's note that mean a side call was refused although the delivery itself succeeded.
WARNING_MARKERS = ("subscription refused", "not synced")
#: How a stored error looked before causes were written in words ("unexpected HTTP 422: {…}", "HTTP 503").
_HTTP_ERROR = re.compile(r"^(?:unexpected )?HTTP (\d{3})\b(?::?\s*(.*))?$", re.DOTALL)
_OLD_NETWORK = re.compile(r"^(\w+) calling \w+ (\S+)")
_NETWORK_WORDS = {
    "ConnectTimeout": "timed out connecting to {host}",
    "ReadTimeout": "timed out waiting for {host}",
    "Timeout": "timed out waiting for {host}",
    "SSLError": "TLS error with {host}",
    "ConnectionError": "cannot connect to {host}",
}
#: Money fields of a canonical event, in the order they are shown.
MONEY_LABELS = (
    ("total", "total"),
    ("subtotal", "subtotal"),
    ("tax", "tax"),
    ("shipping", "shipping"),
    ("discount", "discount"),
    ("refunded_total", "refunded"),
)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


def _json_tail(text: str) -> tuple[str, str] | None:
    """("head", "service message") when `text` is "head: {json…}", else None."""
    for match in re.finditer(r":\s*(?=[\[{])", text):
        tail = text[match.end() :]
        try:
            json.loads(tail)
        except ValueError:
            continue
        return text[: match.start()].strip(), answer_message(tail)
    return None


def plain_error(text: str | None, status: int | None = None) -> str:
    """A stored error in plain words, the HTTP status said once: `HTTP 422 refused as invalid: Email is not
    valid` rather than `HTTP 422: unexpected HTTP 422: {"errors": …}`. Errors stored in words already pass
    through; those stored by older versions (raw JSON, exception class names) are translated."""
    text = (text or "").strip()
    if not text:
        return f"HTTP {status_words(status)}" if status else ""
    if match := _HTTP_ERROR.match(text):
        code, rest = int(match.group(1)), match.group(2) or ""
        in_words = status_words(code)[len(str(code)) + 1 :]
        if in_words and rest.startswith(in_words):
            return _cut(text)  # already in words: "HTTP 422 refused as invalid: …"
        if not rest or rest.lstrip()[:1] in ("{", "[") or text.startswith("unexpected "):
            return http_cause(code, rest)  # the old "unexpected HTTP 422: {…}": AC's message out of the JSON
        return _cut(text)  # a sentence of its own ("HTTP 301 redirect to … not followed …")
    if match := _OLD_NETWORK.match(text):
        host = re.sub(r"^\w+://|[/:?].*$", "", match.group(2)) or "the host"
        words = _NETWORK_WORDS.get(match.group(1))
        if words:
            return words.format(host=host)
    if split := _json_tail(text):
        head, message = split
        text = f"{head}: {message}" if message else head
    if status and "HTTP" not in text:
        text = f"HTTP {status_words(status)}: {text}"
    return _cut(text)


def why(delivery: dict[str, Any]) -> str:
    """One line saying why a delivery failed or stopped: its last error in words, else its note."""
    if delivery.get("last_error"):
        return plain_error(delivery["last_error"], delivery.get("last_status"))
    if delivery.get("last_status"):
        return plain_error(None, delivery["last_status"])
    return _cut(delivery.get("note") or "") or "no detail recorded"


def warnings_in(note: str | None) -> list[str]:
    """The parts of a finished delivery's note that are warnings (a side call refused), in plain words."""
    parts = [part.strip() for part in (note or "").split(";") if part.strip()]
    return [plain_error(part) for part in parts if any(marker in part for marker in WARNING_MARKERS)]


def ahead_words(lane: str | None, ahead: int) -> str:
    """`waiting for delivery #12, same order` (or `same checkout`, for a cart and the order it became)."""
    kind = "checkout" if "|checkout|" in (lane or "") else "order"
    return f"waiting for delivery #{ahead}, same {kind}"


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def delivery_state(delivery: dict[str, Any], ahead: int | None, now: datetime) -> str:
    """What a delivery is doing, in words: `done`, `done, with a warning`, `waiting for delivery #12, same
    order`, `retrying at 2026-05-01 10:00:03 UTC`, `due now, waiting for a worker`, `sending now`, `dead`…"""
    status = delivery.get("status") or ""
    if status == DeliveryStatus.DONE:
        return "done, with a warning" if warnings_in(delivery.get("note")) else "done"
    if status == DeliveryStatus.IN_FLIGHT:
        return "sending now"
    if status != DeliveryStatus.PENDING:
        said: dict[str, str] = {
            DeliveryStatus.DRY_RUN: "dry-run: would send",
            DeliveryStatus.SKIPPED: "skipped (nothing to send)",
        }
        return said.get(status, status.replace("_", " "))
    if ahead is not None:
        return ahead_words(delivery.get("lane"), ahead)
    due = _aware(delivery.get("next_attempt_at"))
    if due is not None and due > now:
        verb = "retrying" if delivery.get("attempts") else "first try"
        return f"{verb} at {due.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    return "due now, waiting for a worker"


def money_lines(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, amount in the order's currency) for each money field a canonical event carries."""
    currency = payload.get("currency")
    if not currency:
        return []
    return [
        (label, format_minor(payload[key], currency))
        for key, label in MONEY_LABELS
        if isinstance(payload.get(key), int) and not isinstance(payload.get(key), bool)
    ]
