"""Settings: read once from the environment (and `.env`), validated with marshmallow into a typed object."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from marshmallow import EXCLUDE, Schema, ValidationError, post_load, validate, validates_schema
from marshmallow import fields as mfields

from bridge.errors import SettingsError
from bridge.setting_values import Duration, DurationList, unknown_variable_warnings

ECART_STATUS_VALUES = ("on_hold", "pending", "paid", "cancelled", "refunded")
ECART_EVENT_KINDS = ("order.paid", "order.cancelled", "order.refunded")
DEFAULT_RETRY_SCHEDULE = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True)
class Settings:
    """Every setting the bridge reads. Secrets are kept out of repr()."""

    bind: str = "127.0.0.1:8000"
    database_url: str = field(default="sqlite:///bridge.db", repr=False)  # may hold a password
    shopify_secrets: tuple[str, ...] = field(default=(), repr=False)
    woocommerce_secrets: tuple[str, ...] = field(default=(), repr=False)
    ecartapi_webhook_tokens: tuple[str, ...] = field(default=(), repr=False)
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    ac_url: str | None = None
    ac_token: str | None = field(default=None, repr=False)
    ac_connection_id: str | None = None
    ac_rate: float = 5.0
    ac_source: int = 1
    ac_contact_sync: bool = True
    ac_list_id: str | None = None
    ac_revenue: str = "net"
    # Spec §14: paid orders, cancellations and refunds through AC's eComm GraphQL API (`graphql`) or v3 (`v3`).
    ac_order_api: str = "graphql"
    ac_batch: int = 50
    ecart_url: str = "https://api.ecartapi.com"
    ecart_token: str | None = field(default=None, repr=False)
    ecart_statuses: Mapping[str, str] = field(
        default_factory=lambda: {"order.paid": "paid", "order.cancelled": "cancelled", "order.refunded": "refunded"}
    )
    abandon_after: float = 3600.0
    # Spec §16: a finished event's bodies and call excerpts are erased after this many days.
    retention_days: float = 30.0
    admin_token: str | None = field(default=None, repr=False)
    # Peers whose X-Real-IP header names the client (the shipped nginx sets it): admin throttling per address.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    max_body: int = 1_048_576
    # Beyond the spec's table: operational knobs, documented in docs/settings.md.
    db_timeout: float = 2.0
    # Connections each process keeps open, and how many more it may open under load (closed when returned).
    db_pool_size: int = 8
    db_pool_overflow: int = 16
    log_level: str = "INFO"
    http_timeout: float = 10.0
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    retry_max_age: float = 3 * 24 * 3600.0
    lease_seconds: float = 60.0
    worker_threads: int = 4
    circuit_threshold: int = 5
    circuit_cooldown: float = 60.0
    # The longest Retry-After (429/503) honoured: a destination asking for a year is waited an hour.
    max_retry_after: float = 3600.0
    timer_interval: float = 1.0
    # Log lines: "auto" is readable text on a terminal and JSON otherwise; "json" / "text" force one.
    log_format: str = "auto"
    # The web server (bridge/gunicorn_conf.py). web_workers None: two per CPU core.
    web_workers: int | None = None
    web_threads: int = 4
    web_timeout: int = 30
    web_graceful_timeout: int = 20
    # host:port where `storebridge worker` serves its own /metrics and /healthz; None: no listener (on one host
    # the web's /metrics already includes the worker's counters through the shared metrics directory).
    worker_metrics_bind: str | None = None
    # Reading the stores' own APIs (spec §13): backfill and reconciliation.
    shopify_shop: str | None = None
    shopify_admin_token: str | None = field(default=None, repr=False)
    shopify_api_version: str = "2026-10"
    woocommerce_url: str | None = None
    woocommerce_key: str | None = field(default=None, repr=False)
    woocommerce_key_secret: str | None = field(default=None, repr=False)
    reconcile_interval: float = 900.0
    reconcile_live_window: float = 86400.0
    # Where the worker POSTs its own alerts as `{"text": …}` (Slack-style incoming webhook; the URL is a secret).
    alert_url: str | None = field(default=None, repr=False)
    # No webhook from a configured source for this long is an alert (the store may have disabled its webhook).
    quiet_alert: float = 86400.0
    #: BRIDGE_ECART_STATUSES was set (even empty): EcartAPI legs are planned as it says, token or not.
    ecart_statuses_explicit: bool = False
    #: What start-up and `check` warn about in the configuration itself (unknown BRIDGE_* variables).
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        # Secrets are left out (repr=False); the database URL is shown with its password masked.
        from sqlalchemy import make_url

        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr]
        masked = make_url(self.database_url).render_as_string(hide_password=True)
        shown.insert(1, f"database_url={masked!r}")
        return f"Settings({', '.join(shown)})"

    @property
    def sources_with_secrets(self) -> tuple[str, ...]:
        """The sources that can authenticate webhooks (the others answer every webhook 401)."""
        configured = {
            "shopify": self.shopify_secrets,
            "woocommerce": self.woocommerce_secrets,
            "ecartapi": self.ecartapi_webhook_tokens,
            "custom": self.webhook_secrets,
        }
        return tuple(name for name, secrets in configured.items() if secrets)

    def secret_values(self) -> set[str]:
        """Every value these settings hold that is a credential (source secrets, tokens, the alert URL, the
        database password), for bridge.redaction to keep out of logs and admin answers."""
        values: set[str] = {
            *self.shopify_secrets,
            *self.woocommerce_secrets,
            *self.ecartapi_webhook_tokens,
            *self.webhook_secrets,
            # A Standard Webhooks secret is also used without its prefix (the base64 key).
            *(s.removeprefix("whsec_") for s in self.webhook_secrets),
        }
        # An alert URL (a Slack incoming webhook) is itself the credential.
        values |= {t for t in (self.ac_token, self.ecart_token, self.admin_token, self.alert_url) if t}
        from sqlalchemy.engine import make_url

        try:
            password = make_url(self.database_url).password
        except Exception:  # an unparsable URL holds no password we could find; the settings check rejects it anyway
            password = None
        if password:
            values.add(str(password))
        return values

    @property
    def ac_enabled(self) -> bool:
        """True when ActiveCampaign calls are really sent (not dry-run)."""
        return bool(self.ac_url and self.ac_token)

    @property
    def shopify_base_url(self) -> str | None:
        """The shop's base URL: `x.myshopify.com` becomes `https://x.myshopify.com`; a full URL is used as is."""
        if not self.shopify_shop:
            return None
        shop = self.shopify_shop.strip().rstrip("/")
        return shop if "://" in shop else f"https://{shop}"

    @property
    def shopify_shop_domain(self) -> str | None:
        """The shop's identity, as `X-Shopify-Shop-Domain` carries it: the host (and port, if the setting is a
        URL that has one)."""
        base = self.shopify_base_url
        return None if base is None else base.partition("://")[2].partition("/")[0]

    @property
    def ecart_enabled(self) -> bool:
        """True when EcartAPI calls are really sent (not dry-run)."""
        return bool(self.ecart_token)

    @property
    def ecart_used(self) -> bool:
        """True when EcartAPI is a destination at all: its token is set, or BRIDGE_ECART_STATUSES was set on
        purpose, or nothing is live (the trial, where every leg is a dry-run worth seeing). A Shopify -> AC shop
        (AC live, no EcartAPI token) gets no EcartAPI deliveries, banners or check lines."""
        if self.ecart_statuses_explicit and not self.ecart_statuses:
            return False  # BRIDGE_ECART_STATUSES=none: no event updates EcartAPI, whatever else is set
        return self.ecart_enabled or self.ecart_statuses_explicit or not self.ac_enabled


