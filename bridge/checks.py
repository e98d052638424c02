"""`bridge setup` and `bridge check`: verify config and reachability (each destination adds its own lines)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bridge.check_calls import Check
from bridge.check_stores import check_settings, check_sources, check_store_apis
from bridge.cleartext import cleartext_warnings
from bridge.destinations import registry
from bridge.errors import StorageUnavailable
from bridge.settings import Settings
from bridge.storage import Database


def _missing_sqlite_file(settings: Settings) -> Check | None:
    """For SQLite, a database file that does not exist yet is reported without creating it (or its folder):
    `check` only looks. None when there is a file to open (or the database is not SQLite)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database).expanduser().resolve()
    if path.exists():
        return None
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        return Check("database", False, f"{path} does not exist and cannot be created ({parent} is not writable)")
    return Check("database", True, f"{path} does not exist yet: `storebridge run` (or `db upgrade`) creates it")


def check_database(settings: Settings) -> Check:
    """The database answers and its schema is current. Creates nothing."""
    missing = _missing_sqlite_file(settings)
    if missing is not None:
        return missing
    db = Database.for_settings(settings, serving_requests=True)  # answers within BRIDGE_DB_TIMEOUT, as /readyz
    try:
        current = db.current_revision()
    except StorageUnavailable as exc:
        return Check("database", False, exc.message)
    finally:
        db.dispose()
    if current != db.head_revision:
        return Check(
            "database", False, f"at {current or 'empty'}, code needs {db.head_revision}: run bridge db upgrade"
        )
    return Check("database", True, f"reachable, schema at {current}")


def check_reconciliation(settings: Settings) -> Check:
    """Which store APIs are read, and each one's last reconciliation run and events recovered."""
    from bridge.platforms import build_readers
    from bridge.sweeps.status import describe_runs

    readers = sorted(build_readers(settings))
    if not readers:
        return Check("reconciliation", True, "off: no store API configured (BRIDGE_SHOPIFY_SHOP, …)")
    if settings.reconcile_interval <= 0:
        schedule = "not scheduled (BRIDGE_RECONCILE_INTERVAL=0)"
    else:
        schedule = f"every {settings.reconcile_interval:g} s"
    db = Database.for_settings(settings)
    try:
        runs = describe_runs(db, readers)
    except StorageUnavailable as exc:
        return Check("reconciliation", False, exc.message)
    except Exception as exc:  # an old schema (no store_sweeps yet): the database line says what to do
        return Check("reconciliation", False, f"cannot read the runs ({type(exc).__name__})")
    finally:
        db.dispose()
    failed = any(run.outcome == "failed" for run in runs)
    return Check("reconciliation", not failed, f"{schedule}; " + "; ".join(run.text for run in runs))


def check_transport(settings: Settings) -> list[Check]:
    """A warning for each configured API URL that would carry a credential unencrypted (`http://` to another
    machine); nothing when every one uses https or stays on this machine."""
    return [Check("transport", True, warning, warn=True) for warning in cleartext_warnings(settings)]


def destination_checks(settings: Settings) -> list[Check]:
    """The destinations' lines (`check` and `setup`), each destination's only where it is used."""
    return [check for d in registry.destinations() if d.used(settings) for check in d.checks(settings)]


def run_checks(settings: Settings) -> list[Check]:
    """Everything `bridge check` reports."""
    return [
        *check_settings(settings),
        *check_sources(settings),
        check_database(settings),
        *check_transport(settings),
        *destination_checks(settings),
        *check_store_apis(settings),
        check_reconciliation(settings),
    ]
