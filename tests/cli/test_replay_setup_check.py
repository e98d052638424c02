"""The operator commands against the fakes: `bridge setup`, `bridge check`, `bridge events replay|show`.

Each runs the installed `bridge` console script in a subprocess with a BRIDGE_* environment, as an operator
would; deliveries run on an in-process worker sharing the test's SQLite file.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.fakes import fixtures as fakes
from tests.helpers import delivery_fixtures as fixtures
from tests.helpers.delivery import delivery_rows, post_shopify, run_cli, summary, wait_final

# The delivery fixtures (fakes, settings pointing at them, an in-process worker) for this module.
fake_ac, fake_ecart = fakes.fake_ac, fakes.fake_ecart
delivery_env, env_overrides, settings = fixtures.delivery_env, fixtures.env_overrides, fixtures.settings
start_worker, worker = fixtures.start_worker, fixtures.worker

POS_ORDER = "5874133024822"  # orders_paid__no_checkout
ORDERS = "/api/3/ecomOrders"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def lines(done) -> list[str]:
    return (done.stdout + done.stderr).strip().splitlines()


SHOP = "acme-outdoor.myshopify.com"


def test_setup_creates_the_connection_once_then_finds_it(db, fake_ac, fake_ecart, delivery_env, tmp_path):
    first = run_cli(["setup", "--store", SHOP], delivery_env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert lines(first) == [
        f"activecampaign: store {SHOP} -> connection 2",
        f"activecampaign: ok - token accepted by {fake_ac.base_url}",
        "activecampaign list: ok - contact sync off, revenue gross, list none: BRIDGE_AC_LIST_ID not set, "
        "nobody is subscribed",
        "activecampaign orders: ok - BRIDGE_AC_ORDER_API=v3: orders go to v3 Deep Data (no status)",
        "activecampaign plan: ok - entitlements not exposed (HTTP 404); optional",
        "ecartapi: ok - token accepted for store Example Store",
    ]
    assert [(c["id"], c["service"]) for c in fake_ac.connections(externalid=SHOP)] == [("2", "storebridge")]

    # Another installation (fresh database) finds the connection instead of creating a second one.
    other = {**delivery_env, "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    again = run_cli(["setup", "--store", SHOP], other, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert lines(again)[0] == f"activecampaign: store {SHOP} -> connection 2"
    # Two setups back to back can meet the fake's 5 req/s limit; a 429 is waited out and asked again, so
    # only answered calls say what setup did.
    answered = [r for r in fake_ac.calls(path_prefix="/api/3/connections") if r.status != 429]
    assert [r.method for r in answered] == [
        "GET", "POST", "GET",  # first setup: look up, create, token check
        "GET", "GET",  # second: look up (found), token check
    ]  # fmt: skip
    assert len(fake_ac.connections()) == 2  # the preloaded one and the shop's
    assert summary(fake_ecart.requests) == [("GET", "/api/v2/store", 200)] * 2


def test_setup_without_stores_or_events_says_what_to_do(db, fake_ac, fake_ecart, delivery_env, tmp_path):
    done = run_cli(["setup"], delivery_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines(done)[0] == (
        "activecampaign: no store has sent events yet; pass --store your-shop.myshopify.com "
        "(or set BRIDGE_SHOPIFY_SHOP)"
    )
    assert fake_ac.calls(method="POST") == []


@pytest.mark.parametrize(
    "variable, expected",
    [
        ("BRIDGE_AC_TOKEN", "activecampaign: FAILED - BRIDGE_AC_TOKEN rejected: HTTP 403 token rejected (forbidden)"),
        (
            "BRIDGE_ECART_TOKEN",
            "ecartapi: FAILED - BRIDGE_ECART_TOKEN rejected: HTTP 401 token rejected: Invalid token",
        ),
    ],
)
def test_setup_with_a_wrong_token_fails_clearly(db, fake_ac, delivery_env, tmp_path, variable, expected):
    done = run_cli(["setup"], {**delivery_env, variable: "wrong-token-123"}, tmp_path)
    assert done.returncode == 1
    assert any(line.startswith(expected) for line in lines(done)), lines(done)
    assert "wrong-token-123" not in done.stdout + done.stderr, "a secret was printed"
    assert "Traceback" not in done.stderr
    if variable == "BRIDGE_AC_TOKEN":
        assert fake_ac.connections(externalid="storebridge") == []


def test_check_passes_when_everything_is_reachable(db, fake_ac, fake_ecart, delivery_env, tmp_path):
    done = run_cli(["check"], delivery_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split(" - ")[0] for line in lines(done)] == [
        "sources: ok", "database: ok", "activecampaign: ok", "activecampaign list: ok", "activecampaign orders: ok",
        "activecampaign plan: ok", "ecartapi: ok", "reconciliation: ok", "ok",
    ]  # fmt: skip


def test_check_verifies_the_list_and_reports_entitlements(db, fake_ac, fake_ecart, delivery_env, tmp_path):
    fake_ac.contact_book.preload_list(7, "Buyers")
    fake_ac.entitlements = [{"code": "ecom-core", "enabled": True}, {"code": "ecom-browse-abandonment",
                            "enabled": False}, {"code": "crm", "enabled": True}]  # fmt: skip
    env = {**delivery_env, "BRIDGE_AC_LIST_ID": "7", "BRIDGE_AC_CONTACT_SYNC": "on", "BRIDGE_AC_REVENUE": "net"}
    done = run_cli(["check"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "activecampaign list: ok - contact sync on, revenue net, list 7: list 7 (Buyers) exists" in lines(done)
    assert "activecampaign plan: ok - e-commerce entitlements: ecom-core" in lines(done)
    assert ("GET", "/api/3/lists/7", 200) in summary(fake_ac.requests)

    for command in (["check"], ["setup"]):
        missing = run_cli(command, {**env, "BRIDGE_AC_LIST_ID": "8"}, tmp_path)
        assert missing.returncode == 1, missing.stdout
        assert "activecampaign list: FAILED - BRIDGE_AC_LIST_ID=8: no such list in AC" in lines(missing)


def test_check_asks_the_graphql_endpoint_for_an_order_that_does_not_exist(db, fake_ac, delivery_env, tmp_path):
    env = {**delivery_env, "BRIDGE_AC_ORDER_API": "graphql", "BRIDGE_AC_CONNECTION_ID": "1"}
    done = run_cli(["check"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = f"activecampaign orders: ok - BRIDGE_AC_ORDER_API=graphql: {fake_ac.base_url}/api/3/ecom/graphql answers"
    assert f"{expected} getOrder" in lines(done)
    (call,) = fake_ac.graphql.calls()
    assert "getOrder" in call["query"] and call["variables"]["order"] == "storebridge-check-no-such-order"
    fake_ac.graphql.fail_next.append({"message": "Internal server error"})
    failed = run_cli(["check"], env, tmp_path)
    assert failed.returncode == 1
    assert any(line.startswith("activecampaign orders: FAILED") and "Internal server error" in line
               for line in lines(failed)), lines(failed)  # fmt: skip


def test_check_fails_when_activecampaign_is_unreachable(db, delivery_env, tmp_path):
    done = run_cli(["check"], {**delivery_env, "BRIDGE_AC_URL": closed_port_url()}, tmp_path)
    assert done.returncode == 1
    (line,) = [line for line in lines(done) if line.startswith("activecampaign:")]
    assert line == "activecampaign: FAILED - connection refused by 127.0.0.1", line
    assert "ecartapi: ok" in done.stdout


@pytest.fixture
def dead_order(client, db, fake_ac, fake_ecart, worker) -> int:
    """An order whose AC delivery died on a 422 (its EcartAPI leg succeeded)."""
    fake_ecart.seed_order(POS_ORDER)
    fake_ac.fail_next(422, body={"errors": [{"title": "bad", "code": "field_invalid"}]}, method="POST",
                      path_prefix=ORDERS)  # fmt: skip
    event_id = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, event_id, legs=2)
    assert (legs["activecampaign"]["status"], legs["ecartapi"]["status"]) == ("dead", "done")
    return event_id


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_AC_CONNECTION_ID": "1"}])
def test_replay_dead_requeues_and_they_succeed(db, fake_ac, fake_ecart, dead_order, delivery_env, tmp_path):
    future = run_cli(
        ["events", "replay", "--status", "dead", "--since", "2999-01-01T00:00:00Z"], delivery_env, tmp_path
    )
    assert (future.returncode, future.stdout.strip()) == (0, "requeued dead deliveries of 0 event(s): -")
    before = len(fake_ac.requests)

    done = run_cli(["events", "replay", "--status", "dead"], delivery_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"requeued dead deliveries of 1 event(s): {dead_order}"
    legs = wait_final(db, dead_order, legs=2)
    assert (legs["activecampaign"]["status"], legs["activecampaign"]["attempts"]) == ("done", 1)

    (order,) = fake_ac.orders()
    assert order["externalid"] == POS_ORDER
    assert summary(fake_ac.requests[before:]) == [("GET", ORDERS, 200), ("POST", ORDERS, 201)]
    assert fake_ecart.statuses(POS_ORDER) == ["paid"], "only the dead leg is retried"
    assert [d["status"] for d in delivery_rows(db, dead_order)] == ["done", "done"]


@pytest.mark.parametrize("env_overrides", [{"BRIDGE_AC_CONNECTION_ID": "1"}])
def test_events_show_prints_deliveries_and_attempts(db, dead_order, delivery_env, tmp_path):
    done = run_cli(["events", "show", "--json", str(dead_order)], delivery_env, tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert (shown["id"], shown["kind"], shown["order_id"]) == (str(dead_order), "order.paid", POS_ORDER)
    deliveries = {d["destination"]: d for d in shown["deliveries"]}
    assert (deliveries["activecampaign"]["status"], deliveries["ecartapi"]["status"]) == ("dead", "done")
    assert deliveries["activecampaign"]["last_error"].startswith("HTTP 422 refused as invalid")  # in words
    assert any("field_invalid" in (a["response"] or "") for a in shown["attempts"]), "the answer stays whole"
    assert sorted((a["destination"], a["method"], a["status_code"]) for a in shown["attempts"]) == [
        ("activecampaign", "POST", 201),  # the ecomCustomer
        ("activecampaign", "POST", 422),  # the order, rejected
        ("ecartapi", "PUT", 200),
    ]
    order_post = next(a for a in shown["attempts"] if a["status_code"] == 422)
    assert order_post["url"].endswith(ORDERS)
    assert json.loads(order_post["request"])["ecomOrder"]["externalid"] == POS_ORDER
    assert "test-ac-token" not in done.stdout and "test-ecart-token" not in done.stdout, "a secret was printed"

    readable = run_cli(["events", "show", str(dead_order)], delivery_env, tmp_path)
    assert readable.returncode == 0, readable.stderr
    lines = readable.stdout.splitlines()
    assert lines[0] == f"event {dead_order}: order.paid from shopify - {shown['status']}"
    assert f"  order      {POS_ORDER}" in lines
    assert any(line.startswith("  #") and "activecampaign" in line and ": dead after" in line for line in lines)
    assert any(line.strip().startswith("why:     HTTP 422 refused as invalid") for line in lines)
    assert not any("field_invalid" in line for line in lines), "the why is words, not AC's raw JSON"
    assert any(" -> 422 " in line for line in lines)
    assert len(lines) < 30 and "test-ac-token" not in readable.stdout

    missing = run_cli(["events", "show", "999999"], delivery_env, tmp_path)
    assert missing.returncode != 0 and "no event 999999" in missing.stderr
