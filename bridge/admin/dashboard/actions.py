"""The dashboard's POST actions (CSRF-checked by the guard in blueprint.py, on its blueprint): replay an
event, retry a delivery (asking first when a dry-run delivery would now be sent live), pause or resume a
destination, and the bulk retry of dead letters."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from bridge.admin.dashboard import event_view, view
from bridge.admin.dashboard.blueprint import _admin, _error, bp
from bridge.admin.schemas import MAX_ID
from bridge.admin.service import resumed_message
from bridge.vocabulary import DeliveryStatus, EventStatus

#: The form value that confirms a retry which makes real calls where the first run was a dry-run.
CONFIRM_LIVE = "send-live"


@bp.post("/events/<int:event_id>/replay")
def replay(event_id: int) -> Response | tuple[str, int]:
    """Replay one event: quarantined ones are read again, others planned again (idempotently)."""
    outcome = _admin().replay_event(event_id) if event_id <= MAX_ID else None
    if outcome is None or outcome.status == "missing":
        return _error(404, "No such event", f"There is no event {event_id}.")
    if outcome.status == EventStatus.QUARANTINED:
        flash(f"Event {event_id} is still quarantined: the fields below are still refused.", "error")
    else:
        flash(f"Event {event_id}: {outcome.message}.", "error" if outcome.status == "pruned" else "ok")
    return redirect(url_for("dashboard.event", event_id=event_id), code=303)


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int) -> Any:
    """Send one finished (typically dead) delivery again now. A dry-run delivery whose destination is live
    now would make real calls: that needs an explicit confirmation first."""
    admin = _admin()
    delivery = admin.deliveries.get(delivery_id) if delivery_id <= MAX_ID else None
    if delivery is None:
        return _error(404, "No such delivery", f"There is no delivery {delivery_id}.")
    live = event_view.live_now(admin.destinations())
    if event_view.sends_live_on_retry(delivery, live) and request.form.get("confirm") != CONFIRM_LIVE:
        return render_template("dashboard/confirm_live.html", delivery=delivery, confirm=CONFIRM_LIVE)
    if admin.retry_delivery(delivery_id):
        sends = "for real" if live.get(delivery["destination"]) else "as a dry-run again (nothing is sent)"
        flash(f"Delivery {delivery_id} to {delivery['destination']} is queued to be sent again, {sends}.", "ok")
    else:
        flash(f"Delivery {delivery_id} is still pending or in flight; nothing to retry.", "error")
    return redirect(url_for("dashboard.event", event_id=delivery["event_id"]), code=303)


@bp.post("/destinations/<name>/pause")
def pause(name: str) -> Any:
    """Pause (`action=pause`) or resume (`action=resume`) a destination; resume also ends a Retry-After
    pause or an open circuit at once."""
    paused = request.form.get("action") == "pause"
    try:
        hurried = _admin().set_paused(name, paused)
    except KeyError:
        return _error(404, "No such destination", f"There is no destination {name!r}.")
    if paused:
        flash(f"{name} paused.", "ok")
    else:
        flash(f"{resumed_message(name, hurried)}.", "ok")
    return redirect(url_for("dashboard.overview"), code=303)


@bp.post("/dead/retry")
def retry_dead() -> Any:
    """Start a bulk retry of the dead deliveries of every event the dead-letter filter matches."""
    parsed = view.parse_filter(request.form, destination_status=DeliveryStatus.DEAD)
    if parsed.errors:
        return _error(400, "Bad filter", "; ".join(parsed.errors))
    job_id = _admin().start_bulk("retry_dead", parsed.filter, {"filter": parsed.query(), "via": "dashboard"})
    flash(f"Bulk retry started (job {job_id}): dead deliveries queued again; below is how they end.", "ok")
    return redirect(url_for("dashboard.job", job_id=job_id), code=303)
