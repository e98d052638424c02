"""The core's `BRIDGE_*` variables: how each is read and checked (marshmallow, `data_key` is the variable).

Each integration's variables are declared in its own folder and gathered with these by `bridge/settings.py`.
Imports nothing from the bridge but the value types, so any settings module may use it.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, validate
from marshmallow import fields as mfields

from bridge.setting_values import CommaList, Duration, DurationList, UpperString

_DATABASE_URL_HINT = "use sqlite:///path/to/bridge.db or postgresql+psycopg://user:password@host:5432/dbname"


def _check_networks(networks: tuple[str, ...]) -> None:
    """Addresses or CIDR networks (`10.0.0.0/8`, `::1`)."""
    import ipaddress

    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValidationError(f"not an address or network: {network!r}") from None


def _check_host_port(value: str) -> None:
    """`host:port` or `[v6]:port` with a port from 1 to 65535 (no unix sockets: Prometheus scrapes TCP)."""
    match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):(\d{1,5})", value)
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise ValidationError("must be host:port, e.g. 0.0.0.0:9102 or [::]:9102")


def _check_database_url(url: str) -> None:
    """A URL SQLAlchemy can parse, for one of the two supported backends (reported by name, never a traceback)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValidationError(f"not a database URL: {_DATABASE_URL_HINT}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("sqlite", "postgresql"):
        raise ValidationError(f"unsupported database {backend!r}: {_DATABASE_URL_HINT}")
    if backend == "postgresql" and driver not in ("", "psycopg"):
        raise ValidationError(f"unsupported driver {driver!r}: {_DATABASE_URL_HINT}")
    if backend == "sqlite" and driver:
        raise ValidationError(f"unsupported driver {driver!r}: {_DATABASE_URL_HINT}")


class CoreSchema(Schema):
    """Maps the core's BRIDGE_* variables onto `CoreSettings`' fields.

    An integration's schema is a plain `Schema` of its own fields (and `validates_schema` / `post_load` hooks with
    names of its own, so that none hides another's); a field whose empty value means something (not "unset") says
    so with `metadata={"empty_means": True}`."""

    class Meta:
        unknown = EXCLUDE

    bind = mfields.String(
        data_key="BRIDGE_BIND", validate=validate.Regexp(r"^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$|^unix:")
    )
    database_url = mfields.String(data_key="BRIDGE_DATABASE_URL", validate=lambda url: _check_database_url(url))
    trusted_proxies = CommaList(data_key="BRIDGE_TRUSTED_PROXIES", validate=lambda nets: _check_networks(nets))
    abandon_after = Duration(data_key="BRIDGE_ABANDON_AFTER", validate=validate.Range(min=0.1))
    retention_days = mfields.Float(data_key="BRIDGE_RETENTION_DAYS", validate=validate.Range(min=0))
    admin_token = mfields.String(data_key="BRIDGE_ADMIN_TOKEN", validate=validate.Length(min=16))
    max_body = mfields.Integer(data_key="BRIDGE_MAX_BODY", validate=validate.Range(min=1024, max=64 * 1024 * 1024))
    db_timeout = Duration(data_key="BRIDGE_DB_TIMEOUT", validate=validate.Range(min=0.01, max=60))
    db_pool_size = mfields.Integer(data_key="BRIDGE_DB_POOL_SIZE", validate=validate.Range(min=1, max=1000))
    db_pool_overflow = mfields.Integer(data_key="BRIDGE_DB_POOL_OVERFLOW", validate=validate.Range(min=0, max=1000))
    log_level = UpperString(data_key="BRIDGE_LOG_LEVEL", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]))
    log_format = mfields.String(data_key="BRIDGE_LOG_FORMAT", validate=validate.OneOf(["auto", "json", "text"]))
    http_timeout = Duration(data_key="BRIDGE_HTTP_TIMEOUT", validate=validate.Range(min=0.1, max=300))
    retry_schedule = DurationList(data_key="BRIDGE_RETRY_SCHEDULE")
    retry_max_age = Duration(data_key="BRIDGE_RETRY_MAX_AGE", validate=validate.Range(min=1))
    lease_seconds = Duration(data_key="BRIDGE_LEASE_SECONDS", validate=validate.Range(min=1))
    worker_threads = mfields.Integer(data_key="BRIDGE_WORKER_THREADS", validate=validate.Range(min=1, max=64))
    circuit_threshold = mfields.Integer(data_key="BRIDGE_CIRCUIT_THRESHOLD", validate=validate.Range(min=1))
    circuit_cooldown = Duration(data_key="BRIDGE_CIRCUIT_COOLDOWN", validate=validate.Range(min=0.1))
    max_retry_after = Duration(data_key="BRIDGE_MAX_RETRY_AFTER", validate=validate.Range(min=1, max=86400))
    timer_interval = Duration(data_key="BRIDGE_TIMER_INTERVAL", validate=validate.Range(min=0.05, max=60))
    web_workers = mfields.Integer(data_key="BRIDGE_WEB_WORKERS", validate=validate.Range(min=1, max=256))
    web_threads = mfields.Integer(data_key="BRIDGE_WEB_THREADS", validate=validate.Range(min=1, max=256))
    web_timeout = Duration(whole=True, data_key="BRIDGE_WEB_TIMEOUT", validate=validate.Range(min=1, max=3600))
    web_graceful_timeout = Duration(
        whole=True, data_key="BRIDGE_WEB_GRACEFUL_TIMEOUT", validate=validate.Range(min=1, max=3600)
    )
    worker_metrics_bind = mfields.String(data_key="BRIDGE_WORKER_METRICS_BIND", validate=_check_host_port)
    reconcile_interval = Duration(data_key="BRIDGE_RECONCILE_INTERVAL", validate=validate.Range(min=0))
    reconcile_live_window = Duration(data_key="BRIDGE_RECONCILE_LIVE_WINDOW", validate=validate.Range(min=0))
    alert_url = mfields.Url(data_key="BRIDGE_ALERT_URL", require_tld=False, schemes={"http", "https"})
    quiet_alert = Duration(data_key="BRIDGE_QUIET_ALERT", validate=validate.Range(min=0, min_inclusive=False))


def together(data: dict[str, Any], left: tuple[str, str], right: tuple[str, str], message: str) -> dict[str, list[str]]:
    """The error for two settings (attribute, variable) that only make sense together when one is set alone: named
    by the one missing, empty when both or neither are set."""
    (left_attr, left_name), (right_attr, right_name) = left, right
    if bool(data.get(left_attr)) == bool(data.get(right_attr)):
        return {}
    return {right_name if data.get(left_attr) else left_name: [message]}
