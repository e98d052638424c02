"""ActiveCampaign's lines of `storebridge check` / `setup` (its URL and token, the list, the order API, the
plan's entitlements), and `setup`'s find-or-create of each store's connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.check_calls import Check, caller, rejected, unexpected, why
from bridge.destinations.activecampaign import deliver as ac
from bridge.destinations.activecampaign.client import ActiveCampaignClient
from bridge.destinations.activecampaign.graphql import GraphQLClient
from bridge.errors import BridgeError, DeliveryError
from bridge.storage import Storage

if TYPE_CHECKING:
    from bridge.settings import Settings


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


def setup_targets(settings: Settings, seen: tuple[str, ...]) -> tuple[str, ...]:
    """The stores `setup` sets up without --store: each platform's own store setting (as its webhooks name the
    store) when it is set, so the connection exists before the first order, then every other store that has
    sent events."""
    from bridge.platforms import own_stores

    return tuple(dict.fromkeys((*own_stores(settings), *seen)))


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
        runner = ac.ActiveCampaignRunner(ac_client(settings), records, connection_id=None, source=settings.ac_source)
        return {store: runner.connection(store) for store in targets}
    finally:
        storage.db.dispose()
