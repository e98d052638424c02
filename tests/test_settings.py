"""Settings (spec §2): defaults, every variable, errors naming every bad variable, .env, secrets kept out of repr."""

from __future__ import annotations

import base64

import pytest

from bridge.errors import SettingsError
from bridge.settings import DEFAULT_RETRY_SCHEDULE, Settings, load_settings

WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
WHSEC_2 = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()


def load(**env: str) -> Settings:
    return load_settings(env, env_file=None)


def test_defaults_per_spec():
    settings = load()
    assert settings == Settings()
    assert settings.bind == "127.0.0.1:8000"
    assert settings.database_url == "sqlite:///bridge.db"
    assert settings.shopify_secrets == settings.woocommerce_secrets == ()
    assert settings.ecartapi_webhook_tokens == settings.webhook_secrets == ()
    assert settings.ac_url is None and settings.ac_token is None and settings.ac_connection_id is None
    assert settings.ac_rate == 5
    assert settings.ac_source == 1
    assert settings.ecart_url == "https://api.ecartapi.com"
    assert settings.ecart_token is None
    assert settings.ecart_statuses == {
        "order.paid": "paid",
        "order.cancelled": "cancelled",
        "order.refunded": "refunded",
    }
    assert settings.abandon_after == 3600
    assert settings.admin_token is None
    assert settings.max_body == 1_048_576
    # nothing configured: both destinations run dry
    assert not settings.ac_enabled and not settings.ecart_enabled


EVERY_VARIABLE = {
    "BRIDGE_BIND": "0.0.0.0:9000",
    "BRIDGE_DATABASE_URL": "postgresql+psycopg://bridge@db.internal/bridge",
    "BRIDGE_SHOPIFY_SECRET": "shpss_one, shpss_two",
    "BRIDGE_WOOCOMMERCE_SECRET": "wc_one",
    "BRIDGE_ECARTAPI_WEBHOOK_TOKEN": "tok_a,tok_b,",
    "BRIDGE_WEBHOOK_SECRET": f"{WHSEC},{WHSEC_2}",
    "BRIDGE_AC_URL": "https://acme.api-us1.com/api/3/",
    "BRIDGE_AC_TOKEN": "ac-token-value",
    "BRIDGE_AC_CONNECTION_ID": "42",
    "BRIDGE_AC_RATE": "2.5",
    "BRIDGE_AC_SOURCE": "0",
    "BRIDGE_ECART_URL": "http://ecart.test:8080/",
    "BRIDGE_ECART_TOKEN": "ecart-token-value",
    "BRIDGE_ECART_STATUSES": "paid=on_hold, order.cancelled=cancelled",
    "BRIDGE_ABANDON_AFTER": "900",
    "BRIDGE_ADMIN_TOKEN": "admin-token-0123456789",
    "BRIDGE_MAX_BODY": "2048",
    "BRIDGE_DB_TIMEOUT": "0.5",
    "BRIDGE_DB_POOL_SIZE": "3",
    "BRIDGE_DB_POOL_OVERFLOW": "0",
    "BRIDGE_LOG_LEVEL": "DEBUG",
    "BRIDGE_HTTP_TIMEOUT": "3",
    "BRIDGE_RETRY_SCHEDULE": "1, 2,3.5",
    "BRIDGE_RETRY_MAX_AGE": "7200",
    "BRIDGE_LEASE_SECONDS": "15",
    "BRIDGE_WORKER_THREADS": "8",
    "BRIDGE_CIRCUIT_THRESHOLD": "3",
    "BRIDGE_CIRCUIT_COOLDOWN": "12.5",
    "BRIDGE_TIMER_INTERVAL": "0.25",
    "BRIDGE_MAX_RETRY_AFTER": "600",
}


def test_every_variable_is_parsed():
    settings = load(**EVERY_VARIABLE)
    assert settings == Settings(
        bind="0.0.0.0:9000",
        database_url="postgresql+psycopg://bridge@db.internal/bridge",
        shopify_secrets=("shpss_one", "shpss_two"),
        woocommerce_secrets=("wc_one",),
        ecartapi_webhook_tokens=("tok_a", "tok_b"),
        webhook_secrets=(WHSEC, WHSEC_2),
        ac_url="https://acme.api-us1.com",  # /api/3 and the slash are the client's business
        ac_token="ac-token-value",
        ac_connection_id="42",
        ac_rate=2.5,
        ac_source=0,
        ecart_url="http://ecart.test:8080",
        ecart_token="ecart-token-value",
        ecart_statuses={"order.paid": "on_hold", "order.cancelled": "cancelled"},
        abandon_after=900.0,
        admin_token="admin-token-0123456789",
        max_body=2048,
        db_timeout=0.5,
        db_pool_size=3,
        db_pool_overflow=0,
        log_level="DEBUG",
        http_timeout=3.0,
        retry_schedule=(1.0, 2.0, 3.5),
        retry_max_age=7200.0,
        lease_seconds=15.0,
        worker_threads=8,
        circuit_threshold=3,
        circuit_cooldown=12.5,
        timer_interval=0.25,
        max_retry_after=600.0,
        ecart_statuses_explicit=True,
    )
    assert settings.ac_enabled and settings.ecart_enabled


