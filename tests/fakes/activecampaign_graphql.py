"""AC's eComm GraphQL endpoint (`POST /api/3/ecom/graphql`) for the strict fake ActiveCampaign, plugged into
``FakeActiveCampaign`` by :func:`install`: same lock, same `Api-Token` check, same 5/s budget (the fake's
middleware counts every request, whatever the API).

Built from the types AC documents (reference activecampaign-ecartapi.md §12) with graphql-core: every
document is parsed and validated, so an unknown field or a missing required one is an HTTP **200** with
``errors`` (as AC answers), never a 4xx. Served: ``upsertOrder``, ``bulkUpsertOrders`` (one result or one
error per order, the error's ``path`` naming its index), ``bulkUpsertOrdersAsync`` and ``getOrder``.

What an upsert does, as AC says it does:

* the order is stored at once as a Custom Object keyed by (``legacyConnectionId``, ``storeOrderId``);
* the contact (names and phone from ``customerData``, else the shipping, else the billing address) and the
  ecomCustomer (``storeCustomerId``, ``acceptsMarketing``) are created or updated at once;
* the order is copied into v3 Deep Data *later* (``copy_delay`` seconds; 0 = at once): the v3 fake's
  ``ecomOrders`` then hold it, keyed by (``connectionid``, ``externalid``).

How a bought v3 cart turns into the order is not confirmed, so ``cart_conversion`` picks one:
``"ac"``: the copy finds the v3 cart whose ``externalcheckoutid`` is the order's ``cartId`` and converts it
(state recovered); ``"bridge"``: the copy ignores ``cartId`` (a v3 order with the same ``externalid`` is
updated, else a new one is created), so only the integrator's own v3 ``PUT`` converts the cart.
Either way ``purchases`` lists each v3 record that became a real-time order (a *Makes a purchase*), whether
through a v3 create, a v3 ``PUT`` converting a cart, or the copy.

Stricter than documented, on purpose: ``currency`` is required when amounts are given, and each amount must
be exact to the currency's minor unit (19.999 USD, 1.5 JPY are refused), as must be ``quantity`` >= 0.
"""

from __future__ import annotations

import copy
import json
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import request
from graphql import GraphQLError, GraphQLScalarType, build_schema, graphql_sync
from graphql.language import StringValueNode
from werkzeug.wrappers import Response

from bridge import money

from .base import json_response, parse_json_body

if TYPE_CHECKING:
    from .activecampaign import FakeActiveCampaign

PATH = "/api/3/ecom/graphql"
CONVERSIONS = ("ac", "bridge")
DEFAULT_MAX_BATCH = 100

SDL = """
scalar DateTime

enum NormalizedStatus { PENDING COMPLETED ABANDONED RECOVERED WAITING CANCELLED REFUNDED FAILED RETURNED
  PENDING_PAYMENT }
enum CreationSource { REAL_TIME HISTORICAL }
enum DiscountType { ORDER SHIPPING }
enum SmsMarketingState { NOT_SUBSCRIBED PENDING REDACTED SUBSCRIBED UNSUBSCRIBED }
enum SmsOptInLevel { CONFIRMED_OPT_IN SINGLE_OPT_IN UNKNOWN }

input AddressInput { firstName: String lastName: String address1: String address2: String address3: String
  city: String province: String country: String postal: String phone: String company: String email: String }
input DiscountInput { name: String type: DiscountType discountAmount: Float }
input CustomerDataInput { firstName: String lastName: String phone: String company: String
  smsMarketingState: SmsMarketingState smsOptInLevel: SmsOptInLevel smsConsentUpdatedDate: DateTime }
input LineItemInput { legacyConnectionId: Int! storeLineItemId: String productStorePrimaryId: String
  storeBaseProductId: String name: String sku: String category: String quantity: Int priceAmount: Float
  productUrl: String imageUrl: String normalizedOrderStatus: NormalizedStatus lineItemType: String
  fulfillmentStatus: String isOnSale: Boolean brand: String tags: [String] }
input OrderInput { storeOrderId: String! legacyConnectionId: Int! storeCreatedDate: DateTime! finalAmount: Float!
  email: String storeCustomerId: String orderNumber: String cartId: String storeExternalOrderId: String
  creationSource: CreationSource storeModifiedDate: DateTime storeStatus: String normalizedStatus: NormalizedStatus
  shippingMethod: String orderUrl: String isTestOrder: Boolean createdByRecurringPayment: Boolean
  acceptsMarketing: Boolean customerLocale: String salesChannel: String currency: String shippingAmount: Float
  discountAmount: Float paymentMethod: String notes: [String] locationId: String billingAddress: AddressInput
  shippingAddress: AddressInput discounts: [DiscountInput] lineItems: [LineItemInput]
  customerData: CustomerDataInput }

type Address { firstName: String lastName: String address1: String address2: String address3: String
  city: String province: String country: String postal: String phone: String company: String email: String }
type Discount { name: String type: DiscountType discountAmount: Float }
type LineItem { storeLineItemId: String productStorePrimaryId: String storeBaseProductId: String name: String
  sku: String category: String quantity: Int priceAmount: Float productUrl: String imageUrl: String }
type Order { id: ID! storeOrderId: String! legacyConnectionId: Int! storeCreatedDate: DateTime
  storeModifiedDate: DateTime finalAmount: Float email: String storeCustomerId: String orderNumber: String
  cartId: String creationSource: CreationSource storeStatus: String normalizedStatus: NormalizedStatus
  currency: String shippingAmount: Float discountAmount: Float shippingMethod: String orderUrl: String
  acceptsMarketing: Boolean billingAddress: Address shippingAddress: Address discounts: [Discount]
  lineItems: [LineItem] }
type BulkAsyncResponse { recordId: ID }

type Query { getOrder(legacyConnectionId: Int!, storeOrderId: String!): Order }
type Mutation {
  upsertOrder(order: OrderInput): Order
  bulkUpsertOrders(orders: [OrderInput]): [Order]
  bulkUpsertOrdersAsync(orders: [OrderInput]): BulkAsyncResponse
}
"""


