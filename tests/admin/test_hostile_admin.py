"""Spec §11 on the admin surface, on SQLite and PostgreSQL: no secret oracle, logout ends the session
server-side, sessions have an absolute lifetime, credential attempts are throttled per address (in the
database, so shared by every process), hostile parameters never get a 5xx, deep stored documents still show,
and event lists never read bodies, payloads or errors."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update

from bridge.app import create_app
from bridge.cli import main
from bridge.settings import Settings
from bridge.storage import Database, Events, NewEvent
from bridge.storage.tables import admin_sessions
from bridge.timeutil import utcnow
from tests.admin.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.admin.dashboard_fixtures import csrf_of, login_fixture  # noqa: F401 - fixtures
from tests.helpers import signing
from tests.helpers.backends import database_url  # noqa: F401 - every test here on both backends

SECRET = signing.SHOPIFY_SECRET  # a configured secret an attacker would like to confirm


def _other_app(settings: Settings, db: Database) -> Flask:
    """Another gunicorn worker (or host) on the same database."""
    return create_app(settings, db=db)


# -- the secret oracle --------------------------------------------------------------------------------------


def test_login_page_reflects_next_verbatim_whether_or_not_it_is_a_secret(client: FlaskClient) -> None:
    pages = {
        guess: client.get("/admin/login", query_string={"next": f"/admin/{guess}"}) for guess in (SECRET, "x" * 27)
    }
    for guess, page in pages.items():
        assert page.status_code == 200
        assert f"/admin/{guess}" in page.text and "[redacted]" not in page.text
    # Apart from the guess itself (and the fresh CSRF token), the two pages are the same: nothing tells them apart.
    texts = [re.sub(r'value="[^"]{30,}"', "", p.text).replace(g, "GUESS") for g, p in pages.items()]
    assert texts[0] == texts[1]


def test_admin_api_errors_reflect_input_verbatim(client: FlaskClient) -> None:
    response = client.get("/admin/api/events", query_string={SECRET: "1"}, headers=ADMIN_HEADERS)
    assert response.status_code == 422 and SECRET in response.get_json()["errors"]
    response = client.post(f"/admin/api/destinations/{SECRET}/pause", headers=ADMIN_HEADERS)
    assert response.status_code == 404 and SECRET in response.get_json()["message"]


def test_a_job_shows_its_filter_as_sent(client: FlaskClient) -> None:
    started = client.post("/admin/api/bulk", json={"action": "replay", "filter": {"q": SECRET}}, headers=ADMIN_HEADERS)
    job = client.get(f"/admin/api/jobs/{started.get_json()['job_id']}", headers=ADMIN_HEADERS).get_json()
    assert job["params"]["filter"] == {"q": SECRET}


def test_short_setting_values_are_not_redacted(db: Database, settings: Settings) -> None:
    from bridge.redaction import Redactor

    short = dataclasses.replace(settings, ac_token="1234567")
    assert "1234567" not in Redactor.for_settings(short).secrets
    assert ADMIN_TOKEN in Redactor.for_settings(short).secrets


# -- sessions ----------------------------------------------------------------------------------------------


def test_logout_ends_the_session_for_every_copy_of_the_cookie(
    settings: Settings, db: Database, client: FlaskClient, login: Callable[[], str]
) -> None:
    csrf = login()
    copied = client.get_cookie("bridge_admin", path="/admin").value
    thief = _other_app(settings, db).test_client()
    thief.set_cookie("bridge_admin", copied, path="/admin")
    assert thief.get("/admin/").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 303
    # The copy of the cookie, in another process: refused, for pages and for actions (a POST with its CSRF token).
    assert thief.get("/admin/").status_code == 302
    action = thief.post("/admin/destinations/activecampaign/pause", data={"csrf_token": csrf, "action": "pause"})
    assert action.status_code == 302 and "/admin/login" in action.headers["Location"]
    assert client.get("/admin/").status_code == 302


def test_sessions_have_an_absolute_lifetime(db: Database, client: FlaskClient, login: Callable[[], str]) -> None:
    login()
    # Activity does not extend the cookie: no new Set-Cookie on later requests.
    assert client.get("/admin/").status_code == 200
    assert "Set-Cookie" not in client.get("/admin/events").headers
    # Nor the server-side session: once its fixed expiry passes, the session is over, however active it was.
    with db.write() as conn:
        conn.execute(update(admin_sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/admin/").status_code == 302


# -- throttling --------------------------------------------------------------------------------------------


def _login_attempt(client: FlaskClient, token: str, address: str = "203.0.113.7") -> object:
    form = client.get("/admin/login", environ_base={"REMOTE_ADDR": address})
    data = {"csrf_token": csrf_of(form.text), "token": token}
    return client.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": address})


def test_login_is_throttled_per_address_across_processes(settings: Settings, db: Database, client: FlaskClient) -> None:
    for _ in range(10):
        assert _login_attempt(client, "wrong-token").status_code == 401
    refused = _login_attempt(client, "wrong-token")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    # Even the right token, and in another process: the throttle gives a guesser no signal.
    other = _other_app(settings, db).test_client()
    assert _login_attempt(other, ADMIN_TOKEN).status_code == 429
    # Another address is not affected.
    assert _login_attempt(client, ADMIN_TOKEN, address="198.51.100.9").status_code == 303


def test_bearer_attempts_are_throttled_per_address(client: FlaskClient) -> None:
    address = {"REMOTE_ADDR": "203.0.113.8"}
    wrong = {"Authorization": "Bearer not-the-admin-token"}
    for _ in range(10):
        assert client.get("/admin/api/destinations", headers=wrong, environ_base=address).status_code == 401
    refused = client.get("/admin/api/destinations", headers=ADMIN_HEADERS, environ_base=address)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["error"] == "too_many_requests"
    assert client.get("/admin/api/destinations", headers=ADMIN_HEADERS).status_code == 200


def test_behind_the_proxy_each_client_has_its_own_count(client: FlaskClient) -> None:
    """nginx (a trusted peer, loopback by default) names the client in X-Real-IP: one guesser behind it does not
    lock the others out; from an untrusted peer the header is ignored, so it cannot dodge the count."""
    wrong = {"Authorization": "Bearer not-the-admin-token"}
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(10):
        headers = {**wrong, "X-Real-IP": "203.0.113.20"}
        assert client.get("/admin/api/destinations", headers=headers, environ_base=proxy).status_code == 401
    guesser = {**ADMIN_HEADERS, "X-Real-IP": "203.0.113.20"}
    assert client.get("/admin/api/destinations", headers=guesser, environ_base=proxy).status_code == 429
    someone_else = {**ADMIN_HEADERS, "X-Real-IP": "198.51.100.20"}
    assert client.get("/admin/api/destinations", headers=someone_else, environ_base=proxy).status_code == 200

    direct = {"REMOTE_ADDR": "203.0.113.21"}
    for n in range(10):
        headers = {**wrong, "X-Real-IP": f"192.0.2.{n}"}  # a fresh "address" each time: ignored, not trusted
        assert client.get("/admin/api/destinations", headers=headers, environ_base=direct).status_code == 401
    assert client.get("/admin/api/destinations", headers=ADMIN_HEADERS, environ_base=direct).status_code == 429


def test_a_right_token_forgets_earlier_failures(client: FlaskClient) -> None:
    wrong = {"Authorization": "Bearer not-the-admin-token"}
    for _ in range(3):
        for _ in range(9):
            assert client.get("/admin/api/destinations", headers=wrong).status_code == 401
        assert client.get("/admin/api/destinations", headers=ADMIN_HEADERS).status_code == 200


# -- hostile parameters ------------------------------------------------------------------------------------

ADMIN_500S = [
    ("GET", "/admin/api/events?cursor=12%0A", None, 422),
    ("GET", "/admin/api/events?since=0001-01-01T00:00:00%2B14:00", None, 200),
    ("GET", "/admin/api/events?until=9999-12-31T23:59:59-14:00", None, 200),
    ("GET", "/admin/api/events?q=%ED%A0%80", None, 200),  # invalid UTF-8 in the URL: decoded as U+FFFD
    ("POST", "/admin/api/bulk", b'{"action": "replay", "filter": {"q": "\\ud800"}}', 422),
    ("POST", "/admin/api/bulk", b'{"action": "replay", "filter": {"store": "a\\u0000b"}}', 422),
    ("POST", "/admin/api/bulk", b'{"action": "replay", "filter": {"since": "2026-01-01T00:00:00Z\\n"}}', 422),
    ("POST", "/admin/api/bulk", b"[" * 5000 + b"]" * 5000, 422),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), ADMIN_500S, ids=[p for _, p, _, _ in ADMIN_500S])
def test_hostile_api_parameters_answer_4xx_or_200(
    client: FlaskClient, method: str, path: str, body: bytes | None, expected: int
) -> None:
    response = client.open(path, method=method, data=body, headers=ADMIN_HEADERS)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


DASHBOARD_500S = [
    ("/admin/events?cursor=12%0A", 200),  # the form strips whitespace around values
    ("/admin/events?since=0001-01-01T00:00%2B14:00", 400),  # a datetime-local needs no offset; with one, seconds
    ("/admin/events?since=0001-01-01T00:00:00%2B14:00", 200),
    ("/admin/events?until=9999-12-31T23:59:59-14:00", 200),
    ("/admin/dead?since=0001-01-01T00:00:00%2B14:00", 200),
    ("/admin/events?q=%ED%A0%80&store=%00", 400),
]


@pytest.mark.parametrize(("path", "expected"), DASHBOARD_500S, ids=[p for p, _ in DASHBOARD_500S])
def test_hostile_dashboard_parameters(client: FlaskClient, login: Callable[[], str], path: str, expected: int) -> None:
    login()
    assert client.get(path).status_code == expected


@pytest.mark.parametrize(
    "target", ["/admin/\r\nSet-Cookie: x=1", "/admin/%0D%0A", "/admin/\x00", "/admin/" + "a" * 5000]
)
def test_login_next_with_control_characters_goes_to_the_overview(client: FlaskClient, target: str) -> None:
    assert client.get("/admin/login", query_string={"next": target}).status_code == 200
    form = client.get("/admin/login")
    response = client.post(
        "/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN, "next": target}
    )
    assert response.status_code == 303 and response.headers["Location"] in ("/admin/", "/admin/%0D%0A")
    assert "\n" not in response.headers["Location"]


def test_bulk_retry_form_with_a_surrogate_is_refused(client: FlaskClient, login: Callable[[], str]) -> None:
    csrf = login()
    response = client.post(
        "/admin/dead/retry", data={"csrf_token": csrf, "q": "\ud800".encode("utf-8", "surrogatepass")}
    )
    assert response.status_code in (303, 400)


# -- deep stored documents ---------------------------------------------------------------------------------


def _nested(depth: int) -> dict:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return {"deep": value}


@pytest.fixture
def deep_events(db: Database) -> Iterator[list[int]]:
    """Events stored with 500- and 980-deep raw bodies, and 300-deep payloads and errors (as older code could store
    them; the database's JSON encoder takes no deeper)."""
    store, ids = Events(db), []
    for depth in (500, 980):
        stored = _nested(300)
        event_id, _ = store.record(
            NewEvent(
                source="shopify",
                topic="orders/paid",
                dedupe_key=f"deep-{depth}",
                status="quarantined",
                received_at=utcnow(),
                headers={"X-Shopify-Topic": "orders/paid"},
                body=b'{"deep": ' + b"[" * depth + b'"bottom"' + b"]" * depth + b"}",
                payload=stored,
                errors=stored,
            )
        )
        ids.append(event_id)
    yield ids


def test_deep_documents_show_on_the_event_page_and_the_api(
    client: FlaskClient, login: Callable[[], str], deep_events: list[int]
) -> None:
    login()
    for event_id in deep_events:
        page = client.get(f"/admin/events/{event_id}")
        assert page.status_code == 200 and "bottom" in page.text
        detail = client.get(f"/admin/api/events/{event_id}", headers=ADMIN_HEADERS)
        assert detail.status_code == 200 and "bottom" in detail.get_json()["body"]
    assert client.get("/admin/events").status_code == 200
    assert client.get("/admin/api/events", headers=ADMIN_HEADERS).status_code == 200


def test_deep_documents_show_in_bridge_events_show(settings: Settings, deep_events: list[int]) -> None:
    env = {"BRIDGE_DATABASE_URL": settings.database_url, "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    for event_id in deep_events:
        readable = CliRunner().invoke(main, ["events", "show", str(event_id)], env=env, catch_exceptions=False)
        assert readable.exit_code == 0, readable.output[-500:]
        result = CliRunner().invoke(main, ["events", "show", str(event_id), "--json"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output[-500:]
        shown = json.loads(result.output)
        assert shown["id"] == str(event_id) and "bottom" in shown["body"]


# -- lists never read bodies, payloads or errors ------------------------------------------------------------


def test_event_lists_never_select_bodies_payloads_or_errors(
    db: Database, client: FlaskClient, login: Callable[[], str], deep_events: list[int]
) -> None:
    store = Events(db)
    store.record(
        NewEvent(
            source="custom",
            topic="order.paid",
            dedupe_key="with-email",
            status="accepted",
            received_at=utcnow(),
            headers={},
            body=b"{}",
            payload={"kind": "order.paid", "customer": {"email": "ada@example.com"}},
            kind="order.paid",
            order_id="LIST-1",
        )
    )
    login()
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        listed = client.get("/admin/api/events", headers=ADMIN_HEADERS).get_json()["items"]
        for path in ("/admin/events", "/admin/dead", "/admin/events?q=ada"):
            assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert {i["order_id"]: i["email"] for i in listed}["LIST-1"] == "ada@example.com"
    lists = [s for s in statements if re.search(r"FROM events\b", s) and "LIMIT" in s]
    assert len(lists) >= 4, statements
    for statement in lists:
        selected = statement.split("FROM events", 1)[0].removeprefix("SELECT")
        # What is returned: the select list with function arguments left out (the email's JSON path reads the
        # payload inside the database; the payload itself is never returned).
        while re.search(r"\([^()]*\)", selected):
            selected = re.sub(r"\([^()]*\)", "", selected)
        returned = {item.strip().split(" AS ")[0] for item in selected.split(",")}
        assert not returned & {"events.body", "events.headers", "events.payload", "events.errors"}, statement
