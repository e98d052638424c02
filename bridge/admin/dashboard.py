"""`/admin/`: the server-rendered dashboard (plain HTML forms, one CSS file, no JavaScript).

Pages: overview, events (filtered, paginated), one event with its delivery timeline, dead letters with bulk
retry, a bulk job's progress, login. Every change is a POST form carrying the session's CSRF token. With no
BRIDGE_ADMIN_TOKEN the whole prefix answers 404, like the admin API, with a page that says how to enable it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from bridge import words
from bridge.admin import dashboard_event_view as event_view
from bridge.admin import dashboard_view as view
from bridge.admin import throttle
from bridge.admin.auth import token_matches
from bridge.admin.dashboard_session import (
    COOKIE_NAME,
    CSRF_FIELD,
    configure_session,
    csrf_ok,
    csrf_token,
    is_logged_in,
    log_in,
    log_out,
    require_session_keys,
)
from bridge.admin.redact import Redactor
from bridge.admin.schemas import MAX_ID
from bridge.admin.service import AdminService
from bridge.admin.webhook_counts import rejected_by_source
from bridge.context import BridgeContext
from bridge.destinations import registry
from bridge.destinations.base import DRY_RUN
from bridge.timeutil import utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

PUBLIC_ENDPOINTS = ("dashboard.login", "dashboard.static")
NO_COOKIE = (
    "Your browser sent no session cookie. The cookie is Secure: open the dashboard over HTTPS "
    "(or on localhost), and allow cookies for this site."
)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
REDACTOR_KEY = "bridge.admin.dashboard.redactor"
MAX_NEXT = 2000  # characters of a login's `next`: a dashboard URL, never more


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    settings = state.app.extensions["bridge"].settings
    configure_session(state.app, settings)
    state.app.extensions[REDACTOR_KEY] = Redactor.for_settings(settings)
    # Stored bodies may hold what no page can (a lone surrogate was a 500): every rendered value is made showable.
    assert "jinja_env" not in state.app.__dict__, "the Jinja environment must not exist before the dashboard is set up"
    state.app.jinja_options = {**state.app.jinja_options, "finalize": view.displayable}


def _redactor() -> Redactor:
    """Scrubs stored data before it is rendered (never the rendered page: it reflects the request too)."""
    return current_app.extensions[REDACTOR_KEY]  # type: ignore[no-any-return]


def _admin() -> AdminService:
    return BridgeContext.current().admin


def _token() -> str | None:
    return BridgeContext.current().settings.admin_token


def _error(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("dashboard/error.html", title=title, message=message), status


@bp.before_request
def _guard() -> Any:
    """404 while admin is off; login required except for the login page and the CSS; CSRF on every POST."""
    token = _token()
    if not token:
        # A newcomer's first click: say how to turn it on (still a 404: no dashboard exists, nothing is set).
        return render_template("dashboard/off.html"), 404
    if request.endpoint == "dashboard.static":
        return None  # the stylesheet: no session, no database
    require_session_keys()
    public = request.endpoint in PUBLIC_ENDPOINTS
    if not public and not is_logged_in():
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("dashboard.login", next=target))
    if request.method == "POST" and not csrf_ok():
        if COOKIE_NAME not in request.cookies:
            # The browser dropped the Secure cookie: plain http on a host other than localhost.
            return _error(403, "Form rejected", NO_COOKIE)
        return _error(403, "Form rejected", "The form's security token is missing or stale. Reload the page and retry.")
    return None


@bp.after_request
def _finish(response: Response) -> Response:
    """Security headers on everything. (Secrets are scrubbed from stored data before rendering, not here.)"""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    token = _token()
    settings = BridgeContext.current().settings
    return {
        "dry_run_destinations": [d.name for d in registry.destinations() if d.mode(settings) == DRY_RUN],
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token,
        "logged_in": bool(token) and is_logged_in(),
        "when": view.when,
        "age": view.age,
        "why": words.why,
    }


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard, never another site (no open redirect), and nothing that cannot go in
    a Location header (CR, LF and other control characters were a 500)."""
    if (
        target
        and target.startswith("/admin")
        and "\\" not in target
        and target.isprintable()
        and len(target) <= MAX_NEXT
    ):
        return target
    return url_for("dashboard.overview")


# -- session ---------------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form (the admin token); a good token starts a session and goes to `next`."""
    token = _token()
    target = request.values.get("next")
    if request.method == "POST":
        verdict = throttle.admission()
        if not verdict.allowed:
            error = f"Too many wrong tokens from your address. Try again in {verdict.retry_after} s."
            page = render_template("dashboard/login.html", next=target, error=error)
            return page, 429, {"Retry-After": str(verdict.retry_after)}
        if token_matches(token, request.form.get("token", "").strip()):
            throttle.record_success(verdict)
            log_in()
            return redirect(_safe_next(target), code=303)
        throttle.record_failure()
        return render_template("dashboard/login.html", next=target, error="That is not the admin token."), 401
    if token and is_logged_in():
        return redirect(_safe_next(target))
    return render_template("dashboard/login.html", next=target, error=None)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    log_out()
    return redirect(url_for("dashboard.login"), code=303)


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
    return _redactor().scrub([d for d in _admin().deliveries.for_event(event_id) if d["status"] == "dead"])  # type: ignore[no-any-return]


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


# The POST actions live in dashboard_actions.py, on this blueprint (imported here so they are registered).
from bridge.admin import dashboard_actions  # noqa: E402, F401