def _parse_datetime(value: Any) -> str:
    """An ISO-8601 date-time with an offset, kept as sent (AC's examples carry offsets)."""
    from .activecampaign import _Invalid, parse_iso

    try:
        parse_iso(value)
    except _Invalid as exc:
        raise GraphQLError(exc.detail) from None
    return str(value)


def _parse_literal(node: Any, _variables: Any = None) -> str:
    if not isinstance(node, StringValueNode):
        raise GraphQLError("DateTime must be a string")
    return _parse_datetime(node.value)


def _schema() -> Any:
    schema = build_schema(SDL)
    scalar = schema.type_map["DateTime"]
    assert isinstance(scalar, GraphQLScalarType)
    # graphql-core 3.3 reads coerce_*; older versions parse_* / serialize: set both.
    scalar.parse_value = scalar.coerce_input_value = _parse_datetime  # type: ignore[method-assign,assignment]
    scalar.parse_literal = _parse_literal  # type: ignore[method-assign,assignment]
    scalar.serialize = scalar.coerce_output_value = str  # type: ignore[method-assign,assignment]
    return schema


SCHEMA = _schema()


class Refused(GraphQLError):
    """An order AC refuses after the document itself was valid (a validation error: permanent)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


class GraphQLStore:
    """The Custom Object orders and the behaviour of the endpoint (reset with the fake's other state)."""

    def __init__(self, fake: FakeActiveCampaign) -> None:
        self.fake = fake
        self.cart_conversion = "ac"
        self.copy_delay = 0.05
        self.max_batch = DEFAULT_MAX_BATCH
        self.fail_next: list[dict[str, Any]] = []  # error entries answered (200) instead of the next calls
        self.refuse: dict[str, str] = {}  # storeOrderId -> the validation message AC refuses that order with
        self.reset()

    def reset(self) -> None:
        """Forget every order, pending copy and purchase."""
        self.orders: dict[tuple[str, str], dict[str, Any]] = {}
        self.next_id = 9001
        self.too_large = 0  # bulk calls refused for their size
        self.purchases: list[str] = []  # v3 ids of records that became real-time orders
        self.pending_copies = 0
        self.copied = threading.Condition(self.fake._lock)

    # -- helpers for tests -------------------------------------------------------------------------------------

    def order(self, connection: str | int, store_order_id: str) -> dict[str, Any] | None:
        """The Custom Object order (deep copy) or None."""
        with self.fake._lock:
            found = self.orders.get((str(connection), store_order_id))
            return copy.deepcopy(found) if found else None

    def all_orders(self) -> list[dict[str, Any]]:
        """Every Custom Object order (deep copies), by id."""
        with self.fake._lock:
            return copy.deepcopy(sorted(self.orders.values(), key=lambda o: int(o["id"])))

    def wait_copied(self, timeout: float = 5.0) -> bool:
        """Wait until every upserted order has been copied into v3."""
        with self.copied:
            return self.copied.wait_for(lambda: self.pending_copies == 0, timeout)

    def calls(self) -> list[dict[str, Any]]:
        """The GraphQL requests received, parsed (``query``, ``variables``), in order."""
        return [json.loads(r.body) for r in self.fake.calls("POST", PATH) if r.body]

    # -- the route -----------------------------------------------------------------------------------------

    def serve(self) -> Response:
        ok, data = parse_json_body(request.get_data())
        if not ok or not isinstance(data, dict) or not isinstance(data.get("query"), str):
            return json_response({"errors": [{"message": "Must provide query string."}]}, 400)
        with self.fake._lock:
            if self.fail_next:
                return json_response({"data": None, "errors": [self.fail_next.pop(0)]})
        variables = data.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return json_response({"errors": [{"message": "Variables must be an object."}]}, 400)
        result = graphql_sync(
            SCHEMA, data["query"], root_value=self, variable_values=variables, operation_name=data.get("operationName")
        )
        return json_response(result.formatted)

    # -- resolvers (graphql-core calls root fields as attributes of root_value) -----------------------------------

    def getOrder(self, _info: Any, legacyConnectionId: int, storeOrderId: str) -> dict[str, Any] | None:
        with self.fake._lock:
            found = self.orders.get((str(legacyConnectionId), storeOrderId))
            return copy.deepcopy(found) if found else None

    def upsertOrder(self, _info: Any, order: dict[str, Any] | None = None) -> dict[str, Any]:
        if order is None:
            raise Refused("order is required")
        with self.fake._lock:
            return self._upsert(order)

    def bulkUpsertOrders(self, _info: Any, orders: list[Any] | None = None) -> list[Any]:
        orders = orders or []
        if len(orders) > self.max_batch:
            with self.fake._lock:
                self.too_large += 1
            raise Refused(f"too many orders in one call: {len(orders)} (at most {self.max_batch})")
        results: list[Any] = []
        with self.fake._lock:
            for order in orders:
                try:
                    results.append(self._upsert(order) if order is not None else Refused("order is null"))
                except Refused as exc:
                    results.append(exc)  # graphql-core reports it at this index, the item null
        return results

    def bulkUpsertOrdersAsync(self, info: Any, orders: list[Any] | None = None) -> dict[str, Any]:
        self.bulkUpsertOrders(info, orders)
        with self.fake._lock:
            self.next_id += 1
            return {"recordId": str(self.next_id)}

    # -- behaviour -------------------------------------------------------------------------------------------

    def _upsert(self, order: dict[str, Any]) -> dict[str, Any]:
        connection = str(order["legacyConnectionId"])
        if order["storeOrderId"] in self.refuse:
            raise Refused(self.refuse[order["storeOrderId"]])
        if connection not in self.fake._connections:
            raise Refused(f"legacyConnectionId {connection} does not exist")
        _check_amounts(order)
        email = order.get("email")
        if email is not None and not _looks_like_email(email):
            raise Refused(f"email is not a valid email address: {email!r}")
        key = (connection, order["storeOrderId"])
        stored = self.orders.get(key)
        if stored is None:
            stored = {"id": str(self.next_id), "upserts": 0}
            self.next_id += 1
            self.orders[key] = stored
        # An upsert replaces what it carries and keeps what it leaves out.
        stored.update({k: copy.deepcopy(v) for k, v in order.items() if v is not None})
        stored["upserts"] += 1
        if email:
            self._person(connection, order)
        self.pending_copies += 1
        if self.copy_delay <= 0:
            self._copy(key)
        else:
            timer = threading.Timer(self.copy_delay, self._copy_later, (key,))
            timer.daemon = True
            timer.start()
        return copy.deepcopy(stored)

    def _person(self, connection: str, order: dict[str, Any]) -> None:
        """The contact and the ecomCustomer, made or updated by the upsert itself."""
        data = order.get("customerData") or {}
        shipping = order.get("shippingAddress") or {}
        billing = order.get("billingAddress") or {}
        contact = {"email": order["email"]}
        for key in ("firstName", "lastName", "phone"):
            value = data.get(key) or shipping.get(key) or billing.get(key)
            if value:
                contact[key] = value
        self.fake.contact_book._upsert(contact)
        external = order.get("storeCustomerId") or order["email"]
        for ident in self.fake.customer_ids(connection, ext=external, email=order["email"]):
            customer = self.fake._customers[ident]
            if customer["externalid"] == external or customer["email"].lower() == order["email"].lower():
                self.fake._unindex_customer(customer)
                customer["email"] = order["email"]
                self.fake._index_customer(customer)
                if order.get("acceptsMarketing") is not None:
                    customer["acceptsMarketing"] = "1" if order["acceptsMarketing"] else "0"
                return
        payload: dict[str, Any] = {"connectionid": connection, "externalid": external, "email": order["email"]}
        if order.get("acceptsMarketing") is not None:
            payload["acceptsMarketing"] = "1" if order["acceptsMarketing"] else "0"
        status, body = self.fake._create_customer(payload)
        if status != 201:
            raise Refused(f"customer refused: {body}")

    def _copy_later(self, key: tuple[str, str]) -> None:
        with self.fake._lock:
            self._copy(key)

    def _copy(self, key: tuple[str, str]) -> None:
        """The asynchronous copy of a Custom Object order into a v3 ecomOrder."""
        try:
            order = self.orders[key]
            connection, store_order_id = key
            fake = self.fake
            target = fake._order_by_ext.get((connection, store_order_id))
            if target is None and self.cart_conversion == "ac" and order.get("cartId"):
                target = fake._order_by_chk.get((connection, order["cartId"]))
            customer = next(iter(fake.customer_ids(connection, email=str(order.get("email") or ""))), None)
            fields = _v3_fields(order)
            real_time = order.get("creationSource", "REAL_TIME") == "REAL_TIME"
            if target is None:
                if customer is None:
                    return  # AC copies no order without a person
                fields.update(connectionid=connection, customerid=customer, source=1 if real_time else 0)
                fake._create_order(fields)  # counts the purchase itself
                return
            record = fake._orders[target]
            became_order = record.get("externalid") is None
            fake._unindex(record)
            record.update({k: v for k, v in fields.items() if k not in ("orderProducts", "orderDiscounts")})
            fake._materialise_lines(record, fields)
            if record["state"] == 2:  # STATE_ABANDONED
                record["state"] = 3  # STATE_RECOVERED
            fake._index(record)
            if became_order and real_time:
                self.purchases.append(record["id"])
        finally:
            self.pending_copies -= 1
            self.copied.notify_all()


def _minor(amount: float, currency: str) -> int:
    exact = Decimal(repr(amount))
    units = exact.scaleb(money.exponent(currency))
    if units != units.to_integral_value():
        raise Refused(f"amount {amount} is not exact to the minor unit of {currency}")
    return int(units)


def _check_amounts(order: dict[str, Any]) -> None:
    amounts = [order.get(k) for k in ("finalAmount", "shippingAmount", "discountAmount")]
    amounts += [line.get("priceAmount") for line in order.get("lineItems") or [] if line]
    amounts += [d.get("discountAmount") for d in order.get("discounts") or [] if d]
    given = [a for a in amounts if a is not None]
    currency = order.get("currency")
    if given and not (isinstance(currency, str) and money.is_currency(currency)):
        raise Refused(f"currency is required with amounts and must be an ISO 4217 code, got {currency!r}")
    for amount in given:
        if amount < 0:
            raise Refused(f"amount {amount} is negative")
        _minor(amount, currency)  # type: ignore[arg-type]
    for line in order.get("lineItems") or []:
        if line and line.get("quantity") is not None and line["quantity"] < 0:
            raise Refused("quantity must be >= 0")
        if line and str(line["legacyConnectionId"]) != str(order["legacyConnectionId"]):
            raise Refused("a line item's legacyConnectionId differs from its order's")


def _v3_fields(order: dict[str, Any]) -> dict[str, Any]:
    """The v3 ecomOrder fields the copy fills (minor units, unit prices)."""
    currency = order.get("currency") or "USD"
    products = []
    for i, line in enumerate(order.get("lineItems") or []):
        quantity = line.get("quantity") or 1
        total = _minor(line.get("priceAmount") or 0.0, currency)
        products.append(
            {
                "externalid": line.get("storeBaseProductId") or line.get("productStorePrimaryId") or str(i),
                "name": line.get("name") or "item",
                "price": total // quantity if quantity else total,
                "quantity": line.get("quantity") or 0,
            }
        )
    fields: dict[str, Any] = {
        "externalid": order["storeOrderId"],
        "email": order.get("email"),
        "currency": currency,
        "totalPrice": _minor(order["finalAmount"], currency),
        "externalCreatedDate": order["storeCreatedDate"],
        "orderProducts": products,
    }
    if order.get("orderNumber"):
        fields["orderNumber"] = order["orderNumber"]
    return fields


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.strip().partition("@")
    return bool(local and at and "." in domain and " " not in value.strip())


def install(fake: FakeActiveCampaign) -> GraphQLStore:
    """Add the GraphQL route to `fake`'s Flask app; returns the store (the fake keeps it as ``graphql``)."""
    store = GraphQLStore(fake)
    fake.flask.add_url_rule(PATH, "ecom_graphql", store.serve, methods=["POST"])
    return store
