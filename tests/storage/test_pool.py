"""BRIDGE_DB_POOL_SIZE and BRIDGE_DB_POOL_OVERFLOW size a process's connections (issue 21: a managed database's
or PgBouncer's connection limit), and waiting for a free one is bounded like every other database wait."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from bridge.errors import StorageUnavailable
from bridge.storage import Database, Events
from tests.helpers.env import make_settings


def test_the_pool_holds_size_plus_overflow_and_a_further_request_gets_503_in_time(
    db: Database, db_path: Path, database_url: str
) -> None:
    settings = make_settings(
        db_path,
        BRIDGE_DATABASE_URL=database_url,
        BRIDGE_DB_POOL_SIZE="2",
        BRIDGE_DB_POOL_OVERFLOW="1",
        BRIDGE_DB_TIMEOUT="0.5",
    )
    web = Database.for_settings(settings, serving_requests=True)
    try:
        with ExitStack() as held:
            for _ in range(3):  # size + overflow, all checked out at once
                held.enter_context(web.read())
            assert web.engine.pool.checkedout() == 3
            for operation in (web.ping, lambda: Events(web).by_delivery_key("shopify:x")):  # both paths
                began = time.monotonic()
                with pytest.raises(StorageUnavailable):
                    operation()
                waited = time.monotonic() - began
                # The wait for a free connection is BRIDGE_DB_TIMEOUT (a generous margin for a busy machine).
                assert 0.4 < waited < 0.5 + 3
        web.ping()  # connections returned: served again
    finally:
        web.dispose()
