"""The dashboard's pages through the Flask test client: what each shows, filters, pagination, escaping."""

from __future__ import annotations

import html
from collections.abc import Callable

from flask.testing import FlaskClient

from bridge.storage import Database
from tests.admin.dashboard_fixtures import (  # noqa: F401 - fixtures
    REJECTION,
    DeadEvent,
    admin_overrides_fixture,
    dead_event_fixture,
    delivery_status,
    login_fixture,
    secrets_of,
    worker_fixture,
)
from tests.fakes.fixtures import fake_ac  # noqa: F401
from tests.helpers import signing
from tests.helpers.delivery import custom_order, post_custom, post_shopify, post_woo, wait_until
from tests.helpers.webhooks import interpret_stored

UPDATED = "2026-10-01T10:00:00+00:00"


def test_overview_shows_chart_queue_dead_and_destinations(
    client: FlaskClient,
    login: Callable[[], str],
    dead_event: DeadEvent,
) -> None:
    login()
    response = client.get("/admin/")
    assert response.status_code == 200
    page = response.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<svg" in page and 'class="seg s-dead"' in page
    assert "1 event, 1 dead" in page  # the hovered bar's title
    assert '<span class="value">1</span><span class="label">dead deliveries</span>' in page
    assert '<span class="value">0</span><span class="label">deliveries queued</span>' in page
    for name in ("activecampaign", "ecartapi"):
        assert f'action="/admin/destinations/{name}/pause"' in page
    assert page.count('value="pause"') == 2
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page
    for secret in secrets_of(dead_event.fake):
        assert secret not in page


def test_events_list_filters_like_the_api_and_paginates(client: FlaskClient, db, login: Callable[[], str]) -> None:
    login()
    shopify = post_shopify(client, "orders_paid__basic.json")
    woo = post_woo(client, "order_updated__processing.json")
    customs = [
        post_custom(client, "order.paid", custom_order(f"c-{n}", UPDATED, email=f"buyer{n}@example.com"))
        for n in range(3)
    ]

    interpret_stored(client, db)  # the worker's first step: raw platform events become accepted

    def listed(query: str) -> list[int]:
        response = client.get(f"/admin/events{query}")
        assert response.status_code == 200, response.text
        return sorted(_ids(response.text))

    assert listed("") == sorted([shopify, woo, *customs])
    assert listed("?source=woocommerce") == [woo]
    assert listed("?source=custom&kind=order.paid") == customs
    assert listed("?store=shop.example") == customs
    assert listed("?q=BUYER1@example.com") == [customs[1]]
    assert listed("?q=c-2") == [customs[2]]
    assert listed("?status=accepted") == sorted([shopify, woo, *customs])
    assert listed("?status=done") == []
    assert listed("?since=2999-01-01T00:00") == []
    assert listed("?until=2999-01-01T00:00&since=2000-01-01T00:00:00Z") == sorted([shopify, woo, *customs])

    first = client.get("/admin/events?source=custom&limit=2").text
    assert _ids(first) == [customs[2], customs[1]]
    older = html.unescape(first.split('rel="next" href="')[1].split('"')[0])
    assert older == f"/admin/events?source=custom&limit=2&cursor={customs[1]}"
    assert _ids(client.get(older).text) == [customs[0]]

    for bad in ("?status=nope", "?since=yesterday", "?cursor=abc", "?limit=0", "?q=%00"):
        response = client.get(f"/admin/events{bad}")
        assert response.status_code == 400, bad
        assert "flash-error" in response.text


def _ids(page: str) -> list[int]:
    """The events listed on a page, in order."""
    return [int(chunk.split('"')[0]) for chunk in page.split('href="/admin/events/')[1:]]


