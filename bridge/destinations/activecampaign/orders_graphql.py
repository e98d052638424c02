"""Paid orders, cancellations and refunds through AC's eComm GraphQL API (`BRIDGE_AC_ORDER_API=graphql`,
spec §14). Carts stay on v3 (deliver.py).

One call per order state: `upsertOrder` creates or updates the contact and the ecomCustomer itself, so no
contact sync and no ecomCustomer call is made (only the consent list's, once per consenting buyer). It is keyed
by (`legacyConnectionId`, `storeOrderId`), so a retry or a replay never duplicates; what was last sent is
kept in `RemoteState` (`gql-order`), so a replay that changes nothing costs no call, and a cancellation or
refund re-sends the whole order with its new status and amount.

A bought v3 cart: whether AC converts it from `cartId` or needs the integrator's v3 `PUT` is unconfirmed, so
the bridge does both, in the order that is right either way: the `PUT` (adding `externalid`: the cart is
recovered) first, then the upsert, whose copy into v3 then finds that record by (connection, `externalid`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.destinations.activecampaign import order_input, statuses
from bridge.destinations.activecampaign.batching import OrderBatcher
from bridge.destinations.activecampaign.graphql import GraphQLClient
from bridge.destinations.activecampaign.revenue import KEY_TYPE as REVENUE
from bridge.destinations.activecampaign.revenue import net_total, record_event, record_listing
from bridge.destinations.activecampaign.state import StateStore
from bridge.privacy import ORDER_STATE, email_digest
from bridge.timeutil import isoformat, utcnow
from bridge.vocabulary import DeliveryStatus, Outcome

if TYPE_CHECKING:
    from bridge.destinations.activecampaign.deliver import ActiveCampaignRunner

KEY_TYPE = ORDER_STATE


class GraphQLOrders:
    """The GraphQL side of one AC delivery."""

    def __init__(
        self,
        gql: GraphQLClient,
        state: StateStore,
        *,
        creation_source: str,
        net: bool,
        batcher: OrderBatcher | None = None,
    ) -> None:
        self.gql = gql
        self.batcher = batcher
        self.state = state
        self.creation_source = creation_source
        self.net = net

    # -- paid orders ---------------------------------------------------------------------------------------

    def paid(self, runner: ActiveCampaignRunner, event: dict[str, Any], email: str) -> Outcome:
        """Upsert the paid order (converting its v3 cart first, if the bridge made one)."""
        connection = runner.connection(event.get("store") or "storebridge")
        order_key = f"{connection}|{event['order_id']}"
        notes = self._convert_cart(runner, event, connection)
        known = self.state.get(REVENUE, leg_revenue_key(event))
        doc = dict(known or {})
        record_listing(doc, event)
        doc["gross"] = order_input.gross_total(event)
        # Written with the order's own state after the upsert (one write; recomputed from the event if the
        # upsert fails), or now when nothing is sent; no write at all when nothing changed.
        revenue = [(REVENUE, leg_revenue_key(event), doc)] if doc != known else []
        status, word, final = self._status(event, doc)
        body = order_input.order_input(
            event,
            connection=connection,
            source=self.creation_source,
            normalized_status=status,
            store_status=word,
            final_minor=final,
        )
        before = self.state.get(KEY_TYPE, order_key) or {}
        if before.get("input") == body:
            self.state.put_many(revenue, utcnow())
            return Outcome(DeliveryStatus.SKIPPED, f"AC order {event['order_id']} already holds this state ({status})")
        stored = self._upsert(body)
        self._remember(order_key, body, stored, revenue)
        if event.get("checkout_id"):
            cart = runner.records.get("checkout", f"{connection}|{event['checkout_id']}")
            cart_id = cart.remote_id if cart and cart.remote_id else str(stored.get("id"))
            runner.records.put("checkout", f"{connection}|{event['checkout_id']}", cart_id, "order", utcnow())
        verb = "updated" if before else "upserted"
        notes.append(
            f"upsertOrder {event['order_id']}: {verb} AC order {stored.get('id')} ({status}, {body['finalAmount']})"
        )
        if before.get("v3") or runner.records.get("order", order_key):
            notes.append("known from v3: same storeOrderId, nothing created twice")
        if runner.contacts is not None:
            subscribed = runner.contacts.subscribe_only(event, email)
            notes.extend(subscribed)
        return Outcome(DeliveryStatus.DONE, "; ".join(notes))

    def _convert_cart(self, runner: ActiveCampaignRunner, event: dict[str, Any], connection: str) -> list[str]:
        """The v3 `PUT` that recovers the checkout's cart, when the bridge created one (see module doc)."""
        if not event.get("checkout_id"):
            return []
        key = f"{connection}|{event['checkout_id']}"
        cart = runner.records.get("checkout", key)
        if cart and cart.remote_id is None:
            cart = runner._recover("checkout", key, {"externalcheckoutid": event["checkout_id"]}, connection)
        if not cart or not cart.remote_id or cart.record_kind != "cart":
            return []
        body = {"ecomOrder": {"externalid": event["order_id"], "source": runner.source}}
        result = runner.client.update("ecomOrders", cart.remote_id, body, key="ecomOrder")
        if result.status == 404:
            return [f"AC cart {cart.remote_id} no longer exists"]
        result.expect(200, 201)
        runner.records.put("checkout", key, cart.remote_id, "order", utcnow())
        return [f"converted AC cart {cart.remote_id}"]

    # -- cancellations and refunds -------------------------------------------------------------------------

    def change(self, runner: ActiveCampaignRunner, event: dict[str, Any]) -> Outcome:
        """Re-send the order with its new status (and, with net revenue, its net `finalAmount`)."""
        store = event.get("store") or "storebridge"
        doc = self.state.get(REVENUE, leg_revenue_key(event)) or {}
        new = record_event(doc, event)
        self.state.put(REVENUE, leg_revenue_key(event), doc, utcnow())
        known_connection = runner.records.get("connection", store)
        if not runner.fixed_connection and not (known_connection and known_connection.remote_id):
            return Outcome(
                DeliveryStatus.SKIPPED,
                "the order was never sent to ActiveCampaign (recorded: if it is sent later, it goes with this state)",
            )
        connection = runner.connection(store)
        order_key = f"{connection}|{event['order_id']}"
        before = self.state.get(KEY_TYPE, order_key) or self._from_v3(runner, event, connection, order_key, doc)
        if not before:
            return Outcome(
                DeliveryStatus.SKIPPED,
                "the order was never sent to ActiveCampaign (recorded: if it is sent later, it goes with this state)",
            )
        status, word, final = self._status(event, doc)
        previous = before["input"]
        amount = order_input.decimal_amount(final, previous.get("currency") or "USD")
        if previous.get("normalizedStatus") == status and previous.get("finalAmount") == amount:
            verb = "already applied" if not new else "changes nothing"
            return Outcome(
                DeliveryStatus.SKIPPED, f"{event['kind']} {verb}: AC order {event['order_id']} stays {status}, {amount}"
            )
        body = {
            **previous,
            "normalizedStatus": status,
            "storeStatus": word,
            "finalAmount": amount,
            "creationSource": self.creation_source,
            "storeModifiedDate": isoformat(event.get("updated_at") or event["occurred_at"]),
        }
        stored = self._upsert(body)
        self._remember(order_key, body, stored)
        was = f"{previous.get('normalizedStatus')} {previous.get('finalAmount')}"
        return Outcome(
            DeliveryStatus.DONE,
            f"upsertOrder {event['order_id']}: AC order {stored.get('id')} {was} -> {status} {amount}",
        )

    def _from_v3(
        self, runner: ActiveCampaignRunner, event: dict[str, Any], connection: str, order_key: str, doc: dict[str, Any]
    ) -> dict[str, Any] | None:
        """An order sent through v3 before the switch (spec §14): its fields from the v3 order, once."""
        known = runner.records.get("order", order_key)
        if not known or not known.remote_id:
            return None
        found = runner.client.get("ecomOrders", known.remote_id, key="ecomOrder")
        if found.status == 404:
            return None
        v3 = (found.expect(200).body or {}).get("ecomOrder") or {}
        currency = str(v3.get("currency") or "USD").upper()
        if doc.get("gross") is None:
            doc["gross"] = int(v3.get("totalPrice") or 0)
            self.state.put(REVENUE, leg_revenue_key(event), doc, utcnow())
        body = order_input._kept(
            {
                "storeOrderId": event["order_id"],
                "legacyConnectionId": order_input.connection_ref(connection),
                "storeCreatedDate": v3.get("externalCreatedDate") or isoformat(event["occurred_at"]),
                "finalAmount": order_input.decimal_amount(int(v3.get("totalPrice") or 0), currency),
                "currency": currency,
                "email": v3.get("email"),
                "orderNumber": v3.get("orderNumber") or event["order_id"],
                "normalizedStatus": "COMPLETED",
                "storeStatus": "paid",
            }
        )
        return {"input": body, "v3": known.remote_id}

    # -- shared --------------------------------------------------------------------------------------------

    def _upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        """One order's upsert: in a `bulkUpsertOrders` with the orders other threads send now (batching.py)."""
        return self.batcher.upsert(self.gql, body) if self.batcher is not None else self.gql.upsert_order(body)

    def _status(self, event: dict[str, Any], doc: dict[str, Any]) -> tuple[str, str, int]:
        """(normalizedStatus, storeStatus, finalAmount in minor units) from the event and what is known."""
        gross = int(doc.get("gross") or 0)
        net = net_total(doc)
        full = bool(doc.get("full")) or (
            net == 0 and bool(doc.get("refunds") or doc.get("listed") or doc.get("refunded_total"))
        )
        source = event.get("source_name") or ""
        given = event.get("store_status")
        if doc.get("cancelled"):
            kind = "order.cancelled"
        elif full:
            kind = "order.refunded"
        else:
            kind = event["kind"]
        status = statuses.normalized(source, kind, given if kind == event["kind"] else None, refunded_in_full=full)
        word = statuses.word(kind, given if kind == event["kind"] else None, refunded_in_full=full)
        final = net if self.net and net is not None else gross
        return status, word, final

    def _remember(
        self,
        order_key: str,
        body: dict[str, Any],
        stored: dict[str, Any],
        also: list[tuple[str, str, dict[str, Any]]] | None = None,
    ) -> None:
        """What AC now holds for the order: the next state re-sends it whole, a replay compares with it.
        `also`: other documents to write in the same transaction (the order's revenue record)."""
        record: dict[str, Any] = {"input": body, "id": stored.get("id")}
        if body.get("email"):  # how an erasure finds this order's state again, without the address itself
            record["email_sha256"] = email_digest(str(body["email"]))
        self.state.put_many([*(also or []), (KEY_TYPE, order_key, record)], utcnow())


def leg_revenue_key(event: dict[str, Any]) -> str:
    """The order's revenue record (deliver.revenue_key, repeated here to avoid an import cycle)."""
    return f"{event.get('store') or 'storebridge'}|{event['order_id']}"
