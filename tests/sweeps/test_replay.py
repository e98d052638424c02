"""A quarantined reconciled or backfilled event is replayed with the store API's mapping (its body is a GraphQL
or REST API node, not a webhook body), keeping its history flag."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from bridge.platforms.shopify.reader import ShopifyReader
from bridge.replay import Replayer
from bridge.settings import Settings
from bridge.storage import Database, Events
from bridge.sweeps.recorder import BACKFILL, RECONCILE, record_states
from tests.helpers.delivery import event_rows
from tests.helpers.env import fixture

NOW = datetime(2026, 10, 20, 17, 0, tzinfo=UTC)


def node(name: str) -> dict:
    return json.loads(fixture("shopify/graphql", name))


def test_an_event_yesterdays_mapping_refused_is_valid_after_replay(settings: Settings, db: Database) -> None:
    reader = ShopifyReader(settings)
    paid, refund = reader._order_states(node("order__partially_refunded.json"))
    refused = [replace(s, candidate=None, errors={"_schema": ["could not be mapped"]}) for s in (paid, refund)]
    tally = record_states(Events(db), refused, origin=RECONCILE, now=NOW, live_after=None)
    assert tally.quarantined == 2
    for row in event_rows(db, origin=RECONCILE):
        outcome = Replayer(settings, db).replay(row["id"])
        assert (outcome.status, outcome.message) == ("accepted", "valid now; queued for planning")
    by_kind = {r["kind"]: r for r in event_rows(db, origin=RECONCILE)}
    assert by_kind["order.refunded"]["payload"]["total"] == 3700
    assert by_kind["order.refunded"]["payload"]["order_id"] == "5874120638518"
    assert by_kind["order.paid"]["payload"]["order_id"] == "5874120638518"
    assert {r["historical"] for r in by_kind.values()} == {1}


def test_a_still_broken_node_stays_quarantined_with_the_api_schemas_errors(settings: Settings, db: Database) -> None:
    broken = {**node("order__paid.json"), "currencyCode": None}
    states = ShopifyReader(settings)._order_states(broken)
    record_states(Events(db), states, origin=BACKFILL, now=NOW, live_after=None)
    [row] = event_rows(db, origin=BACKFILL)
    assert row["status"] == "quarantined" and "currencyCode" in row["errors"]
    outcome = Replayer(settings, db).replay(row["id"])
    assert outcome.status == "quarantined"
    [row] = event_rows(db, origin=BACKFILL)
    assert "currencyCode" in row["errors"] and row["note"] == "replay: still invalid"
