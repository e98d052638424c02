"""`bridge send` against a real HTTP server, then `bridge events list --json` / `bridge events show ID`."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.storage import Events
from tests.helpers.env import base_env, fixture_path
from tests.helpers.live_server import serve
from tests.helpers.webhooks import interpret_stored

# source, fixture, kind, order id the canonical event carries
SENDS = [
    ("shopify", "orders_paid__basic.json", "order.paid", "5874120638518"),
    ("shopify", "refunds_create__basic.json", "order.refunded", "5874120638518"),
    ("shopify", "checkouts_update__with_email.json", "checkout.updated", None),
    ("woocommerce", "order_updated__processing.json", "order.paid", "4817"),
    ("woocommerce", "order_created__pending.json", "checkout.updated", "4817"),
    ("ecartapi", "order__paid_wrapped.json", "order.paid", "5912345678902"),
    ("custom", "order_refunded__basic.json", "order.refunded", "LC-100482"),
]


@pytest.fixture
def cli_env(db_path, tmp_path, monkeypatch):
    """Only our BRIDGE_* variables, and a working directory without a .env file."""
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / ".env").exists()
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("BRIDGE_")}
    env.update(base_env(db_path))
    return env


@pytest.fixture
def server(app):
    with serve(app) as base:
        yield base


def bridge(env, *args: str):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(("source", "name", "kind", "order_id"), SENDS, ids=[f"{s[0]}-{s[1]}" for s in SENDS])
def test_send_signs_and_posts(cli_env, app, server, db, source, name, kind, order_id):
    result = bridge(cli_env, "send", str(fixture_path(source, name)), "--source", source, "--url", server)
    assert result.exit_code == 0, result.output
    status, _, text = result.stdout.strip().partition(" ")
    reply = json.loads(text)
    assert (status, reply["status"]) == ("202", "accepted")
    interpret_stored(app.test_client(), db)
    record = Events(db).get(int(reply["event_id"]))
    assert (record.source, record.kind, record.order_id, record.status) == (source, kind, order_id, "accepted")
    assert record.body == fixture_path(source, name).read_bytes()


def test_send_to_the_full_webhook_url_and_a_rejection(cli_env, server, db):
    path = str(fixture_path("shopify", "orders_paid__basic.json"))
    ok = bridge(cli_env, "send", path, "--source", "shopify", "--url", f"{server}/webhooks/shopify")
    assert ok.exit_code == 0 and ok.stdout.startswith("202 ")
    wrong = {**cli_env, "BRIDGE_SHOPIFY_SECRET": "not-the-secret"}
    rejected = bridge(wrong, "send", path, "--source", "shopify", "--url", server)
    assert rejected.exit_code == 1
    assert rejected.stdout.startswith("401 ") and "invalid_signature" in rejected.stdout
    assert len(Events(db).list()) == 1


def test_send_without_a_secret_says_which_variable(cli_env, server):
    env = {**cli_env, "BRIDGE_WOOCOMMERCE_SECRET": None}
    path = str(fixture_path("woocommerce", "order_updated__processing.json"))
    result = bridge(env, "send", path, "--source", "woocommerce", "--url", server)
    assert result.exit_code != 0
    assert "BRIDGE_WOOCOMMERCE_SECRET" in result.output


def test_send_to_nothing_listening_fails_cleanly(cli_env):
    path = str(fixture_path("custom", "order_paid__basic.json"))
    result = bridge(cli_env, "send", path, "--source", "custom", "--url", "http://127.0.0.1:9")
    assert result.exit_code != 0
    assert "could not reach" in result.output


def test_events_list_and_show(cli_env, app, server, db):
    sent = {}
    for source, name, _kind, _order in SENDS[:1] + SENDS[3:4] + SENDS[5:]:
        result = bridge(cli_env, "send", str(fixture_path(source, name)), "--source", source, "--url", server)
        sent[source] = json.loads(result.stdout.split(" ", 1)[1])["event_id"]
    interpret_stored(app.test_client(), db)

    listed = bridge(cli_env, "events", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [row["id"] for row in rows] == sorted(sent.values(), key=int, reverse=True)
    by_source = {row["source"]: row for row in rows}
    assert by_source["woocommerce"]["kind"] == "order.paid"
    assert by_source["woocommerce"]["order_id"] == "4817"
    assert by_source["custom"]["store"] == "shop.lakeside-cycles.example"
    assert {row["status"] for row in rows} == {"accepted"}

    only = bridge(cli_env, "events", "list", "--json", "--source", "ecartapi")
    assert [json.loads(line)["id"] for line in only.stdout.splitlines()] == [sent["ecartapi"]]

    table = bridge(cli_env, "events", "list")
    assert table.exit_code == 0 and "woocommerce" in table.stdout and "4817" in table.stdout

    shown = bridge(cli_env, "events", "show", "--json", sent["shopify"])
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    stored = Events(db).get(int(sent["shopify"]))
    assert detail["id"] == sent["shopify"]
    assert detail["payload"] == stored.payload
    assert detail["payload"]["total"] == 27372
    assert detail["body"] == fixture_path("shopify", "orders_paid__basic.json").read_text(encoding="utf-8")
    assert detail["headers"]["X-Shopify-Topic"] == "orders/paid"
    assert "X-Shopify-Hmac-Sha256" not in detail["headers"]


def test_events_show_unknown_id(cli_env, db):
    result = bridge(cli_env, "events", "show", "999999")
    assert result.exit_code != 0
    assert "no event 999999" in result.output


def test_bad_settings_exit_2_naming_the_variable(cli_env, db):
    result = bridge({**cli_env, "BRIDGE_AC_RATE": "abc"}, "events", "list")
    assert result.exit_code == 2
    assert "BRIDGE_AC_RATE" in result.output


def test_invalid_platform_payload_is_accepted_then_listed_as_quarantined(cli_env, app, server, db, tmp_path):
    """Spec §10: the store gets 202 accepted; the worker's reading quarantines it, and the CLI shows the errors."""
    document = json.loads(fixture_path("shopify", "orders_paid__basic.json").read_bytes())
    document["currency"] = "XXX"
    path = tmp_path / "orders_paid__bad_currency.json"
    path.write_text(json.dumps(document))
    result = bridge(cli_env, "send", str(path), "--source", "shopify", "--topic", "orders/paid", "--url", server)
    status, _, text = result.stdout.strip().partition(" ")
    reply = json.loads(text)
    assert (status, reply) == ("202", {"status": "accepted", "event_id": reply["event_id"]})
    assert interpret_stored(app.test_client(), db) == 1
    listed = bridge(cli_env, "events", "list", "--status", "quarantined", "--json").stdout.splitlines()
    rows = [json.loads(line) for line in listed]
    assert [(row["id"], row["status"]) for row in rows] == [(reply["event_id"], "quarantined")]
    shown = bridge(cli_env, "events", "show", reply["event_id"]).stdout
    assert "currency" in shown and "quarantined" in shown
