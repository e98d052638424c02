"""The shared throttle row: admission tickets and their completion, under concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import select

from bridge.storage import Database
from bridge.storage.tables import throttles
from bridge.storage.throttles import Throttles

NAME = "activecampaign"


def test_concurrent_completions_from_many_processes_lose_none(db: Database) -> None:
    """Each worker process completes its own tickets; a completion written over by another one's would leave its
    ticket counting against the limit until it goes stale (two minutes), choking the rate."""
    tickets = []
    for _ in range(40):
        ticket, _wait = Throttles(db).admit(NAME, 1000, 1.0, 120.0)
        assert ticket is not None
        tickets.append(ticket)
    start = threading.Barrier(8)

    def complete(mine: list[float]) -> None:
        throttles = Throttles(Database(db.url.render_as_string(hide_password=False)))  # its own "process"
        start.wait()
        for ticket in mine:
            throttles.complete(NAME, ticket)
        throttles.db.dispose()

    threads = [threading.Thread(target=complete, args=(tickets[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with db.read() as conn:
        entries = conn.execute(select(throttles.c.recent_sends).where(throttles.c.name == NAME)).scalar()
    pending = [sent for sent, done in entries if done is None]
    assert len(entries) == 40 and pending == [], f"{len(pending)} of 40 completions lost"


def test_completions_the_database_refused_are_written_before_the_next_admission(tmp_path: Path) -> None:
    """Issue #18: a database blip while answers arrive must not leave those sends counting against the limit
    until they go stale (two minutes at a fraction of the rate). Another SQLite connection holds the lock."""
    db = Database(f"sqlite:///{tmp_path / 'bridge.db'}", timeout=0.2)
    db.upgrade()
    throttles_ = Throttles(db)
    sent = [throttles_.admit(NAME, 2, 0.2, 120.0)[0] for _ in range(2)]
    assert None not in sent and throttles_.admit(NAME, 2, 0.2, 120.0)[0] is None  # the limit: two in flight

    other = sqlite3.connect(tmp_path / "bridge.db", timeout=5, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    for ticket in sent:
        throttles_.complete(NAME, ticket)  # refused by the database, kept: no error for the caller
    other.execute("ROLLBACK")
    other.close()

    time.sleep(0.25)  # one window after the answers came
    ticket, wait = throttles_.admit(NAME, 2, 0.2, 120.0)
    assert ticket is not None, f"still counted as in flight; asked to wait {wait:.1f} s"
    with db.read() as conn:
        entries = conn.execute(select(throttles.c.recent_sends).where(throttles.c.name == NAME)).scalar()
    assert entries == [[ticket, None]]  # the two answered sends aged out of the window, as answered ones do
    db.dispose()
