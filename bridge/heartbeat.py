"""The worker's heartbeat file, for a container or service manager health check (`storebridge health
--worker`): the worker has no HTTP port, so it says it is alive by touching a file after every successful
lease renewal (which needs the database). A worker that hangs, or cannot reach the database, stops touching it.

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