class _CommaList(mfields.Field[tuple[str, ...]]):
    """A comma-separated list of non-empty strings ("a, b" -> ("a", "b"))."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[str, ...]:
        if not isinstance(value, str):
            raise ValidationError("must be a comma-separated string")
        return tuple(part.strip() for part in value.split(",") if part.strip())


class _StatusMap(mfields.Field[dict[str, str]]):
    """`paid=paid,cancelled=cancelled` -> {"order.paid": "paid", ...}; empty or `none`: no EcartAPI legs."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, str):
            raise ValidationError("must look like paid=paid,cancelled=cancelled")
        mapping: dict[str, str] = {}
        if value.strip().lower() in ("", "none"):
            return mapping
        for pair in filter(None, (p.strip() for p in value.split(","))):
            event, sep, status = (s.strip() for s in pair.partition("="))
            kind = event if event.startswith("order.") else f"order.{event}"
            if not sep or kind not in ECART_EVENT_KINDS:
                raise ValidationError(f"{pair!r}: the left side must be one of paid, cancelled, refunded")
            if status not in ECART_STATUS_VALUES:
                raise ValidationError(f"{pair!r}: the status must be one of {', '.join(ECART_STATUS_VALUES)}")
            mapping[kind] = status
        return mapping


_ON = {v for w in ("on", "1", "true", "yes") for v in (w, w.upper(), w.title())}
_OFF = {v for w in ("off", "0", "false", "no") for v in (w, w.upper(), w.title())}


