"""Signature and token checks shared by the sources. All comparisons are constant-time."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def hmac_sha256_base64(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): the scheme Shopify and WooCommerce sign with."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def hmac_matches(secrets: Iterable[str], body: bytes, signature: str | None) -> bool:
    """True if `signature` is the base64 HMAC-SHA256 of `body` under any of `secrets` (rotation)."""
    if not signature:
        return False
    given = signature.strip().encode()
    matched = False
    for secret in secrets:
        # No early exit: every configured secret is tried so timing says nothing about which one matched.
        matched |= hmac.compare_digest(hmac_sha256_base64(secret, body).encode(), given)
    return matched


def token_matches(tokens: Iterable[str], authorization: str | None) -> bool:
    """True if the Authorization value equals a configured token, bare or after `Bearer `."""
    if not authorization:
        return False
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    given = value.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(token.encode(), given)
    return matched


def first_secret(secrets: tuple[str, ...], variable: str) -> str:
    """The secret new signatures are made with (the first listed); raises ValueError naming the variable."""
    if not secrets:
        raise ValueError(f"{variable} is not set: nothing to sign with")
    return secrets[0]
