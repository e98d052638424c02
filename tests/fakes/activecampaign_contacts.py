"""Contacts and list memberships for the strict fake ActiveCampaign (API v3), plugged into
``FakeActiveCampaign`` by :func:`install`. The routes share its lock, its authentication, its 5/s budget
(the middleware counts every request) and its error shapes.

* ``POST /api/3/contact/sync`` ``{"contact": {email, firstName, lastName, phone, fieldValues}}``: creates
  (201) or updates (200) the contact with that email (case-insensitive) and returns it with its ``id``; an
  invalid email is a 422 ``email_invalid``; unknown attributes a 422 ``field_invalid``; ``null`` is absent,
  and an empty string *blanks* the field (as AC does), so a client that sends one loses data visibly.
* ``GET /api/3/contacts/{id}`` and ``GET /api/3/contacts?email=…``.
* ``GET /api/3/contacts/{id}/contactLists``: the contact's memberships (``status`` "1" subscribed, "2"
  unsubscribed), 404 for an unknown contact.
* ``POST /api/3/contactLists`` ``{"contactList": {list, contact, status}}``: 422 ``related_missing`` for an
  unknown list or contact; ``status`` 1 or 2 (int or digit string); 201 when the membership is new, else 200.
* ``GET /api/3/lists/{id}``: 404 for an unknown list (``bridge check`` uses it).
* ``GET /api/3/account/entitlements``: 404 unless ``fake.entitlements`` is set (AC does not document it).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from flask import request
from werkzeug.wrappers import Response

from .base import json_response

if TYPE_CHECKING:
    from .activecampaign import FakeActiveCampaign

CONTACT_FIELDS = ("email", "firstName", "lastName", "phone", "fieldValues")


class ContactBook:
    """The state behind the contact routes (reset with the fake's other state)."""

    def __init__(self, fake: FakeActiveCampaign) -> None:
        self.fake = fake
        self.reset()

    def reset(self) -> None:
        """Forget every contact and membership; lists stay (they are account set-up, made by preload_list)."""
        self.contacts: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, str] = {}
        self.memberships: dict[tuple[str, str], dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = getattr(self, "lists", {})
        self.next_contact = 1
        self.next_membership = 1

    # -- helpers for tests -------------------------------------------------------------------------------------

    def preload_list(self, ident: str | int = 1, name: str = "Newsletter") -> str:
        """Create a list (AC lists are made in the UI; the bridge only reads them)."""
        with self.fake._lock:
            self.lists[str(ident)] = {"id": str(ident), "name": name, "stringid": name.lower().replace(" ", "-")}
        return str(ident)

    def contact(self, email: str) -> dict[str, Any] | None:
        """The stored contact with this email (deep copy) or None."""
        with self.fake._lock:
            ident = self.by_email.get(email.lower())
            return copy.deepcopy(self.contacts[ident]) if ident else None

    def status(self, email: str, list_id: str | int) -> str | None:
        """The contact's status on a list ("1", "2") or None."""
        with self.fake._lock:
            ident = self.by_email.get(email.lower())
            row = self.memberships.get((ident or "", str(list_id)))
            return row["status"] if row else None

    def preload_contact(self, email: str, *, list_status: dict[str, str] | None = None, **fields: str) -> str:
        """Create a contact directly (optionally with memberships, e.g. ``{"1": "2"}`` = unsubscribed)."""
        with self.fake._lock:
            ident = self._upsert({"email": email, **fields})[1]["id"]
            for list_id, status in (list_status or {}).items():
                self._set_membership(ident, str(list_id), str(status))
        return ident

    # -- routes ------------------------------------------------------------------------------------------------

    def sync(self) -> Response:
        payload, bad = self.fake._body("contact")
        if bad is not None:
            return bad
        assert payload is not None
        errs = [_error("field_invalid", k, f"Unknown field {k}") for k in payload if k not in CONTACT_FIELDS]
        email = payload.get("email")
        if not isinstance(email, str) or not email.strip():
            errs.append(_error("field_missing", "email", "Email address is required"))
        elif not _looks_like_email(email):
            errs.append(_error("email_invalid", "email", "Contact Email Address is not valid."))
        for key in ("firstName", "lastName", "phone"):
            if payload.get(key) is not None and not isinstance(payload[key], str):
                errs.append(_error("field_invalid", key, f"The {key} field is invalid"))
        if errs:
            return json_response({"errors": errs}, 422)
        with self.fake._lock:
            created, contact = self._upsert(payload)
            return json_response({"fieldValues": [], "contact": _render(contact)}, 201 if created else 200)

    def get(self, ident: str) -> Response:
        with self.fake._lock:
            contact = self.contacts.get(ident)
            if contact is None:
                return _not_found("Subscriber", ident)
            return json_response({"contact": _render(contact)})

    def find(self) -> Response:
        email = request.args.get("email")
        with self.fake._lock:
            ident = self.by_email.get(email.lower()) if email else None
            rows = [_render(self.contacts[ident])] if ident else []
            if not email:
                rows = [_render(c) for c in self.contacts.values()][:20]
            return json_response({"contacts": rows, "meta": {"total": str(len(rows))}})

    def contact_lists(self, ident: str) -> Response:
        with self.fake._lock:
            if ident not in self.contacts:
                return _not_found("Subscriber", ident)
            rows = [copy.deepcopy(m) for (c, _), m in self.memberships.items() if c == ident]
            return json_response({"contactLists": rows})

    def subscribe(self) -> Response:
        payload, bad = self.fake._body("contactList")
        if bad is not None:
            return bad
        assert payload is not None
        list_id, contact_id, status = (_ref(payload.get(k)) for k in ("list", "contact", "status"))
        errs = []
        if status not in ("1", "2"):
            errs.append(_error("field_invalid", "status", "The status field is invalid"))
        with self.fake._lock:
            if list_id is None or list_id not in self.lists:
                errs.append(_error("related_missing", "list", "The related list does not exist."))
            if contact_id is None or contact_id not in self.contacts:
                errs.append(_error("related_missing", "contact", "The related contact does not exist."))
            if errs:
                return json_response({"errors": errs}, 422)
            assert list_id is not None and contact_id is not None and status is not None
            created, row = self._set_membership(contact_id, list_id, status)
            body = {"contacts": [_render(self.contacts[contact_id])], "contactList": copy.deepcopy(row)}
            return json_response(body, 201 if created else 200)

    def get_list(self, ident: str) -> Response:
        with self.fake._lock:
            row = self.lists.get(ident)
            if row is None:
                return _not_found("List", ident)
            return json_response({"list": copy.deepcopy(row)})

    def entitlements(self) -> Response:
        value = getattr(self.fake, "entitlements", None)
        if value is None:
            return json_response({"message": "Not Found"}, 404)
        return json_response({"entitlements": copy.deepcopy(value)})

    # -- state -------------------------------------------------------------------------------------------------

    def _upsert(self, payload: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        email = payload["email"].strip()
        ident = self.by_email.get(email.lower())
        created = ident is None
        if ident is None:
            ident = str(self.next_contact)
            self.next_contact += 1
            self.contacts[ident] = {
                "id": ident,
                "email": email,
                "firstName": "",
                "lastName": "",
                "phone": "",
                "syncs": 0,
            }
            self.by_email[email.lower()] = ident
        contact = self.contacts[ident]
        for key in ("firstName", "lastName", "phone"):
            if payload.get(key) is not None:
                contact[key] = payload[key]
        contact["syncs"] += 1
        return created, contact

    def _set_membership(self, contact_id: str, list_id: str, status: str) -> tuple[bool, dict[str, Any]]:
        key = (contact_id, list_id)
        created = key not in self.memberships
        if created:
            self.memberships[key] = {"id": str(self.next_membership), "contact": contact_id, "list": list_id}
            self.next_membership += 1
        self.memberships[key]["status"] = status
        return created, self.memberships[key]


def install(fake: FakeActiveCampaign) -> ContactBook:
    """Add the contact routes to `fake`'s Flask app; returns the book (the fake keeps it as ``contact_book``)."""
    book = ContactBook(fake)
    app = fake.flask
    app.add_url_rule("/api/3/contact/sync", "contact_sync", book.sync, methods=["POST"])
    app.add_url_rule("/api/3/contacts", "contact_find", book.find, methods=["GET"])
    app.add_url_rule("/api/3/contacts/<ident>", "contact_get", book.get, methods=["GET"])
    app.add_url_rule("/api/3/contacts/<ident>/contactLists", "contact_lists", book.contact_lists, methods=["GET"])
    app.add_url_rule("/api/3/contactLists", "contact_list_set", book.subscribe, methods=["POST"])
    app.add_url_rule("/api/3/lists/<ident>", "list_get", book.get_list, methods=["GET"])
    app.add_url_rule("/api/3/account/entitlements", "entitlements", book.entitlements, methods=["GET"])
    return book


def _render(contact: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in contact.items() if k != "syncs"}
    out["links"] = {"contactLists": f"/api/3/contacts/{contact['id']}/contactLists"}
    return out


def _ref(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return str(int(value))
    return None


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.strip().partition("@")
    return bool(local and at and "." in domain and " " not in value.strip())


def _error(code: str, field: str, title: str) -> dict[str, Any]:
    return {"title": title, "detail": "", "code": code, "source": {"pointer": f"/data/attributes/{field}"}}


def _not_found(kind: str, ident: str) -> Response:
    return json_response({"message": f"No Result found for {kind} with id {ident}"}, 404)
