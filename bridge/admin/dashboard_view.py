"""Presentation helpers for the dashboard: query-string filters, the hourly chart's geometry, excerpts,
and the delivery timeline. Pure functions over what AdminService returns; no Flask request state here."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from marshmallow import ValidationError

from bridge.admin.schemas import DEFAULT_LIMIT, EVENT_STATUSES, EventQuerySchema, to_filter
from bridge.canonical import KINDS
from bridge.destinations import registry
from bridge.logs import redact
from bridge.platforms import SOURCES
from bridge.storage.queries import EventFilter

#: Bottom-to-top stacking order of the chart's segments.
CHART_ORDER = ("done", "planned", "accepted", "received", "quarantined", "dead")
FORM_FIELDS = ("status", "source", "kind", "store", "q", "since", "until", "limit")
EXCERPT_CHARS = 4000
NESTED_TOO_DEEPLY = "(nested too deeply to show here; see the raw body)"
#: What a page cannot carry as it is: lone surrogates (a body's `\ud800` escape, decoded; UTF-8 cannot encode
#: them, so the page was a 500) and control characters HTML forbids (NUL and the rest, bar tab and newlines).
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def displayable(value: Any) -> Any:
    """`value` as a page can show it: each unshowable character becomes its JSON escape (`\u0000`, `\ud800`),
    which is also how the stored body spells it. The dashboard's Jinja `finalize`: every `{{ … }}` passes here."""
    if isinstance(value, str) and _UNSHOWABLE.search(value):
        shown = _UNSHOWABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", value)
        return Markup(shown) if isinstance(value, Markup) else shown  # noqa: S704 - was markup; only characters swapped
    return value


@dataclass
class ParsedFilter:
    """The admin API's event query read from a form: the storage filter, page size and cursor, the values to
    put back in the form, and any errors (then the filter is empty and must not be used)."""

    filter: EventFilter
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def query(self, **extra: str) -> dict[str, str]:
        """Query-string parameters reproducing this filter (for pagination links and the bulk form)."""
        return {k: v for k, v in {**self.values, **extra}.items() if v}


def choices() -> dict[str, tuple[str, ...]]:
    """The values offered by the filter form's selects (those the admin API accepts)."""
    return {"status": EVENT_STATUSES, "source": tuple(SOURCES), "kind": KINDS}


def parse_time(value: str) -> datetime:
    """`2026-05-01T10:00` (a datetime-local input, read as UTC) or an ISO-8601 time with an offset."""
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_filter(args: Mapping[str, str], **fixed: str) -> ParsedFilter:
    """Read `status`, `source`, `kind`, `store`, `q`, `since`, `until`, `limit` and `cursor` from a query string
    or form, and validate them with the admin API's own schema, so both accept exactly the same filters.

    `since`/`until` may also be a datetime-local value (no offset), read as UTC. `fixed` adds conditions the
    page imposes (the dead-letter view's `destination_status=dead`).
    """
    values = {name: (args.get(name) or "").strip() for name in FORM_FIELDS}
    data: dict[str, str] = {k: v for k, v in values.items() if v}
    if cursor := (args.get("cursor") or "").strip():
        data["cursor"] = cursor
    for name in ("since", "until"):
        # A value that is not a time at all goes to the schema as it is: its error names the expected format.
        # An instant out of UTC's range (year 1 at +14:00) overflows here; the schema clamps it.
        with contextlib.suppress(ValueError, OverflowError):
            if name in data:
                data[name] = parse_time(data[name]).isoformat()
    try:
        loaded = EventQuerySchema().load({**data, **fixed})
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"filter": exc.messages}
        errors = [
            f"{name}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
            for name, msgs in messages.items()
        ]
        return ParsedFilter(EventFilter(), values, errors)
    return ParsedFilter(to_filter(loaded), values, [], loaded["limit"], loaded.get("cursor"))


# -- the overview chart ----------------------------------------------------------------------------------

#: SVG user units; the SVG stretches to its box (preserveAspectRatio="none"), labels are HTML beside it.
CHART_W, CHART_H = 480, 100


