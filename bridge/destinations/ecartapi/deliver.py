"""The EcartAPI delivery: `PUT /api/v2/orders/{id}` with `{"order": {"status": {"status": S}}}`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bridge.errors import PermanentError
from bridge.outbound.http import HttpCaller
from bridge.vocabulary import DeliveryStatus, Outcome

NAME = "ecartapi"


def lane(event: dict[str, Any]) -> str:
    """Status updates for one order run in the order their events arrived."""
    return f"ecart|{event['order_id']}"


class EcartAPIRunner:
    """Sets the EcartAPI order status a canonical event maps to (BRIDGE_ECART_STATUSES)."""

    def __init__(self, caller: HttpCaller, base_url: str, statuses: dict[str, str]) -> None:
        self.caller = caller
        self.base_url = base_url.rstrip("/")
        self.statuses = statuses

    def run(self, event: dict[str, Any]) -> Outcome:
        """PUT the status; a 2xx without `success: true` counts as a failure."""
        status = self.statuses.get(event["kind"])
        if status is None:
            return Outcome(DeliveryStatus.SKIPPED, f"BRIDGE_ECART_STATUSES has no status for {event['kind']}")
        url = f"{self.base_url}/api/v2/orders/{quote(str(event['order_id']), safe='')}"
        body = {"order": {"status": {"status": status}}}
        answer = {"success": True, "order": {"id": event["order_id"], "status": {"status": status}}}
        result = self.caller.call("PUT", url, json_body=body, dry_run_answer=answer).expect(200, 201)
        payload = result.body if isinstance(result.body, dict) else {}
        order = payload.get("order") or payload.get("orders")
        if payload.get("success") is False or order is None:
            raise PermanentError("EcartAPI did not confirm the update", status=result.status, body=result.text[:2000])
        return Outcome(DeliveryStatus.DONE, f"EcartAPI order {event['order_id']} set to {status}")
