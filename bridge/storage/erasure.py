"""Erasure and export on request (spec §16): everything stored about one person (by email, or by a store's
customer id), or about one shop, found, exported as JSON, or erased with a record of the erasure.

Finding a person reads every stored event once, in batches of short read transactions (the raw body of an
event the worker has not read yet names the person only in its bytes); with retention on, that is a bounded
number of events. Erasing goes in batches too, each its own short write transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, false, insert, or_, select, update

from bridge.privacy import ORDER_STATE, email_digest
from bridge.storage.events import settle_events
from bridge.storage.retention import erase_events, holds_person, strip_order_states
from bridge.storage.session import Session
from bridge.storage.subjects import Found, Subject, customer_of, emails_in, parsed
from bridge.storage.tables import (
    admin_jobs,
    attempts,
    deliveries,
    events,
    privacy_requests,
    remote_records,
    remote_state,
    timers,
)
from bridge.vocabulary import DeliveryStatus, EventStatus

__all__ = ["Erasure", "Found", "Subject"]

SCAN_BATCH = 500
ERASE_BATCH = 200
ERASED_NOTE = "erased on request"


class Erasure:
    """Find, export and erase what is stored about a subject."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def _scan(self) -> Iterator[Any]:
        """Every stored event (id, source, store, order id, body, payload), in batches of short reads."""
        after = 0
        columns = (events.c.id, events.c.source, events.c.store, events.c.order_id, events.c.body, events.c.payload)
        while True:
            with self.db.read() as conn:
                rows = conn.execute(
                    select(*columns).where(events.c.id > after).order_by(events.c.id).limit(SCAN_BATCH)
                ).all()
            if not rows:
                return
            yield from rows
            after = rows[-1].id

    def find(self, subject: Subject) -> Found:
        """The events about `subject` and the emails they name. Read-only."""
        found = Found(emails={e.strip().lower() for e in subject.emails if "@" in e})  # else it names nobody
        wanted_ids = {c for c in subject.customer_ids if _storable(c)}
        for row in self._scan():
            if self._matches(subject, row, found.emails, wanted_ids):
                found.event_ids.append(row.id)
                found.emails |= emails_in(row.payload, parsed(bytes(row.body)) if row.body else None)
        if found.emails - {e.strip().lower() for e in subject.emails} and not subject.whole_store:
            # Found by customer id or order: the same person's other events may carry only the email.
            ids = set(found.event_ids)
            ids.update(row.id for row in self._scan() if self._matches(subject, row, found.emails, set()))
            found.event_ids = sorted(ids)
        return found

    def _matches(self, subject: Subject, row: Any, emails: set[str], customer_ids: set[str]) -> bool:
        same_source = subject.source is None or row.source == subject.source
        same_store = subject.store is None or row.store == subject.store
        if subject.whole_store:
            return same_source and bool(row.store == subject.store)
        if subject.order_ids and same_source and same_store and row.order_id in subject.order_ids:
            return True
        body = bytes(row.body or b"")
        if emails:
            # As a JSON string value (quoted): `pat@x.example` must not match `spat@x.example`.
            text = body.decode("utf-8", errors="replace").lower()
            if any(f'"{e}"' in text for e in emails) or emails_in(row.payload, None) & emails:
                return True
        if customer_ids and same_source:
            document = row.payload if isinstance(row.payload, dict) else parsed(body)
            customer = customer_of(document)
            values = {customer.get("external_id"), customer.get("id")}
            if isinstance(document, dict):
                values.add(document.get("customer_id"))
            return bool({str(v) for v in values if v not in (None, "")} & customer_ids)
        return False

    # -- export --------------------------------------------------------------------------------------------

    def export(self, subject: Subject) -> dict[str, Any]:
        """Everything stored about `subject`, JSON-ready: its events (raw body and canonical payload), their
        deliveries and attempts, the destination mapping rows and contact state keyed by its emails, and the
        privacy requests recorded about it. Read-only."""
        found = self.find(subject)
        digests = sorted(email_digest(e) for e in found.emails)
        with self.db.read() as conn:
            rows = conn.execute(select(events).where(events.c.id.in_(found.event_ids)).order_by(events.c.id)).all()
            exported_events = [
                {
                    **{k: _jsonable(v) for k, v in row._mapping.items() if k != "body"},
                    "body": bytes(row.body).decode("utf-8", errors="replace") if row.body else None,
                }
                for row in rows
            ]
            related = {
                "deliveries": self._rows(conn, deliveries, deliveries.c.event_id.in_(found.event_ids)),
                "attempts": self._rows(conn, attempts, attempts.c.event_id.in_(found.event_ids)),
                "remote_records": self._rows(conn, remote_records, _mapping_rows(digests, subject.customer_ids)),
                "remote_state": self._rows(conn, remote_state, or_(_contact_rows(digests), _order_states(digests))),
                "privacy_requests": self._rows(
                    conn, privacy_requests, privacy_requests.c.subject_sha256.in_([*digests, subject.digest()])
                ),
            }
        return {"subject_sha256": subject.digest(), "events": exported_events, **related}

    @staticmethod
    def _rows(conn: Connection, table: Any, condition: Any) -> list[dict[str, Any]]:
        return [{k: _jsonable(v) for k, v in r._mapping.items()} for r in conn.execute(select(table).where(condition))]

    # -- erasure -------------------------------------------------------------------------------------------

    def erase(self, subject: Subject, now: datetime, *, origin: str, spare: int | None = None) -> dict[str, int]:
        """Erase `subject`'s personal data from every table and record the erasure (its digest, `now`, the
        counts). Events keep their ids, statuses and keys (a redelivery stays a duplicate); their pending
        deliveries are skipped and their abandonment timers dropped (nothing may be sent from an erased body);
        the AC mapping and contact state keyed by the subject's emails are deleted (a later order looks AC up
        again). Each batch commits on its own; the record is written last, with the counts. `spare`: an event
        left to the caller (the compliance request being carried out erases its own body when done)."""
        found = self.find(subject)
        found.event_ids = [i for i in found.event_ids if i != spare]
        counts = {"events": 0, "attempts": 0, "deliveries": 0, "timers": 0, "remote_records": 0, "remote_state": 0}
        for start in range(0, len(found.event_ids), ERASE_BATCH):
            batch = found.event_ids[start : start + ERASE_BATCH]
            with self.db.write() as conn:
                counts["deliveries"] += conn.execute(
                    update(deliveries)
                    .where(deliveries.c.event_id.in_(batch), deliveries.c.status == DeliveryStatus.PENDING)
                    .values(status=DeliveryStatus.SKIPPED, note=ERASED_NOTE, updated_at=now)
                ).rowcount
                conn.execute(
                    update(events)
                    .where(events.c.id.in_(batch), events.c.status.in_((EventStatus.RECEIVED, EventStatus.ACCEPTED)))
                    .values(status=EventStatus.DONE, note=ERASED_NOTE)
                )
                done = erase_events(conn, batch, now)
                settle_events(conn, self._with_deliveries(conn, batch))
                counts["timers"] += conn.execute(delete(timers).where(timers.c.event_id.in_(batch))).rowcount
            counts["events"] += done.events
            counts["attempts"] += done.attempts
        digests = sorted(email_digest(e) for e in found.emails)
        with self.db.write() as conn:
            counts["remote_records"] = conn.execute(
                delete(remote_records).where(_mapping_rows(digests, subject.customer_ids))
            ).rowcount
            contact = _contact_rows(digests)
            if subject.whole_store and subject.store:
                contact = or_(contact, remote_state.c.external_key.startswith(f"{subject.store}|", autoescape=True))
            counts["remote_state"] = conn.execute(delete(remote_state).where(contact)).rowcount
            counts["remote_state"] += strip_order_states(
                conn, holds_person(), lambda data: subject.whole_store or data.get("email_sha256") in digests
            )
            counts["admin_jobs"] = self._erase_job_filters(conn, found.emails)
            conn.execute(
                insert(privacy_requests).values(
                    kind="erasure",
                    subject_sha256=subject.digest(),
                    source=subject.source,
                    store=subject.store,
                    requested_at=now,
                    origin=origin[:32],
                    detail={"erased": counts, "orders": len(subject.order_ids), "whole_store": subject.whole_store},
                )
            )
        return counts

    @staticmethod
    def _with_deliveries(conn: Connection, event_ids: list[int]) -> list[int]:
        """The events of `event_ids` that have deliveries (in id order): only those have a status to settle."""
        query = select(deliveries.c.event_id).where(deliveries.c.event_id.in_(event_ids)).distinct()
        return sorted(conn.execute(query).scalars())

    @staticmethod
    def _erase_job_filters(conn: Connection, emails: set[str]) -> int:
        """A bulk job's filter may have searched for the person by email: that filter text goes."""
        changed = 0
        for job_id, params in conn.execute(select(admin_jobs.c.id, admin_jobs.c.params)).all():
            text = json.dumps(params, ensure_ascii=False).lower()
            if any(e in text for e in emails):
                conn.execute(update(admin_jobs).where(admin_jobs.c.id == job_id).values(params={"erased": True}))
                changed += 1
        return changed

    def record_request(self, subject: Subject, now: datetime, *, origin: str, detail: dict[str, Any]) -> int:
        """Record a data request (Shopify's customers/data_request): the subject's digest, when, and what was
        asked (ids only, never the personal data). Returns its id."""
        with self.db.write() as conn:
            return int(
                conn.execute(
                    insert(privacy_requests)
                    .values(
                        kind="data_request",
                        subject_sha256=subject.digest(),
                        source=subject.source,
                        store=subject.store,
                        requested_at=now,
                        origin=origin[:32],
                        detail=detail,
                    )
                    .returning(privacy_requests.c.id)
                ).scalar_one()
            )

    def requests(self, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest recorded requests (erasures and data requests), newest first."""
        query = select(privacy_requests).order_by(privacy_requests.c.id.desc()).limit(limit)
        if kind:
            query = query.where(privacy_requests.c.kind == kind)
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _mapping_rows(digests: list[str], customer_ids: tuple[str, ...]) -> Any:
    """The AC customer mapping rows keyed by these email digests or store customer ids (or naming a digest)."""
    conditions = [remote_records.c.external_key.endswith(f"|sha256:{d}", autoescape=True) for d in digests]
    conditions += [remote_records.c.detail == d for d in digests]
    conditions += [
        remote_records.c.external_key.endswith(f"|id:{c}", autoescape=True) for c in customer_ids if _storable(c)
    ]
    if not conditions:
        return remote_records.c.scope.is_(None)  # matches nothing (scope is part of the primary key)
    return (remote_records.c.key_type == "customer") & or_(*conditions)


def _contact_rows(digests: list[str]) -> Any:
    """The AC contact state rows of these email digests."""
    return (remote_state.c.key_type == "contact") & remote_state.c.external_key.in_(digests)


def _storable(text: str) -> bool:
    """Text a database can compare: no NUL (PostgreSQL refuses it), no lone surrogate (no driver encodes it);
    no stored key holds either, so such a value names nothing."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return value


def _order_states(digests: list[str]) -> Any:
    """The AC order states that name one of `digests` (the JSON as text: portable, and these rows are few)."""
    if not digests:
        return false()
    text = cast(remote_state.c.data, Text)
    return (remote_state.c.key_type == ORDER_STATE) & or_(*(text.like(f"%{digest}%") for digest in digests))
