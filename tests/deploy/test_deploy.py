"""deploy/: the compose file is a valid Compose document with the promised topology (parsed by the Rust
`compose_spec` library, since no Docker engine or compose plugin runs here), gunicorn accepts its config, the
image runs as a non-root user, and the systemd units start the right commands."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_file_is_valid_and_has_postgres_two_webs_two_workers() -> None:
    compose_spec = pytest.importorskip("compose_spec")
    compose = compose_spec.PyCompose.from_yaml((DEPLOY / "compose.yaml").read_text())
    assert sorted(compose.service_names()) == ["postgres", "web1", "web2", "worker1", "worker2"]
    text = (DEPLOY / "compose.yaml").read_text()
    assert text.count('command: ["bridge", "web"') == 2
    assert text.count('command: ["bridge", "worker"]') == 2
    assert text.count("postgresql+psycopg://bridge:bridge@postgres:5432/bridge") == 4
    assert "pg_isready" in text and text.count("/readyz") == 2  # healthchecks


def test_gunicorn_accepts_the_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "python:bridge.gunicorn_conf",
         "bridge.app:create_app()"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/healthz" in text


@pytest.mark.parametrize(
    "unit, command", [("bridge-web.service", "bridge web"), ("bridge-worker.service", "bridge worker")]
)
def test_systemd_units_start_the_bridge(unit: str, command: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / unit)
    service = parser["Service"]
    assert service["ExecStart"].endswith(command)
    assert service["User"] != "root"
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"]


def test_env_example_lists_every_setting() -> None:
    from bridge.settings import SettingsSchema

    listed = set(re.findall(r"^(BRIDGE_[A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    variables = {field.data_key for field in SettingsSchema().fields.values()}
    assert variables <= listed, variables - listed
