"""ActiveCampaign API v3 calls used by the bridge. One method per remote operation; no retries here (the
worker decides), no sleeping (the pacer does)."""

from __future__ import annotations

from typing import Any

from bridge.errors import PermanentError
from bridge.outbound.http import Answer, HttpCaller


def is_duplicate(result: Answer) -> bool:
    """A 422 whose errors say the record exists (AC gives code `duplicate`; some answers only say it in words)."""
    if result.status != 422:
        return False
    errors = (result.body or {}).get("errors") if isinstance(result.body, dict) else None
    if isinstance(errors, list) and any(isinstance(e, dict) and e.get("code") == "duplicate" for e in errors):
        return True
    return "duplicate" in result.text.lower()


def new_id(result: Answer, key: str) -> str:
    """The id of a created or updated record: AC puts it at `<key>.id`, as a string."""
    record = (result.body or {}).get(key) if isinstance(result.body, dict) else None
    if not isinstance(record, dict) or record.get("id") in (None, ""):
        raise PermanentError(f"ActiveCampaign answered without {key}.id", status=result.status, body=result.text[:2000])
    return str(record["id"])


class ActiveCampaignClient:
    """Thin wrapper over `HttpCaller` for the Deep Data endpoints."""

    def __init__(self, caller: HttpCaller, base_url: str) -> None:
        self.caller = caller
        self.api = f"{base_url.rstrip('/')}/api/3"

    def find(self, collection: str, filters: dict[str, str], *, answer_key: str) -> dict[str, Any] | None:
        """The first record of `collection` matching every filter, or None."""
        params = {f"filters[{k}]": v for k, v in filters.items()}
        result = self.caller.call(
            "GET", f"{self.api}/{collection}", params=params, dry_run_answer={answer_key: []}
        ).expect(200)
        rows = (result.body or {}).get(answer_key) or []
        return rows[0] if rows else None

    def create(self, collection: str, body: dict[str, Any], *, key: str) -> Answer:
        """POST a record; the caller inspects 201 / 422 duplicate / other."""
        return self.caller.call(
            "POST", f"{self.api}/{collection}", json_body=body, dry_run_answer={key: {"id": "dry-run"}}
        )

    def update(self, collection: str, remote_id: str, body: dict[str, Any], *, key: str) -> Answer:
        """PUT a (partial) record; the caller inspects 200 / 404 / 422."""
        return self.caller.call(
            "PUT", f"{self.api}/{collection}/{remote_id}", json_body=body, dry_run_answer={key: {"id": remote_id}}
        )

    def get(self, collection: str, remote_id: str, *, key: str) -> Answer:
        """GET one record."""
        return self.caller.call("GET", f"{self.api}/{collection}/{remote_id}", dry_run_answer={key: {"id": remote_id}})
