"""Table definitions (SQLAlchemy Core). Migrations under `migrations/versions` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (portable across SQLite and PostgreSQL), returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("topic", String(100), nullable=False),
    # The event's identity (a platform's resource state, or the custom source's webhook-id): a second copy,
    # from a retry or from reconciliation, is a duplicate.
    Column("dedupe_key", String(255), nullable=False, unique=True),
    # The platform's delivery id header where it has one (Shopify's X-Shopify-Webhook-Id): a retried
    # delivery is answered `duplicate` before its body is parsed.
    Column("delivery_key", String(255), unique=True),
    # How the event reached the bridge: webhook | reconcile | backfill | timer.
    Column("origin", String(16), nullable=False, server_default="webhook"),
    # 1 for a state read from the store's API that is history (a backfill, or a reconciled state older than
    # BRIDGE_RECONCILE_LIVE_WINDOW): AC gets `source: 0`, EcartAPI gets nothing, no abandonment timer.
    Column("historical", Integer, nullable=False, server_default="0"),
    Column("store", String(255)),
    Column("kind", String(32)),
    Column("order_id", String(255)),
    Column("checkout_id", String(255)),
    Column("status", String(16), nullable=False),
    Column("occurred_at", UTCDateTime()),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("payload", JSON),
    Column("errors", JSON),
    Column("note", Text),
    # When retention (or an erasure) emptied body, payload and errors (spec §16): the identity columns stay, so a
    # redelivery is still a duplicate and a replay can say the body is gone.
    Column("pruned_at", UTCDateTime()),
    Index(None, "status", "id"),
    Index(None, "source", "id"),
    Index(None, "order_id"),
    Index(None, "checkout_id"),
    Index(None, "received_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, nullable=False),
    Column("destination", String(32), nullable=False),
    # Deliveries sharing a lane (one order or checkout at one destination) run one at a time, in event order.
    Column("lane", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(128)),
    Column("lease_expires_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("first_attempt_at", UTCDateTime()),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("note", Text),
    Index(None, "status", "next_attempt_at", "id"),
    Index(None, "lane", "event_id"),
    Index(None, "event_id"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, nullable=False),
    Column("event_id", Id, nullable=False),
    Column("destination", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("request", Text),
    Column("status_code", Integer),
    Column("response", Text),
    Column("error", Text),
    Column("outcome", String(16), nullable=False),
    Index(None, "delivery_id"),
    Index(None, "event_id"),
)

# What the bridge knows exists at a destination: store ids -> destination ids, and creates in flight.
remote_records = Table(
    "remote_records",
    metadata,
    Column("scope", String(255), primary_key=True),  # e.g. "ac:https://acme.api-us1.com:conn=1"
    Column("key_type", String(16), primary_key=True),  # connection | customer | checkout | order
    Column("external_key", String(255), primary_key=True),
    Column("remote_id", String(64)),  # None while a create's outcome is unknown
    Column("record_kind", String(16)),  # cart | order | customer | connection
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("detail", String(320)),  # what the record carries that its key does not: an ecomCustomer's email
)

# What the bridge last told a destination about a record, beyond its id: the contact details synced to AC
# (so unchanged details cost no call) and an order's revenue (paid total, refunds applied, total sent).
remote_state = Table(
    "remote_state",
    metadata,
    Column("scope", String(255), primary_key=True),  # as remote_records.scope
    Column("key_type", String(16), primary_key=True),  # contact | revenue
    Column("external_key", String(255), primary_key=True),  # lower(email) | store|order_id
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Newest event `updated_at` applied per (destination, subject): older events are stale.
applied_versions = Table(
    "applied_versions",
    metadata,
    Column("destination", String(32), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("version_at", UTCDateTime(), nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("checkout_key", String(512), primary_key=True),  # source|store|checkout_id
    Column("event_id", Id, nullable=False),  # the checkout.updated that armed it
    Column("fire_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # armed | waiting | fired | cancelled
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("note", Text),
    Column("version_at", UTCDateTime()),  # `updated_at` of the checkout state event_id holds (newest wins)
    Index(None, "status", "fire_at"),
)

# Shared pacing per account (token bucket as a virtual schedule) and per-destination circuit/pause state.
throttles = Table(
    "throttles",
    metadata,
    Column("name", String(255), primary_key=True),  # "ac:<url>" or "destination:<name>"
    Column("next_slot_at", Float, nullable=False, default=0.0),
    Column("paused_until", Float, nullable=False, default=0.0),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("circuit_open_until", Float, nullable=False, default=0.0),
    Column("manual_pause", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime()),
    Column("recent_sends", JSON),  # actual send times (epoch) inside the current window
    # Why `manual_pause` is set: "manual" (an operator) or "token_rejected" (a 401/403 for the account's token),
    # the cause in plain words, when (epoch), and a fingerprint (a hash, never the token) of the rejected token:
    # a worker started with other credentials resumes the destination.
    Column("pause_reason", String(32)),
    Column("pause_cause", Text),
    Column("paused_since", Float),
    Column("pause_fingerprint", String(64)),
)

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
