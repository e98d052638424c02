"""The operator commands' outbound calls: `storebridge check` and `setup` never follow a redirect (it would carry
the token elsewhere) and say where it pointed; an `http://` API URL to another machine is a WARNING in `check`
and `setup` and at start-up (web and worker), with the token never printed."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fakes import FakeActiveCampaign, FakeEcartAPI
from tests.fakes import fixtures as fakes
from tests.fakes.elsewhere import FakeElsewhere
from tests.helpers import delivery_fixtures as fixtures
from tests.helpers.delivery import bridge_executable, run_cli, subprocess_env, wait_until
from tests.helpers.env import fixture_path
from tests.helpers.live_server import free_port

fake_ac, fake_ecart = fakes.fake_ac, fakes.fake_ecart
delivery_env, env_overrides, settings = fixtures.delivery_env, fixtures.env_overrides, fixtures.settings

SHOP = "acme-outdoor.myshopify.com"


@pytest.fixture
def elsewhere() -> Iterator[FakeElsewhere]:
    yield from fakes.serve(FakeElsewhere())


def lines(done: subprocess.CompletedProcess) -> list[str]:
    return (done.stdout + done.stderr).strip().splitlines()


def test_check_and_setup_never_follow_a_redirect(db, fake_ac, fake_ecart, elsewhere, delivery_env, tmp_path):
    ac_location = f"{elsewhere.url}/api/3/connections"
    ecart_location = f"{elsewhere.url}/api/v2/store"
    fake_ac.fail_next(302, count=50, headers={"Location": ac_location})
    fake_ecart.fail_next(307, count=50, headers={"Location": ecart_location})
    done = run_cli(["check"], delivery_env, tmp_path)
    assert done.returncode == 1
    said = lines(done)
    assert f"activecampaign: FAILED - HTTP 302 redirect to {ac_location} not followed" in "\n".join(said)
    assert f"ecartapi: FAILED - HTTP 307 redirect to {ecart_location} not followed" in "\n".join(said)

    setup = run_cli(["setup", "--store", SHOP], delivery_env, tmp_path)
    assert setup.returncode == 1
    assert f"activecampaign: FAILED - HTTP 302 redirect to {ac_location} not followed" in setup.stderr
    assert fake_ac.connections(externalid=SHOP) == []
    assert elsewhere.requests == [], f"a redirect was followed: {elsewhere.credentials_seen()}"
    assert {r.status for r in fake_ac.requests} == {302} and {r.status for r in fake_ecart.requests} == {307}


def test_send_does_not_follow_a_redirect_with_the_signed_body(fake_ac, elsewhere, delivery_env, tmp_path):
    """`storebridge send` posts a signed webhook: a redirect must not take the body and signature elsewhere."""
    fake_ac.fail_next(307, count=1, headers={"Location": f"{elsewhere.url}/webhooks/shopify"})
    body = fixture_path("shopify", "orders_paid__basic.json")
    done = run_cli(["send", str(body), "--source", "shopify", "--url", fake_ac.url], delivery_env, tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("307 "), done.stdout + done.stderr
    assert [r.path for r in fake_ac.requests] == ["/webhooks/shopify"]
    assert elsewhere.requests == []


# -- http:// to another machine ------------------------------------------------------------------------------


def non_loopback_address() -> str:
    """An IPv4 address of this machine that is not loopback (the one its default route would use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect: picks the source address, sends nothing
        except OSError:
            pytest.skip("this machine has no non-loopback IPv4 route")
        address = probe.getsockname()[0]
    if ipaddress.ip_address(address).is_loopback or address == "0.0.0.0":
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


@pytest.fixture
def remote_fakes() -> Iterator[tuple[FakeActiveCampaign, FakeEcartAPI]]:
    """The strict fakes listening on this machine's non-loopback address: `http://` there is what an AC or
    EcartAPI URL to another machine looks like."""
    address = non_loopback_address()
    ac, ecart = FakeActiveCampaign(), FakeEcartAPI()
    ac.server.host = ecart.server.host = address
    served_ac = fakes.serve(ac, FakeActiveCampaign.preload_connection)
    served_ecart = fakes.serve(ecart)
    yield next(served_ac), next(served_ecart)
    for served in (served_ac, served_ecart):
        next(served, None)


@pytest.fixture
def cleartext_env(delivery_env: dict[str, str], remote_fakes) -> dict[str, str]:
    ac, ecart = remote_fakes
    return {**delivery_env, "BRIDGE_AC_URL": ac.base_url, "BRIDGE_ECART_URL": ecart.url, "BRIDGE_WEB_WORKERS": "1"}


def expected_warnings(env: dict[str, str]) -> list[str]:
    ac_host = env["BRIDGE_AC_URL"].split("//")[1].split(":")[0]
    ecart_host = env["BRIDGE_ECART_URL"].split("//")[1].split(":")[0]
    return [
        f"BRIDGE_AC_URL is http:// to {ac_host}: the AC Api-Token travels unencrypted; use https://",
        f"BRIDGE_ECART_URL is http:// to {ecart_host}: the EcartAPI token travels unencrypted; use https://",
    ]


def test_check_and_setup_warn_about_credentials_sent_in_clear(db, cleartext_env, tmp_path):
    done = run_cli(["check"], cleartext_env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr  # a warning, not a failure: it works
    warnings = [f"transport: WARNING - {w}" for w in expected_warnings(cleartext_env)]
    assert [line for line in lines(done) if line.startswith("transport:")] == warnings
    assert any(line.startswith("activecampaign: ok - token accepted") for line in lines(done))

    setup = run_cli(["setup", "--store", SHOP], cleartext_env, tmp_path)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert [line for line in lines(setup) if line.startswith("transport:")] == warnings
    for output in (done.stdout + done.stderr, setup.stdout + setup.stderr):
        assert cleartext_env["BRIDGE_AC_TOKEN"] not in output and cleartext_env["BRIDGE_ECART_TOKEN"] not in output


def test_loopback_and_https_urls_are_not_warned_about(db, delivery_env, tmp_path):
    https = {**delivery_env, "BRIDGE_ECART_URL": "https://api.ecartapi.com", "BRIDGE_ECART_TOKEN": "", "BRIDGE_AC_URL":
             delivery_env["BRIDGE_AC_URL"].replace("127.0.0.1", "localhost")}  # fmt: skip
    done = run_cli(["check"], https, tmp_path)
    assert [line for line in lines(done) if line.startswith("transport:")] == []


@pytest.mark.slow
def test_start_up_warns_about_credentials_sent_in_clear(db, cleartext_env, tmp_path: Path):
    """`storebridge run`: the web server (once listening) and the delivery worker each say it at start-up."""
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [bridge_executable(), "run", "--bind", f"127.0.0.1:{port}"],
            env=subprocess_env(cleartext_env),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: _ready(port), timeout=60, interval=0.2, describe=lambda: log.read_text(errors="replace"))
        for warning in expected_warnings(cleartext_env):
            # once from the web server (gunicorn's master, once listening), once from the worker (`run` itself)
            wait_until(lambda w=warning: len(_warned_by(log, w)) == 2, timeout=30, interval=0.2,
                       describe=lambda: log.read_text(errors="replace"))  # fmt: skip
            assert process.pid in _warned_by(log, warning)
        output = log.read_text()
        assert cleartext_env["BRIDGE_AC_TOKEN"] not in output and cleartext_env["BRIDGE_ECART_TOKEN"] not in output
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _warned_by(log: Path, warning: str) -> list[int]:
    """The pids of the processes that logged `warning` at WARNING (JSON log lines)."""
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [r["pid"] for r in records if r.get("msg") == warning and r.get("level") == "warning"]


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        time.sleep(0.1)
        return False
