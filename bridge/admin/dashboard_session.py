"""The dashboard's login session and CSRF protection.

The session is Flask's signed cookie. Its secret key is derived from BRIDGE_ADMIN_TOKEN with HMAC-SHA256, so
every gunicorn worker (and every host) agrees on it without another setting, and changing the token logs
everybody out. The cookie never holds the token: a logged-in session holds a *marker*, another HMAC of the
token, compared in constant time on each request. Every POST form carries the session's CSRF token in a hidden
field, also compared in constant time.

The cookie alone is not enough (spec §11): each login also gets a random session id, kept in the cookie and
(hashed) in the `admin_sessions` table. Logging out deletes the row, so a copied cookie stops working, and the
row's expiry is fixed at login (SESSION_LIFETIME, never extended by activity).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask, g, request, session

from bridge.context import BridgeContext
from bridge.settings import Settings
from bridge.storage.admin_access import AdminSessions
from bridge.timeutil import utcnow

COOKIE_NAME = "bridge_admin"
SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD = "csrf_token"
_SECRET_KEY_LABEL = b"storebridge/admin/session-secret-key/v1"
_MARKER_LABEL = b"storebridge/admin/logged-in-marker/v1"


def _derive(token: str, label: bytes) -> bytes:
    return hmac.new(token.encode(), label, hashlib.sha256).digest()


def configure_session(app: Flask, settings: Settings) -> None:
    """Give `app` the derived secret key and the dashboard's cookie settings (no-op while admin is off)."""
    if not settings.admin_token:
        return
    app.secret_key = _derive(settings.admin_token, _SECRET_KEY_LABEL)
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        # Secure even in development: browsers treat http://localhost and 127.0.0.1 as trustworthy.
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The cookie's expiry is set once, at login: activity does not slide it (nor the server-side row's).
        SESSION_REFRESH_EACH_REQUEST=False,
    )


def _sessions() -> AdminSessions:
    return AdminSessions(BridgeContext.current().db)


def login_marker(token: str) -> str:
    """What a logged-in session stores: an HMAC of the token, never the token."""
    return _derive(token, _MARKER_LABEL).hex()


def log_in(token: str) -> None:
    """Start a fresh session (no fixation: the old one, CSRF token included, is dropped)."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    _sessions().start(session_id, utcnow(), SESSION_LIFETIME)
    session.permanent = True
    session["login"] = login_marker(token)
    session["sid"] = session_id
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.bridge_logged_in = True


def log_out() -> None:
    """End the session server-side (every copy of the cookie stops working) and forget the cookie's content."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        _sessions().end(session_id)
    session.clear()
    g.bridge_logged_in = False


def is_logged_in(token: str) -> bool:
    """True if the session carries the marker of the configured token and its server-side session is still
    open (not logged out, not past its absolute lifetime). Read once per request."""
    cached = g.get("bridge_logged_in")
    if cached is not None:
        return bool(cached)
    marker, session_id = session.get("login"), session.get("sid")
    logged_in = (
        isinstance(marker, str)
        and isinstance(session_id, str)
        and hmac.compare_digest(marker.encode(), login_marker(token).encode())
        and _sessions().is_active(session_id, utcnow())
    )
    g.bridge_logged_in = logged_in
    return logged_in


def csrf_token() -> str:
    """The session's CSRF token, created on first use (the login form needs one before logging in)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok() -> bool:
    """True if the submitted form's CSRF field equals the session's token (constant-time)."""
    expected = session.get(CSRF_FIELD)
    presented = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
