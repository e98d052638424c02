"""Net revenue in AC (spec §9, `BRIDGE_AC_REVENUE=net`): the v3 ecomOrder has no status, so a refund lowers
the order's `totalPrice` by the refunded amount and a cancellation sets it to 0, as AC's WooCommerce plugin
does for partial refunds.

The bridge keeps, per order (store | store order id), a small document in `RemoteState`:
`gross` (the paid total), `refunds` {refund id: amount} (one event per refund, as Shopify's), `listed`
{`at`, `refunds` {refund id: amount}} (the newest listing of all the order's refunds, as every WooCommerce
`order.updated` carries), `refunded_total` (a running sum, as a custom sender may report), `full` (refunded
in full, amount not given), `cancelled`, and `sent` (the `totalPrice` AC was last given). The net total is a
function of that document, whatever order the events arrived in, so a replayed refund changes nothing and a
late paid order is sent net.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.state import StateStore
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus, Outcome

NET, GROSS = "net", "gross"
KEY_TYPE = "revenue"


def net_total(doc: dict[str, Any]) -> int | None:
    """What AC's `totalPrice` should be: 0 when cancelled or refunded in full, else paid minus refunds (≥ 0);
    None while the paid total is unknown."""
    if doc.get("cancelled") or doc.get("full"):
        return 0
    if doc.get("gross") is None:
        return None
    # The three describe the same refunds in different ways (a store uses one): the largest figure is the most
    # complete, and adding them up would count a refund twice.
    listed = sum(((doc.get("listed") or {}).get("refunds") or {}).values())
    refunded = max(sum((doc.get("refunds") or {}).values()), doc.get("refunded_total") or 0, listed)
    net: int = max(0, int(doc["gross"]) - refunded)
    return net


def record_listing(doc: dict[str, Any], event: dict[str, Any]) -> bool:
    """Fold the refunds an order event lists (`refunds`, as of its `updated_at`) into `doc`; False when it
    changes nothing. The newest listing wins, so a refund deleted in the store stops counting and an older
    delivery arriving late undoes nothing; two listings of the same moment are merged (both were true)."""
    if event.get("refunds") is None:
        return False
    at = _moment(event.get("updated_at") or event.get("occurred_at"))
    refunds = {str(r["refund_id"]): int(r["amount"]) for r in event["refunds"]}
    known = doc.get("listed")
    if known is not None:
        if at < known["at"]:
            return False
        if at == known["at"]:
            refunds = {**known["refunds"], **refunds}
        if refunds == known["refunds"]:
            if at > known["at"]:
                known["at"] = at  # nothing changed, but later listings are compared with this one
            return False
    doc["listed"] = {"at": at, "refunds": refunds}
    return True


def record_event(doc: dict[str, Any], event: dict[str, Any]) -> bool:
    """Fold a refund or cancellation into `doc`; False when it was already there (a replay)."""
    if event["kind"] == "order.cancelled":
        if doc.get("cancelled"):
            return False
        doc["cancelled"] = True
        return True
    if event.get("refunds"):
        return record_listing(doc, event)
    if event.get("refund_id"):
        refunds = doc.setdefault("refunds", {})
        if event["refund_id"] in refunds:
            return False
        refunds[event["refund_id"]] = int(event.get("total") or 0)
        return True
    if event.get("refunded_total") is not None:
        # A running sum only grows: the larger figure is the newer one, whatever arrived last.
        if (doc.get("refunded_total") or 0) >= event["refunded_total"]:
            return False
        doc["refunded_total"] = int(event["refunded_total"])
        return True
    # Refunded, with no amount (an EcartAPI `refunded` order) or no refund listed: refunded in full.
    listed = record_listing(doc, event)
    if doc.get("full"):
        return listed
    doc["full"] = True
    return True


def _moment(value: Any) -> str:
    """An event time as the sortable text the document keeps (UTC, ISO-8601, microseconds)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value or "")


