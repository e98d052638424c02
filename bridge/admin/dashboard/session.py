"""The dashboard's login session and CSRF protection.

The session is Flask's signed cookie. Its signing key is an HMAC of BRIDGE_ADMIN_TOKEN under a random secret
the server keeps in its database (`server_secrets`, made once, shared by every gunicorn worker and host): a
cookie, even the one the login page hands to anybody, is signed with a key nobody can work out from a guess at
the token, so it is no offline oracle for it; and changing the token still changes the key, which logs
everybody out. The cookie never holds the token: a logged-in session holds a *marker*, another HMAC of the
token under the same secret, compared in constant time on each request. Every POST form carries the session's
CSRF token in a hidden field, also compared in constant time.

The cookie alone is not enough (spec §11): each login also gets a random session id, kept in the cookie and
(hashed) in the `admin_sessions` table. Logging out deletes the row, so a copied cookie stops working, and the
row's expiry is fixed at login (SESSION_LIFETIME, never extended by activity).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Request, Response, current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer

from bridge.context import BridgeContext
from bridge.errors import StorageUnavailable
from bridge.settings import Settings
from bridge.storage.admin_access import AdminSessions
from bridge.timeutil import utcnow

COOKIE_NAME = "bridge_admin"
SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD = "csrf_token"
KEY_ROW = "admin-session"  # its row in server_secrets
_SECRET_KEY_LABEL = b"storebridge/admin/session-secret-key/v2"
_MARKER_LABEL = b"storebridge/admin/logged-in-marker/v2"
_KEYS = "bridge.admin.session_keys"


@dataclass(frozen=True)
class _Keys:
    """The cookie's signing key and the logged-in marker, for one admin token."""

    signing: bytes
    marker: str


def _derive(secret: bytes, label: bytes, token: str) -> bytes:
    return hmac.new(secret, label + b"\0" + token.encode(), hashlib.sha256).digest()


class _Holder:
    """The process's keys, read from the database once (the secret never changes) and then kept."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: _Keys | None = None


def session_keys(app: Flask) -> _Keys:
    """The keys for `app`'s admin token. The first call in a process reads (or makes) the server secret:
    StorageUnavailable when the database cannot say."""
    holder: _Holder = app.extensions[_KEYS]
    keys = holder.keys
    if keys is not None:
        return keys
    bridge: BridgeContext = app.extensions["bridge"]
    token = bridge.settings.admin_token
    assert token, "the dashboard session is configured only with an admin token"
    with holder.lock:
        if holder.keys is None:
            secret = bridge.storage.server_secrets.get(KEY_ROW)
            holder.keys = _Keys(_derive(secret, _SECRET_KEY_LABEL, token), _derive(secret, _MARKER_LABEL, token).hex())
        return holder.keys


class _Unverified(SecureCookieSession):
    """A cookie came but could not be checked (the database did not answer for the key): an empty session that
    is never written back, so the browser keeps its cookie. The dashboard answers 503 for it."""


class DashboardSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the key from `session_keys`, looked up only when a cookie is read or
    written: webhooks, probes and the stylesheet never touch the database for it."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer:
        """The serializer Flask's own would build, keyed with the server-secret key."""
        return URLSafeTimedSerializer(
            session_keys(app).signing,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No cookie: an empty session without a key. A cookie the key cannot be had for: `_Unverified`."""
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        try:
            return super().open_session(app, request)
        except StorageUnavailable:
            return _Unverified()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """As Flask's, except for a session that could not be verified (left as the browser has it)."""
        if isinstance(session, _Unverified):
            return
        super().save_session(app, session, response)


def configure_session(app: Flask, settings: Settings) -> None:
    """Give `app` the dashboard's session (keyed with the server secret) and cookie settings (no-op while admin
    is off)."""
    if not settings.admin_token:
        return
    app.extensions[_KEYS] = _Holder()
    app.session_interface = DashboardSessionInterface()
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


def require_session_keys() -> None:
    """Raise StorageUnavailable (503) unless this request's session could be verified and written: the dashboard
    checks it first, so a database outage is a 503, not a login page that cannot log anybody in."""
    session_keys(current_app)
    if isinstance(session, _Unverified):
        raise StorageUnavailable("database unavailable: the session could not be verified")


def _sessions() -> AdminSessions:
    return BridgeContext.current().storage.admin_sessions


def login_marker() -> str:
    """What a logged-in session stores: an HMAC of the token under the server secret, never the token."""
    return session_keys(current_app).marker


def log_in() -> None:
    """Start a fresh session (no fixation: the old one, CSRF token included, is dropped)."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    _sessions().start(session_id, utcnow(), SESSION_LIFETIME)
    session.permanent = True
    session["login"] = login_marker()
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


def is_logged_in() -> bool:
    """True if the session carries the marker of the configured token and its server-side session is still
    open (not logged out, not past its absolute lifetime). Read once per request."""
    cached = g.get("bridge_logged_in")
    if cached is not None:
        return bool(cached)
    marker, session_id = session.get("login"), session.get("sid")
    logged_in = (
        isinstance(marker, str)
        and isinstance(session_id, str)
        and hmac.compare_digest(marker.encode(), login_marker().encode())
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
