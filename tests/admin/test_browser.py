"""The dashboard in a real browser: headless Chromium (Debian's `chromium` package) driven by Playwright.

The bridge runs on a real loopback HTTP server with a delivery worker and the strict fake ActiveCampaign. A
delivery is made dead (the fake rejects the order with a 422); then, as an operator would, the browser logs in,
finds the dead delivery, opens its event, presses Retry, and reloads until the delivery is done. Screenshots of
every step go to test-artifacts/browser/.

The screenshots in docs/ (the overview and an event page) are taken here too, from the running dashboard, so
they show it as it is: to test-artifacts/browser/ on every run, and into the directory named by
`STOREBRIDGE_SCREENSHOTS` when it is set (`STOREBRIDGE_SCREENSHOTS=docs`, or `make screenshots`). Runs without
it (CI included) leave the checkout's files alone.

Skipped when /usr/bin/chromium is missing, except in CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, sync_playwright

from bridge.app import create_app
from bridge.settings import Settings, load_settings
from bridge.storage import Database
from tests.admin.conftest import ADMIN_TOKEN
from tests.admin.dashboard_fixtures import (  # noqa: F401 - fixtures
    DeadEvent,
    admin_overrides_fixture,
    dead_event_fixture,
    delivery_status,
    worker_fixture,
)
from tests.fakes.fixtures import fake_ac  # noqa: F401
from tests.helpers.delivery import PAID_ORDER_ID, InProcessWorker, delivery_rows, post_shopify, wait_until
from tests.helpers.env import base_env, fixture
from tests.helpers.live_server import serve
from tests.helpers.webhooks import interpret_stored, resign

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"

pytestmark = pytest.mark.slow


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium, closed at teardown."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(f"the browser test must run in CI, but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The bridge (webhooks, admin API and dashboard) on a real loopback server; its base URL."""
    with serve(app) as base_url:
        yield base_url


