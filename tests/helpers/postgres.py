"""PostgreSQL for tests: a fresh schema per test in the `test` database at 127.0.0.1:5432.

Locally, tests skip with a visible reason when the server is not there; in CI (`CI=true`, set by .ci/run) or
with BRIDGE_TEST_POSTGRES=required they fail instead, so a missing server can never pass silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import pytest

ADMIN_DSN = os.environ.get("BRIDGE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@cache
def unavailable_reason() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {ADMIN_DSN}: {str(exc).strip().splitlines()[0]}"
    return None


def require_postgres() -> None:
    """Skip (locally) or fail (CI) the calling test when PostgreSQL is unavailable."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") or os.environ.get("BRIDGE_TEST_POSTGRES") == "required":
        pytest.fail(f"{reason} (PostgreSQL is required in CI)")
    pytest.skip(reason)


def schema_url(schema: str) -> str:
    """A SQLAlchemy URL whose connections use only `schema` (search_path)."""
    base = ADMIN_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}?options=-csearch_path%3D{schema}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """Create an empty schema, yield its SQLAlchemy URL, drop it afterwards."""
    require_postgres()
    schema = f"bridge_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(schema)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
