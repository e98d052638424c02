"""The dashboard through the Flask test client: access control, the session cookie, CSRF on every action.

What each page shows is in test_dashboard_pages.py; the whole flow in a real browser in test_browser.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import create_app
from bridge.settings import Settings, load_settings
from bridge.storage import Database
from tests.admin.conftest import ADMIN_TOKEN
from tests.admin.dashboard_fixtures import (  # noqa: F401 - fixtures
    DeadEvent,
    admin_overrides_fixture,
    csrf_of,
    dead_event_fixture,
    delivery_status,
    login_fixture,
    worker_fixture,
)
from tests.fakes.fixtures import fake_ac  # noqa: F401
from tests.helpers.delivery import InProcessWorker, delivery_rows, event_rows, wait_until
from tests.helpers.env import base_env

PAGES = ("/admin/", "/admin/events", "/admin/dead", "/admin/events/1", "/admin/jobs/1")


def _other_app(settings: Settings, db: Database, **changes: str) -> Flask:
    """Another app (another gunicorn worker, or the same one after a restart) on the same database."""
    return create_app(dataclasses.replace(settings, **changes), db=db)


# -- access ----------------------------------------------------------------------------------------------


def test_admin_off_answers_404_everywhere(db_path: Path, db: Database) -> None:
    app = create_app(load_settings(base_env(db_path), env_file=None), db=db)
    client = app.test_client()
    for path in (*PAGES, "/admin/login", "/admin/static/dashboard.css"):
        assert client.get(path).status_code == 404, path
    assert client.post("/admin/login", data={"token": ADMIN_TOKEN}).status_code == 404
    assert client.post("/admin/events/1/replay").status_code == 404
    assert "Set-Cookie" not in client.get("/admin/login").headers


def test_pages_redirect_to_login_when_logged_out(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/login?next=")
    assert (
        client.get("/admin/events?status=dead").headers["Location"] == "/admin/login?next=/admin/events?status%3Ddead"
    )
    # The stylesheet is public (the login page needs it).
    assert client.get("/admin/static/dashboard.css").status_code == 200


def test_wrong_token_is_rejected(client: FlaskClient) -> None:
    csrf = csrf_of(client.get("/admin/login").text)
    response = client.post("/admin/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN + "x"})
    assert response.status_code == 401
    assert "That is not the admin token." in response.text
    assert client.get("/admin/").status_code == 302
    # Even the right token is refused without the login form's CSRF token.
    assert client.post("/admin/login", data={"token": ADMIN_TOKEN}).status_code == 403
    assert client.get("/admin/").status_code == 302


def test_a_browser_that_drops_the_cookie_is_told_why(app: Flask) -> None:
    client = app.test_client()
    csrf = csrf_of(client.get("/admin/login").text)
    client.delete_cookie("bridge_admin", path="/admin")  # as a browser does with a Secure cookie over plain http
    response = client.post("/admin/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN})
    assert response.status_code == 403
    assert "open the dashboard over HTTPS" in response.text


def test_login_sets_a_hardened_cookie_without_the_token(app: Flask, client: FlaskClient) -> None:
    csrf = csrf_of(client.get("/admin/login?next=/admin/dead").text)
    response = client.post("/admin/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN, "next": "/admin/dead"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/dead"
    cookie = response.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/admin"):
        assert flag in cookie, (flag, cookie)
    value = client.get_cookie("bridge_admin", path="/admin").value
    content = app.session_interface.get_signing_serializer(app).loads(value)  # type: ignore[attr-defined]
    assert set(content) == {"login", "sid", "csrf_token", "_permanent"}
    assert ADMIN_TOKEN not in value and ADMIN_TOKEN not in str(content)
    assert csrf != content["csrf_token"], "logging in must start a fresh session"
    assert client.get("/admin/").status_code == 200


def test_login_never_redirects_off_the_dashboard(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/admin", "/webhooks/shopify", "/admin\\@evil.example"):
        csrf = csrf_of(client.get("/admin/login").text)
        response = client.post("/admin/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN, "next": target})
        assert response.headers["Location"] == "/admin/", target
        client.post("/admin/logout", data={"csrf_token": csrf_of(client.get("/admin/").text)})


def test_every_worker_accepts_the_session_and_a_new_token_ends_it(
    settings: Settings, db: Database, client: FlaskClient, login: Callable[[], str]
) -> None:
    login()
    value = client.get_cookie("bridge_admin", path="/admin").value
    other = _other_app(settings, db).test_client()
    other.set_cookie("bridge_admin", value, path="/admin")
    assert other.get("/admin/").status_code == 200
    rotated = _other_app(settings, db, admin_token="another-admin-token-0123456789").test_client()
    rotated.set_cookie("bridge_admin", value, path="/admin")
    assert rotated.get("/admin/").status_code == 302


def test_logout_needs_csrf_and_ends_the_session(client: FlaskClient, login: Callable[[], str]) -> None:
    csrf = login()
    assert client.post("/admin/logout").status_code == 403
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302


# -- CSRF on actions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [{}, {"csrf_token": "forged-token"}], ids=["missing", "wrong"])
def test_actions_without_the_csrf_token_change_nothing(
    client: FlaskClient, db: Database, login: Callable[[], str], dead_event: DeadEvent, form: dict[str, str]
) -> None:
    login()
    before = delivery_rows(db)
    for path in (
        f"/admin/deliveries/{dead_event.delivery_id}/retry",
        f"/admin/events/{dead_event.event_id}/replay",
        "/admin/destinations/activecampaign/pause",
    ):
        response = client.post(path, data={**form, "action": "pause"})
        assert response.status_code == 403, path
        assert "Form rejected" in response.text
    assert delivery_rows(db) == before
    assert event_rows(db, id=dead_event.event_id)[0]["status"] == "dead"
    assert "Resume" not in client.get("/admin/").text


def test_retry_with_the_csrf_token_delivers(
    client: FlaskClient,
    db: Database,
    login: Callable[[], str],
    dead_event: DeadEvent,
) -> None:
    csrf = login()
    response = client.post(f"/admin/deliveries/{dead_event.delivery_id}/retry", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/events/{dead_event.event_id}"
    assert "is queued to be sent again" in client.get(response.headers["Location"]).text
    wait_until(lambda: delivery_status(db, dead_event.delivery_id) == "done", timeout=15)
    assert event_rows(db, id=dead_event.event_id)[0]["status"] == "done"
    assert [r.status for r in dead_event.fake.calls(method="POST", path_prefix="/api/3/ecomOrders")] == [422, 201]


def test_replay_with_the_csrf_token_plans_the_event_again(
    client: FlaskClient, db: Database, login: Callable[[], str], dead_event: DeadEvent
) -> None:
    csrf = login()
    response = client.post(f"/admin/events/{dead_event.event_id}/replay", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "queued for planning again" in client.get(response.headers["Location"]).text
    wait_until(lambda: len(delivery_rows(db, dead_event.event_id)) == 2, timeout=15)
    assert client.post("/admin/events/999999/replay", data={"csrf_token": csrf}).status_code == 404


def test_pause_and_resume_a_destination(client: FlaskClient, login: Callable[[], str], worker: InProcessWorker) -> None:
    csrf = login()
    response = client.post("/admin/destinations/activecampaign/pause", data={"csrf_token": csrf, "action": "pause"})
    assert response.status_code == 303
    page = client.get("/admin/").text
    assert "activecampaign paused." in page and page.count('value="resume"') == 1
    client.post("/admin/destinations/activecampaign/pause", data={"csrf_token": csrf, "action": "resume"})
    assert 'value="resume"' not in client.get("/admin/").text
    response = client.post("/admin/destinations/nowhere/pause", data={"csrf_token": csrf, "action": "pause"})
    assert response.status_code == 404
