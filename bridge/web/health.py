"""Liveness and readiness probes."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from bridge.context import BridgeContext
from bridge.errors import StorageUnavailable
from bridge.storage.database import Database
from bridge.storage.tables import health_checks
from bridge.timeutil import utcnow

bp = Blueprint("health", __name__)

#: Seconds a write probe's verdict is reused: a probe takes SQLite's write lock, so a tight probing loop
#: (or an attacker hammering /readyz) must not compete with webhook acks.
WRITE_PROBE_INTERVAL = 5.0
_PROBE_KEY = "bridge.health.write_probe"


@dataclass
class _Probe:
    lock: threading.Lock
    checked: float = float("-inf")  # time.monotonic() of the last probe
    error: str | None = None


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers, its schema is at this code's migration head, and it takes writes (not a read-only
    file, a full disk or a read-only standby): spec §11."""
    db = BridgeContext.current().db
    try:
        current = db.current_revision()
    except StorageUnavailable:
        return jsonify(status="unavailable", error="database unreachable"), 503
    if current != db.head_revision:
        return jsonify(status="unavailable", error="migrations pending", current=current, head=db.head_revision), 503
    error = _write_error(db, BridgeContext.current().settings.max_body)
    if error:
        return jsonify(status="unavailable", error="database not writable", detail=error), 503
    return jsonify(status="ok", revision=current), 200


def _write_error(db: Database, room: int) -> str | None:
    """Why the database cannot take a write (None if it can), re-checked at most every WRITE_PROBE_INTERVAL."""
    probe: _Probe = current_app.extensions.setdefault(_PROBE_KEY, _Probe(threading.Lock()))
    with probe.lock:  # one probe at a time per process; the other requests wait and reuse its verdict
        if time.monotonic() - probe.checked >= WRITE_PROBE_INTERVAL:
            probe.error = _disk_full(db, room) or _probe_write(db)
            probe.checked = time.monotonic()
        return probe.error


def _disk_full(db: Database, room: int) -> str | None:
    """On SQLite, "disk full" when the database's filesystem has less free space than one webhook of
    BRIDGE_MAX_BODY: the probe's one-row upsert can still fit in pages (or a WAL) the file already has while
    every new event fails."""
    if not db.is_sqlite or not db.url.database or db.url.database == ":memory:":
        return None
    try:
        stats = os.statvfs(Path(db.url.database).expanduser().resolve().parent)
    except OSError:
        return None  # the write probe tells
    return "disk full" if stats.f_bavail * stats.f_frsize < room else None


def _probe_write(db: Database) -> str | None:
    """Upsert one tiny row in its own transaction (committed, so a full disk or read-only file shows)."""
    statement = db.upsert(
        health_checks, ["name"], {"name": "readyz", "checked_at": utcnow()}, {"checked_at": lambda new: new.checked_at}
    )
    try:
        db.write_one(statement)
    except StorageUnavailable as exc:
        return _reason(exc.__cause__ or exc)
    except SQLAlchemyError as exc:  # e.g. PostgreSQL's "read-only transaction" is not an OperationalError
        return _reason(exc)
    return None


def _reason(exc: BaseException) -> str:
    # The driver's error class only (e.g. OperationalError): its message may carry paths or parameters.
    orig = getattr(exc, "orig", None)
    return type(orig or exc).__name__
