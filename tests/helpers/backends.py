"""`database_url` over both backends: import it into a conftest to run that folder's tests on SQLite and on
PostgreSQL (a fresh schema per test; skipped locally without a server, a failure in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.postgres import fresh_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, db_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{db_path}"
        return
    with fresh_schema() as url:
        yield url
