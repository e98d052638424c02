"""The dashboard's pages (GET): overview, events, dead letters, quarantine, one event, a bulk job."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import render_template, request

from bridge import words
from bridge.admin.dashboard import event_view, view
from bridge.admin.dashboard.blueprint import _admin, _error, _redactor, bp
from bridge.admin.schemas import MAX_ID
from bridge.admin.webhook_counts import rejected_by_source
from bridge.timeutil import utcnow

# -- pages -----------------------------------------------------------------------------------------------


@bp.get("/")
def overview() -> str:
    """Events per hour by outcome, queue depth, dead count, destinations with pause/resume, recent jobs."""
    admin = _admin()
    destinations = admin.destinations()
    rejected = rejected_by_source()
    return render_template(
        "dashboard/overview.html",
        chart=view.chart(admin.queries.hourly_outcomes(utcnow())),
        destinations=destinations,
        queue_depth=sum(d["queue_depth"] for d in destinations),
        unplanned=admin.queries.unplanned(),
        dead=sum(d["deliveries"].get("dead", 0) for d in destinations),
        quarantined=admin.events.count_by_status().get("quarantined", 0),
        rejected=rejected,
        rejected_total=sum(rejected.values()),
        jobs=admin.jobs.recent(5),
        data_requests=admin.storage.erasure.requests(kind="data_request", limit=10),
        reconciliation=admin.reconciliation(),
        reconcile_interval=admin.settings.reconcile_interval,
    )


def _event_page(template: str, parsed: view.ParsedFilter, **context: Any) -> Any:
    """Render a filtered, paginated event list (the events page and the dead-letter view)."""
    page = None if parsed.errors else _admin().list_events(parsed.filter, cursor=parsed.cursor, limit=parsed.limit)
    if page is not None:
        page = dataclasses.replace(page, items=[_redactor().record(item) for item in page.items])
    status = 400 if parsed.errors else 200
    return render_template(template, parsed=parsed, page=page, choices=view.choices(), **context), status


@bp.get("/events")
def events() -> Any:
    """Events, newest first, filtered like the admin API, with cursor pagination."""
    return _event_page("dashboard/events.html", view.parse_filter(request.args))


@bp.get("/dead")
def dead() -> Any:
    """Events with a dead delivery, each with why it died; bulk retry of everything listed."""
    parsed = view.parse_filter(request.args, destination_status="dead")
    return _event_page("dashboard/dead.html", parsed, dead_deliveries=_dead_deliveries)


def _dead_deliveries(event_id: int) -> list[dict[str, Any]]:
    dead: list[dict[str, Any]] = _redactor().scrub(
        [d for d in _admin().deliveries.for_event(event_id) if d["status"] == "dead"]
    )
    return dead


@bp.get("/quarantine")
def quarantine() -> Any:
    """Events the bridge could not read (quarantined), each with why; fix the sender, then replay."""
    parsed = view.parse_filter(request.args, status="quarantined")
    return _event_page("dashboard/quarantine.html", parsed, quarantine_why=_quarantine_why)


def _quarantine_why(event_id: int) -> str:
    record = _admin().events.get(event_id)  # the list rows carry no errors or body: read this one's
    if record is None:
        return "no detail recorded"
    record = _redactor().record(record)
    return event_view.quarantine_why(record.errors, record.body)


@bp.get("/events/<int:event_id>")
def event(event_id: int) -> Any:
    """One event: what came in, its canonical form, and a timeline of its deliveries and their attempts."""
    detail = _admin().event_detail(event_id) if event_id <= MAX_ID else None
    if detail is None:
        return _error(404, "No such event", f"There is no event {event_id}.")
    admin = _admin()
    redactor = _redactor()
    record = redactor.record(detail.event)
    return render_template(
        "dashboard/event.html",
        event=record,
        headers=view.pretty(record.headers),
        payload=view.pretty(record.payload) if record.payload is not None else None,
        error_rows=event_view.error_rows(record.errors, record.body) if record.errors else [],
        raw_order_id=None if record.order_id else event_view.raw_order_id(record.source, record.body),
        body=view.excerpt(record.body),
        timeline=event_view.in_words(
            view.timeline(redactor.scrub(detail.deliveries), redactor.scrub(detail.attempts)), detail.ahead, utcnow()
        ),
        money=words.money_lines(record.payload or {}),
        dry_run_only=event_view.dry_run_only(detail.deliveries),
        live=event_view.live_now(admin.destinations()),
        related=admin.queries.related(record),
        busy=record.status in ("received", "accepted", "planned"),
    )


@bp.get("/jobs/<int:job_id>")
def job(job_id: int) -> Any:
    """A bulk job's progress (the page refreshes itself while the job runs)."""
    found = _admin().job(job_id) if job_id <= MAX_ID else None
    if found is None:
        return _error(404, "No such job", f"There is no job {job_id}.")
    outcome = _admin().job_outcome(job_id) if found["status"] != "running" else {}
    return render_template("dashboard/job.html", job=found, outcome=outcome, verdict=view.job_verdict(found, outcome))
