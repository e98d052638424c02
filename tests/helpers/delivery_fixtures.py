"""Pytest fixtures for delivery tests (import them into a conftest or test module).

`settings` here replaces the root conftest's: the bridge points at the fakes (`fake_ac`, `fake_ecart`) with
short timings. A test changes it by overriding `env_overrides` (a value of None removes a variable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridge.settings import Settings, load_settings
from bridge.storage import Database
from tests.fakes import FakeActiveCampaign, FakeEcartAPI
from tests.helpers.delivery import DELIVERY_TIMINGS, InProcessWorker, WorkerProcess
from tests.helpers.env import base_env


@pytest.fixture
def env_overrides() -> dict[str, str | None]:
    """Per-test changes to the delivery environment (override this fixture or parametrize it)."""
    return {}


@pytest.fixture
def delivery_env(
    db_path: Path,
    database_url: str,
    fake_ac: FakeActiveCampaign,
    fake_ecart: FakeEcartAPI,
    env_overrides: dict[str, str | None],
) -> dict[str, str]:
    """The complete BRIDGE_* environment of the test (also given to `bridge …` subprocesses)."""
    env: dict[str, str | None] = {
        **base_env(
            db_path,
            BRIDGE_DATABASE_URL=database_url,
            BRIDGE_AC_URL=fake_ac.base_url,
            BRIDGE_AC_TOKEN=fake_ac.token,
            BRIDGE_ECART_URL=fake_ecart.url,
            BRIDGE_ECART_TOKEN=fake_ecart.token,
            **DELIVERY_TIMINGS,
        ),
        **env_overrides,
    }
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def settings(delivery_env: dict[str, str]) -> Settings:
    return load_settings(delivery_env, env_file=None)


@pytest.fixture
def start_worker(settings: Settings, db: Database) -> Iterator[Callable[..., InProcessWorker]]:
    """Start an in-process worker (`start_worker()`, or `start_worker(other_settings)`); stopped at teardown."""
    started: list[InProcessWorker] = []

    def start(custom: Settings | None = None) -> InProcessWorker:
        worker = InProcessWorker(custom or settings, db).start()
        started.append(worker)
        return worker

    yield start
    for worker in reversed(started):
        worker.stop()


@pytest.fixture
def worker(start_worker: Callable[..., InProcessWorker]) -> InProcessWorker:
    """One in-process worker, already running."""
    return start_worker()


@pytest.fixture
def spawn_worker(delivery_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], WorkerProcess]]:
    """Start `bridge worker` processes on the test's database; every one is SIGKILLed and reaped at teardown."""
    spawned: list[WorkerProcess] = []

    def spawn() -> WorkerProcess:
        process = WorkerProcess(delivery_env, tmp_path, tmp_path / f"worker-{len(spawned)}.log")
        spawned.append(process)
        return process

    yield spawn
    for process in spawned:
        process.close()
