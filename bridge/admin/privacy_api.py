"""`/admin/api/privacy/…` (spec §16): erase or export one person's data, and list the recorded privacy
requests, behind the admin token. The person is named in the JSON body, never in the URL (URLs are logged)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from bridge.admin.api import _json_body, _load, bp
from bridge.admin.auth import require_admin_token
from bridge.context import BridgeContext
from bridge.platforms import SOURCES
from bridge.storage.erasure import Erasure, Subject
from bridge.timeutil import utcnow


class PrivacySubjectSchema(Schema):
    """Whom the request is about: `email`, or `customer_id` with `source`."""

    # Any text is taken: a value without `@` names nobody (it matches nothing), and no value reaches the
    # database as text that could fail there (emails are compared as digests, ids are checked first).
    email = fields.String(validate=validate.Length(min=1, max=320))
    customer_id = fields.String(validate=validate.Length(min=1, max=255))
    source = fields.String(validate=validate.OneOf(sorted(SOURCES)))

    @validates_schema
    def _one_subject(self, data: dict[str, Any], **_: Any) -> None:
        if ("email" in data) == ("customer_id" in data):
            raise ValidationError("give email, or customer_id with source")
        if data.get("customer_id") and not data.get("source"):
            raise ValidationError("customer_id needs source", "source")


def _subject() -> Subject:
    data = _load(PrivacySubjectSchema(), _json_body())
    if data.get("email"):
        return Subject(emails=(data["email"].lower(),), source=data.get("source"))
    return Subject(customer_ids=(data["customer_id"],), source=data["source"])


def _erasure() -> Erasure:
    return BridgeContext.current().storage.erasure


@bp.post("/privacy/forget")
@require_admin_token
def forget() -> tuple[Response, int]:
    """Erase one person's data from every table; the erasure is recorded (a SHA-256, the time, the counts)."""
    subject = _subject()
    counts = _erasure().erase(subject, utcnow(), origin="admin-api")
    return jsonify(subject_sha256=subject.digest(), erased=counts), 200


@bp.post("/privacy/export")
@require_admin_token
def export() -> tuple[Response, int]:
    """Everything stored about one person, as JSON."""
    return jsonify(_erasure().export(_subject())), 200


@bp.get("/privacy/requests")
@require_admin_token
def requests() -> tuple[Response, int]:
    """The newest recorded erasures and data requests (subjects as SHA-256 only)."""
    rows = _erasure().requests(limit=100)
    items = [{**r, "requested_at": r["requested_at"].isoformat()} for r in rows]
    return jsonify(items=items), 200
