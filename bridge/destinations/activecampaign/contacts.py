"""The AC contact behind an order or cart: `POST /api/3/contact/sync` with the name and phone the store has, and
the buyer's marketing consent as a subscription to `BRIDGE_AC_LIST_ID` (spec §9).

Calls cost a fifth of a second each, so the bridge remembers (in `RemoteState`, per email digest) what it
last synced: unchanged details cost no call, and a contact whose list status is known (subscribed, or
unsubscribed by the person) is never asked again. The list status is read before it is written: a contact
who unsubscribed (status 2) is never re-subscribed, and a buyer who did not accept marketing is never
subscribed at all (nor unsubscribed: that is the person's business, not the store's).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from bridge.causes import http_cause
from bridge.destinations.activecampaign.client import ActiveCampaignClient, new_id
from bridge.destinations.activecampaign.state import StateStore
from bridge.outbound.http import Answer
from bridge.privacy import email_digest
from bridge.redaction import without_emails
from bridge.timeutil import utcnow

log = logging.getLogger("bridge.delivery")
SUBSCRIBED, UNSUBSCRIBED = "1", "2"
KEY_TYPE = "contact"


def contact_fields(event: dict[str, Any]) -> dict[str, str]:
    """`firstName`, `lastName`, `phone` the event knows (never an empty value: what AC has stays)."""
    customer = event.get("customer") or {}
    found = {
        "firstName": customer.get("first_name"),
        "lastName": customer.get("last_name"),
        "phone": customer.get("phone"),
    }
    return {k: v.strip() for k, v in found.items() if isinstance(v, str) and v.strip()}


def fingerprints(fields: dict[str, str]) -> dict[str, str]:
    """A short digest per synced field (the details themselves stay in the events, not here)."""
    return {k: hashlib.sha256(json.dumps([k, v]).encode()).hexdigest()[:16] for k, v in fields.items()}


@dataclass(frozen=True)
class ContactOutcome:
    """What the contact step did, for the delivery's note."""

    contact_id: str | None
    notes: tuple[str, ...] = ()


