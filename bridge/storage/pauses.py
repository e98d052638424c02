"""Why a destination is paused, kept with the pause: by an operator, or because the destination rejected the
account's token (401/403, which fails every call alike: the deliveries wait instead of going dead one by one).
A token-rejected pause keeps a fingerprint of the rejected token (a hash, never the token itself): a worker
started with other credentials resumes the destination (bridge/delivery/account.py)."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import update

from bridge.storage.tables import throttles
from bridge.storage.throttles import Throttles, ThrottleState
from bridge.timeutil import utcnow

TOKEN_REJECTED = "token_rejected"  # noqa: S105 - a reason, not a credential
MANUAL = "manual"
#: The reason in words, as the dashboard, the CLI and the alerts say it.
REASON_WORDS = {TOKEN_REJECTED: "token rejected", MANUAL: "paused by an operator"}


def fingerprint(token: str | None) -> str:
    """A short hash that tells two tokens apart without revealing either (never logged with the token)."""
    return hashlib.sha256(f"storebridge-token:{token or ''}".encode()).hexdigest()[:16]


def pause_for_token(store: Throttles, name: str, cause: str, token_fingerprint: str) -> bool:
    """Pause `name` because its token was rejected (`cause`: the answer in plain words). True if this call
    paused it; False if it already was paused for that reason (several deliveries saw the same 403)."""
    with store.db.write() as conn:
        state = store._row(conn, name)
        if state.manual_pause and state.pause_reason == TOKEN_REJECTED:
            return False
        conn.execute(
            update(throttles)
            .where(throttles.c.name == name)
            .values(
                manual_pause=1,
                pause_reason=TOKEN_REJECTED,
                pause_cause=cause[:1000],
                paused_since=time.time(),
                pause_fingerprint=token_fingerprint,
                updated_at=utcnow(),
            )
        )
    return True


def reason_words(reason: str | None) -> str | None:
    """ "token rejected", "paused by an operator", or None when not paused."""
    return REASON_WORDS.get(reason or "", reason) if reason else None


def pause_label(state: ThrottleState | None, now: float) -> str:
    """Why a destination is paused, as the metrics label it ("" when it is not): an operator's or a
    token-rejected pause first, then a Retry-After pause (`retry_after`)."""
    if state is None:
        return ""
    if state.manual_pause:
        return state.pause_reason or MANUAL
    return "retry_after" if state.paused_until > now else ""
