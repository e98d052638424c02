"""Posting signed webhooks in tests and reading back what the bridge stored.

Signatures come from tests.helpers.signing (computed independently of the code under test).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bridge.app import create_app
from bridge.delivery.planner import Planner
from bridge.settings import load_settings
from bridge.storage import Database, EventRecord, Events
from tests.helpers import signing
from tests.helpers.env import fixture, make_settings

SOURCES = ("shopify", "woocommerce", "ecartapi", "custom")

#: One valid, handled fixture per source.
SAMPLES = {
    "shopify": "orders_paid__basic.json",
    "woocommerce": "order_updated__processing.json",
    "ecartapi": "order__paid.json",
    "custom": "order_paid__basic.json",
}

SHOPIFY_TOPICS = {
    "checkouts_create": "checkouts/create",
    "checkouts_update": "checkouts/update",
    "orders_paid": "orders/paid",
    "orders_cancelled": "orders/cancelled",
    "refunds_create": "refunds/create",
    "products_update": "products/update",
}


def topic_for(source: str, name: str) -> str | None:
    """The platform topic a fixture file name stands for (`orders_paid__x.json` → `orders/paid`)."""
    stem = name.split("__", 1)[0]
    if source == "shopify":
        return SHOPIFY_TOPICS[stem]
    if source == "woocommerce":
        return stem.replace("_", ".", 1)
    return None


def headers_for(
    source: str, body: bytes, *, name: str | None = None, topic: str | None = None, rotated: bool = False
) -> dict[str, str]:
    """Headers the platform would send with `body`, signed with the first (or the rotated) secret."""
    topic = topic or (topic_for(source, name) if name else None)
    if source == "shopify":
        secret = signing.SHOPIFY_SECRET_ROTATED if rotated else signing.SHOPIFY_SECRET
        return signing.shopify_headers(body, topic or "orders/paid", secret=secret)
    if source == "woocommerce":
        secret = signing.WOO_SECRET_ROTATED if rotated else signing.WOO_SECRET
        return signing.woo_headers(body, topic or "order.updated", secret=secret)
    if source == "ecartapi":
        return signing.ecart_headers(signing.ECART_TOKEN_ROTATED if rotated else signing.ECART_TOKEN)
    if source == "custom":
        return signing.custom_headers(body, secret=signing.CUSTOM_SECRET_ROTATED if rotated else signing.CUSTOM_SECRET)
    raise ValueError(source)


def sample(source: str) -> tuple[bytes, dict[str, str]]:
    """The sample fixture of `source` and freshly signed headers for it."""
    body = fixture(source, SAMPLES[source])
    return body, headers_for(source, body, name=SAMPLES[source])


def resign(source: str, document: Any, *, name: str | None = None, topic: str | None = None) -> tuple[bytes, dict]:
    """Serialise an edited document and sign the new bytes."""
    body = json.dumps(document, ensure_ascii=False).encode()
    return body, headers_for(source, body, name=name, topic=topic)


def post(client: FlaskClient, source: str, body: bytes, headers: dict[str, str], **kwargs: Any) -> TestResponse:
    """POST to /webhooks/<source> and check the answer is JSON with `status` or `error` (spec §3)."""
    response = client.post(f"/webhooks/{source}", data=body, headers=headers, **kwargs)
    assert_json_reply(response)
    return response


def assert_json_reply(response: TestResponse) -> dict[str, Any]:
    """Every answer of the webhook endpoint is a JSON object carrying `status` or `error`."""
    assert response.mimetype == "application/json", response.data[:200]
    data = response.get_json()
    assert isinstance(data, dict)
    assert ("status" in data) or ("error" in data), data
    return data


def interpret_stored(client: FlaskClient, db: Database) -> int:
    """Run the worker's first step over what the app stored: raw platform events are mapped and validated
    (`accepted` or `quarantined`). Returns how many events were read."""
    settings = client.application.extensions["bridge"].settings
    return Planner(settings, db).triage_received()


def interpret_all(db: Database) -> int:
    """The worker's first step over everything stored raw in `db` (no app needed); returns how many it read."""
    settings = load_settings({"BRIDGE_DATABASE_URL": db.url.render_as_string(hide_password=False)}, env_file=None)
    planner, total = Planner(settings, db), 0
    while read := planner.triage_received():
        total += read
    return total


def deliver(client: FlaskClient, db: Database, source: str, name: str) -> EventRecord:
    """Post fixture `name` of `source` signed as the platform would; expect 202 accepted; let the worker
    interpret it; return the stored row (accepted, with its canonical payload)."""
    body = fixture(source, name)
    response = post(client, source, body, headers_for(source, body, name=name))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "accepted"
    interpret_stored(client, db)
    record = Events(db).get(int(response.get_json()["event_id"]))
    assert record is not None
    assert record.status == "accepted", (record.status, record.errors)
    assert record.body == body  # stored byte for byte
    return record


def stored(db: Database) -> list[EventRecord]:
    """Every stored event, newest first."""
    return Events(db).list(limit=10_000)


def row_counts(db_path: Path) -> dict[str, int]:
    """Rows in every table of the SQLite file except Alembic's bookkeeping."""
    with closing(sqlite3.connect(str(db_path))) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]  # noqa: S608 - names from sqlite_master
            for t in tables
            if t != "alembic_version" and not t.startswith("sqlite_")
        }


@contextmanager
def built_app(db_path: Path, *, migrate: bool = True, **overrides: str) -> Iterator[tuple[Flask, Database]]:
    """An app over its own database at `db_path`, with BRIDGE_* overrides (e.g. BRIDGE_MAX_BODY="2048")."""
    settings = make_settings(db_path, **overrides)
    db = Database(settings.database_url, timeout=settings.db_timeout)
    if migrate:
        db.upgrade()
    try:
        yield create_app(settings, db=db), db
    finally:
        db.dispose()
