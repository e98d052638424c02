"""The durable floor for bench/ingest.py: the least a webhook endpoint can do and still be honest.

It verifies a Shopify HMAC (constant time, over the raw body) and inserts the raw body into a SQLite table
in WAL mode with `synchronous=FULL`, so the row is on disk before the 202 — the same promise the bridge
makes, with none of its parsing, validation, dedupe or logging. Served by gunicorn with the bridge's own
settings (`-c python:bridge.gunicorn_conf`):

    REFERENCE_DB=/tmp/floor.db REFERENCE_SECRET=s .venv/bin/python -m gunicorn -c python:bridge.gunicorn_conf \
        --bind 127.0.0.1:8001 'bench.reference_app:create_app()'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import sqlite3
import threading

from flask import Flask, jsonify, request

SCHEMA = "CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"


def create_app(path: str | None = None, secret: str | None = None) -> Flask:
    """The reference app; the database path and Shopify secret come from REFERENCE_DB / REFERENCE_SECRET."""
    path = path or os.environ["REFERENCE_DB"]
    key = (secret or os.environ["REFERENCE_SECRET"]).encode()
    local = threading.local()
    app = Flask("reference")

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            # Autocommit: each INSERT is its own transaction, committed (and fsynced) before execute returns.
            conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(SCHEMA)
            local.conn = conn
        return conn

    @app.post("/webhooks/shopify")
    def shopify():  # type: ignore[no-untyped-def]
        body = request.get_data()
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
        given = (request.headers.get("X-Shopify-Hmac-Sha256") or "").encode()
        if not hmac.compare_digest(expected, given):
            return jsonify(error="invalid_signature"), 401
        row_id = connection().execute("INSERT INTO webhooks (body) VALUES (?)", (body,)).lastrowid
        return jsonify(status="accepted", event_id=str(row_id)), 202

    @app.get("/readyz")
    def ready():  # type: ignore[no-untyped-def]
        connection().execute("SELECT 1")
        return jsonify(status="ready")

    return app
