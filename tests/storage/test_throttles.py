"""The shared throttle row: admission tickets and their completion, under concurrent writers."""

from __future__ import annotations

import threading

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
