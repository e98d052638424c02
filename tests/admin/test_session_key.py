"""The dashboard's session cookie is no offline oracle for the admin token (issue 18 item 5).

The login page hands a signed cookie to anybody. It used to be signed with a key derived from BRIDGE_ADMIN_TOKEN
alone, so a guess at the token could be checked against it offline, no request sent, the login throttle never
met. The key now also needs a random secret the server keeps in its database: these tests play the attacker
with itsdangerous exactly as Flask signs sessions, against the cookie the real login page sets, on both
backends; and check that every web process shares the sessions and a token change still logs everybody out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bridge.app import create_app
from bridge.storage import Database
from bridge.storage.server_secrets import ServerSecrets
from tests.admin.conftest import ADMIN_TOKEN
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers.backends import database_url  # noqa: F401 - SQLite and PostgreSQL
from tests.helpers.delivery import bridge_executable, subprocess_env
from tests.helpers.env import base_env
from tests.helpers.live_server import free_port
from tests.helpers.web_process import running

#: The derivations a token alone allows: the one the bridge used (HMAC-SHA256 keyed with the token over a fixed
#: label), its label's next version, the bare token and its hash.
TOKEN_ONLY_DERIVATIONS = {
    "v1 label": lambda token: hmac.new(token.encode(), b"storebridge/admin/session-secret-key/v1", "sha256").digest(),
    "v2 label": lambda token: hmac.new(token.encode(), b"storebridge/admin/session-secret-key/v2", "sha256").digest(),
    "token": lambda token: token.encode(),
    "sha256(token)": lambda token: hashlib.sha256(token.encode()).digest(),
}


def _as_flask_signs(key: bytes) -> URLSafeTimedSerializer:
    """The serializer Flask's SecureCookieSessionInterface builds for a secret key (what an attacker runs)."""
    return URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def _login_page_cookie(client: FlaskClient) -> str:
    assert client.get("/admin/login").status_code == 200
    cookie = client.get_cookie("bridge_admin", path="/admin")
    assert cookie is not None, "the login page sets the pre-login session cookie (its CSRF token)"
    return cookie.value


def test_the_attack_as_written_breaks_a_cookie_signed_with_a_token_only_key() -> None:
    """The attacker's code is right: against a cookie signed the old way it finds the token among 2,001 guesses."""
    old = Flask("old")
    old.secret_key = TOKEN_ONLY_DERIVATIONS["v1 label"](ADMIN_TOKEN)
    cookie = SecureCookieSessionInterface().get_signing_serializer(old).dumps({"csrf_token": "x"})  # type: ignore[union-attr]
    guesses = [f"admin-token-{i:016x}" for i in range(2000)] + [ADMIN_TOKEN]
    assert _crack(cookie, guesses) == [ADMIN_TOKEN]


def test_the_login_page_cookie_verifies_under_no_token_only_key(app: Flask, client: FlaskClient) -> None:
    cookie = _login_page_cookie(client)
    # The cookie is a real signed session (the server reads its own CSRF token out of it) ...
    content = app.session_interface.get_signing_serializer(app).loads(cookie)  # type: ignore[attr-defined]
    assert set(content) == {"csrf_token"}
    # ... that no key worked out from the token verifies, right token included.
    for name, derive in TOKEN_ONLY_DERIVATIONS.items():
        with pytest.raises(BadSignature):
            _as_flask_signs(derive(ADMIN_TOKEN)).loads(cookie)
        assert name
    guesses = [f"admin-token-{i:016x}" for i in range(2000)] + [ADMIN_TOKEN]
    assert _crack(cookie, guesses) == []


def _crack(cookie: str, guesses: list[str]) -> list[str]:
    """Offline: every guess whose token-only key verifies the cookie."""
    found = []
    for guess in guesses:
        for derive in TOKEN_ONLY_DERIVATIONS.values():
            try:
                _as_flask_signs(derive(guess)).loads(cookie)
            except BadSignature:
                continue
            found.append(guess)
    return found


def test_a_new_token_logs_out_and_the_old_cookie_stays_no_oracle(
    app: Flask, client: FlaskClient, settings, db: Database
) -> None:
    from tests.admin.test_dashboard import _other_app

    form = client.get("/admin/login")
    assert client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN}).status_code == 303
    assert client.get("/admin/").status_code == 200
    logged_in = client.get_cookie("bridge_admin", path="/admin").value
    for derive in TOKEN_ONLY_DERIVATIONS.values():
        with pytest.raises(BadSignature):
            _as_flask_signs(derive(ADMIN_TOKEN)).loads(logged_in)
    assert ADMIN_TOKEN not in str(app.session_interface.get_signing_serializer(app).loads(logged_in))  # type: ignore[attr-defined]
    same = _other_app(settings, db).test_client()
    same.set_cookie("bridge_admin", logged_in, path="/admin")
    assert same.get("/admin/").status_code == 200
    rotated = _other_app(settings, db, admin_token="another-admin-token-0123456789").test_client()
    rotated.set_cookie("bridge_admin", logged_in, path="/admin")
    assert rotated.get("/admin/").status_code == 302


