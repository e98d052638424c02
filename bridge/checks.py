"""`bridge setup` and `bridge check`: find or create the AC connection, and verify config and reachability."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.check_stores import check_settings, check_sources, check_store_apis
from bridge.cleartext import cleartext_warnings
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.graphql import GraphQLClient
from bridge.errors import BridgeError, DeliveryError, StorageUnavailable
from bridge.settings import Settings
from bridge.storage import Database, Storage


def ac_client(settings: Settings) -> ActiveCampaignClient:
    """An AC client for one-off operator commands (not paced through the database: a handful of calls)."""
    http = caller(settings, {"Api-Token": settings.ac_token or "", "Accept": "application/json"})
    return ActiveCampaignClient(http, settings.ac_url or "")


def check_activecampaign(settings: Settings) -> Check:
    """The AC URL answers and the token is accepted."""
    if not settings.ac_enabled:
        return Check("activecampaign", True, "not configured: dry-run (calls are recorded, not sent)")
    url = f"{settings.ac_url}/api/3/connections"
    try:
        result = ac_client(settings).caller.call("GET", url, params={"limit": "1"})
    except DeliveryError as exc:
        return Check("activecampaign", False, why(exc, url, settings))
    if result.status == 200:
        return Check("activecampaign", True, f"token accepted by {settings.ac_url}")
    if result.status in (401, 403):
        return Check("activecampaign", False, rejected("BRIDGE_AC_TOKEN", result))
    return Check("activecampaign", False, unexpected(result, settings.ac_url or ""))


def check_ac_list(settings: Settings) -> Check:
    """`BRIDGE_AC_LIST_ID` names a list that exists (`GET /api/3/lists/{id}`), with the parity settings."""
    mode = (
        f"contact sync {'on' if settings.ac_contact_sync else 'off'}, revenue {settings.ac_revenue}, "
        f"list {settings.ac_list_id or 'none'}"
    )
    if not settings.ac_list_id:
        return Check("activecampaign list", True, f"{mode}: BRIDGE_AC_LIST_ID not set, nobody is subscribed")
    if not settings.ac_enabled:
        return Check("activecampaign list", True, f"{mode}: dry-run, the list is not checked")
    url = f"{settings.ac_url}/api/3/lists/{settings.ac_list_id}"
    try:
        result = ac_client(settings).caller.call("GET", url)
    except DeliveryError as exc:
        return Check("activecampaign list", False, why(exc, url, settings))
    if result.status == 200:
        found = (result.body or {}).get("list") if isinstance(result.body, dict) else None
        name = found.get("name") if isinstance(found, dict) else None
        return Check("activecampaign list", True, f"{mode}: list {settings.ac_list_id} ({name or 'unnamed'}) exists")
    if result.status == 404:
        return Check("activecampaign list", False, f"BRIDGE_AC_LIST_ID={settings.ac_list_id}: no such list in AC")
    return Check("activecampaign list", False, f"reading list {settings.ac_list_id}: {unexpected(result, url)}")


def check_ac_orders(settings: Settings) -> Check:
    """Which order API is in use; under `graphql`, the eComm GraphQL endpoint answers a cheap `getOrder` for an
    order that does not exist (spec §14)."""
    if settings.ac_order_api == "v3":
        return Check("activecampaign orders", True, "BRIDGE_AC_ORDER_API=v3: orders go to v3 Deep Data (no status)")
    if not settings.ac_enabled:
        return Check("activecampaign orders", True, "BRIDGE_AC_ORDER_API=graphql: dry-run, the endpoint is not checked")
    gql = GraphQLClient(ac_client(settings).caller, settings.ac_url or "")
    try:
        gql.get_order(settings.ac_connection_id or "0", "storebridge-check-no-such-order")
    except DeliveryError as exc:
        said = exc.message if exc.status == 200 else why(exc, gql.url, settings)  # a 200 with `errors`: AC refused
        return Check("activecampaign orders", False, f"BRIDGE_AC_ORDER_API=graphql: {gql.url} {said}")
    return Check("activecampaign orders", True, f"BRIDGE_AC_ORDER_API=graphql: {gql.url} answers getOrder")


def check_ac_entitlements(settings: Settings) -> Check:
    """The account's e-commerce entitlements, where AC exposes them (`GET /api/3/account/entitlements`, not in
    AC's public reference): informative only, never a failure."""
    if not settings.ac_enabled:
        return Check("activecampaign plan", True, "dry-run: not checked")
    url = f"{settings.ac_url}/api/3/account/entitlements"
    try:
        result = ac_client(settings).caller.call("GET", url)
    except DeliveryError as exc:
        return Check("activecampaign plan", True, f"entitlements not checked ({why(exc, url, settings)})")
    if result.status != 200:
        return Check("activecampaign plan", True, f"entitlements not exposed (HTTP {result.status}); optional")
    codes = sorted(code for code in _entitlement_codes(result.body) if code.startswith("ecom"))
    if not codes:
        return Check("activecampaign plan", True, "no e-commerce entitlement listed (Deep Data may be unavailable)")
    return Check("activecampaign plan", True, f"e-commerce entitlements: {', '.join(codes)}")


