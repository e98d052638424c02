"""First run as a newcomer meets it: `--version`, settings from `.env`, bad values named (no traceback), `check`
that only looks, typo-proof `events list`, `send` that honours BRIDGE_BIND and never reports an ignored event
as a success, `GET /`, the dashboard-off page, the start-up line and readable logs on a terminal."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge import __version__
from bridge.app import create_app
from bridge.cli import main
from bridge.logs import JsonFormatter, TextFormatter, make_formatter
from bridge.settings import load_settings
from bridge.startup import startup_facts, startup_message
from tests.helpers.env import base_env, fixture_path
from tests.helpers.live_server import serve

SCRIPT = Path(sys.executable).with_name("storebridge")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return {**env, **extra}


def run_storebridge(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=_clean_env(**env), capture_output=True, text=True, timeout=60, check=False
    )


def test_version_under_the_storebridge_name(tmp_path: Path) -> None:
    assert SCRIPT.exists(), "the console script is storebridge"
    done = run_storebridge(["--version"], tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"storebridge {__version__}")
    alias = subprocess.run([str(SCRIPT.with_name("bridge")), "--version"], capture_output=True, text=True, check=False)
    assert alias.stdout.strip() == f"storebridge {__version__}"


def test_web_settings_come_from_dot_env_and_debug_is_a_log_level(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BRIDGE_WEB_WORKERS=3\nBRIDGE_WEB_THREADS=6\nBRIDGE_WEB_TIMEOUT=40\nBRIDGE_WEB_GRACEFUL_TIMEOUT=12\n"
        "BRIDGE_LOG_LEVEL=debug\nBRIDGE_LOG_FORMAT=text\n"
    )
    settings = load_settings({}, env_file=env_file)
    assert (settings.web_workers, settings.web_threads, settings.web_timeout, settings.web_graceful_timeout) == (
        3,
        6,
        40,
        12,
    )
    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")
    # ... and the packaged gunicorn config reads them from there
    probe = (
        "import bridge.gunicorn_conf as c; "
        "print(c.workers, c.threads, c.worker_connections, c.timeout, c.graceful_timeout, c.loglevel, "
        "c.worker_class, c.control_socket_disable)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, check=False
    )
    assert done.stdout.split() == ["3", "6", "6", "40", "12", "debug", "gthread", "True"], done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("BRIDGE_WEB_WORKERS", "abc", "Not a valid integer"),
        ("BRIDGE_DATABASE_URL", "sqlite3:///x.db", "unsupported database 'sqlite3'"),
        ("BRIDGE_DATABASE_URL", "not a url", "not a database URL"),
        ("BRIDGE_DATABASE_URL", "postgresql+psycopg2://db/x", "unsupported driver 'psycopg2'"),
        ("BRIDGE_WEB_GRACEFUL_TIMEOUT", "0", "BRIDGE_WEB_GRACEFUL_TIMEOUT"),
    ],
)
def test_bad_values_get_the_one_settings_message(tmp_path: Path, variable: str, value: str, words: str) -> None:
    (tmp_path / ".env").write_text(f"{variable}={value}\n")  # from .env, as a newcomer would set it
    done = run_storebridge(["web"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("invalid configuration:\n")
    assert f"  {variable}: " in done.stderr and words in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"], "nothing was started or created"


def test_check_creates_no_files(tmp_path: Path) -> None:
    done = run_storebridge(["check"], tmp_path, BRIDGE_DATABASE_URL="sqlite:///data/sub/bridge.db")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "does not exist yet" in done.stdout and str(tmp_path / "data/sub/bridge.db") in done.stdout
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "ro").mkdir(mode=0o555)
    if os.geteuid() != 0:  # root writes anywhere
        blocked = run_storebridge(["check"], tmp_path, BRIDGE_DATABASE_URL="sqlite:///ro/x/bridge.db")
        assert blocked.returncode == 1 and "cannot be created" in blocked.stdout
    # an existing database is checked, and still nothing new appears beside it
    db_file = tmp_path / "bridge.db"
    assert run_storebridge(["db", "upgrade"], tmp_path, BRIDGE_DATABASE_URL=f"sqlite:///{db_file}").returncode == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    again = run_storebridge(["check"], tmp_path, BRIDGE_DATABASE_URL=f"sqlite:///{db_file}")
    assert again.returncode == 0 and "reachable, schema at" in again.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_events_list_rejects_a_misspelt_status(db_path: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {**{k: None for k in os.environ if k.startswith("BRIDGE_")}, **base_env(db_path)}
    result = CliRunner().invoke(main, ["events", "list", "--status", "deadd"], env=env)
    assert result.exit_code == 2
    assert "Invalid value for '--status'" in result.output and "'dead'" in result.output


@pytest.fixture
def live(app):
    with serve(app) as base:
        yield base


def _send(env: dict[str, str | None], *args: str):
    return CliRunner().invoke(main, ["send", *args], env=env, catch_exceptions=False)


def test_send_goes_to_bridge_bind_and_infers_only_handled_topics(app, live, db_path, tmp_path, monkeypatch, db):
    monkeypatch.chdir(tmp_path)
    env = {**{k: None for k in os.environ if k.startswith("BRIDGE_")}, **base_env(db_path)}
    env["BRIDGE_BIND"] = live.removeprefix("http://")  # no --url: the bridge's own address
    paid = _send(env, str(fixture_path("shopify", "orders_paid__basic.json")), "--source", "shopify")
    assert paid.exit_code == 0, paid.output
    assert paid.stdout.startswith("202 ") and '"accepted"' in paid.stdout
    duplicate = _send(env, str(fixture_path("shopify", "orders_paid__basic.json")), "--source", "shopify")
    assert duplicate.exit_code == 0 and duplicate.stdout.startswith("200 ") and '"duplicate"' in duplicate.stdout

    # products/update is not handled: no guess from the file name ...
    product = str(fixture_path("shopify", "products_update__basic.json"))
    guessed = _send(env, product, "--source", "shopify")
    assert guessed.exit_code == 2
    assert "pass --topic" in guessed.output and "orders/paid" in guessed.output
    # ... and said explicitly, the bridge ignores it: not a success
    ignored = _send(env, product, "--source", "shopify", "--topic", "products/update")
    assert ignored.exit_code == 1
    assert ignored.stdout.startswith("200 ") and '"ignored"' in ignored.stdout

    odd_name = tmp_path / "my-order.json"
    odd_name.write_bytes(fixture_path("woocommerce", "order_updated__processing.json").read_bytes())
    unnamed = _send(env, str(odd_name), "--source", "woocommerce")
    assert unnamed.exit_code == 2 and "order.created, order.updated" in unnamed.output

    refused = _send({**env, "BRIDGE_SHOPIFY_SECRET": "wrong-secret"}, product, "--source", "shopify", "--topic", "x/y")
    assert refused.exit_code == 1 and refused.stdout.startswith("401 ")


def test_home_page_says_what_this_is(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    body = page.get_json()
    assert body["service"] == "storebridge" and body["version"] == __version__
    assert "ActiveCampaign" in body["about"]
    assert body["webhooks"]["shopify"] == "/webhooks/shopify"
    assert body["destinations"] == {
        "activecampaign": "dry-run (calls are recorded, not sent)",
        "ecartapi": "dry-run (calls are recorded, not sent)",
    }
    assert body["dashboard"].startswith("off: set BRIDGE_ADMIN_TOKEN")
    assert (body["health"], body["api"]) == ({"live": "/healthz", "ready": "/readyz"}, "/openapi.json")


def test_dashboard_off_page_says_how_to_enable(db_path: Path, db) -> None:
    client = create_app(load_settings(base_env(db_path, BRIDGE_SHOPIFY_SECRET=""), env_file=None), db=db).test_client()
    page = client.get("/admin/")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "BRIDGE_ADMIN_TOKEN" in page.get_data(as_text=True)
    assert client.get("/").get_json()["webhooks"]["shopify"] == "/webhooks/shopify (no secret set: answers 401)"


def test_the_start_up_line(db_path: Path) -> None:
    settings = load_settings(
        base_env(
            db_path,
            BRIDGE_WOOCOMMERCE_SECRET="",
            BRIDGE_ECARTAPI_WEBHOOK_TOKEN="",
            BRIDGE_WEBHOOK_SECRET="",
            BRIDGE_ECART_TOKEN="ecart-token-123",
            BRIDGE_ADMIN_TOKEN="a" * 20,
        ),
        env_file=None,
    )
    facts = startup_facts(settings, "http://127.0.0.1:8123")
    assert facts["database"] == f"sqlite {db_path.resolve()}"
    line = startup_message(facts)
    assert "\n" not in line
    assert line.startswith(f"storebridge {__version__} listening on http://127.0.0.1:8123 | database sqlite ")
    assert "sources with secrets: shopify |" in line
    assert "activecampaign dry-run, ecartapi live (dry-run: calls are recorded, not sent)" in line
    assert "dashboard on at http://127.0.0.1:8123/admin/" in line
    assert "ecart-token-123" not in line and "a" * 20 not in line
    pg = load_settings({"BRIDGE_DATABASE_URL": "postgresql+psycopg://u:pw-secret@db:5432/b"}, env_file=None)
    off = startup_message(startup_facts(pg, "0.0.0.0:8000"))
    assert "pw-secret" not in off and "postgresql+psycopg://u:***@db:5432/b" in off
    assert "sources with secrets: none (every webhook is answered 401)" in off
    assert "dashboard off (set BRIDGE_ADMIN_TOKEN to enable)" in off


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_logs_are_readable_on_a_terminal_and_json_otherwise() -> None:
    assert isinstance(make_formatter("auto", _Tty()), TextFormatter)
    assert isinstance(make_formatter("auto", io.StringIO()), JsonFormatter)
    assert isinstance(make_formatter("json", _Tty()), JsonFormatter)
    assert isinstance(make_formatter("text", io.StringIO()), TextFormatter)
    record = logging.makeLogRecord(
        {"name": "bridge.web", "levelname": "INFO", "msg": "request", "status": 202, "api_token": "x" * 12}
    )
    line = TextFormatter().format(record)
    assert " info    bridge.web: request status=202 api_token=[redacted]" in line
    assert json.loads(JsonFormatter().format(record))["status"] == 202
