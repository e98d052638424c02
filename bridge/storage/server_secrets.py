"""Random secrets kept in the database: made once by whichever process needs one first, the same for every
process and host afterwards."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bridge.storage.session import Session
from bridge.storage.tables import server_secrets
from bridge.timeutil import utcnow

SECRET_BYTES = 32


class ServerSecrets:
    """Named random secrets (32 bytes each), never shown or logged."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def get(self, name: str) -> bytes:
        """The secret called `name`, made now if there is none yet. Race-free: concurrent first calls (several
        gunicorn workers at boot, several hosts) insert-or-ignore on the primary key and all read back the one
        row that won."""
        query = select(server_secrets.c.value).where(server_secrets.c.name == name)
        with self.db.read() as conn:
            value = conn.execute(query).scalar()
        if value is None:
            fresh = {"name": name, "value": secrets.token_hex(SECRET_BYTES), "created_at": utcnow()}
            with self.db.write() as conn:
                conn.execute(self.db.insert_ignoring_conflicts(server_secrets, "name").values(**fresh))
                value = conn.execute(query).scalar_one()
        return bytes.fromhex(value)
