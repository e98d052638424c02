"""Personal data, kept out of what does not need it (spec §16): the digests that stand for an email or a store
customer id wherever the bridge only needs to recognise one again (the AC id mapping, contact state, the
record of an erasure, a log line)."""

from __future__ import annotations

import hashlib


def email_digest(email: str) -> str:
    """The SHA-256 (hex) of an email, trimmed and lower-cased: the same person whatever the case they typed."""
    return hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


def subject_digest(value: str) -> str:
    """The SHA-256 (hex) of an identifier as given (a store customer id)."""
    return hashlib.sha256(value.strip().encode("utf-8", "surrogatepass")).hexdigest()


#: The fields of an AC GraphQL `OrderInput` that name a person. The order state the bridge keeps to re-send an
#: order's next status holds them only until retention or an erasure strips them; a later state then sends
#: them only when its own event carries them.
ORDER_PERSONAL_FIELDS = ("email", "customerData", "billingAddress", "shippingAddress")
#: The remote-state kind of that order state (written by the AC destination, pruned by storage).
ORDER_STATE = "gql-order"


def without_person(order: dict[str, object]) -> dict[str, object]:
    """`order` (an `OrderInput`) without the fields that name a person."""
    return {k: v for k, v in order.items() if k not in ORDER_PERSONAL_FIELDS}


def log_digest(email: str) -> str:
    """What a log line may say about an email: `email_sha256:` and the first 12 hex digits of its digest."""
    return f"email_sha256:{email_digest(email)[:12]}"