def test_webhooks_never_need_the_session_key(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a request with a session cookie (or one that sets it) reads the server secret: a webhook, /healthz
    or the stylesheet costs no database read for it and cannot fail on it."""
    calls = []
    real = ServerSecrets.get

    def counting(self: ServerSecrets, name: str) -> bytes:
        calls.append(name)
        return real(self, name)

    monkeypatch.setattr(ServerSecrets, "get", counting)
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/static/dashboard.css").status_code == 200
    assert client.post("/webhooks/shopify", data=b"{}").status_code == 401
    assert calls == []
    client.get("/admin/login")
    assert calls == ["admin-session"]
    client.get("/admin/login")
    assert calls == ["admin-session"]  # once per process


def test_dashboard_is_503_not_500_while_the_key_cannot_be_read(settings, database_url: str, db_path: Path) -> None:  # noqa: F811
    """A fresh database (no secret yet) whose write lock another process holds: the first dashboard request
    cannot make the secret, and answers 503 with Retry-After, leaving the browser's cookie alone."""
    if not database_url.startswith("sqlite"):
        pytest.skip("a foreign write lock is SQLite's fault; PostgreSQL stalls: tests/scale/test_postgres_stall.py")
    db = Database(settings.database_url, timeout=0.2)
    db.upgrade()
    client = create_app(settings, db=db).test_client()
    client.set_cookie("bridge_admin", "anything", path="/admin")
    with closing(sqlite3.connect(str(db_path), isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")
        try:
            responses = {path: client.get(path) for path in ("/admin/login", "/admin/")}
        finally:
            locker.execute("ROLLBACK")
    for path, response in responses.items():
        assert response.status_code == 503, (path, response.status_code)
        assert int(response.headers["Retry-After"]) > 0
        assert "Set-Cookie" not in response.headers
    assert client.get("/admin/login").status_code == 200  # the lock is gone: the secret is made
    db.dispose()


# -- real processes ----------------------------------------------------------------------------------------


@pytest.fixture
def two_webs(db_path: Path, database_url: str, tmp_path: Path) -> Iterator[list[str]]:  # noqa: F811
    """Two `storebridge web` processes (one gunicorn worker each) on one fresh database."""
    env = subprocess_env(
        base_env(
            db_path,
            BRIDGE_DATABASE_URL=database_url,
            BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN,
            BRIDGE_WEB_WORKERS="1",
            BRIDGE_WEB_THREADS="4",
        )
    )
    urls = []
    with running(
        [bridge_executable(), "web", "--bind", f"127.0.0.1:{(port_a := free_port())}"],
        ready_url=f"http://127.0.0.1:{port_a}/readyz",
        log=tmp_path / "web-a.log",
        env=env,
        cwd=tmp_path,
    ):
        urls.append(f"http://127.0.0.1:{port_a}")
        with running(
            [bridge_executable(), "web", "--bind", f"127.0.0.1:{(port_b := free_port())}"],
            ready_url=f"http://127.0.0.1:{port_b}/readyz",
            log=tmp_path / "web-b.log",
            env=env,
            cwd=tmp_path,
        ):
            urls.append(f"http://127.0.0.1:{port_b}")
            yield urls


def _cookie(response: requests.Response) -> str:
    # The cookie is Secure, which requests will not send back over http: carried by hand.
    match = re.search(r"bridge_admin=([^;]+)", response.headers.get("Set-Cookie", ""))
    assert match, response.headers
    return match.group(1)


@pytest.mark.slow
def test_two_web_processes_share_sessions(two_webs: list[str]) -> None:
    a, b = two_webs
    # Both processes' first session at once: the secret is made by one, read by the other.
    with ThreadPoolExecutor(2) as pool:
        pages = list(pool.map(lambda url: requests.get(f"{url}/admin/login", timeout=30), (a, b)))
    assert [page.status_code for page in pages] == [200, 200]
    form_cookie = _cookie(pages[0])
    login = requests.post(
        f"{b}/admin/login",  # the form came from a, the login goes to b
        data={"csrf_token": csrf_of(pages[0].text), "token": ADMIN_TOKEN},
        headers={"Cookie": f"bridge_admin={form_cookie}"},
        allow_redirects=False,
        timeout=30,
    )
    assert login.status_code == 303, login.text
    session = {"Cookie": f"bridge_admin={_cookie(login)}"}
    for url in (a, b):
        overview = requests.get(f"{url}/admin/", headers=session, allow_redirects=False, timeout=30)
        assert overview.status_code == 200, (url, overview.status_code)
