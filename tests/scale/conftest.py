"""Fixtures for the scale-out tests: a fresh PostgreSQL schema, real `bridge web` and `bridge worker` processes."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import requests

from tests.fakes.fixtures import fake_ac, fake_ecart  # noqa: F401 - pytest fixtures
from tests.helpers.delivery import WorkerProcess, bridge_executable, subprocess_env, wait_until
from tests.helpers.live_server import free_port
from tests.helpers.postgres import fresh_schema


class WebProcess:
    """`bridge web` (gunicorn) on a free loopback port; always stopped by `close()`."""

    def __init__(self, bridge_env: Mapping[str, str], cwd: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("ab")
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [bridge_executable(), "web", "--bind", f"127.0.0.1:{self.port}"],
            env=subprocess_env(bridge_env),
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30.0) -> WebProcess:
        def ready() -> bool:
            assert self.proc.poll() is None, self.log_path.read_text(errors="replace")[-3000:]
            try:
                return requests.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, interval=0.1, describe="bridge web /readyz")
        return self

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


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