def _entitlement_codes(body: Any) -> list[str]:
    """Enabled entitlement codes from the shapes seen in integrations: a list of codes, a list of objects
    (`code`/`name` with `enabled`/`active`), or an object of code -> flag; wrapped in `entitlements` or not."""
    items = body.get("entitlements", body) if isinstance(body, dict) else body
    if isinstance(items, dict):
        return [str(k) for k, v in items.items() if v not in (False, 0, "0", None)]
    codes: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            codes.append(item)
        elif isinstance(item, dict):
            code = item.get("code") or item.get("name") or item.get("feature")
            flag = item.get("enabled", item.get("active", True))
            if isinstance(code, str) and flag not in (False, 0, "0", None):
                codes.append(code)
    return codes


def check_ecartapi(settings: Settings) -> Check:
    """EcartAPI answers and the token is accepted (`GET /api/v2/store`)."""
    if not settings.ecart_enabled:
        return Check("ecartapi", True, "not configured: dry-run (calls are recorded, not sent)")
    http = caller(settings, {"Authorization": f"Bearer {settings.ecart_token}", "Accept": "application/json"})
    url = f"{settings.ecart_url}/api/v2/store"
    try:
        result = http.call("GET", url)
    except DeliveryError as exc:
        return Check("ecartapi", False, why(exc, url, settings))
    if result.status == 200:
        store = (result.body or {}).get("store") if isinstance(result.body, dict) else None
        name = store.get("name") if isinstance(store, dict) else None
        return Check("ecartapi", True, f"token accepted{f' for store {name}' if name else ''}")
    if result.status in (401, 403):
        return Check("ecartapi", False, rejected("BRIDGE_ECART_TOKEN", result))
    return Check("ecartapi", False, unexpected(result, settings.ecart_url))


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
    """The destinations' lines (`check` and `setup`): EcartAPI's only where it is used (settings.ecart_used)."""
    checks = [
        check_activecampaign(settings),
        check_ac_list(settings),
        check_ac_orders(settings),
        check_ac_entitlements(settings),
    ]
    if settings.ecart_used:
        checks.append(check_ecartapi(settings))
    return checks


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


def setup_targets(settings: Settings, seen: tuple[str, ...]) -> tuple[str, ...]:
    """The stores `setup` sets up without --store: BRIDGE_SHOPIFY_SHOP (as its webhooks name it) when it is set,
    so the connection exists before the first order, then every other store that has sent events."""
    own = (settings.shopify_shop_domain,) if settings.shopify_shop_domain else ()
    return tuple(dict.fromkeys((*own, *seen)))


def setup_connections(settings: Settings, stores: tuple[str, ...]) -> dict[str, str]:
    """Find or create the AC connection of each store (default: every store that has sent events), remember
    them for the worker, and return store -> connection id."""
    if not settings.ac_enabled:
        raise BridgeError("BRIDGE_AC_URL and BRIDGE_AC_TOKEN are needed to set up the ActiveCampaign connection")
    storage = Storage.for_settings(settings)
    storage.db.upgrade()
    try:
        targets = stores or setup_targets(settings, tuple(storage.events.stores()))
        records = storage.remote_records(f"ac:{settings.ac_url}")
        leg = ac.ActiveCampaignLeg(ac_client(settings), records, connection_id=None, source=settings.ac_source)
        return {store: leg.connection(store) for store in targets}
    finally:
        storage.db.dispose()
