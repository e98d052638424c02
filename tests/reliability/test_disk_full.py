"""Drill: the disk under the database fills up (or the database turns read-only), then recovers; the webhook
answers follow, with no restart.

While the database cannot take the write: `503 {"error": "unavailable", …}` with `Retry-After`, and nothing
stored. Once space is back, the same running app stores and answers `202` again.

Three ways to refuse the write (tests run as root, so file permissions cannot stop one):

- `tmpfs`: the database lives on a small tmpfs mounted for the test, filled with a ballast file until
  ENOSPC; deleting the ballast returns the space. Needs mount privileges; skipped without them.
- `max_page_count`: every transaction of the app's engine first sets SQLite's `PRAGMA max_page_count` to
  the database's current size (set from the test through a connection event, the code under test is not
  touched), so any write that needs a new page fails with SQLITE_FULL, the same error a full disk gives;
  raising the limit returns the space. Runs everywhere.
- read-only: `chattr +i` on the database and its WAL (immutable binds root too, even for files already open);
  `chattr -i` makes them writable again. Skipped where the filesystem has no such flag.
"""

from __future__ import annotations

import contextlib
import errno
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from bridge.app import create_app
from bridge.storage import Database
from bridge.storage.tables import events
from tests.helpers import signing
from tests.helpers.env import fixture, make_settings

BIG_NOTE = "x" * 200_000  # every event needs fresh pages, whatever free space the file still has


def big_order(n: int) -> bytes:
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["note"] = f"{n}:{BIG_NOTE}"
    # A state of its own (the identity is order id + updated_at): not a copy of another order's webhook.
    document["updated_at"] = f"2026-10-14T17:{n:02d}:00-04:00"
    return json.dumps(document).encode()


def post(client, n: int):
    body = big_order(n)
    headers = signing.shopify_headers(body, "orders/paid", webhook_id=f"disk-{n}")
    return client.post("/webhooks/shopify", data=body, headers=headers)


def count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[None]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(path: Path) -> int:
    """Write `path` until the filesystem is full; returns the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as ballast:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    written += ballast.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return written


def assert_unavailable(response) -> None:
    assert response.status_code == 503, (response.status_code, response.get_json())
    assert response.headers.get("Retry-After") == "5"
    body = response.get_json()
    assert body["error"] == "unavailable" and body["message"]


def drill(client, db: Database, make_full, make_room) -> None:
    assert post(client, 0).status_code == 202
    make_full()
    for n in range(1, 4):
        assert_unavailable(post(client, n))
    assert count(db) == 1, "an event was stored although its write failed"
    make_room()
    for n in range(4, 7):
        response = post(client, n)
        assert response.status_code == 202, (response.status_code, response.get_json())
    assert count(db) == 4
    # The refused webhooks are stored when the platform retries them.
    assert post(client, 2).status_code == 202
    with db.read() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_disk_full_on_a_small_tmpfs_then_space_returns(tmp_path: Path):
    disk = tmp_path / "disk"
    with tmpfs(disk, "4m"):
        config = make_settings(disk / "bridge.db")
        db = Database(config.database_url, timeout=config.db_timeout)
        try:
            db.upgrade()
            client = create_app(config, db=db).test_client()
            ballast = disk / "ballast"
            drill(client, db, lambda: fill(ballast), ballast.unlink)
        finally:
            db.dispose()


def test_database_size_limit_reached_then_raised(tmp_path: Path):
    config = make_settings(tmp_path / "bridge.db")
    db = Database(config.database_url, timeout=config.db_timeout)
    limit = {"pages": 2**30}

    @event.listens_for(db.engine, "checkout")
    def _cap(dbapi_conn, _record, _proxy) -> None:  # every use of a pooled connection, the webhook ack's included
        dbapi_conn.execute(f"PRAGMA max_page_count = {limit['pages']}")

    try:
        db.upgrade()
        client = create_app(config, db=db).test_client()

        def full() -> None:
            with db.read() as conn:
                limit["pages"] = int(conn.execute(text("PRAGMA page_count")).scalar_one())

        drill(client, db, full, lambda: limit.update(pages=2**30))
    finally:
        db.dispose()


def test_read_only_database_files_then_writable_again(tmp_path: Path):
    """Read-only: the database and its WAL made immutable (`chattr +i`, which binds root too, also for files
    already open); writes fail with an I/O error until the flag is removed."""
    config = make_settings(tmp_path / "bridge.db")
    db = Database(config.database_url, timeout=config.db_timeout)
    files = [tmp_path / "bridge.db", tmp_path / "bridge.db-wal"]

    def chattr(flag: str) -> None:
        for path in files:
            done = subprocess.run(["chattr", flag, str(path)], capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"chattr {flag} is not available here: {done.stderr.decode(errors='replace').strip()}")

    try:
        db.upgrade()
        client = create_app(config, db=db).test_client()
        drill(client, db, lambda: chattr("+i"), lambda: chattr("-i"))
    finally:
        subprocess.run(["chattr", "-i", *map(str, files)], capture_output=True, check=False)
        db.dispose()
