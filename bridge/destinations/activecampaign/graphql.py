"""ActiveCampaign's eComm GraphQL API (`POST /api/3/ecom/graphql`, spec §14): the documents the bridge sends
and how an answer is read. Same `HttpCaller` as v3, so the same pacer (one 5/s budget per account), the same
attempt records, and 429 / `Retry-After` pause the account for both APIs.

GraphQL answers HTTP 200 even when it refuses: a 200 with `errors` is a failed call. An error that says the
document or an order is invalid (a validation error) is permanent, the delivery dies with AC's message;
any other error (AC's internal ones) is retried like a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from bridge.errors import PermanentError, RetryableError
from bridge.outbound.http import Answer, HttpCaller

PATH = "/ecom/graphql"
ORDER_FIELDS = "id storeOrderId"
UPSERT_ORDER = f"mutation UpsertOrder($order: OrderInput) {{ upsertOrder(order: $order) {{ {ORDER_FIELDS} }} }}"
BULK_UPSERT_ORDERS = (
    f"mutation BulkUpsertOrders($orders: [OrderInput]) {{ bulkUpsertOrders(orders: $orders) {{ {ORDER_FIELDS} }} }}"
)
GET_ORDER = (
    "query GetOrder($connection: Int!, $order: String!) "
    f"{{ getOrder(legacyConnectionId: $connection, storeOrderId: $order) {{ {ORDER_FIELDS} }} }}"
)
#: `extensions.code` values that mean "this input is wrong" (Apollo's and graphql-java's names).
VALIDATION_CODES = frozenset(
    {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "VALIDATION_ERROR", "ValidationError"}
)
#: Words of graphql-core / graphql-js document and variable validation (no code is given for those).
VALIDATION_WORDS = (
    "Syntax Error",
    "Cannot query field",
    "Unknown argument",
    "Unknown type",
    "has invalid value",
    "got invalid value",
    "Expected value of type",
    "is required, but it was not provided",
    "of required type",
    "not defined by type",
)
#: An answer that says a batch was too big (AC documents no limit: words any server would use).
TOO_MANY_WORDS = ("too many", "too large", "maximum", "exceeds", "limit")


def is_validation(error: dict[str, Any]) -> bool:
    """True if a GraphQL error entry refuses the input itself (sending it again cannot help)."""
    code = (error.get("extensions") or {}).get("code") if isinstance(error.get("extensions"), dict) else None
    if code in VALIDATION_CODES:
        return True
    message = str(error.get("message") or "")
    return any(words in message for words in VALIDATION_WORDS)


def messages(errors: list[Any]) -> str:
    """AC's error messages, joined (shown on the dead delivery)."""
    return "; ".join(str(e.get("message") if isinstance(e, dict) else e)[:500] for e in errors)[:2000]


@dataclass(frozen=True)
class BatchAnswer:
    """One order's outcome in a `bulkUpsertOrders` answer: the stored order, or AC's error for it."""

    order: dict[str, Any] | None
    error: dict[str, Any] | None


class GraphQLClient:
    """Sends documents to the eComm GraphQL endpoint of one account."""

    def __init__(self, caller: HttpCaller, base_url: str) -> None:
        self.caller = caller
        self.url = f"{base_url.rstrip('/')}/api/3{PATH}"

    def execute(self, query: str, variables: dict[str, Any], *, dry_run_data: dict[str, Any]) -> Answer:
        """Send one document; a non-200 answer is a failure (4xx permanent, 5xx/429 raised by the caller)."""
        result = self.caller.call(
            "POST", self.url, json_body={"query": query, "variables": variables}, dry_run_answer={"data": dry_run_data}
        )
        return result.expect(200)

    def upsert_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """`upsertOrder`: the stored order (`id`, `storeOrderId`); raises on `errors`."""
        dry = {"upsertOrder": {"id": "dry-run", "storeOrderId": order["storeOrderId"]}}
        result = self.execute(UPSERT_ORDER, {"order": order}, dry_run_data=dry)
        body = result.body if isinstance(result.body, dict) else {}
        errors = body.get("errors")
        if errors:
            raise_for(errors, result)
        stored = (body.get("data") or {}).get("upsertOrder")
        if not isinstance(stored, dict):
            raise RetryableError("ActiveCampaign GraphQL answered without upsertOrder", status=200, body=result.text)
        return stored

    def bulk_upsert_orders(self, orders: list[dict[str, Any]]) -> list[BatchAnswer]:
        """`bulkUpsertOrders`: one answer per order, in order. A refusal of the whole call (not tied to an
        index) raises: `PermanentError` when it is a validation error, else `RetryableError`."""
        dry = {"bulkUpsertOrders": [{"id": "dry-run", "storeOrderId": o["storeOrderId"]} for o in orders]}
        result = self.execute(BULK_UPSERT_ORDERS, {"orders": orders}, dry_run_data=dry)
        body = result.body if isinstance(result.body, dict) else {}
        rows = (body.get("data") or {}).get("bulkUpsertOrders")
        per_order: dict[int, dict[str, Any]] = {}
        whole: list[Any] = []
        for error in body.get("errors") or []:
            path = error.get("path") if isinstance(error, dict) else None
            if isinstance(path, list) and len(path) >= 2 and isinstance(path[1], int):
                per_order.setdefault(path[1], error)
            else:
                whole.append(error)
        if whole or not isinstance(rows, list) or len(rows) != len(orders):
            raise_for(whole or [{"message": "bulkUpsertOrders answered without one result per order"}], result)
        return [
            BatchAnswer(
                row if isinstance(row, dict) else None, per_order.get(i) or (None if row else {"message": "no result"})
            )
            for i, row in enumerate(rows)
        ]

    def get_order(self, connection: str, store_order_id: str) -> dict[str, Any] | None:
        """`getOrder`: the stored order or None (`storebridge check` asks for one that does not exist)."""
        variables = {"connection": int(connection) if connection.isdigit() else 0, "order": store_order_id}
        result = self.execute(GET_ORDER, variables, dry_run_data={"getOrder": None})
        body = result.body if isinstance(result.body, dict) else {}
        if body.get("errors"):
            raise_for(body["errors"], result)
        return (body.get("data") or {}).get("getOrder")


def too_large(error: PermanentError) -> bool:
    """True if a refused batch was refused for its size (then it is split, not dropped)."""
    text = f"{error.message} {error.body or ''}".lower()
    return any(words in text for words in TOO_MANY_WORDS)


def raise_for(errors: list[Any], result: Answer) -> NoReturn:
    """Turn a 200's `errors` into the error the worker acts on."""
    entries = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    text = messages(entries)
    if entries and all(is_validation(e) for e in entries):
        raise PermanentError(f"ActiveCampaign GraphQL refused the order: {text}", status=200, body=result.text[:2000])
    raise RetryableError(f"ActiveCampaign GraphQL error: {text}", status=200, body=result.text[:2000])
