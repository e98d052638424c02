"""EcartAPI only when used: a Shopify -> ActiveCampaign shop (AC live, no EcartAPI token, no
BRIDGE_ECART_STATUSES) gets no EcartAPI deliveries, no EcartAPI dry-run banner, and no EcartAPI line in
`check`; the leg is planned when the token is set, when BRIDGE_ECART_STATUSES is set explicitly, or when
nothing is live (the trial). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bridge.settings import load_settings
from tests.admin.dashboard_fixtures import csrf_of
from tests.helpers.delivery import delivery_rows, post_shopify, run_cli, wait_final

ADMIN_TOKEN = "admin-token-0123456789abcdef"
AC_LIVE = {"BRIDGE_AC_URL": "https://acme.api-us1.com", "BRIDGE_AC_TOKEN": "t"}
AC_ONLY = {"BRIDGE_ECART_TOKEN": None, "BRIDGE_AC_CONNECTION_ID": "1", "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}


@pytest.mark.parametrize("env_overrides", [AC_ONLY], ids=["ac-only"])
def test_a_shopify_to_ac_shop_never_sees_ecartapi(client, db, fake_ac, fake_ecart, worker, delivery_env, tmp_path):
    paid = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, paid, legs=1)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done"}
    assert [d["destination"] for d in delivery_rows(db, paid)] == ["activecampaign"]
    assert fake_ecart.requests == []

    # Start-up's own summary (GET /) and the dashboard say nothing of an EcartAPI dry-run.
    home = client.get("/").get_json()
    assert home["destinations"]["ecartapi"].startswith("not used"), home
    form = client.get("/admin/login")
    client.post("/admin/login", data={"csrf_token": csrf_of(form.text), "token": ADMIN_TOKEN})
    overview = client.get("/admin/").text
    assert "Dry-run" not in overview, "no banner for a destination the shop does not use"
    event_page = client.get(f"/admin/events/{paid}").text
    assert "ecartapi" not in event_page.lower()

    done = run_cli(["check"], delivery_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("ecartapi")], done.stdout


@pytest.mark.parametrize(
    "env_overrides",
    [{**AC_ONLY, "BRIDGE_ECART_STATUSES": "paid=paid,cancelled=cancelled,refunded=refunded"}],
    ids=["statuses-set"],
)
def test_explicit_statuses_plan_the_ecartapi_leg_without_a_token(client, db, fake_ac, fake_ecart, worker):
    paid = post_shopify(client, "orders_paid__no_checkout.json")
    legs = wait_final(db, paid, legs=2)
    assert {name: leg["status"] for name, leg in legs.items()} == {"activecampaign": "done", "ecartapi": "dry_run"}
    assert fake_ecart.requests == []


@pytest.mark.parametrize(
    "env, used",
    [
        ({}, True),  # nothing live: the trial shows every leg, dry-run
        ({**AC_LIVE}, False),  # Shopify -> AC
        ({**AC_LIVE, "BRIDGE_ECART_TOKEN": "e"}, True),
        (
            {**AC_LIVE, "BRIDGE_ECART_STATUSES": "paid=paid"},
            True,
        ),
        ({**AC_LIVE, "BRIDGE_ECART_STATUSES": ""}, False),  # set, but to no status: nothing to send
        ({"BRIDGE_ECART_TOKEN": "e"}, True),
        ({**AC_LIVE, "BRIDGE_ECART_STATUSES": "none"}, False),  # no event updates EcartAPI: no banner either
        ({"BRIDGE_ECART_TOKEN": "e", "BRIDGE_ECART_STATUSES": "none"}, False),
    ],
    ids=["trial", "ac-only", "ac-and-ecart", "ac-statuses", "ac-statuses-empty", "ecart-only", "ac-none", "ecart-none"],
)
def test_when_ecartapi_counts_as_used(env, used):
    settings = load_settings(env, env_file=None)
    assert settings.ecart_used is used
