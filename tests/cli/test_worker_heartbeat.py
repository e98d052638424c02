"""The worker's heartbeat record and what `storebridge health --role worker` concludes from it (issue #18):
healthy only while the record is fresh, the database took a write within the limit and every thread that must
run is alive. The real-process checks are in tests/reliability/test_worker_health.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bridge.heartbeat import beat, judge, read_status

LIMIT = 10.0
THREADS = {"housekeeping": True, "deliver-0": True, "deliver-1": True}


def _record(folder: Path, pid: int, *, age: float, database_ok_at: float | None, threads: dict[str, bool]) -> Path:
    """A record as worker `pid` would have written it `age` seconds ago."""
    path = folder / f"worker_{pid}.heartbeat"
    path.write_text(json.dumps({"pid": pid, "database_ok_at": database_ok_at, "threads": threads}))
    written = time.time() - age
    os.utime(path, (written, written))
    return path


def test_a_fresh_record_with_the_database_answering_and_all_threads_alive_is_healthy(tmp_path: Path) -> None:
    now = time.time()
    path = beat(now - 1, THREADS, tmp_path)
    assert path == tmp_path / f"worker_{os.getpid()}.heartbeat"
    assert read_status(tmp_path, os.getpid())["threads"] == THREADS
    assert not list(tmp_path.glob(".*"))  # the temporary file was renamed into place
    verdict = judge(tmp_path, LIMIT, now)
    assert verdict.healthy and verdict.message.startswith("worker heartbeat")


def test_the_database_gone_longer_than_the_limit_is_unhealthy(tmp_path: Path) -> None:
    now = time.time()
    beat(now - LIMIT + 1, THREADS, tmp_path)
    assert judge(tmp_path, LIMIT, now).healthy
    beat(now - LIMIT - 1, THREADS, tmp_path)
    verdict = judge(tmp_path, LIMIT, now)
    assert not verdict.healthy and "database unavailable for 11 s" in verdict.message
    beat(None, THREADS, tmp_path)  # started, never reached the database
    assert "has not taken a write" in judge(tmp_path, LIMIT, now).message


def test_a_dead_delivery_thread_is_unhealthy(tmp_path: Path) -> None:
    now = time.time()
    beat(now, {**THREADS, "deliver-1": False}, tmp_path)
    verdict = judge(tmp_path, LIMIT, now)
    assert not verdict.healthy and "threads dead: deliver-1" in verdict.message


def test_a_record_not_rewritten_within_the_limit_is_unhealthy(tmp_path: Path) -> None:
    _record(tmp_path, 4242, age=LIMIT + 5, database_ok_at=time.time(), threads=THREADS)
    verdict = judge(tmp_path, LIMIT)
    assert not verdict.healthy and "last worker heartbeat 15 s ago" in verdict.message
    assert "no worker heartbeat" in judge(tmp_path / "missing", LIMIT).message


def test_a_dead_predecessors_record_does_not_matter_but_every_live_worker_must_be_healthy(tmp_path: Path) -> None:
    now = time.time()
    _record(tmp_path, 4242, age=LIMIT * 10, database_ok_at=None, threads={"deliver-0": False})  # restarted away
    _record(tmp_path, 4243, age=1, database_ok_at=now - 1, threads=THREADS)
    assert judge(tmp_path, LIMIT, now).healthy
    _record(tmp_path, 4244, age=1, database_ok_at=now - 1, threads={**THREADS, "deliver-0": False})
    verdict = judge(tmp_path, LIMIT, now)
    assert not verdict.healthy and "worker 4244: threads dead: deliver-0" in verdict.message


def test_an_unreadable_record_is_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "worker_4242.heartbeat").write_text("")  # e.g. touched by an older version
    assert not judge(tmp_path, LIMIT).healthy
