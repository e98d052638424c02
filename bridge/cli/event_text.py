"""`storebridge events show ID` as a person reads it: a few lines, not the whole stored document."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bridge import words
from bridge.destinations import registry

#: Errors and bodies are cut to this many characters a line; `--json` shows them whole.
MAX_TEXT = 200


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else f"{text[: MAX_TEXT - 1]}…"


def describe(shown: dict[str, Any], now: datetime | None = None) -> str:
    """The event (`detail()` plus its `deliveries`, `attempts` and `ahead`) as readable lines, saying what the
    dashboard's event page says: amounts in the order's currency, each delivery's state in words (waiting for
    an earlier one, done with a warning), why it failed, its note, and the events skipped."""
    now = now or datetime.now(UTC)
    ahead: dict[int, int] = {int(k): int(v) for k, v in (shown.get("ahead") or {}).items()}
    payload = shown.get("payload") if isinstance(shown.get("payload"), dict) else {}
    lines = [
        f"event {shown['id']}: {shown.get('kind') or shown.get('topic') or '?'} from {shown['source']}"
        f" - {shown['status']}",
        f"  received   {shown['received_at']}",
    ]
    if shown.get("occurred_at"):
        lines[-1] += f", happened {shown['occurred_at']}"
    for label, key in (("store", "store"), ("order", "order_id"), ("checkout", "checkout_id"), ("topic", "topic")):
        if shown.get(key):
            lines.append(f"  {label:10} {shown[key]}")
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    if customer.get("email"):
        lines.append(f"  {'customer':10} {customer['email']}")
    for label, amount in words.money_lines(payload):
        lines.append(f"  {label:10} {amount}")
    if shown.get("note"):
        lines.append(f"  {'note':10} {_short(shown['note'])}")
    if shown.get("errors"):
        lines.append("  errors (why it is quarantined):")
        errors = shown["errors"]
        listed = errors if isinstance(errors, list) else [errors]
        items = errors.items() if isinstance(errors, dict) else enumerate(listed)
        lines += [f"    {field}: {_short(message)}" for field, message in items]
    lines.append("deliveries:" if shown["deliveries"] else "deliveries: none (yet)")
    for d in shown["deliveries"]:
        state = words.delivery_state(d, ahead.get(d["id"]), now)
        lines.append(f"  #{d['id']} {d['destination']}: {state} after {d.get('attempts', 0)} attempt(s)")
        if d.get("status") != "done" and (d.get("last_error") or d.get("last_status")):
            lines.append(f"      why:     {words.why(d)}")
        for warning in words.warnings_in(d.get("note")) if d.get("status") == "done" else []:
            lines.append(f"      warning: {warning}")
        if d.get("note"):
            label = "would:  " if d.get("status") == "dry_run" else "note:   "
            lines.append(f"      {label} {_short(d['note'])}")
    if shown["attempts"]:
        lines.append("attempts:")
    for a in shown["attempts"]:
        status = a.get("status_code") if a.get("status_code") is not None else "-"
        error = f" {_short(words.plain_error(a['error']))}" if a.get("error") else ""
        lines.append(
            f"  {a.get('started_at')} {a['destination']} {a.get('method')} {a.get('url')} -> {status} "
            f"{a.get('outcome')} ({a.get('duration_ms')} ms){error}"
        )
        said = registry.attempt_summary(a.get("destination") or "", a.get("url"), a.get("request"), a.get("response"))
        if said is not None:
            lines.append(f"    {_short(said)}")
    lines.append("(storebridge events show --json for headers, the raw body and the canonical form)")
    return "\n".join(lines)
