"""The ActiveCampaign delivery of an event: ensure the connection and ecomCustomer, then create or update the cart,
or create the order / convert the cart into it. Every create is idempotent through `RemoteRecords`: a create
whose outcome was never seen is looked up before it is sent again, and a 422 duplicate turns into lookup +
update. Replaying an event never makes a second AC record."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from bridge.destinations.activecampaign import payloads
from bridge.destinations.activecampaign.client import ActiveCampaignClient, is_duplicate, new_id
from bridge.destinations.activecampaign.contacts import ContactSync
from bridge.destinations.activecampaign.customers import CustomerDirectory, CustomerRecords
from bridge.destinations.activecampaign.orders_graphql import GraphQLOrders
from bridge.destinations.activecampaign.revenue import Revenue
from bridge.errors import PermanentError
from bridge.timeutil import utcnow
from bridge.vocabulary import DeliveryStatus, Outcome

NAME = "activecampaign"
_CONNECTION_LOCK = threading.Lock()
REVENUE_KINDS = ("order.refunded", "order.cancelled")


def revenue_key(event: dict[str, Any]) -> str:
    """An order's revenue record: by store and order id, known before (or without) any AC connection."""
    return f"{event.get('store') or 'storebridge'}|{event['order_id']}"


class Records(CustomerRecords, Protocol):
    """The slice of `RemoteRecords` this program uses (an in-memory one serves dry-runs)."""

    def mark_creating(self, key_type: str, key: str, now: Any) -> None: ...


def lane(event: dict[str, Any]) -> str:
    """A cart and the order that converts it share one lane, so the cart's create finishes first."""
    store = event.get("store") or ""
    if event.get("checkout_id"):
        return f"ac|{store}|checkout|{event['checkout_id']}"
    return f"ac|{store}|order|{event['order_id']}"


