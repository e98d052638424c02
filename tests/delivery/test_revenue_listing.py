"""The refund listing of net revenue (revenue.py `record_listing`): the newest listing of an order's refunds
wins, an older one changes nothing, two of the same moment are merged. The end-to-end behaviour (WooCommerce
states over HTTP, every arrival order, the fake AC's totals) is in test_real_payloads.py."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.destinations.activecampaign.revenue import net_total, record_event, record_listing


def _event(hour: int, *refunds: tuple[str, int], kind: str = "order.paid") -> dict:
    return {
        "kind": kind,
        "updated_at": datetime(2026, 10, 24, hour, tzinfo=UTC),
        "refunds": [{"refund_id": rid, "amount": amount} for rid, amount in refunds],
    }


def test_newest_listing_wins_and_an_older_one_changes_nothing():
    doc: dict = {"gross": 10492}
    assert record_listing(doc, _event(12, ("4862", 900), ("4861", 1000)))
    assert not record_listing(doc, _event(10, ("4861", 1000)))  # older: late, already contained
    assert not record_listing(doc, _event(12, ("4862", 900), ("4861", 1000)))  # the same state again
    assert net_total(doc) == 10492 - 1900
    assert record_listing(doc, _event(14, ("4861", 1000)))  # newer, without 4862: deleted in the shop
    assert net_total(doc) == 10492 - 1000


def test_two_listings_of_the_same_moment_are_merged():
    doc: dict = {"gross": 10492}
    record_listing(doc, _event(12, ("4861", 1000)))
    assert record_listing(doc, _event(12, ("4862", 900)))
    assert net_total(doc) == 10492 - 1900


def test_an_event_that_lists_nothing_leaves_the_listing_alone():
    doc: dict = {"gross": 10492}
    record_listing(doc, _event(12, ("4861", 1000)))
    assert not record_listing(doc, {"kind": "order.paid", "updated_at": datetime(2026, 10, 25, tzinfo=UTC)})
    assert net_total(doc) == 10492 - 1000


def test_a_refunded_order_without_a_listed_refund_is_refunded_in_full():
    doc: dict = {"gross": 10492}
    assert record_event(doc, _event(12, kind="order.refunded"))
    assert net_total(doc) == 0
    listed: dict = {"gross": 10492}
    assert record_event(listed, _event(12, ("4870", 9492), ("4861", 1000), kind="order.refunded"))
    assert net_total(listed) == 0 and not listed.get("full")
