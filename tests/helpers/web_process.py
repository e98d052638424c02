"""`storebridge web` (or any server command) as a real process for tests: start, wait for /readyz, stop.

`WebProcess` is the one `bridge web` on a free loopback port the observability, reliability and scale tests
share; `running` wraps any server command (the deployment tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.helpers.delivery import bridge_executable, subprocess_env, wait_until
from tests.helpers.live_server import free_port


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any BRIDGE_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(extra)
    return env


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    """Wait for `url` to answer 200; fail with the log's tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} not ready after {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen, timeout: float = 20.0) -> int | None:
    """SIGTERM, then SIGKILL if it does not go; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


@contextmanager
def running(
    argv: Sequence[str],
    *,
    ready_url: str,
    log: Path,
    env: Mapping[str, str],
    cwd: Path,
    as_user: Mapping[str, object] | None = None,
) -> Iterator[subprocess.Popen]:
    """Run `argv` until the block ends (with `as_user`: Popen's user/group/extra_groups); yields the process."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **(as_user or {}),  # type: ignore[arg-type]
        )
    try:
        wait_ready(ready_url, process, log)
        yield process
    finally:
        stop(process)


class WebProcess:
    """`bridge web` (gunicorn) on a free loopback port, with the test's BRIDGE_* only; always stopped by
    `close()` (SIGTERM, then SIGKILL after 20 s)."""

    def __init__(self, bridge_env: Mapping[str, str], cwd: Path, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [bridge_executable(), "web", "--bind", f"127.0.0.1:{self.port}"],
            env=subprocess_env(bridge_env),
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30.0) -> WebProcess:
        """Wait for /readyz to answer 200; fails with the log's tail if the process exits meanwhile."""

        def ready() -> bool:
            assert self.proc.poll() is None, self.log_path.read_text(errors="replace")[-3000:]
            try:
                return requests.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, interval=0.1, describe="bridge web /readyz")
        return self

    def close(self) -> None:
        """Stop the process (SIGTERM, SIGKILL after 20 s) and close its log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
