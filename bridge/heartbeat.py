"""The worker's heartbeat file, for a container or service manager health check (`storebridge health
--role worker`, or the worker's own `/healthz` when BRIDGE_WORKER_METRICS_BIND is set): the worker says it is
alive by touching a file after every successful lease renewal (which needs the database). A worker that hangs,
or cannot reach the database, stops touching it.

The file lives in the host's shared metrics directory (`BRIDGE_METRICS_DIR`, PROMETHEUS_MULTIPROC_DIR in the
worker), as `worker_<pid>.heartbeat`; prometheus_client reads only `*.db` there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
SUFFIX = ".heartbeat"


def beat(directory: str | Path | None = None) -> Path | None:
    """Touch this process's heartbeat file (in `directory`, default the shared metrics directory); None when
    there is no such directory."""
    chosen = directory or os.environ.get(MULTIPROC_VARIABLE)
    if not chosen:
        return None
    path = Path(chosen) / f"worker_{os.getpid()}{SUFFIX}"
    try:
        path.touch()
    except OSError:
        return None
    return path


def newest_age(directory: str | Path) -> float | None:
    """Seconds since the most recent heartbeat of any worker in `directory`; None when none ever beat."""
    newest = None
    for path in Path(directory).glob(f"worker_*{SUFFIX}"):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        newest = mtime if newest is None else max(newest, mtime)
    return None if newest is None else max(0.0, time.time() - newest)


def stale_after(lease_seconds: float) -> float:
    """Seconds without a heartbeat after which a worker counts as stuck or cut off: it beats every
    lease_seconds / 3, so a whole lease without one (plus slack for a loaded machine) means trouble."""
    return lease_seconds + 5


def verdict(directory: str | Path, lease_seconds: float) -> tuple[bool, str]:
    """(healthy, one line saying why) for the workers that beat in `directory`."""
    age = newest_age(directory) if Path(directory).is_dir() else None
    limit = stale_after(lease_seconds)
    if age is None:
        return False, f"no worker heartbeat in {directory}"
    if age > limit:
        return False, f"last worker heartbeat {age:.0f} s ago (limit {limit:.0f} s)"
    return True, f"worker heartbeat {age:.0f} s ago"
