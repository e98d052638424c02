"""Processes seen through /proc (Linux), without psutil: children of a process, resident memory."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def parent_of(pid: int) -> int | None:
    """The parent pid of `pid`, or None if it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (e.g. gunicorn's workers under its master), ascending."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == pid and is_alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def is_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def rss_kib(pid: int) -> int:
    """Resident set size of `pid` in KiB (VmRSS of /proc/<pid>/status)."""
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for pid {pid}")


def thread_count(pid: int) -> int:
    """How many threads `pid` runs (entries of /proc/<pid>/task)."""
    return sum(1 for _ in (PROC / str(pid) / "task").iterdir())
