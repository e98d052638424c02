"""Fixtures: real `bridge web` (gunicorn, two workers) and `bridge worker` processes sharing one metrics
directory, against the strict fake ActiveCampaign."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fixtures import fake_ac  # noqa: F401 - pytest fixture
from tests.helpers.delivery import DELIVERY_TIMINGS, WorkerProcess
from tests.helpers.env import base_env
from tests.helpers.web_process import WebProcess


@pytest.fixture
def bridge_env(tmp_path: Path, fake_ac) -> dict[str, str]:  # noqa: F811 - the fixture imported above
    """Every source configured, AC live against the strict fake, EcartAPI dry-run, a private metrics dir."""
    return base_env(
        tmp_path / "bridge.db",
        BRIDGE_LOG_LEVEL="INFO",
        BRIDGE_WEB_WORKERS="2",
        BRIDGE_WEB_THREADS="2",
        BRIDGE_METRICS_DIR=str(tmp_path / "metrics"),
        BRIDGE_AC_URL=fake_ac.base_url,
        BRIDGE_AC_TOKEN=fake_ac.token,
        BRIDGE_ADMIN_TOKEN="admin-token-0123456789abcdef",
        **DELIVERY_TIMINGS,
    )


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`start_web(env)` / `start_worker(env)`; everything started is stopped at teardown."""
    started: list[WebProcess | WorkerProcess] = []

    def start_web(env: Mapping[str, str]) -> WebProcess:
        web = WebProcess(env, tmp_path, tmp_path / "web.log")
        started.append(web)
        return web.wait_ready()

    def start_worker(env: Mapping[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path, tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield {"start_web": start_web, "start_worker": start_worker}
    for process in reversed(started):
        if isinstance(process, WorkerProcess):
            process.terminate()
        process.close()