def test_blank_variables_mean_unset_and_others_are_ignored():
    settings = load(BRIDGE_AC_RATE="  ", BRIDGE_SHOPIFY_SECRET="", PATH="/usr/bin", OTHER_AC_RATE="abc")
    assert settings.ac_rate == 5.0 and settings.shopify_secrets == ()


def test_several_bad_values_are_all_named_at_once():
    with pytest.raises(SettingsError) as caught:
        load(BRIDGE_AC_RATE="abc", BRIDGE_MAX_BODY="-1", BRIDGE_ECART_STATUSES="paid=shipped", BRIDGE_BIND="localhost")
    problems = caught.value.problems
    assert set(problems) == {"BRIDGE_AC_RATE", "BRIDGE_MAX_BODY", "BRIDGE_ECART_STATUSES", "BRIDGE_BIND"}
    assert all(isinstance(m, str) and m for msgs in problems.values() for m in msgs)
    assert "shipped" in problems["BRIDGE_ECART_STATUSES"][0]
    message = str(caught.value)
    for name in problems:
        assert name in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BRIDGE_BIND", "127.0.0.1"),
        ("BRIDGE_DATABASE_URL", "mysql://db/bridge"),
        ("BRIDGE_AC_URL", "not a url"),
        ("BRIDGE_AC_CONNECTION_ID", "abc"),
        ("BRIDGE_AC_RATE", "0"),
        ("BRIDGE_AC_SOURCE", "2"),
        ("BRIDGE_ECART_URL", "ftp://ecart"),
        ("BRIDGE_ECART_STATUSES", "shipped=paid"),
        ("BRIDGE_ECART_STATUSES", "paid"),
        ("BRIDGE_ABANDON_AFTER", "nan"),
        ("BRIDGE_ADMIN_TOKEN", "too-short"),
        ("BRIDGE_MAX_BODY", "1.5"),
        ("BRIDGE_DB_TIMEOUT", "-1"),
        ("BRIDGE_DB_POOL_SIZE", "0"),
        ("BRIDGE_DB_POOL_OVERFLOW", "-1"),
        ("BRIDGE_LOG_LEVEL", "LOUD"),
        ("BRIDGE_RETRY_SCHEDULE", "5,soon"),
        ("BRIDGE_RETRY_SCHEDULE", "0"),
        ("BRIDGE_WORKER_THREADS", "0"),
        ("BRIDGE_MAX_RETRY_AFTER", "0"),
        ("BRIDGE_MAX_RETRY_AFTER", "inf"),
        ("BRIDGE_MAX_RETRY_AFTER", "nan"),
        ("BRIDGE_MAX_RETRY_AFTER", "31536000"),
        ("BRIDGE_WEBHOOK_SECRET", "not-a-whsec"),
        ("BRIDGE_WEBHOOK_SECRET", "whsec_" + base64.b64encode(b"too short").decode()),
    ],
)
def test_bad_value_is_named(variable, value):
    with pytest.raises(SettingsError) as caught:
        load(**{variable: value})
    assert list(caught.value.problems) == [variable]


@pytest.mark.parametrize(
    ("given", "named"),
    [({"BRIDGE_AC_URL": "https://acme.api-us1.com"}, "BRIDGE_AC_TOKEN"), ({"BRIDGE_AC_TOKEN": "t"}, "BRIDGE_AC_URL")],
)
def test_ac_url_and_token_go_together(given, named):
    with pytest.raises(SettingsError) as caught:
        load(**given)
    assert list(caught.value.problems) == [named]


def test_dotenv_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "# a comment\nBRIDGE_AC_RATE=7\nBRIDGE_ABANDON_AFTER=120\nexport BRIDGE_MAX_BODY=4096\n"
        'BRIDGE_SHOPIFY_SECRET="from-dotenv"\n'
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"BRIDGE_AC_RATE": "9", "BRIDGE_SHOPIFY_SECRET": "from-env"})
    assert settings.ac_rate == 9.0  # environment over .env
    assert settings.abandon_after == 120.0  # only in .env
    assert settings.max_body == 4096
    assert settings.shopify_secrets == ("from-env",)


