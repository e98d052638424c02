"""A GraphQL call in a few words for the dashboard and `storebridge events show` (spec §14): the operation,
the orders it carried, and each order's outcome, read from the recorded request and response excerpts (which
may be cut short: what cannot be read is left out, never guessed)."""

from __future__ import annotations

import json
import re
from typing import Any

_OPERATION = re.compile(r"\b(upsertOrder|bulkUpsertOrders|bulkUpsertOrdersAsync|getOrder|searchOrder)\b")
_ORDER_ID = re.compile(r'"storeOrderId":\s*"((?:[^"\\]|\\.)*)"')
SHOWN_IDS = 10


def is_graphql(url: str | None) -> bool:
    """True for a call to AC's eComm GraphQL endpoint."""
    return bool(url) and str(url).split("?")[0].endswith("/ecom/graphql")


def summary(url: str | None, request: str | None, response: str | None) -> str | None:
    """E.g. `upsertOrder 1001: ok` or `bulkUpsertOrders 3 orders (1, 2, 3): 2 ok, 1 refused (2: email …)`;
    None for a call that is not a GraphQL one."""
    if not is_graphql(url):
        return None
    found = _OPERATION.search(request or "")
    operation = found.group(1) if found else "GraphQL call"
    ids = _ORDER_ID.findall(request or "")
    if operation == "getOrder":
        ids = re.findall(r'"order":\s*"((?:[^"\\]|\\.)*)"', request or "")[:1]
    shown = ", ".join(ids[:SHOWN_IDS]) + (", …" if len(ids) > SHOWN_IDS else "")
    head = f"{operation} {len(ids)} orders ({shown})" if len(ids) > 1 else f"{operation} {shown}".rstrip()
    return f"{head}: {_outcome(response, len(ids))}"


def _outcome(response: str | None, count: int) -> str:
    try:
        body: Any = json.loads(response or "")
    except ValueError:
        return "answer not readable" if response else "no answer"
    if not isinstance(body, dict):
        return "answer not readable"
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    whole = [e for e in errors if not (isinstance(e.get("path"), list) and len(e["path"]) > 1)]
    if whole:
        return "refused: " + "; ".join(str(e.get("message"))[:120] for e in whole[:3])
    if count <= 1:
        return "refused: " + str(errors[0].get("message"))[:120] if errors else "ok"
    refused = [f"#{e['path'][1]}: {str(e.get('message'))[:80]}" for e in errors]
    return f"{count - len(refused)} ok, {len(refused)} refused" + (f" ({'; '.join(refused[:3])})" if refused else "")
