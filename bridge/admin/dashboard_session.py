"""The dashboard's login session and CSRF protection.

The session is Flask's signed cookie. Its secret key is derived from BRIDGE_ADMIN_TOKEN with HMAC-SHA256, so
every gunicorn worker (and every host) agrees on it without another setting, and changing the token logs
everybody out. The cookie never holds the token: a logged-in session holds a *marker*, another HMAC of the
token, compared in constant time on each request. Every POST form carries the session's CSRF token in a hidden
field, also compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask, request, session

from bridge.settings import Settings

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
    )


def login_marker(token: str) -> str:
    """What a logged-in session stores: an HMAC of the token, never the token."""
    return _derive(token, _MARKER_LABEL).hex()


def log_in(token: str) -> None:
    """Start a fresh session (no fixation: the old one, CSRF token included, is dropped)."""
    session.clear()
    session.permanent = True
    session["login"] = login_marker(token)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def log_out() -> None:
    """Forget everything in the session."""
    session.clear()


def is_logged_in(token: str) -> bool:
    """True if the session carries the marker of the configured token."""
    marker = session.get("login")
    return isinstance(marker, str) and hmac.compare_digest(marker.encode(), login_marker(token).encode())


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