class Revenue:
    """The revenue side of one AC delivery."""

    def __init__(self, client: ActiveCampaignClient, state: StateStore, *, mode: str) -> None:
        self.client = client
        self.state = state
        self.mode = mode
        self._pending: dict[str, int] = {}

    # -- hooks of the paid order's create or update ----------------------------------------------------------

    def order_body(self, order_key: str, body: dict[str, Any], event: dict[str, Any] | None = None) -> dict[str, Any]:
        """The paid order's body with `totalPrice` net of what is already known refunded or cancelled; the
        paid total is remembered as the order's gross, and the refunds the paid `event` lists (a WooCommerce
        order updated by a partial refund stays paid) are folded in first."""
        if self.mode != NET:
            return body
        order = body["ecomOrder"]
        doc = self.state.get(KEY_TYPE, order_key) or {}
        if event is not None:
            record_listing(doc, event)
        doc["gross"] = int(order["totalPrice"])
        self.state.put(KEY_TYPE, order_key, doc, utcnow())
        total = net_total(doc)
        assert total is not None
        self._pending[order_key] = total
        return {"ecomOrder": {**order, "totalPrice": total}}

    def confirm(self) -> None:
        """The order body was accepted by AC: remember the total it now holds."""
        for order_key, total in list(self._pending.items()):
            doc = self.state.get(KEY_TYPE, order_key) or {}
            doc["sent"] = total
            self.state.put(KEY_TYPE, order_key, doc, utcnow())
            del self._pending[order_key]

    # -- refunds and cancellations -------------------------------------------------------------------------

    def apply(self, event: dict[str, Any], order_key: str, remote_id: str | None) -> Outcome:
        """Fold the refund or cancellation in and bring the AC order's `totalPrice` to the net total."""
        doc = self.state.get(KEY_TYPE, order_key) or {}
        what = _describe(event)
        new = record_event(doc, event)
        self.state.put(KEY_TYPE, order_key, doc, utcnow())
        if remote_id is None:
            return Outcome(
                DeliveryStatus.SKIPPED,
                f"{what}: the order was never sent to ActiveCampaign, so it is left alone "
                "(recorded: if it is sent later, it goes net)",
            )
        if doc.get("gross") is None:
            # Sent before the bridge tracked revenue: AC's own figure is the paid total.
            found = self.client.get("ecomOrders", remote_id, key="ecomOrder")
            if found.status == 404:
                return Outcome(DeliveryStatus.SKIPPED, f"{what}: AC order {remote_id} no longer exists")
            order = (found.expect(200).body or {}).get("ecomOrder") or {}
            doc["gross"] = int(order.get("totalPrice") or 0)
            self.state.put(KEY_TYPE, order_key, doc, utcnow())
        target = net_total(doc)
        assert target is not None
        if doc.get("sent") == target:
            verb = "already applied" if not new else "changes nothing"
            return Outcome(DeliveryStatus.SKIPPED, f"{what} {verb}: AC order {remote_id} totalPrice stays {target}")
        result = self.client.update("ecomOrders", remote_id, {"ecomOrder": {"totalPrice": target}}, key="ecomOrder")
        if result.status == 404:
            return Outcome(DeliveryStatus.SKIPPED, f"{what}: AC order {remote_id} no longer exists")
        result.expect(200, 201)
        before = doc.get("sent", doc.get("gross"))
        doc["sent"] = target
        self.state.put(KEY_TYPE, order_key, doc, utcnow())
        return Outcome(DeliveryStatus.DONE, f"{what}: AC order {remote_id} totalPrice {before} -> {target}")


def _describe(event: dict[str, Any]) -> str:
    if event["kind"] == "order.cancelled":
        return "cancellation"
    if event.get("refunds"):
        return f"{len(event['refunds'])} refund(s) listed, totalling {sum(r['amount'] for r in event['refunds'])}"
    if event.get("refund_id"):
        return f"refund {event['refund_id']} of {event.get('total') or 0}"
    if event.get("refunded_total") is not None:
        return f"refunds totalling {event['refunded_total']}"
    return "full refund"
