"""Spec §11: the generated hostile corpus (tests/helpers/hostile.py) against every source, on SQLite and on
PostgreSQL, through the Flask test client, and every admin parameter with hostile values.

Correctly signed: never a 5xx, and exactly the answer each case is owed (`custom`: 400 or 422; a platform: 400
for what is not JSON the bridge reads, otherwise 202, then the worker leaves the event quarantined, or accepted
where the hostile part is a field it ignores), validation errors capped (50 messages, 16 KiB), and the same
delivery again is a `duplicate` 200 of the same event. Unsigned (a wrong secret or token): 401, nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bridge.app import create_app
from bridge.storage import Database, Events
from bridge.storage.tables import events
from bridge.triage import MAX_ERROR_BYTES, MAX_ERROR_MESSAGES
from tests.admin.conftest import ADMIN_HEADERS, ADMIN_TOKEN
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers import hostile, signing
from tests.helpers.delivery import wait_until
from tests.helpers.env import make_settings
from tests.helpers.postgres import fresh_schema, require_postgres
from tests.helpers.webhooks import SOURCES, assert_json_reply, headers_for, interpret_all

CASES = [(source, name) for source in SOURCES for name in hostile.names(source)]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bridge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per backend for the whole module (the cases use distinct order ids, so none is another's copy)."""
    path = tmp_path_factory.mktemp("hostile") / "bridge.db"
    with _database_url(request.param, path) as url:
        settings = make_settings(
            path, BRIDGE_DATABASE_URL=url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN, BRIDGE_LOG_LEVEL="ERROR"
        )
        assert settings.max_body == hostile.MAX_BODY
        db = Database(settings.database_url, timeout=settings.db_timeout)
        db.upgrade()
        yield create_app(settings, db=db)
        db.dispose()


class _database_url:
    def __init__(self, backend: str, path: Path) -> None:
        self.backend, self.path, self._pg = backend, path, None

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.path}"
        require_postgres()
        self._pg = fresh_schema()
        return self._pg.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(*exc)


def _db(app: Flask) -> Database:
    return app.extensions["bridge"].db  # type: ignore[no-any-return]


def _stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _messages(errors: Any) -> list[str]:
    """Every message string in a (nested) marshmallow error document."""
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return []


def _unsigned(source: str, body: bytes) -> dict[str, str]:
    """The platform's headers, signed with a secret (or token) the bridge does not know."""
    if source == "shopify":
        return signing.shopify_headers(body, "orders/paid", secret="shpss_not_the_secret")
    if source == "woocommerce":
        return signing.woo_headers(body, "order.updated", secret="not-the-woo-secret")
    if source == "ecartapi":
        return signing.ecart_headers("not-the-ecart-token")
    return signing.custom_headers(body, secret="whsec_" + "bm90LXRoZS1jdXN0b20tc2VjcmV0LTMyLWJ5dGVzISE=")


@pytest.mark.parametrize(("source", "name"), CASES, ids=[f"{s}:{n}" for s, n in CASES])
def test_hostile_body(bridge: Flask, source: str, name: str) -> None:
    case = hostile.case(source, name)
    client, db = bridge.test_client(), _db(bridge)
    expected_status, expected_final = case.answer()

    before = _stored(db)
    refused = client.post(f"/webhooks/{source}", data=case.body, headers=_unsigned(source, case.body))
    assert refused.status_code == 401, refused.get_json()
    assert _stored(db) == before, "an unsigned body was stored"

    headers = headers_for(source, case.body)
    response = client.post(f"/webhooks/{source}", data=case.body, headers=headers)
    reply = assert_json_reply(response)
    assert response.status_code == expected_status, reply
    if response.status_code >= 400:
        assert _stored(db) == before, "a refused body was stored"
        if response.status_code == 422:
            messages = _messages(reply.get("errors"))
            assert 0 < len(messages) <= MAX_ERROR_MESSAGES + 1  # and the note saying the rest was cut
            assert len(json.dumps(reply["errors"]).encode()) <= MAX_ERROR_BYTES + 1024
        return

    event_id = int(reply["event_id"])
    again = client.post(f"/webhooks/{source}", data=case.body, headers=headers)
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate", "event_id": str(event_id)}

    interpret_all(db)
    record = Events(db).get(event_id)
    assert record is not None and record.body == case.body
    assert record.status == expected_final, (record.status, record.errors)
    if record.errors is not None:
        assert 0 < len(_messages(record.errors)) <= MAX_ERROR_MESSAGES + 1  # and the note saying the rest was cut
        assert len(json.dumps(record.errors).encode()) <= MAX_ERROR_BYTES + 1024
    # What the admin surface shows of it never fails either.
    detail = client.get(f"/admin/api/events/{event_id}", headers=ADMIN_HEADERS)
    assert detail.status_code == 200 and detail.get_json()["status"] == expected_final


