"""Shopify's bulk operations and ``ordersCount`` in the strict Admin API fake (tests/fakes/shopify_admin.py).

``bulkOperationRunQuery(query:, groupObjects:)`` validates the bulk document as Shopify does: it must parse,
its one root field must be a connection (``edges { node }`` or ``nodes``), not ``node``/``nodes``; at most five
connections, nested at most two deep. One bulk query at a time: a second while one is CREATED or RUNNING is
answered with ``userErrors`` (Shopify's message, code ``OPERATION_IN_PROGRESS``). The orders are exported when
the operation is created; each poll (``node(id:)`` or ``currentBulkOperation``) moves it on: CREATED, then
RUNNING for :attr:`running_polls` polls, then COMPLETED with ``url``: a JSONL file served by this same server
under a signed path (no access token: a client that sends it to the storage host is refused). A connection's
nodes are lines of their own with ``__parentId``; with ``groupObjects: true`` right after their parent, without
it (the default since 2026-01) after every parent. :meth:`fail_next` makes the next operation FAIL with an
``errorCode``, optionally with a ``partialDataUrl`` holding its first lines (which may cut an order's children).
``objectCount`` is an UnsignedInt64, a string in JSON, as Shopify sends it."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from typing import TYPE_CHECKING, Any

from flask import Response
from werkzeug.wrappers import Request

from . import graphql_cost
from .base import json_response

if TYPE_CHECKING:
    from .shopify_admin import FakeShopifyAdmin

FIELDS = ("bulkOperationRunQuery", "currentBulkOperation", "ordersCount")
RESULTS = "/bulk-results/"
PREFIX = "gid://shopify/BulkOperation/"
BUSY = "A bulk query operation for this app and shop is already in progress: {id}."


def _user_error(message: str, code: str) -> dict[str, Any]:
    return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message, "code": code}]}


def _connections(selection: list[graphql_cost.Field], depth: int = 1) -> list[int]:
    """The nesting depth of every connection under `selection`."""
    found: list[int] = []
    for item in selection:
        if graphql_cost._is_connection(item):
            found.append(depth)
            found += _connections(graphql_cost._node_selection(item), depth + 1)
        else:
            found += _connections(item.selection, depth)
    return found


class BulkOperations:
    """The bulk query operations of one fake shop (one app)."""

    def __init__(self, admin: FakeShopifyAdmin) -> None:
        self.admin = admin
        self.running_polls = 2
        self._secret = secrets.token_hex(16)
        self._lock = threading.Lock()
        self.reset()
        admin.flask.add_url_rule(f"{RESULTS}<name>", "bulk_results", self._download, methods=["GET"])

    def reset(self) -> None:
        """Forget every operation and file."""
        self.operations: dict[str, dict[str, Any]] = {}
        self._files: dict[str, list[bytes]] = {}
        self._current: str | None = None
        self._failure: tuple[str, int | None] | None = None
        self.downloads = 0
        self.leaked_token = 0  # downloads that carried the Admin API token (refused)

    def fail_next(self, error_code: str = "TIMEOUT", *, partial_lines: int | None = None) -> None:
        """The next operation ends FAILED with `error_code`; with a partial file of its first lines if given."""
        self._failure = (error_code, partial_lines)

    def cancel(self, operation_id: str) -> None:
        """The shop (or another tool) cancels the operation."""
        with self._lock:
            self.operations[operation_id].update(status="CANCELED", url=None)

    def expire(self, operation_id: str) -> None:
        """Seven days later: the operation's file is gone."""
        with self._lock:
            self.operations[operation_id].update(status="EXPIRED", url=None)
            self._files.pop(operation_id.rsplit("/", 1)[-1], None)

    @staticmethod
    def owns(gid: Any) -> bool:
        """True for a BulkOperation id."""
        return isinstance(gid, str) and gid.startswith(PREFIX)

    def answer(self, field: graphql_cost.Field) -> Any:
        """The value of one root field (the caller projects it onto the selection)."""
        if field.name == "ordersCount":
            count, limit = len(self.admin.matching("orders", field.args.get("query"))), field.args.get("limit", 10000)
            if isinstance(limit, int) and count > limit:
                return {"count": limit, "precision": "AT_LEAST"}
            return {"count": count, "precision": "EXACT"}
        with self._lock:
            if field.name == "bulkOperationRunQuery":
                return self._run(field.args)
            gid = self._current if field.name == "currentBulkOperation" else field.args.get("id")
            operation = self.operations.get(gid or "")
            return None if operation is None else self._poll(operation)

    # ------------------------------------------------------------------ operations
    def _run(self, args: dict[str, Any]) -> dict[str, Any]:
        current = self.operations.get(self._current or "")
        if current is not None and current["status"] in ("CREATED", "RUNNING"):
            return _user_error(BUSY.format(id=current["id"]), "OPERATION_IN_PROGRESS")
        document = args.get("query")
        if not isinstance(document, str):
            return _user_error("query is required", "INVALID")
        try:
            root = graphql_cost.parse(document)
        except graphql_cost.QueryError as exc:
            return _user_error(f"Invalid bulk query: {exc}", "INVALID")
        problem = self._invalid(root)
        if problem:
            return _user_error(problem, "INVALID")
        number = len(self.operations) + 1
        gid = f"{PREFIX}{number}"
        lines = self._export(root[0], group=args.get("groupObjects") is True)
        self._files[str(number)] = lines
        self.operations[gid] = {
            "id": gid, "status": "CREATED", "errorCode": None, "objectCount": "0", "url": None,
            "partialDataUrl": None, "query": document, "polls": 0, "lines": len(lines), "failure": self._failure,
        }  # fmt: skip
        self._failure, self._current = None, gid
        return {"bulkOperation": {"id": gid, "status": "CREATED"}, "userErrors": []}

    @staticmethod
    def _invalid(root: list[graphql_cost.Field]) -> str | None:
        if len(root) != 1:
            return "Bulk queries must have exactly one top-level field."
        if root[0].name in ("node", "nodes"):
            return "Bulk queries cannot contain a top level `node` or `nodes` field."
        if not graphql_cost._is_connection(root[0]):
            return "Bulk queries must contain at least one connection."
        if root[0].name != "orders":
            return f"This fake exports orders only, not {root[0].name}."
        depths = _connections(root)
        if len(depths) > 5:
            return "Bulk queries cannot contain more than 5 connections."
        if max(depths) > 2:
            return "Bulk queries cannot contain connections with a nesting depth greater than 2."
        return None

    def _export(self, root: graphql_cost.Field, *, group: bool) -> list[bytes]:
        selection = graphql_cost._node_selection(root)
        plain = [f for f in selection if not graphql_cost._is_connection(f)]
        children_of = [f for f in selection if graphql_cost._is_connection(f)]
        parents: list[bytes] = []
        later: list[bytes] = []
        for node in self.admin.matching("orders", root.args.get("query")):
            parents.append(_line(graphql_cost._project_selection(plain, node)))
            for connection in children_of:
                inner = graphql_cost._node_selection(connection)
                for child in (node.get(connection.name) or {}).get("nodes") or []:
                    line = _line({**graphql_cost._project_selection(inner, child), "__parentId": node["id"]})
                    (parents if group else later).append(line)
        return parents + later

    def _poll(self, operation: dict[str, Any]) -> dict[str, Any]:
        operation["polls"] += 1
        number = operation["id"].rsplit("/", 1)[-1]
        if operation["status"] in ("CREATED", "RUNNING"):
            if operation["polls"] <= self.running_polls:
                operation["status"] = "RUNNING"
                operation["objectCount"] = str(operation["lines"] * operation["polls"] // (self.running_polls + 1))
            elif operation["failure"] is not None:
                code, partial = operation["failure"]
                operation.update(status="FAILED", errorCode=code, objectCount=str(partial or 0))
                if partial is not None:
                    self._files[f"{number}-partial"] = self._files[number][:partial]
                    operation["partialDataUrl"] = self._signed(f"{number}-partial")
            else:
                operation.update(status="COMPLETED", objectCount=str(operation["lines"]))
                operation["url"] = self._signed(number) if operation["lines"] else None
        return {k: v for k, v in operation.items() if k not in ("polls", "lines", "failure")}

    # ------------------------------------------------------------------ the files
    def _signature(self, name: str) -> str:
        return hmac.new(self._secret.encode(), name.encode(), hashlib.sha256).hexdigest()

    def _signed(self, name: str) -> str:
        return f"{self.admin.url}{RESULTS}{name}?signature={self._signature(name)}"

    def check_download(self, req: Request) -> Response | None:
        """Refuse a download with a wrong signature, or one that carries the Admin API token."""
        if req.headers.get("X-Shopify-Access-Token"):
            self.leaked_token += 1
            return json_response({"error": "the Admin API token was sent to the storage host"}, 400)
        name = req.path[len(RESULTS) :]
        if not hmac.compare_digest(req.args.get("signature", ""), self._signature(name)):
            return Response("<Error><Code>AccessDenied</Code></Error>", 403, mimetype="application/xml")
        return None

    def _download(self, name: str) -> Response:
        lines = self._files.get(name)
        if lines is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", 404, mimetype="application/xml")
        self.downloads += 1
        return Response(iter(lines), 200, mimetype="application/jsonl")


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"
