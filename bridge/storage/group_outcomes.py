"""Deliveries' outcomes as rows: one outcome (`Deliveries.finish`), or a claimed group's in one transaction
with one statement per table (`Deliveries.finish_many`): the deliveries' rows in one executemany, the rows each
outcome writes with it (`Upsert`s) in one executemany per table, the events settled together. On PostgreSQL
psycopg sends an executemany in one pipeline: a group of fifty costs a handful of round trips instead of
several hundred. Both map an outcome to its columns the same way (`_values`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, func, select, update

from bridge.storage.delivery_rows import Finish
from bridge.storage.events import settle_events
from bridge.storage.remote import Upsert
from bridge.storage.tables import deliveries
from bridge.vocabulary import FINAL

#: `finish`'s update for many rows at once: a value left None keeps the row's own (note, next attempt).
_FINISH = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=bindparam("b_now"),
        last_status=bindparam("b_last_status"),
        last_error=bindparam("b_last_error"),
        note=func.coalesce(bindparam("b_note", type_=deliveries.c.note.type), deliveries.c.note),
        next_attempt_at=func.coalesce(
            bindparam("b_next", type_=deliveries.c.next_attempt_at.type), deliveries.c.next_attempt_at
        ),
    )
)


#: `finish`'s update for one row: a compare-and-set on the lease, returning the event to settle.
_FINISH_ONE = _FINISH.where(deliveries.c.lease_owner == bindparam("b_owner")).returning(deliveries.c.event_id)


def finish_one(conn: Connection, owner: str, outcome: Finish) -> bool:
    """Record one outcome on `conn` (the caller's write transaction): the delivery's row, its writes and its
    event's status. False, writing nothing, when `owner` no longer holds the lease."""
    event_id = conn.execute(_FINISH_ONE, {**_values(outcome), "b_owner": owner}).scalar()
    if event_id is None:
        return False
    write_together(conn, outcome.also)
    if outcome.status in FINAL:
        settle_events(conn, [event_id])
    return True


def finish_together(conn: Connection, owner: str, outcomes: Sequence[Finish], *, is_sqlite: bool) -> set[int]:
    """Record `outcomes` on `conn` (the caller's write transaction); returns the ids recorded. One whose lease
    `owner` no longer holds is left out, with its writes."""
    ids = sorted(outcome.delivery_id for outcome in outcomes)
    held = select(deliveries.c.id, deliveries.c.event_id).where(
        deliveries.c.id.in_(ids), deliveries.c.lease_owner == owner
    )
    # The rows are locked first (SQLite: the write transaction holds the whole database), in id order, so the
    # leases seen here are still ours when the updates below run, and two groups cannot deadlock.
    rows = conn.execute(held if is_sqlite else held.order_by(deliveries.c.id).with_for_update())
    events_of: dict[int, int] = {row[0]: row[1] for row in rows}
    mine = sorted((o for o in outcomes if o.delivery_id in events_of), key=lambda o: o.delivery_id)
    if mine:
        conn.execute(_FINISH, [_values(outcome) for outcome in mine])
        write_together(conn, [write for outcome in mine for write in outcome.also])
        settle_events(conn, sorted({events_of[o.delivery_id] for o in mine if o.status in FINAL}))
    return set(events_of)


def _values(outcome: Finish) -> dict[str, Any]:
    return {
        "b_id": outcome.delivery_id,
        "b_status": outcome.status,
        "b_now": outcome.now,
        "b_last_status": outcome.last_status,
        "b_last_error": outcome.last_error[:4000] if outcome.last_error else None,
        "b_note": outcome.note[:4000] if outcome.note is not None else None,
        "b_next": outcome.next_attempt_at,
    }


def write_together(conn: Connection, writes: Sequence[Executable | Upsert]) -> None:
    """Run `writes` in order, the upserts of one statement as one executemany. A row's key goes at most once in
    each (PostgreSQL refuses one INSERT … ON CONFLICT touching a row twice): a later row of the same key goes in
    the next executemany, after it, so the later value wins as it would one by one."""
    runs: list[tuple[Executable, list[dict[str, Any]], set[tuple[Any, ...]]]] = []
    for write in writes:
        if not isinstance(write, Upsert):
            conn.execute(write)
            continue
        run = next((r for r in reversed(runs) if r[0] is write.statement), None)
        if run is None or write.key in run[2]:
            fresh: tuple[Executable, list[dict[str, Any]], set[tuple[Any, ...]]] = (write.statement, [], set())
            runs.append(fresh)
            run = fresh
        run[1].append(write.values)
        run[2].add(write.key)
    for statement, values, _ in runs:
        conn.execute(statement, values)
