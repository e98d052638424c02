"""The dashboard on a first run: dry-run never looks like success, a retry that would now send live asks
first, rejected webhooks (a wrong secret) and quarantined events are counted on the overview, a quarantined
event shows the value that was refused and its order id, related events are linked, and a bulk retry whose
deliveries die again says so."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from flask.testing import FlaskClient

from bridge.app import create_app
from bridge.settings import load_settings
from bridge.storage import Database
from tests.admin.conftest import ADMIN_TOKEN
from tests.admin.dashboard_fixtures import (  # noqa: F401 - fixtures
    csrf_of,
    delivery_status,
    login_fixture,
)
from tests.fakes import FakeActiveCampaign
from tests.helpers import signing
from tests.helpers.delivery import InProcessWorker, delivery_rows, post_shopify, post_woo, wait_until
from tests.helpers.env import base_env, fixture
from tests.helpers.webhooks import interpret_stored


def _dry_run_event(client: FlaskClient, db: Database, settings) -> int:
    """A Shopify paid order fully processed in dry-run (no destination credentials)."""
    worker = InProcessWorker(settings, db).start()
    try:
        event_id = post_shopify(client, "orders_paid__basic.json")
        wait_until(
            lambda: delivery_rows(db, event_id) and all(r["status"] == "dry_run" for r in delivery_rows(db, event_id)),
            timeout=15,
            describe=lambda: str(delivery_rows(db, event_id)),
        )
    finally:
        worker.stop()
    return event_id


def test_dry_run_is_unmistakable(client: FlaskClient, db: Database, settings, login: Callable[[], str]) -> None:
    login()
    event_id = _dry_run_event(client, db, settings)
    page = client.get(f"/admin/events/{event_id}").text
    assert 'class="badge s-dry_run_only">dry-run: nothing sent</span>' in page
    assert 'class="badge s-done">done</span>' not in page, "a dry-run event must not read as done"
    assert "Dry-run: nothing was sent to activecampaign or ecartapi." in page
    assert "dry-run: would send" in page  # the delivery badges and every recorded call
    assert "Nothing sent. It would have:" in page
    overview = client.get("/admin/").text
    assert "Dry-run: nothing is sent to activecampaign or ecartapi." in overview
    assert "dry-run: would send" in overview and ">dry run<" not in overview
    assert "Dry-run: nothing is sent to activecampaign or ecartapi." in client.get("/admin/events").text


def test_retry_of_a_dry_run_delivery_that_would_now_send_live_asks_first(
    client: FlaskClient, db: Database, settings, fake_ac: FakeActiveCampaign, tmp_path
) -> None:
    event_id = _dry_run_event(client, db, settings)
    ac_delivery = next(r for r in delivery_rows(db, event_id) if r["destination"] == "activecampaign")
    ecart_delivery = next(r for r in delivery_rows(db, event_id) if r["destination"] == "ecartapi")
    # The operator has since configured ActiveCampaign (EcartAPI is still dry-run) and restarted.
    live_settings = load_settings(
        {**base_env(tmp_path / "bridge.db", BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN, BRIDGE_DATABASE_URL=settings.database_url),
         "BRIDGE_AC_URL": fake_ac.base_url, "BRIDGE_AC_TOKEN": fake_ac.token},
        env_file=None,
    )  # fmt: skip
    live = create_app(live_settings, db=db).test_client()
    form = live.get("/admin/login")
    live.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN})
    page = live.get(f"/admin/events/{event_id}").text
    csrf = csrf_of(page)
    assert "activecampaign is live now: a retry sends this for real." in page
    assert page.count("Retry — send live") == 1, "only the live destination's delivery warns"

    asked = live.post(f"/admin/deliveries/{ac_delivery['id']}/retry", data={"csrf_token": csrf})
    assert asked.status_code == 200 and "Send this delivery live?" in asked.text
    assert 'name="confirm" value="send-live"' in asked.text
    assert delivery_status(db, ac_delivery["id"]) == "dry_run", "nothing was queued without the confirmation"

    still_dry = live.post(f"/admin/deliveries/{ecart_delivery['id']}/retry", data={"csrf_token": csrf})
    assert still_dry.status_code == 303, "a retry that stays a dry-run needs no confirmation"
    assert "as a dry-run again (nothing is sent)" in html.unescape(live.get(f"/admin/events/{event_id}").text)

    confirmed = live.post(
        f"/admin/deliveries/{ac_delivery['id']}/retry", data={"csrf_token": csrf, "confirm": "send-live"}
    )
    assert confirmed.status_code == 303
    assert delivery_status(db, ac_delivery["id"]) == "pending"
    assert "queued to be sent again, for real." in html.unescape(live.get(f"/admin/events/{event_id}").text)


def test_overview_counts_rejected_webhooks_and_quarantined_events(
    client: FlaskClient, db: Database, login: Callable[[], str]
) -> None:
    login()

    def figure(page: str, label: str) -> int:
        head = page.split(f'<span class="label">{label}', 1)[0]
        return int(head.rsplit('<span class="value">', 1)[1].split("<", 1)[0])

    before = client.get("/admin/").text
    rejected_before = figure(before, "webhooks rejected (401)")
    body = fixture("shopify", "orders_paid__basic.json")
    wrong = signing.shopify_headers(body, "orders/paid", secret="a-wrong-secret")
    for _ in range(3):
        assert client.post("/webhooks/shopify", data=body, headers=wrong).status_code == 401
    after = client.get("/admin/").text
    assert figure(after, "webhooks rejected (401)") == rejected_before + 3
    assert "shopify" in after.split('id="rejected"', 1)[1].split("</div>", 1)[0]
    assert "Webhooks are being refused with 401" in after

    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["total_price"] = "not a price"
    invalid = json.dumps(document).encode()
    client.post("/webhooks/shopify", data=invalid, headers=signing.shopify_headers(invalid, "orders/paid"))
    interpret_stored(client, db)
    assert figure(client.get("/admin/").text, "quarantined events") == figure(before, "quarantined events") + 1


def test_quarantined_event_shows_the_refused_value_and_order(
    client: FlaskClient, db: Database, login: Callable[[], str]
) -> None:
    csrf = login()
    document = json.loads(fixture("shopify", "orders_paid__basic.json"))
    document["total_price"] = "twelve dollars"
    body = json.dumps(document).encode()
    response = client.post("/webhooks/shopify", data=body, headers=signing.shopify_headers(body, "orders/paid"))
    event_id = int(response.get_json()["event_id"])
    interpret_stored(client, db)
    page = html.unescape(client.get(f"/admin/events/{event_id}").text)
    assert "Why it is quarantined" in page
    assert '"twelve dollars"' in page, "the refused value is shown"
    assert "total_price" in page
    assert str(document["id"]) in page  # the order id, read from the raw body
    replayed = client.post(f"/admin/events/{event_id}/replay", data={"csrf_token": csrf}, follow_redirects=True)
    text = html.unescape(replayed.text)
    assert f"Event {event_id} is still quarantined" in text
    assert 'flash flash-error" role="status">Event' in replayed.text
    assert "{'" not in text and '{"' not in text.split("Why it is quarantined", 1)[0], "no Python dict in the flash"


def test_related_events_link_checkout_cart_and_order(
    client: FlaskClient, db: Database, login: Callable[[], str]
) -> None:
    login()
    checkout = post_woo(client, "order_created__pending.json")
    order = post_woo(client, "order_updated__processing.json")
    interpret_stored(client, db)
    checkout_page = client.get(f"/admin/events/{checkout}").text
    assert "Related events" in checkout_page and f'href="/admin/events/{order}"' in checkout_page
    order_page = client.get(f"/admin/events/{order}").text
    assert f'href="/admin/events/{checkout}"' in order_page
