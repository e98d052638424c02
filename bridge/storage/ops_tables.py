"""Table definitions of the bridge's own bookkeeping (SQLAlchemy Core): admin jobs and sessions, the credential
throttle, health checks, sweeps, server secrets, privacy requests and alert states."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bridge.storage.table_types import Id, UTCDateTime, metadata

admin_jobs = Table(
    "admin_jobs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # bulk_replay
    Column("params", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("message", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Dashboard login sessions, so that logging out ends one server-side (a copied cookie stops working) and each
# has an absolute lifetime. The cookie holds the session id; only its SHA-256 is stored.
admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index(None, "expires_at"),
)

# Failed admin logins and bearer attempts per client address in the current one-minute window (shared by every
# process and host). Times are Unix epoch seconds.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("failures", Integer, nullable=False),
)

# `/readyz`'s write probe: one tiny row upserted now and then proves the database takes writes.
health_checks = Table(
    "health_checks",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("checked_at", UTCDateTime(), nullable=False),
)

# Reading the stores' APIs (spec §13): one row per reconciliation (`reconcile:<source>`) or backfill
# (`backfill:<source>`). The lease makes one runner at a time across hosts; the watermark is where the next
# reconciliation starts (minus an overlap); the checkpoint is where an interrupted backfill resumes.
store_sweeps = Table(
    "store_sweeps",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("watermark", UTCDateTime()),
    Column("checkpoint", JSON),
    Column("lease_owner", String(128)),
    Column("lease_until", UTCDateTime()),
    Column("last_started_at", UTCDateTime()),
    Column("last_finished_at", UTCDateTime()),
    Column("last_outcome", String(16)),
    Column("last_error", Text),
    Column("last_seen", Integer, nullable=False, default=0),
    Column("last_recovered", Integer, nullable=False, default=0),
    Column("total_recovered", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Random secrets the server keeps to itself, created once and shared by every process and host: `admin-session`
# keys the dashboard's session cookie (with the admin token), so a cookie is no oracle for the token.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),  # hex
    Column("created_at", UTCDateTime(), nullable=False),
)

# Spec §16: every erasure (`forget`, Shopify's customers/redact and shop/redact) and every data request
# (customers/data_request), recorded without the personal data itself: the subject is a SHA-256.
privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # erasure | data_request
    Column("subject_sha256", String(64), nullable=False),  # of the lower-case email, or of source|customer id
    Column("source", String(32)),
    Column("store", String(255)),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("origin", String(32), nullable=False),  # cli | admin-api | shopify:customers/redact | …
    Column("detail", JSON, nullable=False),  # erased: counts per table; a data request: what the shop asked
    Index(None, "kind", "id"),
)

# The worker's own alerts (BRIDGE_ALERT_URL): one row per condition ("backlog:activecampaign"), so "at most once
# an hour" and "resolved" survive a restart and are decided once across worker hosts.
alert_states = Table(
    "alert_states",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("first_seen", UTCDateTime()),  # since when the condition holds (None: it does not)
    Column("notified_at", UTCDateTime()),  # the last alert sent for it
    Column("firing", Integer, nullable=False, default=0),  # 1: an alert went out and no resolved message yet
    Column("text", Text),
    Column("updated_at", UTCDateTime(), nullable=False),
)
