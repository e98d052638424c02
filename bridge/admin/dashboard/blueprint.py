"""The dashboard's blueprint and what every page shares: its set-up, the guard (login, CSRF, the 404 without
BRIDGE_ADMIN_TOKEN), security headers, template helpers, login and logout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from bridge import words
from bridge.admin import throttle
from bridge.admin.auth import token_matches
from bridge.admin.dashboard import view
from bridge.admin.dashboard.session import (
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
from bridge.admin.service import AdminService
from bridge.context import BridgeContext
from bridge.destinations import registry
from bridge.destinations.base import DRY_RUN
from bridge.redaction import Redactor

#: The templates and the stylesheet stay in bridge/admin/ (templates/dashboard/, static/), where packaging and the
#: Docker image look for them.
bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    root_path=str(Path(__file__).resolve().parent.parent),
)

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
    assert isinstance(state.app, Flask)  # BlueprintSetupState types it as Flask's sans-IO base
    settings = state.app.extensions["bridge"].settings
    configure_session(state.app, settings)
    state.app.extensions[REDACTOR_KEY] = Redactor.for_settings(settings)
    # Stored bodies may hold what no page can (a lone surrogate was a 500): every rendered value is made showable.
    assert "jinja_env" not in state.app.__dict__, "the Jinja environment must not exist before the dashboard is set up"
    state.app.jinja_options = {**state.app.jinja_options, "finalize": view.displayable}


def _redactor() -> Redactor:
    """Scrubs stored data before it is rendered (never the rendered page: it reflects the request too)."""
    redactor: Redactor = current_app.extensions[REDACTOR_KEY]
    return redactor


def _admin() -> AdminService:
    return AdminService.current()


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
