"""Shopify bulk operations: a shop's orders exported in one asynchronous query instead of pages under the cost
throttle (spec §14, "Backfill reads Shopify in bulk").

`bulkOperationRunQuery` starts the export (one bulk query per app and shop at a time: a second answers
`userErrors`); the operation goes CREATED -> RUNNING -> COMPLETED (or FAILED with an `errorCode`, CANCELED,
EXPIRED), polled here through `node(id:)` with a growing wait. A completed operation has a `url`: a JSONL file
on Shopify's storage, one object a line, where a connection's nodes (an order's line items) are lines of their
own with `__parentId`. Asked with `groupObjects: true`, children come right after their parent, so the file is
read as a stream and each order reassembled as soon as the next order starts: one order in memory at a time.
A failed operation may leave a `partialDataUrl` with what it exported before failing."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests

from bridge.canonical import MAX_LINE_ITEMS
from bridge.errors import PermanentError, RetryableError
from bridge.platforms.shopify import queries
from bridge.platforms.shopify.client import ShopifyAdmin

log = logging.getLogger("bridge.platforms.shopify")

RUN = """
mutation StorebridgeBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
_OPERATION = "id status errorCode objectCount url partialDataUrl query"
POLL = f"""
query StorebridgeBulkPoll($id: ID!) {{
  node(id: $id) {{ ... on BulkOperation {{ {_OPERATION} }} }}
}}
"""
CURRENT = f"""
query StorebridgeBulkCurrent {{
  currentBulkOperation(type: QUERY) {{ {_OPERATION} }}
}}
"""
CALL_COST = 10  # Shopify charges a bulk mutation or poll a few points; the throttle hardly notices
ALIVE = ("CREATED", "RUNNING")
FIRST_WAIT, MAX_WAIT, GROWTH = 1.0, 10.0, 1.5


def orders_query(search: str) -> str:
    """The bulk document for the orders in `search`: the paged document's fields, no `first` (a bulk query
    reads every node), `edges { node }` as the bulk guide writes connections."""
    return (
        f"{{ orders(query: {json.dumps(search)}, sortKey: UPDATED_AT) {{ edges {{ node {{{queries.ORDER_HEAD}\n"
        f"      lineItems {{ edges {{ node {{{queries.LINE_ITEM} }} }} }}{queries.ORDER_TAIL}\n    }} }} }} }}"
    )


def _top_level_names(selection: str) -> list[str]:
    """The field names of a selection text, nested selections and arguments removed."""
    text = selection
    for pattern in (r"\{[^{}]*\}", r"\([^()]*\)"):
        while re.search(pattern, text):
            text = re.sub(pattern, " ", text)
    return text.split()


#: An order's keys in the paged answer's order, so a reassembled order serialises byte for byte the same.
ORDER_KEYS = [*_top_level_names(queries.ORDER_HEAD), "lineItems", *_top_level_names(queries.ORDER_TAIL)]


class BulkFailed(PermanentError):
    """The export ended without a file (FAILED, CANCELED, EXPIRED): says which, why, and what to do."""


class BulkBusy(RetryableError):
    """Another bulk query of this app is running on the shop (Shopify runs one at a time)."""


