"""The `custom` source: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
verified with the `standardwebhooks` reference library; the payload is already canonical."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from standardwebhooks.webhooks import Webhook

from bridge.canonical import KINDS, UTCDateTime
from bridge.errors import InvalidSignature
from bridge.platforms.adapter import Ignored, Inbound, Interpreted, Source, dedupe_key
from bridge.platforms.custom.settings import CustomSettings
from bridge.timeutil import utcnow

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
SIGNATURE_TOLERANCE_SECONDS = 5 * 60  # as the standardwebhooks library


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class EnvelopeSchema(Schema):
    """`{"type": KIND, "timestamp": ISO-8601, "data": {…canonical fields…}}`."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True, validate=validate.OneOf(KINDS))
    timestamp = UTCDateTime(required=True)
    data = fields.Dict(required=True)


# Built once: a schema instance holds no per-load state, and building one (with its nested schemas) costs
# more than the load itself.
ENVELOPE_SCHEMA = EnvelopeSchema()


class CustomSource(Source):
    """Canonical events from the integrator's own code; invalid payloads are rejected with 422."""

    settings: CustomSettings

    name = "custom"
    kept_headers = ("webhook-id", "webhook-timestamp")
    rejects_invalid = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._verifiers = [Webhook(secret) for secret in self.settings.webhook_secrets]
        self._keys = [
            base64.b64decode(secret.removeprefix("whsec_") + "==") for secret in self.settings.webhook_secrets
        ]

    def authenticate(self, inbound: Inbound) -> None:
        headers = {name: inbound.header(name) or "" for name in SIGNATURE_HEADERS}
        if not _is_utf8(inbound.body):
            if self._bytes_signed(inbound.body, headers):
                return  # authentic: the parser then answers 400 (UTF-8 only), as for any other source
            raise InvalidSignature("custom: no valid Standard Webhooks signature (or timestamp outside ±5 min)")
        for verifier in self._verifiers:
            try:
                verifier.verify(inbound.body, headers, json_parse=False)
                return
            except Exception:  # noqa: S112 - the library raises several types for a malformed header
                continue
        raise InvalidSignature("custom: no valid Standard Webhooks signature (or timestamp outside ±5 min)")

    def _bytes_signed(self, body: bytes, headers: dict[str, str]) -> bool:
        """The Standard Webhooks check on the raw bytes. The library decodes the body as UTF-8 before it checks,
        so an authentic body in UTF-16 or UTF-32 could only get a 401; spec §11 owes its sender the 400."""
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        signed = f"{msg_id}.{stamp}.".encode() + body
        for key in self._keys:
            expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            for presented in headers["webhook-signature"].split(" "):
                version, _, signature = presented.partition(",")
                if version == "v1" and hmac.compare_digest(expected.encode(), signature.encode()):
                    return True
        return False

    def interpret(self, inbound: Inbound, document: Any) -> Interpreted | Ignored:
        kind = document.get("type") if isinstance(document, dict) else None
        return Interpreted(
            topic=str(kind)[:100] if kind is not None else "",
            dedupe_key=dedupe_key(self.name, inbound.header("webhook-id")),
            kind=kind if kind in KINDS else "",
            document=document,
        )

    def to_canonical(self, event: Interpreted, inbound: Inbound) -> dict[str, Any]:
        envelope = ENVELOPE_SCHEMA.load(event.document)
        data = envelope["data"]
        if "kind" in data and data["kind"] != envelope["type"]:
            raise ValidationError({"data": {"kind": ["Must match the envelope type."]}})
        candidate = {**data, "kind": envelope["type"]}
        candidate.setdefault("occurred_at", envelope["timestamp"])
        return candidate

    def sign(self, body: bytes, *, topic: str | None = None, store: str | None = None) -> dict[str, str]:
        if not self._verifiers:
            raise ValueError("BRIDGE_WEBHOOK_SECRET is not set: nothing to sign with")
        msg_id, now = f"msg_{uuid.uuid4().hex}", utcnow()
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._verifiers[0].sign(msg_id, now, body.decode()),
        }
