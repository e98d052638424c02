"""Customer identity at ActiveCampaign (spec §8): which ecomCustomer an order or cart belongs to.

A registered customer is one person per (connection, store customer id); a guest one per (connection,
lower-case email). Whatever the key, the ecomCustomer an order points at carries the email the store sent
with that order, so a customer who changed email keeps getting orders into AC under the new address.

AC documents no uniqueness rule for ecomCustomers (reference ac-integrations.md §3): it may refuse a second
record with the same email, the same externalid, or either. The steps below end right under every rule:

1. remembered: the store customer id's record, if it carries this email; else the email's record;
2. otherwise create it (`POST /ecomCustomers`), after taking the email's claim row in the database, so that
   a burst of first orders from one new customer makes exactly one POST across threads, processes and hosts
   (the others wait for the mapping to appear);
3. a 422 duplicate is looked up by email first (that record carries the address), then by externalid (the
   store customer id's record under its old email), whose email is then updated with `PUT`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, Protocol

from bridge.destinations.activecampaign import payloads
from bridge.destinations.activecampaign.client import ActiveCampaignClient, is_duplicate, new_id
from bridge.errors import PermanentError
from bridge.privacy import email_digest
from bridge.timeutil import utcnow

KEY_TYPE = "customer"
POLL_SECONDS = 0.05


class CustomerRecords(Protocol):
    """The slice of `RemoteRecords` customer identity uses."""

    def get(self, key_type: str, key: str) -> Any: ...

    def put(
        self, key_type: str, key: str, remote_id: str, record_kind: str, now: Any, detail: str | None = None
    ) -> None: ...

    def claim(self, key_type: str, key: str, now: Any, stale_before: Any) -> bool: ...

    def release(self, key_type: str, key: str) -> None: ...

    def forget_remote(self, key_type: str, remote_id: str, keep: str) -> None: ...


def email_key(connection: str, email: str) -> str:
    """A guest's key (and the claim every create of a record with this email takes): the email's digest, so
    the mapping, which outlives every event (spec §16), holds no address."""
    return f"{connection}|sha256:{email_digest(email)}"


def person_key(connection: str, external_id: str) -> str:
    """A registered customer's key: the store's customer id."""
    return f"{connection}|id:{external_id}"


class CustomerDirectory:
    """Finds or creates the ecomCustomer for one order's (store customer id, email) on a connection."""

    def __init__(self, client: ActiveCampaignClient, records: CustomerRecords, *, claim_seconds: float) -> None:
        self.client = client
        self.records = records
        self.claim_seconds = claim_seconds

    def ensure(self, event: dict[str, Any], connection: str, email: str) -> str:
        """The id of an ecomCustomer carrying `email` (lower case) for the event's customer."""
        external_id = _external_id(event)
        known = self._remembered(connection, external_id, email)
        if known is not None:
            return known
        key = email_key(connection, email)
        deadline = time.monotonic() + self.claim_seconds * 2
        while True:
            now = utcnow()
            if self.records.claim(KEY_TYPE, key, now, now - timedelta(seconds=self.claim_seconds)):
                return self._create(event, connection, external_id, email)
            # Another delivery is creating this person right now: wait for its answer instead of racing it.
            time.sleep(POLL_SECONDS)
            known = self._remembered(connection, external_id, email)
            if known is not None:
                return known
            if time.monotonic() > deadline:  # never reached unless the claim keeps being renewed
                raise PermanentError("ecomCustomer for this email stayed claimed by another worker")

    # -- steps ---------------------------------------------------------------------------------------------

    def _remembered(self, connection: str, external_id: str | None, email: str) -> str | None:
        if external_id:
            person = self.records.get(KEY_TYPE, person_key(connection, external_id))
            if person and person.remote_id and person.detail in (None, email_digest(email)):
                return str(person.remote_id)
        guest = self.records.get(KEY_TYPE, email_key(connection, email))
        if guest and guest.remote_id:
            if external_id:  # this person now goes by this email (and its record)
                self._remember(connection, external_id, email, str(guest.remote_id))
            return str(guest.remote_id)
        return None

    def _create(self, event: dict[str, Any], connection: str, external_id: str | None, email: str) -> str:
        """Holding the email's claim: look up (if a previous holder may have created it), else POST."""
        body = payloads.customer_body(event, connection_id=connection, email=email)
        try:
            result = self.client.create("ecomCustomers", body, key="ecomCustomer")
        except BaseException:
            # Outcome unknown (timeout, 5xx, a pause before sending): let the next one try at once. If this
            # create did happen, the next POST gets a 422 duplicate and finds it; only a killed worker leaves
            # its claim behind, taken over once stale.
            self.records.release(KEY_TYPE, email_key(connection, email))
            raise
        if result.status in (200, 201):
            remote_id = new_id(result, "ecomCustomer")
        elif is_duplicate(result):
            remote_id = self._resolve_duplicate(connection, external_id, email, result)
        else:
            self.records.release(KEY_TYPE, email_key(connection, email))
            result.expect(200, 201)
            raise AssertionError("unreachable")
        self._remember(connection, external_id, email, remote_id)
        return remote_id

    def _resolve_duplicate(self, connection: str, external_id: str | None, email: str, result: Any) -> str:
        """AC already has the person: by email (use it), or by store customer id under another email (update
        that record's email, since AC will not take a second record with the same externalid)."""
        found = self.client.find(
            "ecomCustomers", {"email": email, "connectionid": connection}, answer_key="ecomCustomers"
        )
        if found is not None:
            return str(found["id"])
        if external_id:
            found = self.client.find(
                "ecomCustomers", {"externalid": external_id, "connectionid": connection}, answer_key="ecomCustomers"
            )
            if found is not None:
                remote_id = str(found["id"])
                update = {"ecomCustomer": {"email": email}}
                self.client.update("ecomCustomers", remote_id, update, key="ecomCustomer").expect(200, 201)
                # The record's other emails are no longer its own: forget the keys that say they are.
                self.records.forget_remote(KEY_TYPE, remote_id, keep=email_key(connection, email))
                return remote_id
        self.records.release(KEY_TYPE, email_key(connection, email))
        raise PermanentError("ecomCustomer duplicate that cannot be found", status=422, body=result.text)

    def _remember(self, connection: str, external_id: str | None, email: str, remote_id: str) -> None:
        now = utcnow()
        digest = email_digest(email)  # the record's email, as a digest: enough to tell whether it changed
        self.records.put(KEY_TYPE, email_key(connection, email), remote_id, "customer", now, detail=digest)
        if external_id:
            self.records.put(KEY_TYPE, person_key(connection, external_id), remote_id, "customer", now, detail=digest)


def _external_id(event: dict[str, Any]) -> str | None:
    value = (event.get("customer") or {}).get("external_id")
    return str(value) if value not in (None, "") else None