class ActiveCampaignRunner:
    """Runs one AC delivery for a canonical event."""

    def __init__(
        self,
        client: ActiveCampaignClient,
        records: Records,
        *,
        connection_id: str | None,
        source: int,
        contacts: ContactSync | None = None,
        revenue: Revenue | None = None,
        claim_seconds: float = 60.0,
        graphql: GraphQLOrders | None = None,
    ) -> None:
        self.client = client
        self.records = records
        self.fixed_connection = connection_id
        self.source = source
        self.contacts = contacts
        self.revenue = revenue
        self.customers = CustomerDirectory(client, records, claim_seconds=claim_seconds)
        self.graphql = graphql

    def run(self, event: dict[str, Any]) -> Outcome:
        """Deliver `event` (a loaded canonical event: cart.abandoned, order.paid, or with net revenue
        order.refunded / order.cancelled)."""
        if self.graphql is not None and event["kind"] != "cart.abandoned":
            # BRIDGE_AC_ORDER_API=graphql: orders through upsertOrder, one call each (orders_graphql.py).
            if event["kind"] in REVENUE_KINDS:
                return self.graphql.change(self, event)
            buyer = (event.get("email") or "").strip().lower()
            if not buyer:
                return Outcome(DeliveryStatus.SKIPPED, "no email: ActiveCampaign records need a person")
            return self.graphql.paid(self, event, buyer)
        if event["kind"] in REVENUE_KINDS:
            return self.refund(event)
        email = (event.get("email") or "").strip().lower()
        if not email:
            return Outcome(DeliveryStatus.SKIPPED, "no email: ActiveCampaign records need a person")
        contact = self.contacts.run(event, email) if self.contacts else None
        connection = self.connection(event.get("store") or "storebridge")
        customer = self.customer(event, connection, email)
        if event["kind"] == "cart.abandoned":
            result = self.cart(event, connection, customer)
        else:
            result = self.order(event, connection, customer)
        if contact and contact.notes:
            return Outcome(result.status, "; ".join((*contact.notes, result.note)))
        return result

    def refund(self, event: dict[str, Any]) -> Outcome:
        """Bring the AC order's totalPrice to the net total after a refund or cancellation (revenue.py)."""
        if self.revenue is None:
            return Outcome(DeliveryStatus.SKIPPED, "BRIDGE_AC_REVENUE=gross: AC keeps the paid total")
        store = event.get("store") or "storebridge"
        known_connection = self.records.get("connection", store)
        if not self.fixed_connection and not (known_connection and known_connection.remote_id):
            # No connection yet: nothing of this store reached AC, so neither did the order. No call for it.
            return self.revenue.apply(event, revenue_key(event), None)
        connection = self.connection(store)
        order_key = f"{connection}|{event['order_id']}"
        known = self.records.get("order", order_key)
        if known and known.remote_id is None:
            known = self._recover("order", order_key, {"externalid": event["order_id"]}, connection)
        return self.revenue.apply(event, revenue_key(event), known.remote_id if known else None)

    # -- connection and customer ---------------------------------------------------------------------------

    def connection(self, store: str) -> str:
        """BRIDGE_AC_CONNECTION_ID, or the store's connection, found or created once and remembered."""
        if self.fixed_connection:
            return self.fixed_connection
        known = self.records.get("connection", store)
        if known and known.remote_id:
            return str(known.remote_id)
        # One thread of the process looks it up (or creates it); the others, a whole claimed group of orders of
        # a new store among them, wait and then read what it stored instead of each spending AC calls on it.
        with _CONNECTION_LOCK:
            known = self.records.get("connection", store)
            if known and known.remote_id:
                return str(known.remote_id)
            return self._find_or_create_connection(store)

    def _find_or_create_connection(self, store: str) -> str:
        found = self.client.find(
            "connections", {"service": "storebridge", "externalid": store}, answer_key="connections"
        )
        if found is None:
            result = self.client.create("connections", payloads.connection_body(store), key="connection")
            if result.status in (200, 201):
                found = {"id": new_id(result, "connection")}
            elif is_duplicate(result):
                found = self.client.find(
                    "connections", {"service": "storebridge", "externalid": store}, answer_key="connections"
                )
            if found is None:
                result.expect(200, 201)
                raise PermanentError("connection create reported a duplicate that cannot be found")
        self.records.put("connection", store, str(found["id"]), "connection", utcnow())
        return str(found["id"])

    def customer(self, event: dict[str, Any], connection: str, email: str) -> str:
        """The ecomCustomer this event's order or cart belongs to (customers.py: identity, one create)."""
        return self.customers.ensure(event, connection, email)

    # -- carts ---------------------------------------------------------------------------------------------

    def cart(self, event: dict[str, Any], connection: str, customer: str) -> Outcome:
        """Create the abandoned cart, or refresh the one this checkout already has."""
        key = f"{connection}|{event['checkout_id']}"
        body = payloads.cart_body(event, connection_id=connection, customer_id=customer, source=self.source)
        # A refresh of a cart already in AC is "historical" (source 0), so "Abandons cart" fires once (spec §8).
        refresh = payloads.cart_body(event, connection_id=connection, customer_id=customer, source=0, update=True)
        known = self.records.get("checkout", key)
        if known and known.remote_id is None:
            known = self._recover("checkout", key, {"externalcheckoutid": event["checkout_id"]}, connection)
        if known and known.record_kind == "order":
            return Outcome(DeliveryStatus.SKIPPED, f"checkout already converted into AC order {known.remote_id}")
        if known and known.remote_id:
            result = self.client.update("ecomOrders", known.remote_id, refresh, key="ecomOrder")
            if result.status != 404:
                result.expect(200, 201)
                return Outcome(DeliveryStatus.DONE, f"updated AC cart {known.remote_id}")
        self.records.mark_creating("checkout", key, utcnow())
        result = self.client.create("ecomOrders", body, key="ecomOrder")
        if result.status in (200, 201):
            remote_id = new_id(result, "ecomOrder")
            self.records.put("checkout", key, remote_id, "cart", utcnow())
            return Outcome(DeliveryStatus.DONE, f"created AC cart {remote_id}")
        if is_duplicate(result):
            found = self._recover("checkout", key, {"externalcheckoutid": event["checkout_id"]}, connection)
            if found and found.record_kind == "order":
                return Outcome(DeliveryStatus.SKIPPED, f"checkout already converted into AC order {found.remote_id}")
            if found and found.remote_id:
                self.client.update("ecomOrders", found.remote_id, refresh, key="ecomOrder").expect(200, 201)
                return Outcome(DeliveryStatus.DONE, f"updated AC cart {found.remote_id} (found after a duplicate)")
        result.expect(200, 201)
        raise PermanentError("cart create reported a duplicate that cannot be found", status=422, body=result.text)

    # -- orders --------------------------------------------------------------------------------------------

    def order(self, event: dict[str, Any], connection: str, customer: str) -> Outcome:
        """Update the known order, convert the checkout's cart into it, or create it."""
        order_key = f"{connection}|{event['order_id']}"
        checkout_key = f"{connection}|{event['checkout_id']}" if event.get("checkout_id") else None
        body = payloads.order_body(event, connection_id=connection, customer_id=customer, source=self.source)
        # The PUT converting a cart is the purchase (BRIDGE_AC_SOURCE); re-sending an order AC has is not.
        convert = payloads.order_body(
            event, connection_id=connection, customer_id=customer, source=self.source, update=True
        )
        refresh = payloads.order_body(event, connection_id=connection, customer_id=customer, source=0, update=True)
        if self.revenue:
            # Net revenue: what AC gets as the order's total is the paid total less what was refunded since.
            key = revenue_key(event)
            body, convert, refresh = (
                self.revenue.order_body(key, b, event) if "totalPrice" in b["ecomOrder"] else b
                for b in (body, convert, refresh)
            )

        known = self.records.get("order", order_key)
        if known and known.remote_id is None:
            known = self._recover("order", order_key, {"externalid": event["order_id"]}, connection)
        if known and known.remote_id:
            return self._update_order(known.remote_id, refresh, order_key, checkout_key, "updated AC order")

        cart = self.records.get("checkout", checkout_key) if checkout_key else None
        if checkout_key and cart and cart.remote_id is None:
            cart = self._recover("checkout", checkout_key, {"externalcheckoutid": event["checkout_id"]}, connection)
        if cart and cart.remote_id:
            if cart.record_kind == "order":
                return self._update_order(cart.remote_id, refresh, order_key, checkout_key, "updated AC order")
            return self._update_order(cart.remote_id, convert, order_key, checkout_key, "converted AC cart")

        self.records.mark_creating("order", order_key, utcnow())
        result = self.client.create("ecomOrders", body, key="ecomOrder")
        if result.status in (200, 201):
            remote_id = new_id(result, "ecomOrder")
            self._remember_order(remote_id, order_key, checkout_key)
            return Outcome(DeliveryStatus.DONE, f"created AC order {remote_id}")
        if is_duplicate(result):
            found = self._recover("order", order_key, {"externalid": event["order_id"]}, connection)
            if found and found.remote_id:
                return self._update_order(found.remote_id, refresh, order_key, checkout_key, "updated AC order")
        result.expect(200, 201)
        raise PermanentError("order create reported a duplicate that cannot be found", status=422, body=result.text)

    def _update_order(
        self, remote_id: str, body: dict[str, Any], order_key: str, checkout_key: str | None, verb: str
    ) -> Outcome:
        result = self.client.update("ecomOrders", remote_id, body, key="ecomOrder")
        result.expect(200, 201)
        self._remember_order(remote_id, order_key, checkout_key)
        return Outcome(DeliveryStatus.DONE, f"{verb} {remote_id}")

    def _remember_order(self, remote_id: str, order_key: str, checkout_key: str | None) -> None:
        now = utcnow()
        self.records.put("order", order_key, remote_id, "order", now)
        if checkout_key:
            self.records.put("checkout", checkout_key, remote_id, "order", now)
        if self.revenue:
            self.revenue.confirm()

    # -- recovery ------------------------------------------------------------------------------------------

    def _recover(self, key_type: str, key: str, filters: dict[str, str], connection: str) -> Any:
        """Look up a record whose create may or may not have happened; remember it if found."""
        found = self.client.find("ecomOrders", {"connectionid": connection, **filters}, answer_key="ecomOrders")
        if found is None:
            return None
        kind = "order" if found.get("externalid") else "cart"
        self.records.put(key_type, key, str(found["id"]), kind, utcnow())
        return self.records.get(key_type, key)