class ContactSync:
    """Runs the contact step of one AC delivery, before the ecomCustomer and the order or cart."""

    def __init__(self, client: ActiveCampaignClient, state: StateStore, *, sync: bool, list_id: str | None) -> None:
        self.client = client
        self.state = state
        self.sync = sync
        self.list_id = list_id

    def run(self, event: dict[str, Any], email: str) -> ContactOutcome:
        """Sync the contact and its list subscription if anything changed since the last recorded sync."""
        if not self.sync and not self.list_id:
            return ContactOutcome(None)
        consent = (event.get("customer") or {}).get("accepts_marketing")
        fields = contact_fields(event) if self.sync else {}
        known = self.state.get(KEY_TYPE, email_digest(email)) or {}
        contact_id = known.get("contact_id")
        synced = known.get("fields") or {}
        # Only a value AC has not had from the bridge is news: an event that lacks a field changes nothing.
        changed = {k: v for k, v in fingerprints(fields).items() if synced.get(k) != v}
        wants_list = bool(self.list_id) and consent is True
        list_status = known.get("list_status") if known.get("list_id") == self.list_id else None
        need_list = wants_list and list_status not in (SUBSCRIBED, UNSUBSCRIBED)
        need_sync = bool(changed) or (need_list and not contact_id)
        if not need_sync and not need_list:
            return ContactOutcome(contact_id)

        notes: list[str] = []
        record = {**known, "list_id": self.list_id, "list_status": list_status}
        if need_sync:
            result = self._sync_call(email, fields)
            if result.status not in (200, 201):
                # A contact AC refuses (a phone it dislikes, say) must not cost the order: say so and go on.
                return ContactOutcome(contact_id, (f"contact not synced: {http_cause(result.status, result.text)}",))
            contact_id = new_id(result, "contact")
            record.update(contact_id=contact_id, fields={**synced, **changed})
            notes.append(f"contact {contact_id} synced")
            # Saved at once: if a later call of this delivery must be retried, the sync is not sent again.
            self.state.put(KEY_TYPE, email_digest(email), record, utcnow())
        if need_list and contact_id:
            status, note = self._subscribe(contact_id)
            record["list_status"] = status
            notes.append(note)
            self.state.put(KEY_TYPE, email_digest(email), record, utcnow())
        return ContactOutcome(contact_id, tuple(notes))

    def subscribe_only(self, event: dict[str, Any], email: str) -> list[str]:
        """After a GraphQL order (which made the contact itself): the consent list's calls only, the first time
        a consenting buyer is seen (finding the contact's id, reading its status, subscribing). Notes."""
        if not self.list_id or (event.get("customer") or {}).get("accepts_marketing") is not True:
            return []
        known = self.state.get(KEY_TYPE, email_digest(email)) or {}
        if known.get("list_id") == self.list_id and known.get("list_status") in (SUBSCRIBED, UNSUBSCRIBED):
            return []
        contact_id = known.get("contact_id") or self._find_id(email)
        if contact_id is None:
            return [f"contact not found yet: list {self.list_id} subscription left for the next order"]
        status, note = self._subscribe(contact_id)
        record = {**known, "contact_id": contact_id, "list_id": self.list_id, "list_status": status}
        self.state.put(KEY_TYPE, email_digest(email), record, utcnow())
        return [note]

    def _find_id(self, email: str) -> str | None:
        result = self.client.caller.call(
            "GET",
            f"{self.client.api}/contacts",
            params={"email": email},
            dry_run_answer={"contacts": [{"id": "dry-run"}]},
        )
        rows = (result.expect(200).body or {}).get("contacts") or []
        return str(rows[0]["id"]) if rows and isinstance(rows[0], dict) and rows[0].get("id") else None

    # -- calls ---------------------------------------------------------------------------------------------

    def _sync_call(self, email: str, fields: dict[str, str]) -> Answer:
        return self.client.caller.call(
            "POST",
            f"{self.client.api}/contact/sync",
            json_body={"contact": {"email": email, **fields}},
            dry_run_answer={"contact": {"id": "dry-run", "email": email}},
        )

    def _subscribe(self, contact_id: str) -> tuple[str | None, str]:
        """Read the contact's status on the list; subscribe only if it has none. Returns (status, note)."""
        assert self.list_id is not None
        current = self.list_status(contact_id)
        if current == UNSUBSCRIBED:
            return UNSUBSCRIBED, f"contact unsubscribed from list {self.list_id}: not re-subscribed"
        if current == SUBSCRIBED:
            return SUBSCRIBED, f"contact already on list {self.list_id}"
        result = self.client.caller.call(
            "POST",
            f"{self.client.api}/contactLists",
            json_body={"contactList": {"list": _ref(self.list_id), "contact": _ref(contact_id), "status": 1}},
            dry_run_answer={"contactList": {"list": self.list_id, "contact": contact_id, "status": "1"}},
        )
        if result.status not in (200, 201):
            # An unknown list (422) is a setting to fix (`bridge check` says so); the order still goes.
            log.warning(
                "list subscription refused",
                extra={
                    "destination": "activecampaign",
                    "list_id": self.list_id,
                    "cause": without_emails(http_cause(result.status, result.text)),
                },
            )
            return None, f"list {self.list_id} subscription refused: {http_cause(result.status, result.text)}"
        return SUBSCRIBED, f"subscribed to list {self.list_id}"

    def list_status(self, contact_id: str) -> str | None:
        """The contact's status on `BRIDGE_AC_LIST_ID` ("1", "2", …) or None if it is not on that list."""
        result = self.client.caller.call(
            "GET", f"{self.client.api}/contacts/{contact_id}/contactLists", dry_run_answer={"contactLists": []}
        )
        if result.status == 404:
            return None
        rows = (result.expect(200).body or {}).get("contactLists") or []
        for row in rows:
            if isinstance(row, dict) and str(row.get("list")) == self.list_id:
                return str(row.get("status"))
        return None


def _ref(value: str) -> int | str:
    """AC ids as the integers its examples send (a dry-run's made-up id stays a string)."""
    return int(value) if value.isdigit() else value
