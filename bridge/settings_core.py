"""The core's settings, typed: the web server, the database, the worker, retries, retention, admin, alerts.

Each integration adds its own settings in its own folder (`bridge/platforms/<name>/settings.py`,
`bridge/destinations/<name>/settings.py`) as a *part*: a frozen dataclass that extends `CoreSettings` with its
fields, and a marshmallow schema for its variables. `bridge/settings.py` gathers the parts into the one
`Settings` object. This module imports nothing from the bridge, so any module may use it; a module that needs only
the core's settings (storage) or one integration's (its own code) annotates with `CoreSettings` or that part.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

from marshmallow import Schema

DEFAULT_RETRY_SCHEDULE = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


@dataclass(frozen=True, repr=False)
class CoreSettings:
    """The settings every process reads, whatever the integrations. Secrets are kept out of repr()."""

    #: Set by a platform's part: the platform's name, and the field holding its webhook credentials.
    PLATFORM: ClassVar[str | None] = None
    WEBHOOK_CREDENTIALS: ClassVar[str] = ""
    #: Set by a destination's part: the destination's name, and the property saying it is really called.
    DESTINATION: ClassVar[str | None] = None
    LIVE: ClassVar[str] = ""
    #: Set by every part: the marshmallow schema of its BRIDGE_* variables, and the words people use for its name
    #: in a variable that a setting spells otherwise (for the "did you mean" hint on unknown variables).
    SCHEMA: ClassVar[type[Schema] | None] = None
    SYNONYMS: ClassVar[tuple[tuple[str, str], ...]] = ()

    bind: str = "127.0.0.1:8000"
    database_url: str = field(default="sqlite:///bridge.db", repr=False)  # may hold a password
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
    reconcile_interval: float = 900.0
    reconcile_live_window: float = 86400.0
    # Where the worker POSTs its own alerts as `{"text": …}` (Slack-style incoming webhook; the URL is a secret).
    alert_url: str | None = field(default=None, repr=False)
    # No webhook from a configured source for this long is an alert (the store may have disabled its webhook).
    quiet_alert: float = 86400.0
    #: What start-up and `check` warn about in the configuration itself (unknown BRIDGE_* variables).
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __repr__(self) -> str:
        # Secrets are left out (repr=False); the database URL is shown with its password masked.
        from sqlalchemy import make_url

        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr]
        masked = make_url(self.database_url).render_as_string(hide_password=True)
        shown.insert(1, f"database_url={masked!r}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def parts(cls) -> tuple[type[CoreSettings], ...]:
        """The integrations' parts this settings class is made of, in the order they were gathered."""
        return tuple(
            part
            for part in cls.__mro__
            if issubclass(part, CoreSettings)
            and part is not CoreSettings
            and ("PLATFORM" in vars(part) or "DESTINATION" in vars(part))
        )

    @property
    def sources_with_secrets(self) -> tuple[str, ...]:
        """The sources that can authenticate webhooks (the others answer every webhook 401)."""
        return tuple(
            part.PLATFORM
            for part in self.parts()
            if part.PLATFORM and "PLATFORM" in vars(part) and getattr(self, part.WEBHOOK_CREDENTIALS)
        )

    @property
    def live_destinations(self) -> tuple[str, ...]:
        """The destinations really called (the others run dry: their calls are recorded, never sent)."""
        return tuple(
            part.DESTINATION
            for part in self.parts()
            if part.DESTINATION and "DESTINATION" in vars(part) and getattr(self, part.LIVE)
        )