def test_operator_retries_a_dead_delivery_in_the_browser(browser: Browser, live: str, dead_event: DeadEvent) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    step = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{next(step):02d}-{name}.png"), full_page=True)

    # Logged out: the dashboard sends the browser to the login page.
    page.goto(f"{live}/admin/")
    assert page.url == f"{live}/admin/login?next=/admin/"
    shot("login")
    page.fill("input[name=token]", "not-the-token-0123456789")
    page.click("button[type=submit]")
    assert page.get_by_text("That is not the admin token.").is_visible()
    page.fill("input[name=token]", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/admin/")

    # Chromium kept the Secure, HttpOnly, SameSite=Lax cookie although this is plain http (127.0.0.1 is trusted).
    (cookie,) = context.cookies()
    assert (cookie["name"], cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (
        "bridge_admin", True, True, "Lax"
    )  # fmt: skip
    assert ADMIN_TOKEN not in cookie["value"]

    # The overview counts the dead delivery and charts the event.
    dead_figure = page.locator("a.figure", has_text="dead deliveries")
    assert dead_figure.locator(".value").inner_text() == "1"
    assert page.locator("svg.chart rect.seg.s-dead").count() == 1
    shot("overview")

    # The dead-letter view lists the event and why its delivery died.
    dead_figure.click()
    page.wait_for_url(f"{live}/admin/dead")
    row = page.locator("tr", has=page.locator(f'a[href="/admin/events/{dead_event.event_id}"]'))
    assert "activecampaign: HTTP 422 refused as invalid: bad total" in row.inner_text()
    shot("dead-letters")

    # The event page shows the dead delivery's timeline: the rejected request and AC's answer side by side.
    row.locator(f'a[href="/admin/events/{dead_event.event_id}"]').click()
    page.wait_for_url(f"{live}/admin/events/{dead_event.event_id}")
    delivery = page.locator(f"#delivery-{dead_event.delivery_id}")
    assert delivery.locator("h3 .badge").inner_text() == "dead"
    failed = delivery.locator("li.attempt.o-failed")
    assert "/api/3/ecomOrders" in failed.locator(".attempt-head").inner_text()
    assert "bad total" in failed.locator(".exchange").inner_text()
    shot("event-dead")

    # Retry: a CSRF-protected POST form; the worker sends the delivery again and the fake accepts it.
    delivery.get_by_role("button", name="Retry delivery").click()
    page.wait_for_url(f"{live}/admin/events/{dead_event.event_id}")
    assert page.get_by_text(f"Delivery {dead_event.delivery_id} to activecampaign is queued").is_visible()
    shot("retried")

    def delivered() -> bool:
        page.reload()
        return delivery.locator("h3 .badge").inner_text() == "done"

    wait_until(delivered, timeout=20, interval=0.5, describe="the delivery never showed done")
    assert page.locator("h1 .badge").inner_text() == "done"
    assert delivery.locator("li.attempt.o-ok").count() >= 1
    shot("event-done")

    orders = dead_event.fake.calls(method="POST", path_prefix="/api/3/ecomOrders")
    assert [call.status for call in orders] == [422, 201]
    assert [order["externalid"] for order in dead_event.fake.orders()] == [PAID_ORDER_ID]

    # The overview agrees, and on a phone-sized screen nothing overflows sideways.
    page.goto(f"{live}/admin/")
    assert page.locator("a.figure", has_text="dead deliveries").locator(".value").inner_text() == "0"
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin/", "/admin/events", f"/admin/events/{dead_event.event_id}"):
        page.goto(f"{live}{path}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    shot("phone-event")
    context.close()


def test_dry_run_labels_and_the_live_retry_warning_in_the_browser(
    browser: Browser, live: str, settings: Settings, db: Database
) -> None:
    """An event processed while both destinations were dry-run, looked at after ActiveCampaign was configured
    (this module's app is live against the fake): the page says nothing was sent, and retrying the AC delivery
    asks before it sends for real."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dry_settings = load_settings(
        base_env(Path(settings.database_url.removeprefix("sqlite:///")), BRIDGE_DATABASE_URL=settings.database_url),
        env_file=None,
    )
    dry_client = create_app(dry_settings, db=db).test_client()
    worker = InProcessWorker(dry_settings, db).start()
    try:
        event_id = post_shopify(dry_client, "orders_paid__basic.json")
        wait_until(
            lambda: delivery_rows(db, event_id) and all(r["status"] == "dry_run" for r in delivery_rows(db, event_id)),
            timeout=20,
        )
    finally:
        worker.stop()
    ac_delivery = next(r["id"] for r in delivery_rows(db, event_id) if r["destination"] == "activecampaign")

    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live}/admin/login")
    page.fill("input[name=token]", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/admin/")
    page.goto(f"{live}/admin/events/{event_id}")
    assert page.locator("h1 .badge").inner_text() == "dry-run: nothing sent"
    assert page.get_by_text("Dry-run: nothing was sent to activecampaign or ecartapi.").is_visible()
    delivery = page.locator(f"#delivery-{ac_delivery}")
    assert delivery.locator("h3 .badge").inner_text() == "dry-run: would send"
    assert delivery.locator(".attempt-head .badge").first.inner_text() == "dry-run: would send"
    assert delivery.get_by_text("activecampaign is live now: a retry sends this for real.").is_visible()
    page.screenshot(path=str(ARTIFACTS / "dry-run-event.png"), full_page=True)

    delivery.get_by_role("button", name="Retry — send live").click()
    assert page.get_by_role("heading", name="Send this delivery live?").is_visible()
    page.screenshot(path=str(ARTIFACTS / "dry-run-confirm-live.png"), full_page=True)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{live}/admin/events/{event_id}")
    assert delivery_status(db, ac_delivery) == "dry_run", "cancelled: nothing was queued"


def screenshot_dirs() -> list[Path]:
    """Where the docs' screenshots go: test-artifacts/browser/ always, and `STOREBRIDGE_SCREENSHOTS` when set
    (relative to the repository root)."""
    dirs = [ARTIFACTS]
    if chosen := os.environ.get("STOREBRIDGE_SCREENSHOTS", "").strip():
        dirs.append(ROOT / chosen)
    for folder in dirs:
        folder.mkdir(parents=True, exist_ok=True)
    return dirs


def test_docs_screenshots_of_the_dashboard_as_it_is(
    browser: Browser, live: str, client: FlaskClient, db: Database, dead_event: DeadEvent
) -> None:
    """A shop's first hour: orders in three currencies, two delivered, one dead (AC refused it), one quarantined.
    The overview and a delivered order's event page are photographed for docs/ after checking what they say."""
    delivered = [post_shopify(client, name) for name in ("orders_paid__kwd.json", "orders_paid__jpy.json")]
    for event_id in delivered:
        wait_until(lambda e=event_id: [r for r in delivery_rows(db, e) if r["status"] == "done"], timeout=20)
    document = json.loads(fixture("shopify", "orders_paid__no_checkout.json"))
    body, headers = resign("shopify", {**document, "currency": "XXX"}, topic="orders/paid")
    client.post("/webhooks/shopify", data=body, headers=headers)
    interpret_stored(client, db)

    page = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live}/admin/login")
    page.fill("input[name=token]", ADMIN_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/admin/")
    nav = page.get_by_role("navigation", name="Dashboard")
    assert nav.get_by_role("link", name="Quarantine").is_visible()
    assert page.locator("a.figure", has_text="quarantined events").locator(".value").inner_text() == "1"
    assert page.locator("a.figure", has_text="dead deliveries").locator(".value").inner_text() == "1"
    dirs = screenshot_dirs()
    for folder in dirs:
        page.screenshot(path=str(folder / "dashboard.png"), full_page=True)

    page.goto(f"{live}/admin/events/{delivered[0]}")
    assert page.locator("dd.money").first.inner_text() == "26.190 KWD"
    page.goto(f"{live}/admin/events/{delivered[1]}")
    assert page.locator("dd.money").first.inner_text() == "¥13,600"
    assert page.locator("h1 .badge").inner_text() == "done"
    for folder in dirs:
        page.screenshot(path=str(folder / "dashboard-event.png"), full_page=False)
