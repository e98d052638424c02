"""`/admin/`: the server-rendered dashboard (plain HTML forms, one CSS file, no JavaScript).

Pages: overview, events (filtered, paginated), one event with its delivery timeline, dead letters with bulk
retry, a bulk job's progress, login. Every change is a POST form carrying the session's CSRF token. With no
BRIDGE_ADMIN_TOKEN the whole prefix answers 404, like the admin API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from markupsafe import escape
from werkzeug.wrappers import Response

from bridge.admin import dashboard_view as view
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
)
from bridge.admin.redact import Redactor, secret_values
from bridge.admin.schemas import MAX_ID
from bridge.admin.service import AdminService
from bridge.context import BridgeContext
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


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    settings = state.app.extensions["bridge"].settings
    configure_session(state.app, settings)
    # Pages are HTML: a secret may appear escaped (`&amp;`) as well as verbatim.
    found = secret_values(settings)
    variants = {*found, *(str(escape(secret)) for secret in found)}
    state.app.extensions[REDACTOR_KEY] = Redactor(tuple(sorted(variants, key=len, reverse=True)))


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
        abort(404)
    public = request.endpoint in PUBLIC_ENDPOINTS
    if not public and not is_logged_in(token):
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
    """Security headers on everything; every page scrubbed of setting values (secrets), whatever got stored."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html" and not response.direct_passthrough:
        redactor: Redactor = current_app.extensions[REDACTOR_KEY]
        if redactor.secrets:
            response.set_data(redactor.text(response.get_data(as_text=True)))
    return response


@bp.context_processor
def _helpers() -> dict[str, Any]:
    token = _token()
    return {
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token,
        "logged_in": bool(token) and is_logged_in(token),
        "when": view.when,
        "age": view.age,
    }


def _safe_next(target: str | None) -> str:
    """Only a path inside the dashboard, never another site (no open redirect)."""
    if target and target.startswith("/admin") and "\\" not in target:
        return target
    return url_for("dashboard.overview")


# -- session ---------------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form (the admin token); a good token starts a session and goes to `next`."""
    token = _token()
    target = request.values.get("next")
    if request.method == "POST":
        if token_matches(token, request.form.get("token", "").strip()):
            log_in(token)  # type: ignore[arg-type]
            return redirect(_safe_next(target), code=303)
        return render_template("dashboard/login.html", next=target, error="That is not the admin token."), 401
    if token and is_logged_in(token):
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
    return render_template(
        "dashboard/overview.html",
        chart=view.chart(admin.queries.hourly_outcomes(utcnow())),
        destinations=destinations,
        queue_depth=sum(d["queue_depth"] for d in destinations),
        unplanned=admin.queries.unplanned(),
        dead=sum(d["deliveries"].get("dead", 0) for d in destinations),
        jobs=admin.jobs.recent(5),
        reconciliation=admin.reconciliation(),
        reconcile_interval=admin.settings.reconcile_interval,
    )


def _event_page(template: str, parsed: view.ParsedFilter, **context: Any) -> Any:
    """Render a filtered, paginated event list (the events page and the dead-letter view)."""
    page = None if parsed.errors else _admin().list_events(parsed.filter, cursor=parsed.cursor, limit=parsed.limit)
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
    return [d for d in _admin().deliveries.for_event(event_id) if d["status"] == "dead"]


@bp.get("/events/<int:event_id>")
def event(event_id: int) -> Any:
    """One event: what came in, its canonical form, and a timeline of its deliveries and their attempts."""
    detail = _admin().event_detail(event_id) if event_id <= MAX_ID else None
    if detail is None:
        return _error(404, "No such event", f"There is no event {event_id}.")
    record = detail.event
    return render_template(
        "dashboard/event.html",
        event=record,
        headers=view.pretty(record.headers),
        payload=view.pretty(record.payload) if record.payload is not None else None,
        errors=view.pretty(record.errors) if record.errors else None,
        body=view.excerpt(record.body),
        timeline=view.timeline(detail.deliveries, detail.attempts),
        busy=record.status in ("received", "accepted", "planned"),
    )


@bp.get("/jobs/<int:job_id>")
def job(job_id: int) -> Any:
    """A bulk job's progress (the page refreshes itself while the job runs)."""
    found = _admin().job(job_id) if job_id <= MAX_ID else None
    if found is None:
        return _error(404, "No such job", f"There is no job {job_id}.")
    return render_template("dashboard/job.html", job=found)


# -- actions (POST, CSRF-checked by the guard) -----------------------------------------------------------


@bp.post("/events/<int:event_id>/replay")
def replay(event_id: int) -> Response:
    """Replay one event: quarantined ones are read again, others planned again (idempotently)."""
    outcome = _admin().replay_event(event_id) if event_id <= MAX_ID else None
    if outcome is None or outcome.status == "missing":
        return _error(404, "No such event", f"There is no event {event_id}.")
    flash(f"Event {event_id}: {outcome.message}.", "ok")
    return redirect(url_for("dashboard.event", event_id=event_id), code=303)


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry(delivery_id: int) -> Any:
    """Send one finished (typically dead) delivery again now."""
    admin = _admin()
    delivery = admin.deliveries.get(delivery_id) if delivery_id <= MAX_ID else None
    if delivery is None:
        return _error(404, "No such delivery", f"There is no delivery {delivery_id}.")
    if admin.retry_delivery(delivery_id):
        flash(f"Delivery {delivery_id} to {delivery['destination']} is queued to be sent again.", "ok")
    else:
        flash(f"Delivery {delivery_id} is still pending or in flight; nothing to retry.", "error")
    return redirect(url_for("dashboard.event", event_id=delivery["event_id"]), code=303)


@bp.post("/destinations/<name>/pause")
def pause(name: str) -> Any:
    """Pause (`action=pause`) or resume (`action=resume`) a destination."""
    paused = request.form.get("action") == "pause"
    try:
        _admin().set_paused(name, paused)
    except KeyError:
        return _error(404, "No such destination", f"There is no destination {name!r}.")
    flash(f"{name} {'paused' if paused else 'resumed'}.", "ok")
    return redirect(url_for("dashboard.overview"), code=303)


@bp.post("/dead/retry")
def retry_dead() -> Any:
    """Start a bulk retry of the dead deliveries of every event the dead-letter filter matches."""
    parsed = view.parse_filter(request.form, destination_status="dead")
    if parsed.errors:
        return _error(400, "Bad filter", "; ".join(parsed.errors))
    job_id = _admin().start_bulk("retry_dead", parsed.filter, {"filter": parsed.query(), "via": "dashboard"})
    flash(f"Bulk retry started (job {job_id}).", "ok")
    return redirect(url_for("dashboard.job", job_id=job_id), code=303)
