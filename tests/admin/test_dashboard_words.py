"""The dashboard and the CLI say the same thing in the shop's words: amounts in the order's currency, a refund
waiting behind its order, a delivery done with a refused list subscription, the dead list's why without raw
JSON, and quarantine in the navigation. Real webhooks through the Flask test client, a real worker against the
strict fake ActiveCampaign, and `storebridge events show` run as a process on the same database (SQLite and
PostgreSQL)."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bridge.app import create_app
from bridge.settings import load_settings
from bridge.storage import Database
from tests.admin.conftest import ADMIN_TOKEN
from tests.admin.dashboard_fixtures import (  # noqa: F401 - fixtures
    dead_event_fixture,
    login_fixture,
    worker_fixture,
)
from tests.fakes import FakeActiveCampaign
from tests.helpers.backends import database_url  # noqa: F401 - SQLite and PostgreSQL
from tests.helpers.delivery import DELIVERY_TIMINGS, InProcessWorker, delivery_rows, post_shopify, wait_until
from tests.helpers.env import base_env, fixture
from tests.helpers.web_process import clean_env
from tests.helpers.webhooks import interpret_stored, resign

SCRIPT = Path(sys.executable).with_name("storebridge")
LIST = "7"


@pytest.fixture(name="admin_overrides")
def admin_overrides_fixture(fake_ac: FakeActiveCampaign) -> dict[str, str | None]:
    """ActiveCampaign live against the fake, contacts synced onto list 7, net revenue, no EcartAPI leg."""
    return {
        "BRIDGE_AC_URL": fake_ac.base_url,
        "BRIDGE_AC_TOKEN": fake_ac.token,
        "BRIDGE_ECART_STATUSES": "none",
        "BRIDGE_AC_CONTACT_SYNC": "on",
        "BRIDGE_AC_LIST_ID": LIST,
        "BRIDGE_AC_REVENUE": "net",  # a refund is an AC delivery of its own, in its order's lane
        **DELIVERY_TIMINGS,
    }


def events_show(db_path: Path, url: str, event_id: int) -> str:
    """`storebridge events show ID`, run as the operator runs it, on the test's database."""
    env = clean_env(**base_env(db_path, BRIDGE_DATABASE_URL=url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN))
    done = subprocess.run(
        [str(SCRIPT), "events", "show", str(event_id)],
        cwd=db_path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def final(db: Database, event_id: int) -> dict:
    """The event's only delivery, once it is final."""
    rows = wait_until(
        lambda: [r for r in delivery_rows(db, event_id) if r["status"] not in ("pending", "in_flight")],
        timeout=15,
        describe=lambda: str(delivery_rows(db, event_id)),
    )
    return rows[0]


@pytest.mark.parametrize(
    ("name", "amount"), [("orders_paid__basic.json", "$273.72"), ("orders_paid__kwd.json", "26.190 KWD")]
)
def test_money_in_the_orders_currency_on_the_page_and_in_the_cli(
    client: FlaskClient,
    db: Database,
    db_path: Path,
    database_url: str,  # noqa: F811 - the backends fixture
    login: Callable[[], str],
    worker: object,
    name: str,
    amount: str,
) -> None:
    login()
    event_id = post_shopify(client, name)
    final(db, event_id)
    page = client.get(f"/admin/events/{event_id}").text
    assert f'<dt>Total</dt><dd class="money">{amount}</dd>' in page
    shown = events_show(db_path, database_url, event_id)
    assert f"total      {amount}" in shown
    assert "minor units" not in shown and "minor units" not in page


def test_a_refused_list_subscription_is_done_with_a_warning_on_both(
    client: FlaskClient,
    db: Database,
    db_path: Path,
    database_url: str,  # noqa: F811
    fake_ac: FakeActiveCampaign,
    login: Callable[[], str],
    worker: object,
) -> None:
    login()
    fake_ac.fail_next(422, body={"message": "List 7 does not exist"}, method="POST", path_prefix="/api/3/contactLists")
    event_id = post_shopify(client, "orders_paid__basic.json")
    row = final(db, event_id)
    assert row["status"] == "done", row
    warning = "list 7 subscription refused: HTTP 422 refused as invalid: List 7 does not exist"
    page = html.unescape(client.get(f"/admin/events/{event_id}").text)
    assert '<span class="badge s-done_warning">done, with a warning</span>' in page
    assert f"Warning: {warning}" in page
    shown = events_show(db_path, database_url, event_id)
    assert ": done, with a warning after 1 attempt(s)" in shown
    assert f"warning: {warning}" in shown
    assert "note:" in shown and "contact " in shown, "the CLI shows the delivery's note like the page does"


def test_a_refund_waiting_behind_its_order_says_so_on_both(
    client: FlaskClient,
    db: Database,
    db_path: Path,
    database_url: str,  # noqa: F811
    login: Callable[[], str],
    worker: object,
) -> None:
    csrf = login()
    # Paused: the order's delivery stays pending at the head of the lane, so the refund's waits behind it.
    assert client.post("/admin/destinations/activecampaign/pause", data={"csrf_token": csrf, "action": "pause"})
    order = post_shopify(client, "orders_paid__basic.json")
    refund = post_shopify(client, "refunds_create__basic.json")
    rows = wait_until(lambda: delivery_rows(db, order) and delivery_rows(db, refund), timeout=15)
    head = delivery_rows(db, order)[0]["id"]
    assert rows[0]["status"] == "pending"
    waiting = f"waiting for delivery #{head}, same checkout"
    page = client.get(f"/admin/events/{refund}").text
    assert waiting in page and "next try" not in page
    assert f"{waiting} after 0 attempt(s)" in events_show(db_path, database_url, refund)
    order_page = client.get(f"/admin/events/{order}").text
    assert "waiting for delivery" not in order_page, "the head of the lane waits for nothing"

    assert client.post("/admin/destinations/activecampaign/pause", data={"csrf_token": csrf, "action": "resume"})
    assert final(db, refund)["status"] == "done"
    assert waiting not in client.get(f"/admin/events/{refund}").text


def test_the_dead_why_is_plain_on_the_event_page_and_in_the_cli(
    client: FlaskClient,
    db_path: Path,
    database_url: str,  # noqa: F811
    login: Callable[[], str],
    dead_event: object,
) -> None:
    login()
    event_id = dead_event.event_id  # type: ignore[attr-defined]
    page = client.get(f"/admin/events/{event_id}").text
    assert '<p class="flash flash-error">HTTP 422 refused as invalid: bad total</p>' in page
    shown = events_show(db_path, database_url, event_id)
    assert "why:     HTTP 422 refused as invalid: bad total" in shown
    assert "unexpected HTTP" not in shown and '{"errors"' not in shown.split("attempts:")[0]


def test_quarantine_has_its_place_in_the_navigation_with_a_why(
    client: FlaskClient, db: Database, login: Callable[[], str]
) -> None:
    login()
    assert '<a href="/admin/quarantine">Quarantine</a>' in client.get("/admin/").text
    document = json.loads(fixture("shopify", "orders_paid__no_checkout.json"))
    body, headers = resign("shopify", {**document, "currency": "XXX"}, topic="orders/paid")
    event_id = int(client.post("/webhooks/shopify", data=body, headers=headers).get_json()["event_id"])
    interpret_stored(client, db)
    page = client.get("/admin/quarantine")
    assert page.status_code == 200 and 'aria-current="page">Quarantine</a>' in page.text
    assert f'href="/admin/events/{event_id}"' in page.text
    assert '<div class="why">currency: Not an ISO 4217 currency code with a minor unit.</div>' in page.text
    assert 'href="/admin/quarantine"' in client.get("/admin/").text.split("quarantined events")[0]


def test_a_skip_and_its_note_show_on_both(
    client: FlaskClient,
    db: Database,
    db_path: Path,
    database_url: str,  # noqa: F811
    login: Callable[[], str],
    worker: object,
) -> None:
    login()
    # A refund of an order the bridge never sent to AC: nothing to lower, so the delivery is skipped, with why.
    event_id = post_shopify(client, "refunds_create__basic.json")
    row = final(db, event_id)
    assert row["status"] == "skipped" and "never sent to ActiveCampaign" in row["note"], row
    page = html.unescape(client.get(f"/admin/events/{event_id}").text)
    assert '<span class="badge s-skipped">skipped</span>' in page and row["note"] in page
    shown = events_show(db_path, database_url, event_id)
    assert ": skipped (nothing to send) after 1 attempt(s)" in shown and f"note:    {row['note']}" in shown


def test_an_unresolvable_host_is_said_in_words_on_both(
    client: FlaskClient,
    db: Database,
    db_path: Path,
    database_url: str,  # noqa: F811
    login: Callable[[], str],
) -> None:
    """AC's URL names a host that does not exist: the delivery waits to retry, and says why in words."""
    login()
    env = base_env(
        db_path,
        BRIDGE_DATABASE_URL=database_url,
        BRIDGE_AC_URL="https://ac-account.invalid",
        BRIDGE_AC_TOKEN="token-for-a-host-that-does-not-exist",
        BRIDGE_ECART_STATUSES="none",
        **DELIVERY_TIMINGS,
    )
    broken = load_settings(env, env_file=None)
    worker = InProcessWorker(broken, db).start()
    try:
        event_id = post_shopify(create_app(broken, db=db).test_client(), "orders_paid__basic.json")
        wait_until(
            lambda: [r for r in delivery_rows(db, event_id) if r["last_error"]],
            timeout=15,
            describe=lambda: str(delivery_rows(db, event_id)),
        )
    finally:
        worker.stop()
    cause = "cannot resolve host ac-account.invalid"
    page = client.get(f"/admin/events/{event_id}").text
    assert f'<p class="flash flash-error">{cause}</p>' in page and "ConnectionError" not in page
    shown = events_show(db_path, database_url, event_id)
    assert f"why:     {cause}" in shown and "ConnectionError" not in shown