def test_explicit_env_file_and_none(tmp_path):
    env_file = tmp_path / "bridge.env"
    env_file.write_text("BRIDGE_AC_RATE=7\n")
    assert load_settings({}, env_file=env_file).ac_rate == 7.0
    assert load_settings({}, env_file=None).ac_rate == 5.0
    assert load_settings({}, env_file=tmp_path / "missing.env").ac_rate == 5.0


def test_dotenv_errors_are_reported_too(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BRIDGE_MAX_BODY=huge\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({}, env_file=env_file)
    assert list(caught.value.problems) == ["BRIDGE_MAX_BODY"]


SECRETS = ("shpss_one", "shpss_two", "wc_one", "tok_a", WHSEC, "ac-token-value", "ecart-token-value", "admin-token")


def test_secrets_never_in_repr():
    settings = load(**EVERY_VARIABLE)
    for text in (repr(settings), str(settings)):
        for secret in SECRETS:
            assert secret not in text
    assert "acme.api-us1.com" in repr(settings)  # the rest is there


def test_secrets_never_in_errors():
    admin = "admin-secret"
    webhook = "whsec_c2hvcnQ="
    with pytest.raises(SettingsError) as caught:
        load(BRIDGE_ADMIN_TOKEN=admin, BRIDGE_WEBHOOK_SECRET=webhook, BRIDGE_AC_TOKEN="ac-secret")
    assert {"BRIDGE_ADMIN_TOKEN", "BRIDGE_WEBHOOK_SECRET", "BRIDGE_AC_URL"} == set(caught.value.problems)
    for secret in (admin, webhook, "ac-secret"):
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value.problems)


def test_database_password_not_in_repr():
    settings = load(BRIDGE_DATABASE_URL="postgresql+psycopg://bridge:s3cr3t-pw@db.internal:5432/bridge")
    assert "s3cr3t-pw" not in repr(settings)
    assert "db.internal" in repr(settings)


def test_retry_schedule_default():
    assert load().retry_schedule == DEFAULT_RETRY_SCHEDULE == (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0)


def test_comma_alone_turns_ecart_legs_off():
    assert load(BRIDGE_ECART_STATUSES=",").ecart_statuses == {}


def test_empty_ecart_statuses_turns_ecart_legs_off():
    assert load(BRIDGE_ECART_STATUSES="").ecart_statuses == {}


def test_ac_parity_settings_defaults_and_values():
    default = load()
    assert (default.ac_contact_sync, default.ac_list_id, default.ac_revenue) == (True, None, "net")
    for value, expected in (("off", False), ("OFF", False), ("0", False), ("on", True), ("True", True)):
        assert load(BRIDGE_AC_CONTACT_SYNC=value).ac_contact_sync is expected
    assert load(BRIDGE_AC_LIST_ID="12").ac_list_id == "12"
    assert load(BRIDGE_AC_REVENUE="gross").ac_revenue == "gross"


@pytest.mark.parametrize(
    "variable, value",
    [("BRIDGE_AC_CONTACT_SYNC", "maybe"), ("BRIDGE_AC_LIST_ID", "0"), ("BRIDGE_AC_LIST_ID", "abc"),
     ("BRIDGE_AC_REVENUE", "Net")],
)  # fmt: skip
def test_bad_ac_parity_values_are_named(variable, value):
    with pytest.raises(SettingsError) as caught:
        load(**{variable: value})
    assert variable in str(caught.value)


def test_every_credential_setting_is_a_secret_value_kept_out_of_logs(tmp_path):
    """The store-API credentials (Shopify admin token, WooCommerce key and secret) are redacted by value like
    the AC token: they were once missing from `secret_values`."""
    env = {
        "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
        "BRIDGE_SHOPIFY_SHOP": "acme.myshopify.com",
        "BRIDGE_SHOPIFY_ADMIN_TOKEN": "shpat_admin_token_value_1234",
        "BRIDGE_WOOCOMMERCE_URL": "https://shop.example",
        "BRIDGE_WOOCOMMERCE_KEY": "ck_woocommerce_key_value_1234",
        "BRIDGE_WOOCOMMERCE_KEY_SECRET": "cs_woocommerce_secret_value_1234",
        "BRIDGE_AC_URL": "https://acme.api-us1.com",
        "BRIDGE_AC_TOKEN": "ac_token_value_1234",
    }
    secrets = load_settings(env, env_file=None).secret_values()
    credentials = ("BRIDGE_SHOPIFY_ADMIN_TOKEN", "BRIDGE_WOOCOMMERCE_KEY", "BRIDGE_WOOCOMMERCE_KEY_SECRET")
    for name in (*credentials, "BRIDGE_AC_TOKEN"):
        assert env[name] in secrets, name
    assert "acme.myshopify.com" not in secrets and "https://shop.example" not in secrets
