"""Who may use the admin surface, shared by every process and host: dashboard sessions (ended server-side at
logout, absolute lifetime) and failed credential attempts per client address (the login/bearer throttle)."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select

from bridge.storage.session import Session
from bridge.storage.tables import admin_sessions, auth_failures


def _hash(session_id: str) -> str:
    # The table never holds a usable session id: reading it (a backup, a SQL console) logs nobody in.
    return hashlib.sha256(session_id.encode()).hexdigest()


class AdminSessions:
    """Server-side dashboard sessions; the signed cookie carries only the random session id."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def start(self, session_id: str, now: datetime, lifetime: timedelta) -> None:
        """Record a new session valid until `now + lifetime` (never extended); drop expired ones, in the same
        transaction."""
        with self.db.write() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
            conn.execute(
                admin_sessions.insert().values(id_hash=_hash(session_id), created_at=now, expires_at=now + lifetime)
            )

    def is_active(self, session_id: str, now: datetime) -> bool:
        """True while the session exists (not logged out) and its absolute lifetime has not run out."""
        query = select(admin_sessions.c.expires_at).where(admin_sessions.c.id_hash == _hash(session_id))
        with self.db.read() as conn:
            expires_at = conn.execute(query).scalar()
        return expires_at is not None and expires_at > now

    def end(self, session_id: str) -> None:
        """Log the session out everywhere (any copy of its cookie stops working). Committed before this
        returns; idempotent."""
        self.db.write_one(delete(admin_sessions).where(admin_sessions.c.id_hash == _hash(session_id)))


@dataclass(frozen=True)
class Verdict:
    """Whether an address may present credentials now, and if not, for how many seconds it must wait."""

    allowed: bool
    retry_after: int = 0
    failures: int = 0  # in the current window


class AuthFailures:
    """Failed credential attempts per client address in fixed windows: after `limit` failures within one
    window, every attempt from that address is refused until the window ends (even a right one, so the throttle
    gives a guesser no signal)."""

    def __init__(self, db: Session, *, limit: int = 10, window: float = 60.0) -> None:
        self.db = db
        self.limit = limit
        self.window = window

    def check(self, address: str, now: float) -> Verdict:
        """May `address` present credentials at `now` (epoch seconds)? A read; locks nothing."""
        query = select(auth_failures.c.window_start, auth_failures.c.failures).where(
            auth_failures.c.address == address[:64]
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None or row.window_start + self.window <= now:
            return Verdict(True)
        if row.failures < self.limit:
            return Verdict(True, failures=row.failures)
        return Verdict(False, max(1, math.ceil(row.window_start + self.window - now)), row.failures)

    def failed(self, address: str, now: float) -> None:
        """Count one failed attempt of `address` (a new window starts once the last one is over). One upsert, so
        concurrent failures from several processes all count and never clash on the insert."""
        over = auth_failures.c.window_start + self.window <= now
        statement = self.db.upsert(
            auth_failures,
            ["address"],
            {"address": address[:64], "window_start": now, "failures": 1},
            {
                "window_start": case((over, now), else_=auth_failures.c.window_start),
                "failures": case((over, 1), else_=auth_failures.c.failures + 1),
            },
        )
        self.db.write_one(statement)
        if int(now) % 60 == 0:
            # Now and then, drop the rows of windows long over so the table stays small.
            self.db.write_one(delete(auth_failures).where(auth_failures.c.window_start < now - 10 * self.window))

    def succeeded(self, address: str) -> None:
        """Forget the address's failures after a right credential (an operator's typo does not accumulate).
        Call it only when `check` counted failures: a successful request then costs no write."""
        self.db.write_one(delete(auth_failures).where(auth_failures.c.address == address[:64]))
