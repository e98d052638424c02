"""Spec §3: bodies over BRIDGE_MAX_BODY (413) and a database that cannot take the write (503)."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
import requests

from tests.helpers.env import fixture
from tests.helpers.live_server import serve
from tests.helpers.webhooks import SOURCES, assert_json_reply, built_app, headers_for, post, row_counts, sample, stored

LIMIT = 2048


@pytest.fixture
def small_app(tmp_path):
    with built_app(tmp_path / "bridge.db", BRIDGE_MAX_BODY=str(LIMIT)) as (app, db):
        yield app, db


@pytest.mark.parametrize("source", SOURCES)
def test_over_the_limit_with_content_length_is_413(small_app, source):
    app, db = small_app
    body, headers = sample(source)
    assert len(body) > LIMIT
    response = post(app.test_client(), source, body, headers)
    assert (response.status_code, response.get_json()) == (413, {"error": "too_large"})
    assert stored(db) == []


def test_under_the_limit_is_accepted(small_app):
    app, _db = small_app
    body = fixture("custom", "order_cancelled__basic.json")
    assert len(body) < LIMIT
    assert post(app.test_client(), "custom", body, headers_for("custom", body)).status_code == 202


@pytest.mark.parametrize("source", SOURCES)
def test_over_the_limit_streamed_without_content_length_is_413(small_app, source):
    """A chunked request: no Content-Length, the server marks the stream terminated (as gunicorn does)."""
    app, db = small_app
    body, headers = sample(source)
    headers["Transfer-Encoding"] = "chunked"
    response = app.test_client().post(
        f"/webhooks/{source}",
        input_stream=io.BytesIO(body),
        headers=headers,
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.request.content_length is None
    assert (response.status_code, assert_json_reply(response)) == (413, {"error": "too_large"})
    assert stored(db) == []


def _chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_chunked_under_the_limit_over_a_real_socket(small_app):
    """requests sends a generator with Transfer-Encoding: chunked; werkzeug's server decodes it."""
    app, db = small_app
    body = fixture("custom", "order_cancelled__basic.json")
    with serve(app) as base:
        response = requests.post(
            f"{base}/webhooks/custom", data=_chunks(body), headers=headers_for("custom", body), timeout=10
        )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 202
    assert stored(db)[0].body == body


def test_chunked_over_the_limit_over_a_real_socket(small_app):
    app, db = small_app
    body, headers = sample("shopify")
    with serve(app) as base:
        response = requests.post(f"{base}/webhooks/shopify", data=_chunks(body), headers=headers, timeout=10)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert stored(db) == []
    assert (response.status_code, response.json()) == (413, {"error": "too_large"})


@pytest.fixture
def impatient(tmp_path):
    """An app whose database gives up on a lock after 0.2 s."""
    with built_app(tmp_path / "bridge.db", BRIDGE_DB_TIMEOUT="0.2") as (app, db):
        yield app, db, tmp_path / "bridge.db"


@pytest.mark.parametrize("source", SOURCES)
def test_database_locked_is_503_with_retry_after_and_nothing_half_written(impatient, source):
    app, db, path = impatient
    client = app.test_client()
    before = row_counts(path)
    body, headers = sample(source)
    with closing(sqlite3.connect(str(path), isolation_level=None)) as locker:
        locker.execute("BEGIN EXCLUSIVE")
        try:
            response = post(client, source, body, headers)
        finally:
            locker.execute("ROLLBACK")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert row_counts(path) == before
    assert stored(db) == []
    # The platform retries the same delivery once the database is back: it is stored, not a duplicate.
    retry = post(client, source, body, headers)
    assert (retry.status_code, retry.get_json()["status"]) == (202, "accepted")
    assert len(stored(db)) == 1


def test_unmigrated_database_is_503_not_500(tmp_path):
    with built_app(tmp_path / "empty.db", migrate=False) as (app, _db):
        body, headers = sample("shopify")
        response = post(app.test_client(), "shopify", body, headers)
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"
    assert "Retry-After" in response.headers
