"""What the event page says beyond the stored rows: why a quarantined event was refused (each bad field with
the value that was sent), its order id even when the mapping could not read it, whether its deliveries were
only a dry-run, and which retries would now send live. Pure functions; no Flask request state here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bridge import words
from bridge.platforms import PLATFORMS
from bridge.redaction import redact
from bridge.vocabulary import DeliveryStatus

#: How much of one offending value is shown.
VALUE_CHARS = 200
MAX_ERROR_ROWS = 50
#: Where each platform puts the order's id in its raw body (first found wins).
ORDER_ID_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    name: platform.order_id_paths for name, platform in PLATFORMS.items()
}
#: Envelopes a source's schema may validate inside of: an error path is looked up there too.
ENVELOPES = ("data", "order")


def _document(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # a hostile body: the page shows it raw
        return None


def _walk(document: Any, path: list[str]) -> tuple[bool, Any]:
    node = document
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _find(document: Any, path: list[str]) -> tuple[bool, Any]:
    roots = [document]
    if isinstance(document, dict):
        roots += [document[k] for k in ENVELOPES if isinstance(document.get(k), dict)]
    for root in roots:
        found, value = _walk(root, path)
        if found:
            return found, value
    return False, None


def _shown(value: Any) -> str:
    try:
        text = json.dumps(redact(value), ensure_ascii=False, default=str)
    except RecursionError:  # a hostile document hundreds of levels deep: the raw body is on the page
        return "(nested too deeply to show here; see the raw body)"
    return text if len(text) <= VALUE_CHARS else f"{text[: VALUE_CHARS - 1]}…"


#: Error paths deeper than this are shown as one row (a stored error set can be as deep as a hostile body).
MAX_ERROR_DEPTH = 32


def error_rows(errors: Any, body: bytes | str | None) -> list[dict[str, str]]:
    """One row per rejected field: its path, the messages, and the value the sender put there (as JSON), or
    `(missing)` when the field was absent. `_schema` errors are about the whole document."""
    document = _document(body)
    rows: list[dict[str, str]] = []

    def visit(path: list[str], node: Any) -> None:
        if len(rows) >= MAX_ERROR_ROWS:
            return
        if isinstance(node, dict) and len(path) < MAX_ERROR_DEPTH:
            for key, value in node.items():
                visit([*path, str(key)], value)
            return
        messages = node if isinstance(node, list) else [node]
        field_path = [p for p in path if p != "_schema"]
        found, value = _find(document, field_path) if field_path else (False, None)
        rows.append(
            {
                "field": ".".join(field_path) or "(the whole document)",
                "messages": "; ".join(m if isinstance(m, str) else _shown(m) for m in messages),
                "value": _shown(value) if found else ("(missing)" if field_path else ""),
            }
        )

    visit([], errors if isinstance(errors, dict) else {"_schema": errors})
    return rows


def raw_order_id(source: str, body: bytes | str | None) -> str | None:
    """The order id as the platform sent it, read from the raw body (a quarantined event has no mapped one)."""
    document = _document(body)
    for path in ORDER_ID_PATHS.get(source, ()):
        found, value = _walk(document, list(path))
        if found and isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return None


def dry_run_only(deliveries: list[dict[str, Any]]) -> bool:
    """Every delivery finished as a dry-run: nothing of this event was sent anywhere."""
    return bool(deliveries) and all(d["status"] == DeliveryStatus.DRY_RUN for d in deliveries)


def live_now(destinations: list[dict[str, Any]]) -> dict[str, bool]:
    """Destination name -> whether a call to it is really sent now (credentials configured)."""
    return {d["name"]: d["mode"] == "live" for d in destinations}


def sends_live_on_retry(delivery: dict[str, Any], live: dict[str, bool]) -> bool:
    """A dry-run delivery whose destination has credentials now: retrying it makes real calls."""
    return delivery.get("status") == DeliveryStatus.DRY_RUN and live.get(delivery.get("destination", ""), False)


def in_words(timeline: list[dict[str, Any]], ahead: dict[int, int], now: datetime) -> list[dict[str, Any]]:
    """Each delivery with what the page says about it in words (the CLI says the same, from `bridge.words`):
    its state ("waiting for delivery #12, same order", "done, with a warning"), why it failed, its warnings."""
    return [
        {
            **d,
            "state": words.delivery_state(d, ahead.get(d["id"]), now),
            "why": words.why(d) if d.get("last_error") or d.get("last_status") else "",
            "warnings": words.warnings_in(d.get("note")) if d.get("status") == DeliveryStatus.DONE else [],
        }
        for d in timeline
    ]


def quarantine_why(errors: Any, body: bytes | str | None, limit: int = 3) -> str:
    """One line saying why an event is quarantined: its first rejected fields and their problems."""
    rows = error_rows(errors, body) if errors else []
    said = [f"{row['field']}: {row['messages']}" for row in rows[:limit]]
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return "; ".join(said) + more if said else "no detail recorded"
