"""Named errors. Each class's docstring is its default message; callers may pass a more specific one."""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """Something went wrong in the bridge."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class SettingsError(BridgeError):
    """The configuration is invalid."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        lines = [f"  {name}: {'; '.join(msgs)}" for name, msgs in sorted(problems.items())]
        super().__init__("invalid configuration:\n" + "\n".join(lines))


# -- inbound (webhook) errors: each maps to one row of the response table -------------------------------------


class InboundError(BridgeError):
    """The webhook request was rejected."""

    status_code = 400
    code = "bad_request"

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class UnknownSource(InboundError):
    """No such webhook source."""

    status_code = 404
    code = "unknown_source"

    def body(self) -> dict[str, Any]:
        return {"error": self.code}


class InvalidSignature(InboundError):
    """Missing or invalid signature."""

    status_code = 401
    code = "invalid_signature"

    def body(self) -> dict[str, Any]:
        # The reason stays in the log: telling a caller which check failed helps only a forger.
        return {"error": self.code}


class MalformedPayload(InboundError):
    """The body is not the JSON object this endpoint requires."""

    status_code = 400
    code = "malformed_json"


class InvalidPayload(InboundError):
    """The payload failed validation."""

    status_code = 422
    code = "invalid_payload"

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__()
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "errors": self.errors}


class TooLarge(InboundError):
    """The body is larger than BRIDGE_MAX_BODY."""

    status_code = 413
    code = "too_large"

    def body(self) -> dict[str, Any]:
        return {"error": self.code}


class StorageUnavailable(BridgeError):
    """The database cannot take the write right now."""


# -- outbound (delivery) errors --------------------------------------------------------------------------------


class DeliveryError(BridgeError):
    """A call to a destination failed."""

    def __init__(self, message: str | None = None, *, status: int | None = None, body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class PermanentError(DeliveryError):
    """The destination rejected the call; retrying it unchanged cannot succeed."""


class RetryableError(DeliveryError):
    """The call may succeed later."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        body: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class RedirectRefused(RetryableError):
    """The destination answered with a redirect, which is never followed: following it would send the
    credentials (and the body) to wherever `Location` points. Retryable: it usually means a mis-set URL."""

    def __init__(self, message: str | None = None, *, status: int | None = None, location: str | None = None) -> None:
        super().__init__(message, status=status)
        self.location = location


class TokenRejected(DeliveryError):
    """The destination rejected the credentials (401/403): the whole account fails, not this one call. The
    destination is paused with the reason "token rejected" and the delivery waits; it is not an attempt."""
