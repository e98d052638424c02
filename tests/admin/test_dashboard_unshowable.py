"""Event pages for bodies that hold what no page can carry as it is (issue 18 item 6): a lone surrogate escape
(`\\ud800`) decodes to a character UTF-8 cannot encode, and the page was a 500 (the admin API answered 200);
NUL and other control characters are not HTML. The page must show them as their JSON escapes, on both
backends, for the raw body, the quarantine's error rows, and a key as well as a value."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from bridge.storage import Database
from tests.admin.conftest import ADMIN_HEADERS
from tests.admin.dashboard_fixtures import login_fixture  # noqa: F401 - fixture
from tests.helpers.backends import database_url  # noqa: F401 - SQLite and PostgreSQL
from tests.helpers.env import fixture
from tests.helpers.webhooks import headers_for, interpret_stored

ESCAPES = {
    "lone high surrogate": "\\ud800",
    "lone low surrogate": "\\udfff",
    "NUL": "\\u0000",
    "escape (ESC)": "\\u001b",
}


def _post(client: FlaskClient, source: str, name: str, change: Callable[[dict], None], escape: str, n: int) -> int:
    document = json.loads(fixture(source, name))
    document["id"] = 9000 + n
    document["date_modified_gmt" if source == "woocommerce" else "updatedAt"] = f"2026-03-{n + 1:02d}T10:00:00"
    change(document)
    body = json.dumps(document).replace("@@", escape).encode()
    response = client.post(f"/webhooks/{source}", data=body, headers=headers_for(source, body, name=name))
    assert response.status_code == 202, response.get_json()
    return int(response.get_json()["event_id"])


def _in_a_value(document: dict) -> None:
    document["billing"]["first_name"] = "Pat@@"


def _in_a_key(document: dict) -> None:
    document["meta_data"].append({"id": 1, "key": "gift@@", "value": "yes@@"})
    document["x@@y"] = 1


def _in_the_order_id(document: dict) -> None:
    # The page shows a quarantined event's order id as sent, outside any JSON: `Order A\u0000 (as sent …)`.
    document["id"] = "A@@"


@pytest.mark.parametrize("what", ESCAPES)
def test_the_event_page_shows_unshowable_text_as_escapes(
    client: FlaskClient, db: Database, login: Callable[[], str], what: str
) -> None:
    escape = ESCAPES[what]
    ids = [
        _post(client, "woocommerce", "order_updated__completed.json", _in_a_value, escape, 0),
        _post(client, "woocommerce", "order_updated__completed.json", _in_a_key, escape, 1),
        _post(client, "ecartapi", "order__paid.json", _in_the_order_id, escape, 2),
    ]
    interpret_stored(client, db)
    login()
    for event_id in ids:
        page = client.get(f"/admin/events/{event_id}")
        assert page.status_code == 200, (what, event_id, page.status_code)
        text = page.get_data(as_text=True)
        assert escape in text  # shown as the stored body spells it
        assert not any(ch in text for ch in ("\x00", "\x1b")) and "\ufffd" not in text
        assert client.get(f"/admin/api/events/{event_id}", headers=ADMIN_HEADERS).status_code == 200
    assert client.get("/admin/events").status_code == 200
    assert client.get("/admin/events?status=quarantined&q=pat").status_code == 200
