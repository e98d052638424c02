"""`storebridge health --role worker` against a real `bridge worker` whose PostgreSQL goes away (issue #18):
it fails once the database has been unreachable for longer than the limit (BRIDGE_LEASE_SECONDS + 5 s), and
passes again by itself once the database is back; the worker process keeps running throughout."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.storage import Database
from tests.fakes import FakeActiveCampaign
from tests.helpers.delivery import WorkerProcess, run_cli, wait_until
from tests.helpers.private_postgres import PrivatePostgres, private_pg  # noqa: F401 - pytest fixture
from tests.reliability.conftest import drill_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LEASE = 1  # the health limit is LEASE + 5 s


@pytest.fixture
def worker_env(private_pg: PrivatePostgres, fast_ac: FakeActiveCampaign, tmp_path: Path) -> dict[str, str]:  # noqa: F811
    Database(private_pg.url).upgrade()
    return drill_env(
        tmp_path / "unused.db",
        fast_ac,
        BRIDGE_DATABASE_URL=private_pg.url,
        BRIDGE_METRICS_DIR=str(tmp_path / "metrics"),
        BRIDGE_LEASE_SECONDS=str(LEASE),
        BRIDGE_DB_TIMEOUT="1",
    )


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(worker_env, tmp_path, tmp_path / "worker.log")
    yield process
    process.close()


def test_health_fails_while_the_database_is_gone_and_recovers(
    private_pg: PrivatePostgres,  # noqa: F811
    worker_env: dict[str, str],
    worker: WorkerProcess,
    tmp_path: Path,
) -> None:
    def health() -> subprocess.CompletedProcess:
        return run_cli(["health", "--role", "worker"], worker_env, tmp_path)

    wait_until(lambda: health().returncode == 0, timeout=30, interval=0.3, describe=lambda: worker.output()[-2000:])

    private_pg.stop()
    stopped = time.monotonic()
    failed = wait_until(
        lambda: (result := health()).returncode != 0 and result,
        timeout=LEASE + 5 + 15,
        interval=0.3,
        describe=lambda: health().stdout,
    )
    assert time.monotonic() - stopped >= LEASE + 5 - 1  # not before the database was gone for the limit
    assert "database unavailable for" in failed.stderr, failed.stderr
    assert worker.proc.poll() is None, worker.output()[-3000:]

    private_pg.start()
    passed = wait_until(
        lambda: (result := health()).returncode == 0 and result,
        timeout=20,
        interval=0.3,
        describe=lambda: health().stderr,
    )
    assert passed.stdout.startswith("ok: worker heartbeat"), passed.stdout
    output = worker.output()
    assert worker.proc.poll() is None, output[-3000:]
    assert "Exception in thread" not in output, output[-3000:]
