"""The worker's heartbeat file, for a container or service manager health check (`storebridge health
--role worker`, or the worker's own `/healthz` when BRIDGE_WORKER_METRICS_BIND is set): its heartbeat thread
writes a small status record every lease_seconds / 3 saying when the database last took a write and whether
each worker thread is alive.

The worker is healthy while that record is fresh (the heartbeat thread runs), the database took a write within
the limit, and every thread that must run (housekeeping, each `deliver-N`) is alive. A worker that hangs,
cannot reach the database, or lost a delivery thread fails the check (issue #18).

The file lives in the host's shared metrics directory (`BRIDGE_METRICS_DIR`, PROMETHEUS_MULTIPROC_DIR in the
worker), as `worker_<pid>.heartbeat`; prometheus_client reads only `*.db` there. It is replaced atomically, so
a reader never sees half a record.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
SUFFIX = ".heartbeat"


def _directory(directory: str | Path | None) -> Path | None:
    chosen = directory or os.environ.get(MULTIPROC_VARIABLE)
    return Path(chosen) if chosen else None


def beat(database_ok_at: float | None, threads: dict[str, bool], directory: str | Path | None = None) -> Path | None:
    """Write this process's status record (in `directory`, default the shared metrics directory):
    `database_ok_at` is the wall-clock time the database last took a write (None: not yet), `threads` maps
    each thread that must run to whether it is alive. None when there is no such directory."""
    folder = _directory(directory)
    if folder is None:
        return None
    path = folder / f"worker_{os.getpid()}{SUFFIX}"
    record = {"pid": os.getpid(), "written_at": time.time(), "database_ok_at": database_ok_at, "threads": threads}
    temporary = folder / f".{path.name}.tmp"  # not matched by the health check's glob
    try:
        temporary.write_text(json.dumps(record))
        os.replace(temporary, path)
    except OSError:
        return None
    return path


def read_status(directory: str | Path, pid: int) -> dict[str, Any] | None:
    """The status record worker `pid` last wrote in `directory`, or None."""
    try:
        status: dict[str, Any] = json.loads((Path(directory) / f"worker_{pid}{SUFFIX}").read_text())
    except (OSError, ValueError):
        return None
    return status


@dataclass(frozen=True)
class Verdict:
    """What the health check concludes from the heartbeat files."""

    healthy: bool
    message: str


def judge(directory: str | Path, limit: float, now: float | None = None) -> Verdict:
    """Healthy when at least one worker's record in `directory` is fresher than `limit` seconds and every fresh
    record says the database took a write within `limit` seconds and all its threads are alive. Records older
    than `limit` belong to workers that stopped or hang (a restarted worker leaves its predecessor's file)."""
    now = time.time() if now is None else now
    fresh: list[tuple[float, dict[str, Any] | None]] = []
    newest: float | None = None
    for path in Path(directory).glob(f"worker_*{SUFFIX}"):
        try:
            age = max(0.0, now - path.stat().st_mtime)
            text = path.read_text()
        except OSError:
            continue
        newest = age if newest is None else min(newest, age)
        if age <= limit:
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            fresh.append((age, record if isinstance(record, dict) else None))
    if newest is None:
        return Verdict(False, f"no worker heartbeat in {directory}")
    if not fresh:
        return Verdict(False, f"last worker heartbeat {newest:.0f} s ago (limit {limit:.0f} s)")
    for _age, record in fresh:
        if record is None:
            return Verdict(False, "unreadable worker heartbeat record")
        pid = record.get("pid")
        dead = sorted(name for name, alive in (record.get("threads") or {}).items() if not alive)
        if dead:
            return Verdict(False, f"worker {pid}: threads dead: {', '.join(dead)}")
        ok_at = record.get("database_ok_at")
        if not isinstance(ok_at, int | float):
            return Verdict(False, f"worker {pid}: the database has not taken a write yet")
        if now - ok_at > limit:
            return Verdict(False, f"worker {pid}: database unavailable for {now - ok_at:.0f} s (limit {limit:.0f} s)")
    return Verdict(True, f"worker heartbeat {min(age for age, _ in fresh):.0f} s ago")


def stale_after(lease_seconds: float) -> float:
    """Seconds without a heartbeat (or a database write) after which a worker counts as stuck or cut off: it
    beats every lease_seconds / 3, so a whole lease without one (plus slack for a loaded machine) means trouble."""
    return lease_seconds + 5


def verdict(directory: str | Path, lease_seconds: float) -> tuple[bool, str]:
    """(healthy, one line saying why) for the workers that write their heartbeat into `directory`."""
    found = judge(directory, stale_after(lease_seconds))
    return found.healthy, found.message
