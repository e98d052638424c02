"""Shopify's calculated query cost, worked out from the query document the way the GraphQL Admin API does.

Shopify's rules (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): a scalar or enum costs 0, an
object 1, a connection 2 plus `first` times the cost of one node; a plain list asked for with `first` costs
`first` times one item. *Requested* cost is that worst case; *actual* cost counts what came back. The fake
works both out from the document itself, so a client that underestimates its own query is refused with
`MAX_COST_EXCEEDED` here as it would be by Shopify.

Only what a read query needs is parsed: one operation, fields, arguments, nested selections and inline
fragments; `edges`, `node`, `nodes` and `pageInfo` are a connection's wrappers and cost nothing themselves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(\.\.\.)|([A-Za-z_][A-Za-z0-9_]*)|(\$[A-Za-z_][A-Za-z0-9_]*)|(-?\d+)|("(?:[^"\\]|\\.)*")|(.))'
)


class QueryError(ValueError):
    """The document is not a query this parser understands."""


@dataclass
class Field:
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    selection: list[Field] = field(default_factory=list)


def _tokens(document: str) -> list[str]:
    out: list[str] = []
    text = re.sub(r"#[^\n]*", "", document)
    for match in _TOKEN.finditer(text):
        token = next((g for g in match.groups() if g is not None), None)
        if token is not None and token.strip() and token != ",":
            out.append(token)
    return out


class _Parser:
    def __init__(self, tokens: list[str], variables: dict[str, Any]) -> None:
        self.tokens, self.at, self.variables = tokens, 0, variables

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise QueryError(f"expected {expected or 'a token'}, found {token}")
        self.at += 1
        return token

    def operation(self) -> list[Field]:
        if self.peek() in ("query", "mutation"):
            self.take()
            if self.peek() not in ("(", "{"):
                self.take()  # the operation's name
            if self.peek() == "(":
                self._skip_balanced("(", ")")
        return self.selection()

    def _skip_balanced(self, opening: str, closing: str) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += token == opening
            depth -= token == closing
            if depth == 0:
                return

    def selection(self) -> list[Field]:
        self.take("{")
        fields: list[Field] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                self.take("on")
                self.take()  # the type condition
                fields.append(Field("...", selection=self.selection()))
                continue
            name = self.take()
            if self.peek() == ":":  # an alias
                self.take()
                name = self.take()
            args = self.arguments() if self.peek() == "(" else {}
            inner = self.selection() if self.peek() == "{" else []
            fields.append(Field(name, args, inner))
        self.take("}")
        return fields

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args: dict[str, Any] = {}
        while self.peek() != ")":
            name = self.take()
            self.take(":")
            token = self.take()
            if token.startswith("$"):
                args[name] = self.variables.get(token[1:])
            elif re.fullmatch(r"-?\d+", token):
                args[name] = int(token)
            elif token in ("true", "false"):
                args[name] = token == "true"
            elif token.startswith('"'):
                args[name] = json.loads(token)  # a GraphQL string literal is a JSON one for what the bridge sends
            elif token in ("[", "{"):
                self.at -= 1
                self._skip_balanced(token, "]" if token == "[" else "}")
                args[name] = None
            else:
                args[name] = token.strip('"')
        self.take(")")
        return args


def parse(document: str, variables: dict[str, Any] | None = None) -> list[Field]:
    """The root selection of a query document, with variables substituted into arguments."""
    parser = _Parser(_tokens(document), variables or {})
    root = parser.operation()
    if parser.peek() is not None:
        raise QueryError("one operation only")
    return root


def _count(args: dict[str, Any]) -> int | None:
    value = args.get("first", args.get("last"))
    return value if isinstance(value, int) else None


def _is_connection(item: Field) -> bool:
    return any(child.name in ("edges", "nodes") for child in item.selection)


def _node_selection(item: Field) -> list[Field]:
    """The fields asked of each node of a connection (under `nodes`, or `edges { node }`)."""
    out: list[Field] = []
    for child in item.selection:
        if child.name == "nodes":
            out.extend(child.selection)
        elif child.name == "edges":
            for grandchild in child.selection:
                if grandchild.name == "node":
                    out.extend(grandchild.selection)
    return out


def _selection_cost(selection: list[Field]) -> int:
    fragments = [f for f in selection if f.name == "..."]
    plain = sum(requested_field_cost(f) for f in selection if f.name != "...")
    return plain + max((_selection_cost(f.selection) for f in fragments), default=0)


def requested_field_cost(item: Field) -> int:
    """The worst-case cost of one field."""
    if not item.selection or item.name in ("pageInfo", "cursor"):
        return 0
    count = _count(item.args)
    if _is_connection(item):
        return 2 + (count or 0) * (1 + _selection_cost(_node_selection(item)))
    one = 1 + _selection_cost(item.selection)
    return one * count if count is not None else one


def requested_cost(document: str, variables: dict[str, Any] | None = None) -> int:
    """Shopify's `requestedQueryCost` of a query document."""
    return _selection_cost(parse(document, variables))


def _actual_selection(selection: list[Field], value: Any) -> int:
    if not isinstance(value, dict):
        return 0
    total = 0
    for item in selection:
        if item.name == "...":
            total += _actual_selection(item.selection, value)
        else:
            total += _actual_field(item, value.get(item.name))
    return total


def _actual_field(item: Field, value: Any) -> int:
    if not item.selection or item.name in ("pageInfo", "cursor") or value is None:
        return 0
    if _is_connection(item):
        nodes = value.get("nodes") if isinstance(value, dict) else None
        if nodes is None and isinstance(value, dict):
            nodes = [e.get("node") for e in value.get("edges") or [] if isinstance(e, dict)]
        inner = _node_selection(item)
        return 2 + sum(1 + _actual_selection(inner, n) for n in nodes or [])
    if isinstance(value, list):
        return sum(1 + _actual_selection(item.selection, v) for v in value)
    return 1 + _actual_selection(item.selection, value)


def actual_cost(document: str, variables: dict[str, Any] | None, data: dict[str, Any]) -> int:
    """Shopify's `actualQueryCost`: the same rules over what the answer holds."""
    return _actual_selection(parse(document, variables), data)


def _project_selection(selection: list[Field], value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for item in selection:
        if item.name == "...":
            out.update(_project_selection(item.selection, value))
        elif item.name in value:
            out[item.name] = _project_field(item, value[item.name])
    return out


def _project_field(item: Field, value: Any) -> Any:
    if not item.selection or value is None:
        return value
    count = _count(item.args)
    if isinstance(value, list):
        return [_project_selection(item.selection, v) for v in value[:count]]
    if _is_connection(item) and isinstance(value, dict) and isinstance(value.get("nodes"), list):
        value = {**value, "nodes": value["nodes"][:count]}
    return _project_selection(item.selection, value)


def project(document: str, variables: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """What a GraphQL server answers: only the fields the document selected (a field absent from the stored
    object stays absent, as a field the fixture did not capture)."""
    return _project_selection(parse(document, variables), data)