class BulkExport:
    """Starts, polls and downloads one bulk query."""

    def __init__(
        self,
        admin: ShopifyAdmin,
        *,
        timeout: float,
        sleep: Callable[[float], None],
        on_poll: Callable[[dict[str, Any]], None] = lambda operation: None,
    ) -> None:
        self.admin = admin
        self.timeout = timeout
        self.sleep = sleep
        self.on_poll = on_poll  # the progress line shows a running export (it can take minutes on a big shop)
        self.polls = 0

    def start(self, document: str) -> str:
        """The id of a new operation running `document`; an operation of the same document that is already
        running (started by an interrupted backfill that never saved its id) is adopted, not refused."""
        data = self.admin.query(RUN, {"query": document}, cost=CALL_COST)
        payload = data.get("bulkOperationRunQuery") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, dict)]
        operation = payload.get("bulkOperation") or {}
        if not errors and isinstance(started := operation.get("id"), str):
            log.info("shopify bulk export started", extra={"operation": started})
            return started
        current = self.current()
        if current and current.get("status") in ALIVE:
            if current.get("query") == document:
                return str(current["id"])
            raise BulkBusy(
                f"shopify: another bulk query ({current.get('id')}) is {current.get('status')} on this shop and "
                "Shopify runs one at a time; run the backfill again when it has finished"
            )
        messages = "; ".join(str(e.get("message")) for e in errors) or "no operation in the answer"
        raise PermanentError(f"shopify: bulkOperationRunQuery refused: {messages}"[:500], status=200)

    def current(self) -> dict[str, Any] | None:
        """The app's current (latest) bulk query on the shop."""
        found = self.admin.query(CURRENT, {}, cost=CALL_COST).get("currentBulkOperation")
        return found if isinstance(found, dict) else None

    def status(self, operation_id: str) -> dict[str, Any] | None:
        """The operation as Shopify shows it now (None: no such operation)."""
        found = self.admin.query(POLL, {"id": operation_id}, cost=CALL_COST).get("node")
        return found if isinstance(found, dict) and found.get("status") else None

    def wait(self, operation_id: str) -> Iterator[dict[str, Any]]:
        """Poll until the operation has ended, yielding it after every poll (the caller renews its lease while
        an export runs for minutes); the last one yielded has ended, whatever its final status."""
        wait = FIRST_WAIT
        while True:
            operation = self.status(operation_id)
            self.polls += 1
            if operation is None:
                raise BulkFailed(f"shopify: the bulk export {operation_id} is gone", status=200)
            yield operation
            if not running(operation):
                return
            self.on_poll(operation)
            log.info(
                "shopify bulk export running",
                extra={
                    "operation": operation_id,
                    "status": operation["status"],
                    "objects": operation.get("objectCount"),
                },
            )
            self.sleep(wait)
            wait = min(MAX_WAIT, wait * GROWTH)

    def lines(self, url: str) -> Iterator[dict[str, Any]]:
        """The file's objects, one line at a time. The URL is signed by Shopify's storage: it gets no access
        token (it is not Shopify's API) and no redirect is followed to somewhere else with it."""
        try:
            with requests.get(url, stream=True, timeout=self.timeout, allow_redirects=False) as response:
                if response.status_code != 200:
                    raise RetryableError(
                        f"shopify: downloading the bulk export answered HTTP {response.status_code}",
                        status=response.status_code,
                    )
                for raw in response.iter_lines():
                    if raw.strip():
                        yield json.loads(raw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableError(f"shopify: downloading the bulk export failed ({type(exc).__name__})") from exc


def running(operation: dict[str, Any]) -> bool:
    """True while the operation has not ended."""
    return operation.get("status") in (*ALIVE, "CANCELING")


def failure(operation: dict[str, Any], *, partial_read: int | None) -> BulkFailed:
    """A clear error for an operation that ended without a file."""
    status, code = operation.get("status"), operation.get("errorCode")
    why = f" ({code})" if code else ""
    kept = f"; the {partial_read} complete orders of its partial file were stored" if partial_read else ""
    return BulkFailed(
        f"shopify: the bulk export {operation.get('id')} {status}{why} after {operation.get('objectCount') or 0} "
        f"objects{kept}; run the backfill again to start a new export (narrow it with --since/--until if it "
        "keeps timing out)",
        status=200,
    )


def reassemble(objects: Iterable[dict[str, Any]], *, complete: bool = True) -> Iterator[dict[str, Any]]:
    """Orders with their line items as the paged reader has them (`lineItems {pageInfo, nodes}`, keys in the
    same order), from the file's lines. Children come right after their parent (`groupObjects: true`), so an
    order is whole when the next order starts. `complete=False` (a failed operation's partial file): the last
    order may have lost children, so it is left out."""
    order: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []
    more = False
    for line in objects:
        parent = line.pop("__parentId", None)
        if parent is None:
            if order is not None:
                yield _whole(order, items, more)
            order, items, more = line, [], False
        elif order is not None and parent == order.get("id"):
            if len(items) < MAX_LINE_ITEMS:
                items.append(line)
            else:
                more = True  # capped like the canonical event's items (and the paged reader's)
        else:
            raise PermanentError(f"shopify: a bulk export line whose parent {parent} is not the order before it")
    if order is not None and complete:
        yield _whole(order, items, more)


def _whole(order: dict[str, Any], items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    order["lineItems"] = {"pageInfo": {"hasNextPage": more, "endCursor": None}, "nodes": items}
    ordered = {key: order[key] for key in ORDER_KEYS if key in order}
    ordered.update((k, v) for k, v in order.items() if k not in ordered)
    return ordered
