"""Fixtures for the scale-out tests: a fresh PostgreSQL schema, real `bridge web` and `bridge worker` processes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401 - pytest fixtures
from tests.helpers.delivery import WorkerProcess
from tests.helpers.postgres import fresh_schema
from tests.helpers.web_process import WebProcess


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[dict[str, list]]:
    """Start processes with `start_web(env)` / `start_worker(env)`; all are stopped at teardown."""
    started: dict[str, list] = {"web": [], "worker": []}

    def start_web(env: Mapping[str, str]) -> WebProcess:
        web = WebProcess(env, tmp_path, tmp_path / f"web{len(started['web'])}.log")
        started["web"].append(web)
        return web

    def start_worker(env: Mapping[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path, tmp_path / f"worker{len(started['worker'])}.log")
        started["worker"].append(worker)
        return worker

    yield {"start_web": start_web, "start_worker": start_worker, **started}  # type: ignore[dict-item]
    for worker in started["worker"]:
        worker.close()
    for web in started["web"]:
        web.close()
