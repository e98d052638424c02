"""`/readyz` answers 503 when the database answers reads but cannot take writes (spec §11), on SQLite and
PostgreSQL, and the write probe is rate-limited.

The database is made read-only from the test, without touching the code under test: every new connection of
the app's engine gets SQLite's `PRAGMA query_only` (writes fail with SQLITE_READONLY, as on a read-only file)
or PostgreSQL's `default_transaction_read_only` (as on a read-only standby). Tests run as root, so file
permissions cannot make SQLite read-only; the full-disk and immutable-file drills are in
tests/reliability/test_disk_full.py.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from bridge.storage import Database
from bridge.storage.tables import health_checks
from bridge.web import health
from tests.helpers.backends import database_url  # noqa: F401 - both backends


@pytest.fixture
def every_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reuse of the last verdict: each /readyz probes."""
    monkeypatch.setattr(health, "WRITE_PROBE_INTERVAL", 0.0)


@contextlib.contextmanager
def read_only(db: Database) -> Iterator[None]:
    """Inside the block, the app's database connections can read but not write."""

    def refuse_writes(dbapi_conn: object, _record: object) -> None:
        cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
        if db.is_sqlite:
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_conn.commit()  # type: ignore[attr-defined]
        cursor.close()

    event.listen(db.engine, "connect", refuse_writes)
    db.dispose()  # pooled connections were opened writable
    try:
        yield
    finally:
        event.remove(db.engine, "connect", refuse_writes)
        db.dispose()


def probes(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(health_checks)).scalar_one())


def test_readyz_probes_a_write(client: FlaskClient, db: Database, every_probe: None) -> None:
    assert client.get("/readyz").status_code == 200
    assert probes(db) == 1  # one row, upserted: the probe never grows the table
    assert client.get("/readyz").status_code == 200
    assert probes(db) == 1


def test_readyz_is_503_while_the_database_cannot_take_writes(
    client: FlaskClient, db: Database, every_probe: None
) -> None:
    assert client.get("/readyz").status_code == 200
    with read_only(db):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["status"] == "unavailable"
        assert response.get_json()["error"] == "database not writable"
        assert client.get("/healthz").status_code == 200
        # Reads still work: the events list is not what tells.
        with db.read() as conn:
            conn.execute(select(1))
    assert client.get("/readyz").status_code == 200  # writable again: ready again, no restart


def test_readyz_is_503_when_the_sqlite_disk_has_no_room_for_a_webhook(
    client: FlaskClient, db: Database, every_probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db.is_sqlite:
        pytest.skip("the free-space check is SQLite's (PostgreSQL's disk is the server's)")
    real = os.statvfs
    free = {"blocks": None}

    def statvfs(path: object) -> os.statvfs_result:
        found = real(path)  # type: ignore[arg-type]
        if free["blocks"] is None:
            return found
        fields = list(found)
        fields[4] = free["blocks"]  # f_bavail
        return os.statvfs_result(fields)

    monkeypatch.setattr(health.os, "statvfs", statvfs)
    assert client.get("/readyz").status_code == 200
    free["blocks"] = 1
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()["detail"]) == (503, "disk full")
    free["blocks"] = None
    assert client.get("/readyz").status_code == 200


def test_the_write_probe_is_rate_limited(client: FlaskClient, db: Database) -> None:
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "health_checks" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for _ in range(20):
            assert client.get("/readyz").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(statements) == 1