class _UpperString(mfields.String):
    """A string compared case-insensitively (`debug` and `DEBUG` are the same log level)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip().upper()


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


#: Variables for which an empty value is meaningful (no EcartAPI legs), not "unset".
_EMPTY_MEANS_NONE = {"BRIDGE_ECART_STATUSES"}


def _blank_to_missing(data: Mapping[str, str]) -> dict[str, str]:
    # An empty variable means "not set", as in most twelve-factor tools.
    return {k: v for k, v in data.items() if k.startswith("BRIDGE_") and (v.strip() != "" or k in _EMPTY_MEANS_NONE)}


class SettingsSchema(Schema):
    """Maps BRIDGE_* variables onto Settings; data_key is the variable name."""

    class Meta:
        unknown = EXCLUDE

    bind = mfields.String(
        data_key="BRIDGE_BIND", validate=validate.Regexp(r"^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$|^unix:")
    )
    database_url = mfields.String(data_key="BRIDGE_DATABASE_URL", validate=lambda url: _check_database_url(url))
    shopify_secrets = _CommaList(data_key="BRIDGE_SHOPIFY_SECRET")
    woocommerce_secrets = _CommaList(data_key="BRIDGE_WOOCOMMERCE_SECRET")
    ecartapi_webhook_tokens = _CommaList(data_key="BRIDGE_ECARTAPI_WEBHOOK_TOKEN")
    webhook_secrets = _CommaList(data_key="BRIDGE_WEBHOOK_SECRET")
    trusted_proxies = _CommaList(data_key="BRIDGE_TRUSTED_PROXIES", validate=lambda nets: _check_networks(nets))
    ac_url = mfields.Url(data_key="BRIDGE_AC_URL", require_tld=False, schemes={"http", "https"})
    ac_token = mfields.String(data_key="BRIDGE_AC_TOKEN")
    ac_connection_id = mfields.String(data_key="BRIDGE_AC_CONNECTION_ID", validate=validate.Regexp(r"^\d+$"))
    ac_rate = mfields.Float(data_key="BRIDGE_AC_RATE", validate=validate.Range(min=0.1, max=1000))
    ac_source = mfields.Integer(data_key="BRIDGE_AC_SOURCE", validate=validate.OneOf([0, 1]))
    ac_contact_sync = mfields.Boolean(data_key="BRIDGE_AC_CONTACT_SYNC", truthy=_ON, falsy=_OFF)
    ac_list_id = mfields.String(data_key="BRIDGE_AC_LIST_ID", validate=validate.Regexp(r"^[1-9]\d*$"))
    ac_revenue = mfields.String(data_key="BRIDGE_AC_REVENUE", validate=validate.OneOf(["net", "gross"]))
    ac_order_api = mfields.String(data_key="BRIDGE_AC_ORDER_API", validate=validate.OneOf(["graphql", "v3"]))
    ac_batch = mfields.Integer(data_key="BRIDGE_AC_BATCH", validate=validate.Range(min=1, max=1000))
    ecart_url = mfields.Url(data_key="BRIDGE_ECART_URL", require_tld=False, schemes={"http", "https"})
    ecart_token = mfields.String(data_key="BRIDGE_ECART_TOKEN")
    ecart_statuses = _StatusMap(data_key="BRIDGE_ECART_STATUSES")
    abandon_after = Duration(data_key="BRIDGE_ABANDON_AFTER", validate=validate.Range(min=0.1))
    retention_days = mfields.Float(data_key="BRIDGE_RETENTION_DAYS", validate=validate.Range(min=0))
    admin_token = mfields.String(data_key="BRIDGE_ADMIN_TOKEN", validate=validate.Length(min=16))
    max_body = mfields.Integer(data_key="BRIDGE_MAX_BODY", validate=validate.Range(min=1024, max=64 * 1024 * 1024))
    db_timeout = Duration(data_key="BRIDGE_DB_TIMEOUT", validate=validate.Range(min=0.01, max=60))
    db_pool_size = mfields.Integer(data_key="BRIDGE_DB_POOL_SIZE", validate=validate.Range(min=1, max=1000))
    db_pool_overflow = mfields.Integer(data_key="BRIDGE_DB_POOL_OVERFLOW", validate=validate.Range(min=0, max=1000))
    log_level = _UpperString(
        data_key="BRIDGE_LOG_LEVEL", validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"])
    )
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
    shopify_shop = mfields.String(
        data_key="BRIDGE_SHOPIFY_SHOP", validate=validate.Regexp(r"^(https?://[^/\s]+/?|[a-z0-9][a-z0-9.-]*[a-z0-9])$")
    )
    shopify_admin_token = mfields.String(data_key="BRIDGE_SHOPIFY_ADMIN_TOKEN")
    shopify_api_version = mfields.String(
        data_key="BRIDGE_SHOPIFY_API_VERSION", validate=validate.Regexp(r"^(\d{4}-\d{2}|unstable)$")
    )
    woocommerce_url = mfields.Url(data_key="BRIDGE_WOOCOMMERCE_URL", require_tld=False, schemes={"http", "https"})
    woocommerce_key = mfields.String(data_key="BRIDGE_WOOCOMMERCE_KEY")
    woocommerce_key_secret = mfields.String(data_key="BRIDGE_WOOCOMMERCE_KEY_SECRET")
    reconcile_interval = Duration(data_key="BRIDGE_RECONCILE_INTERVAL", validate=validate.Range(min=0))
    reconcile_live_window = Duration(data_key="BRIDGE_RECONCILE_LIVE_WINDOW", validate=validate.Range(min=0))
    alert_url = mfields.Url(data_key="BRIDGE_ALERT_URL", require_tld=False, schemes={"http", "https"})
    quiet_alert = Duration(data_key="BRIDGE_QUIET_ALERT", validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema(skip_on_field_errors=False)
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        pairs = (
            ("shopify_shop", "BRIDGE_SHOPIFY_SHOP", "shopify_admin_token", "BRIDGE_SHOPIFY_ADMIN_TOKEN"),
            ("woocommerce_key", "BRIDGE_WOOCOMMERCE_KEY", "woocommerce_key_secret", "BRIDGE_WOOCOMMERCE_KEY_SECRET"),
        )
        for left, left_name, right, right_name in pairs:
            if bool(data.get(left)) != bool(data.get(right)):
                errors[right_name if data.get(left) else left_name] = [f"{left_name} and {right_name} go together"]
        if data.get("woocommerce_key") and not data.get("woocommerce_url"):
            errors["BRIDGE_WOOCOMMERCE_URL"] = ["required with BRIDGE_WOOCOMMERCE_KEY"]
        if bool(data.get("ac_url")) != bool(data.get("ac_token")):
            msg = "BRIDGE_AC_URL and BRIDGE_AC_TOKEN go together: set both, or neither for dry-run"
            errors["BRIDGE_AC_URL" if not data.get("ac_url") else "BRIDGE_AC_TOKEN"] = [msg]
        for secret in data.get("webhook_secrets", ()):
            if not _is_standard_webhooks_secret(secret):
                errors["BRIDGE_WEBHOOK_SECRET"] = ["each secret must be whsec_ followed by base64 (at least 24 bytes)"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in ("ac_url", "ecart_url", "woocommerce_url"):
            if data.get(key):
                url = data[key].rstrip("/")
                # People paste the URL from the AC developer page with /api/3 on it; the client adds that itself.
                data[key] = url[: -len("/api/3")] if url.endswith("/api/3") else url
        return data


def _is_standard_webhooks_secret(secret: str) -> bool:
    if not secret.startswith("whsec_"):
        return False
    try:
        return len(base64.b64decode(secret[len("whsec_") :] + "==", validate=False)) >= 24
    except (binascii.Error, ValueError):
        return False


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build Settings from `environ` (default: the process environment) over the `.env` file, if any.

    Raises SettingsError naming every bad variable at once.
    """
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    present = _blank_to_missing(merged)
    try:
        values = SettingsSchema().load(present)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
        problems: dict[str, list[str]] = {}
        for name, msgs in messages.items():
            flat = msgs if isinstance(msgs, list) else [str(msgs)]
            problems[name] = [str(m) for m in flat]
        raise SettingsError(problems) from None
    known = (f.data_key for f in SettingsSchema().fields.values() if f.data_key)
    warnings = unknown_variable_warnings(present, known)
    return Settings(**values, ecart_statuses_explicit="BRIDGE_ECART_STATUSES" in present, warnings=tuple(warnings))