# -- every admin parameter with hostile values ----------------------------------------------------------------

HOSTILE_VALUES = [
    "%ED%A0%80",  # a lone surrogate, UTF-8 encoded (invalid UTF-8)
    "%00",
    "a%00b",
    "12%0A",
    "%0D%0ASet-Cookie:%20x=1",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e308",
    "NaN",
    "0001-01-01T00:00:00%2B14:00",
    "9999-12-31T23:59:59-14:00",
    "2026" + "%20" * 5000 + "x",
    "x" * 3000,
    "%E2%80%AE%F0%9F%98%80",  # a bidi override and an emoji
    "[]",
    "{}",
]
QUERY_PARAMS = ("status", "source", "kind", "store", "q", "since", "until", "destination_status", "limit", "cursor")
ID_PATHS = ("/admin/api/events/{v}", "/admin/api/jobs/{v}", "/admin/events/{v}", "/admin/jobs/{v}")
SAFE_ID_VALUES = ("-1", "0", "99999999999999999999999999", "1e308", "x" * 300, "%ED%A0%80", "%00")


@pytest.fixture
def admin_client(bridge: Flask) -> FlaskClient:
    """A test client logged in to the dashboard."""
    client = bridge.test_client()
    form = client.get("/admin/login")
    response = client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN})
    assert response.status_code == 303
    return client


def test_every_admin_parameter_with_hostile_values(admin_client: FlaskClient) -> None:
    csrf = csrf_of(admin_client.get("/admin/").text)
    answers: dict[str, int] = {}
    for value in HOSTILE_VALUES:
        for param in QUERY_PARAMS:
            for path in ("/admin/api/events", "/admin/events", "/admin/dead"):
                url = f"{path}?{param}={value}"
                answers[url] = admin_client.get(url, headers=ADMIN_HEADERS).status_code
            url = f"/admin/login?next={value}"
            answers[url] = admin_client.get(url).status_code
            form = f"csrf_token={csrf}&{param}={value}"
            answers[f"POST /admin/dead/retry {param}={value}"] = admin_client.post(
                "/admin/dead/retry", data=form, content_type="application/x-www-form-urlencoded"
            ).status_code
        for template in ("/admin/destinations/{v}/pause", "/admin/api/destinations/{v}/pause"):
            url = template.format(v=value)
            answers[f"POST {url}"] = admin_client.post(
                url, data={"csrf_token": csrf, "action": "pause"}, headers=ADMIN_HEADERS
            ).status_code
    for value in SAFE_ID_VALUES:
        for template in ID_PATHS:
            url = template.format(v=value)
            answers[url] = admin_client.get(url, headers=ADMIN_HEADERS).status_code
        for template in ("/admin/api/events/{v}/replay", "/admin/api/deliveries/{v}/retry"):
            url = template.format(v=value)
            answers[f"POST {url}"] = admin_client.post(url, headers=ADMIN_HEADERS).status_code
    server_errors = {url[:120]: code for url, code in answers.items() if code >= 500}
    assert not server_errors, server_errors
    assert len(answers) > 700


BULK_BODIES = [
    b'{"action": "replay", "filter": {"q": "\\ud800"}}',
    b'{"action": "replay", "filter": {"store": "\\u0000"}}',
    # (`status: dead` matches nothing here: the job is over at once, and replays nothing.)
    b'{"action": "replay", "filter": {"status": "dead", "since": "0001-01-01T00:00:00+14:00"}}',
    b'{"action": "replay", "filter": {"until": "2026' + b" " * 40_000 + b'x"}}',
    b'{"action": "replay", "filter": {"q": NaN}}',
    b'{"action": "replay", "filter": {"q": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    b'{"action": "\xff\xfe", "filter": {}}',
    b"\xef\xbb\xbf{}",
    '{"action": "replay"}'.encode("utf-16"),
    b'{"action": "replay", "filter": {"' + b"k" * 100_000 + b'": 1}}',
    b"[]",
    b"null",
    b'"\\ud800"',
]


@pytest.mark.parametrize("body", BULK_BODIES, ids=range(len(BULK_BODIES)))
def test_bulk_with_hostile_bodies(bridge: Flask, body: bytes) -> None:
    client = bridge.test_client()
    response = client.post("/admin/api/bulk", data=body, headers=ADMIN_HEADERS)
    assert response.status_code in (202, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 202:  # let the job's thread finish before the database goes away
        job = f"/admin/api/jobs/{response.get_json()['job_id']}"
        wait_until(lambda: client.get(job, headers=ADMIN_HEADERS).get_json()["status"] != "running", 10)
