"""Table definitions (SQLAlchemy Core) of what flows through the bridge: events, deliveries, attempts, remote
records and state, applied versions, timers, throttles. The bookkeeping tables are in ops_tables.py; both are
re-exported here, on one metadata, so `tables` names every table. Migrations under `migrations/versions` create
exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from bridge.storage.ops_tables import (
    admin_jobs,
    admin_sessions,
    alert_states,
    auth_failures,
    health_checks,
    privacy_requests,
    server_secrets,
    store_sweeps,
)
from bridge.storage.table_types import Id, UTCDateTime, metadata

__all__ = [
    "Id",
    "UTCDateTime",
    "admin_jobs",
    "admin_sessions",
    "alert_states",
    "applied_versions",
    "attempts",
    "auth_failures",
    "deliveries",
    "events",
    "health_checks",
    "metadata",
    "privacy_requests",
    "remote_records",
    "remote_state",
    "server_secrets",
    "store_sweeps",
    "throttles",
    "timers",
]

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
