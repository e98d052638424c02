"""Server secrets (issue 18 item 5): made once, race-free, the same for every process and host."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bridge.storage import Database
from bridge.storage.server_secrets import SECRET_BYTES, ServerSecrets
from bridge.storage.tables import server_secrets


def test_concurrent_first_uses_agree_on_one_random_secret(db: Database, database_url: str) -> None:
    """Several processes' first requests at once (one Database each, as gunicorn workers have), released together
    so their inserts really race: every one reads back the single row that won."""
    others = [Database(database_url) for _ in range(6)]
    start = threading.Barrier(len(others))

    def first_use(database: Database) -> bytes:
        start.wait()
        return ServerSecrets(database).get("admin-session")

    try:
        with ThreadPoolExecutor(len(others)) as pool:
            seen = set(pool.map(first_use, others))
    finally:
        for other in others:
            other.dispose()
    assert len(seen) == 1
    secret = seen.pop()
    assert len(secret) == SECRET_BYTES and secret != bytes(SECRET_BYTES)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(server_secrets)).scalar() == 1
    assert ServerSecrets(db).get("admin-session") == secret  # kept, not made again
    assert ServerSecrets(db).get("another") != secret  # each name its own random value