def test_event_page_shows_the_timeline_with_request_and_response(
    client: FlaskClient,
    login: Callable[[], str],
    dead_event: DeadEvent,
) -> None:
    login()
    page = client.get(f"/admin/events/{dead_event.event_id}").text
    assert f"Event #{dead_event.event_id}" in page and '<span class="badge s-dead">dead</span>' in page
    assert f'action="/admin/events/{dead_event.event_id}/replay"' in page
    assert f'action="/admin/deliveries/{dead_event.delivery_id}/retry"' in page
    assert "/api/3/ecomCustomers" in page and "/api/3/ecomOrders" in page
    assert "HTTP 422" in page
    assert html.escape(REJECTION["errors"][0]["detail"]) in page  # the response excerpt
    assert "&#34;totalPrice&#34;" in page or "&quot;totalPrice&quot;" in page  # the request excerpt, escaped
    assert '"X-Shopify-Topic": "orders/paid"' in html.unescape(page)  # the stored headers
    for secret in secrets_of(dead_event.fake):
        assert secret not in page
    missing = client.get("/admin/events/999999")
    assert missing.status_code == 404 and "There is no event 999999." in missing.text
    assert client.get(f"/admin/events/{2**70}").status_code == 404


def test_everything_from_the_store_is_escaped(client: FlaskClient, login: Callable[[], str]) -> None:
    login()
    hostile = "<script>alert(1)</script>"
    event_id = post_custom(client, "order.paid", custom_order("x-1", UPDATED, store=hostile))
    for path in ("/admin/events", f"/admin/events/{event_id}"):
        page = client.get(path).text
        assert hostile not in page, path
        assert html.escape(hostile) in page or "&lt;script&gt;" in page, path


def test_a_secret_that_got_stored_is_never_shown(client: FlaskClient, login: Callable[[], str]) -> None:
    login()
    leaked = custom_order("x-2", UPDATED, store=signing.SHOPIFY_SECRET, email="pat@example.com")
    event_id = post_custom(client, "order.paid", leaked)
    for path in ("/admin/events", f"/admin/events/{event_id}"):
        page = client.get(path).text
        assert signing.SHOPIFY_SECRET not in page, path
        assert "[redacted]" in page, path


def test_dead_letter_view_lists_why_and_bulk_retry_shows_progress(
    client: FlaskClient,
    db: Database,
    login: Callable[[], str],
    dead_event: DeadEvent,
) -> None:
    csrf = login()
    page = client.get("/admin/dead").text
    assert f'href="/admin/events/{dead_event.event_id}"' in page
    # The why in words, the status said once, AC's own message, never the raw JSON answer.
    assert "activecampaign</strong>: HTTP 422 refused as invalid: bad total</div>" in page
    assert page.count("HTTP 422") == 1 and "field_invalid" not in page
    assert client.post("/admin/dead/retry").status_code == 403
    assert client.post("/admin/dead/retry", data={"csrf_token": "forged"}).status_code == 403
    assert delivery_status(db, dead_event.delivery_id) == "dead"

    response = client.post("/admin/dead/retry", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/jobs/")
    job_page = response.headers["Location"]
    wait_until(lambda: "1 of 1 event queued again" in client.get(job_page).text, timeout=10)
    wait_until(lambda: delivery_status(db, dead_event.delivery_id) == "done", timeout=15)
    wait_until(lambda: "All 1 retried events were delivered." in client.get(job_page).text, timeout=10)
    assert dead_event.fake.orders(), "the retried order reached the fake"
    assert f'href="/admin/events/{dead_event.event_id}"' not in client.get("/admin/dead").text


def test_bulk_retry_whose_deliveries_die_again_says_so(
    client: FlaskClient,
    db: Database,
    login: Callable[[], str],
    dead_event: DeadEvent,
) -> None:
    csrf = login()
    # The cause is not fixed: the destination refuses the order again.
    dead_event.fake.fail_next(422, body=REJECTION, method="POST", path_prefix="/api/3/ecomOrders")
    response = client.post("/admin/dead/retry", data={"csrf_token": csrf})
    job_page = response.headers["Location"]
    page = wait_until(
        lambda: (text := client.get(job_page).text) and "Every retried event died again" in text and text,
        timeout=20,
        describe=lambda: client.get(job_page).text[-1500:],
    )
    assert 'class="badge s-dead">dead</span>' in page
    assert 'class="badge s-done">done</span>' not in page, "a retry that fixed nothing must not read as done"
    assert "Those events now: 1 dead." in page
    assert delivery_status(db, dead_event.delivery_id) == "dead"
