"""A claimed group's reads done ahead (read_ahead.py): each value served once to the member that owns it,
then read live; a key two members share (two orders of one checkout) read live by both; a key written is
never served stale; a store's connection served to every member. Real database, both backends."""

from __future__ import annotations

import sqlalchemy

from bridge.destinations.activecampaign.read_ahead import read_ahead
from bridge.storage.remote import RemoteRecords, RemoteState
from bridge.timeutil import utcnow


def _counting(db):
    seen: list[str] = []
    sqlalchemy.event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_values_are_served_once_then_read_live(db):
    now = utcnow()
    records, state = RemoteRecords(db, "ac:x"), RemoteState(db, "ac:x")
    records.put("connection", "shop", "7", "connection", now)
    records.put("checkout", "7|c1", "70", "cart", now)
    state.put("gql-order", "7|1", {"input": {"v": 1}}, now)
    events = [
        {"order_id": "1", "store": "shop", "checkout_id": "c1"},
        {"order_id": "2", "store": "shop", "checkout_id": "c2"},
        {"order_id": "3", "store": "shop", "checkout_id": "c2"},  # shares its checkout with order 2
    ]
    ahead_records, ahead_state = read_ahead(records, state, events, None)
    seen = _counting(db)

    assert ahead_state.get("gql-order", "7|1") == {"input": {"v": 1}}
    assert ahead_state.get("gql-order", "7|2") is None
    assert ahead_records.get("checkout", "7|c1").remote_id == "70"
    for _ in range(3):
        assert ahead_records.get("connection", "shop").remote_id == "7"  # every member takes it
    assert seen == [], "all of these were read ahead"

    state.put("gql-order", "7|1", {"input": {"v": 2}}, now)  # as the member's own outcome would
    assert ahead_state.get("gql-order", "7|1") == {"input": {"v": 2}}, "a second read goes to the database"
    assert ahead_records.get("checkout", "7|c2") is None and len(seen) >= 2, "a shared key is read live"


def test_a_key_written_through_the_view_is_never_served_from_before(db):
    now = utcnow()
    records, state = RemoteRecords(db, "ac:x"), RemoteState(db, "ac:x")
    ahead_records, ahead_state = read_ahead(records, state, [{"order_id": "1", "store": "shop"}], "9")
    ahead_records.put("order", "9|1", "90", "order", now)
    assert ahead_records.get("order", "9|1").remote_id == "90"
    ahead_state.put("revenue", "shop|1", {"gross": 5}, now)
    assert ahead_state.get("revenue", "shop|1") == {"gross": 5}


def test_an_unmapped_connection_is_read_live(db):
    records, state = RemoteRecords(db, "ac:x"), RemoteState(db, "ac:x")
    ahead_records, _ = read_ahead(records, state, [{"order_id": "1", "store": "new-shop"}], None)
    records.put("connection", "new-shop", "5", "connection", utcnow())  # another member created it
    assert ahead_records.get("connection", "new-shop").remote_id == "5"
