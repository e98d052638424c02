"""Lease owner ids: which worker (host, process) holds a lease, and which local owners are dead."""

from __future__ import annotations

import os
import socket
import uuid


def new_owner() -> str:
    """A lease owner id: host and pid (so a restarted worker can spot its dead predecessor) plus a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_local_owners(owners: list[str]) -> tuple[str, ...]:
    """Lease owners on this host whose process no longer exists."""
    host = socket.gethostname()
    dead = []
    for owner in owners:
        owner_host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if owner_host != host or not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            dead.append(owner)
        except PermissionError:
            continue
    return tuple(dead)