def _ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5, 10, 20, 50, …)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def chart(hourly: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars (stacked segments by outcome) of the last hours' events, in SVG user units."""
    totals = [sum(h["counts"].values()) for h in hourly]
    top = _ceiling(max([*totals, 1]))
    slot = CHART_W / max(len(hourly), 1)
    bars = []
    for index, (hour, total) in enumerate(zip(hourly, totals, strict=True)):
        start = datetime.fromisoformat(hour["hour"])
        y = float(CHART_H)
        segments = []
        for status in (*CHART_ORDER, *sorted(set(hour["counts"]) - set(CHART_ORDER))):
            count = hour["counts"].get(status, 0)
            if count:
                h = CHART_H * count / top
                y -= h
                segments.append({"status": status, "count": count, "y": round(y, 2), "h": round(h, 2)})
        label = start.strftime("%H:00") if index % 6 == 0 or index == len(hourly) - 1 else ""
        bars.append(
            {
                "x": round(index * slot + slot * 0.12, 2),
                "w": round(slot * 0.76, 2),
                "hour": start.strftime("%Y-%m-%d %H:00 UTC"),
                "label": label,
                "total": total,
                "segments": segments,
            }
        )
    present = {s for h in hourly for s in h["counts"]}
    legend = [s for s in CHART_ORDER if s in present] + sorted(present - set(CHART_ORDER))
    return {
        "bars": bars,
        "top": top,
        "total": sum(totals),
        "legend": legend,
        "width": CHART_W,
        "height": CHART_H,
    }


# -- the event page --------------------------------------------------------------------------------------


def excerpt(text: str | bytes | None, limit: int = EXCERPT_CHARS) -> dict[str, Any] | None:
    """A request or response body for display: pretty-printed when JSON, cut to `limit` characters."""
    if text is None or text == "" or text == b"":
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        shown = json.dumps(redact(json.loads(text)), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to re-indent: shown as it came
        shown = text
    cut = max(0, len(shown) - limit)
    return {"text": shown[:limit] if cut else shown, "cut": cut}


def pretty(value: Any) -> str:
    """A stored JSON document (canonical payload, errors, headers) for display, secrets redacted."""
    try:
        return json.dumps(redact(value), indent=2, ensure_ascii=False, default=str)
    except RecursionError:  # deeper than a page can indent: one line, still with secret-looking keys redacted
        return NESTED_TOO_DEEPLY


def timeline(deliveries: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each delivery with its own attempts (oldest first), request and response excerpts ready to show."""
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt["delivery_id"], []).append(
            {
                **attempt,
                "request_excerpt": excerpt(attempt.get("request")),
                "response_excerpt": excerpt(attempt.get("response")),
                # A GraphQL call says in words what it did (the mutation, its orders, their outcomes).
                "graphql": registry.attempt_summary(
                    attempt.get("destination") or "",
                    attempt.get("url"),
                    attempt.get("request"),
                    attempt.get("response"),
                ),
            }
        )
    return [{**delivery, "attempt_list": by_delivery.get(delivery["id"], [])} for delivery in deliveries]


def age(seconds: float | None) -> str:
    """`42 s`, `3 min`, `5 h`, `2 d` (or an em dash for nothing)."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def when(value: datetime | str | None) -> str:
    """A UTC timestamp to the second, e.g. `2026-05-01 10:00:03`."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def job_verdict(job: dict[str, Any], outcome: dict[str, int]) -> tuple[str, str]:
    """(badge status, sentence) for a bulk job: a retry job that finished has only queued deliveries again,
    so it is judged by where its events stand now, not by the queueing having worked."""
    if job["status"] != "done" or job["kind"] != "retry_dead" or not outcome:
        return job["status"], ""
    covered = sum(outcome.values())
    dead, done = outcome.get("dead", 0), outcome.get("done", 0)
    waiting = covered - dead - done
    if waiting:
        return "running", f"{waiting} of {covered} events are still being delivered; this page refreshes."
    if dead == covered:
        return "dead", f"Every retried event died again ({dead} of {covered}): nothing was fixed."
    if dead:
        return "failed", f"{done} of {covered} events delivered; {dead} died again."
    return "done", f"All {covered} retried events were delivered."
