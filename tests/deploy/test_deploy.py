"""deploy/: the compose file is a valid Compose document with the promised topology (parsed by the Rust
`compose_spec` library, since no Docker engine or compose plugin runs here): nginx in front, webs reachable
only through it, each worker sharing its web's metrics volume and pid namespace, health checks every service
can pass; gunicorn accepts the packaged config; env.example lists every setting."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict:
    compose_spec = pytest.importorskip("compose_spec")
    text = (DEPLOY / "compose.yaml").read_text()
    parsed = compose_spec.PyCompose.from_yaml(text)
    assert sorted(parsed.service_names()) == ["postgres", "proxy", "web1", "web2", "worker1", "worker2"]
    return yaml.safe_load(text)


def test_compose_puts_nginx_in_front_of_the_webs(compose: dict) -> None:
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./nginx/storebridge.conf"
    assert mounts["/etc/nginx/conf.d/upstream.conf"] == "./nginx/upstream.conf"
    for mounted in mounts.values():
        assert (DEPLOY / mounted).is_file()
    upstream = (DEPLOY / "nginx" / "upstream.conf").read_text()
    for web in ("web1", "web2"):
        assert f"server {web}:8000" in upstream
        assert "ports" not in services[web], f"{web} must be reached through the proxy only"
        assert services[web]["command"] == ["storebridge", "web", "--bind", "0.0.0.0:8000"]
        assert proxy["depends_on"][web]["condition"] == "service_healthy"
    assert proxy["ports"] == ["8080:80"]


def test_compose_shares_metrics_and_health_checks_fit_each_role(compose: dict) -> None:
    services = compose["services"]
    for n in ("1", "2"):
        web, worker = services[f"web{n}"], services[f"worker{n}"]
        assert worker["command"] == ["storebridge", "worker"]
        assert web["volumes"] == worker["volumes"] == [f"metrics{n}:/metrics"]
        assert web["environment"]["BRIDGE_METRICS_DIR"] == worker["environment"]["BRIDGE_METRICS_DIR"] == "/metrics"
        assert worker["pid"] == f"service:web{n}"
        assert web["healthcheck"]["test"] == ["CMD", "storebridge", "health", "--role", "web"]
        assert worker["healthcheck"]["test"] == ["CMD", "storebridge", "health", "--role", "worker"]
        for service in (web, worker):
            assert service["environment"]["BRIDGE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert {"pgdata", "metrics1", "metrics2"} <= set(compose["volumes"])
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    text = (DEPLOY / "compose.yaml").read_text()
    assert "Secure" in text and "TLS" in text  # the note on why the dashboard needs HTTPS remotely


def test_gunicorn_accepts_the_packaged_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "python:bridge.gunicorn_conf",
         "bridge.app:create_app()"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (DEPLOY / "gunicorn.conf.py").exists(), "deploy/ keeps only deployment files"


def test_env_example_lists_every_setting() -> None:
    from bridge.settings import SettingsSchema

    listed = set(re.findall(r"^(?:# )?(BRIDGE_[A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.MULTILINE))
    variables = {field.data_key for field in SettingsSchema().fields.values()}
    assert variables <= listed, variables - listed


def test_make_run_installs_only_what_running_needs() -> None:
    """`make run` depends on the runtime stamp, whose recipe installs the package without extras; the test
    tools and the PostgreSQL driver come with `make test`'s stamp."""
    makefile = (DEPLOY.parent / "Makefile").read_text()
    rules = {m["target"]: m["body"] for m in re.finditer(r"^(?P<target>[^\s:#]+):[^\n]*\n(?P<body>(?:\t[^\n]*\n)*)",
                                                         makefile, re.MULTILINE)}  # fmt: skip
    run_line = next(line for line in makefile.splitlines() if line.startswith("run:"))
    assert run_line.split(":", 1)[1].split() == ["$(RUN_STAMP)"]
    assert "pip install --quiet -e .\n" in rules["$(RUN_STAMP)"] and "[" not in rules["$(RUN_STAMP)"]
    assert "-e '.[test,postgres]'" in rules["$(STAMP)"]
    assert "$(BIN)/storebridge run" in rules["run"]


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (the forms deploy/compose.yaml may use)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = variables.get(name, "")
        if op == ":?" and not current:
            raise LookupError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        return current

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:\?|:-)([^}]*))?\}", one, value)


def test_compose_sets_the_database_password_in_one_place(compose: dict) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert ":bridge@" not in text and "POSTGRES_PASSWORD: bridge" not in text, "no hard-coded password"
    services = compose["services"]
    bridges = [name for name in services if name.startswith(("web", "worker"))]
    env = {"POSTGRES_PASSWORD": "s3cretFromDotEnv"}
    assert _interpolate(services["postgres"]["environment"]["POSTGRES_PASSWORD"], env) == "s3cretFromDotEnv"
    for name in bridges:
        url = _interpolate(services[name]["environment"]["BRIDGE_DATABASE_URL"], env)
        assert url == "postgresql+psycopg://bridge:s3cretFromDotEnv@postgres:5432/bridge", name
    # Unset or empty: compose refuses to start (`:?`) instead of creating a database with an empty password.
    for empty in ({}, {"POSTGRES_PASSWORD": ""}):
        with pytest.raises(LookupError, match=r"deploy/\.env"):
            _interpolate(services["postgres"]["environment"]["POSTGRES_PASSWORD"], empty)
        for name in bridges:
            with pytest.raises(LookupError):
                _interpolate(services[name]["environment"]["BRIDGE_DATABASE_URL"], empty)
    # The one place: deploy/.env, made from env.example, which names the variable (empty, to be filled in).
    assert re.search(r"^POSTGRES_PASSWORD=$", (DEPLOY / "env.example").read_text(), re.MULTILINE)
    assert "cp deploy/env.example deploy/.env" in text
    for name in bridges:  # the same deploy/.env gives the containers their BRIDGE_* settings
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name


def test_every_deploy_path_the_code_and_docs_name_exists() -> None:
    """e.g. bridge/gunicorn_conf.py once pointed at a deploy/nginx.conf that never existed."""
    root = DEPLOY.parent
    sources = [*root.joinpath("bridge").rglob("*.py"), *(p for p in DEPLOY.rglob("*") if p.is_file()),
               root / "README.md", *root.joinpath("docs").glob("*.md")]  # fmt: skip
    named: dict[str, set[str]] = {}
    for source in sources:
        for path in re.findall(r"(?<![\w/.-])(deploy/[\w.*/-]*[\w*])", source.read_text(errors="replace")):
            named.setdefault(path, set()).add(str(source.relative_to(root)))
    assert "deploy/nginx/storebridge.conf" in named, "the scan finds references"
    operators_own = {"deploy/.env"}  # made by the operator from env.example
    missing = {path: where for path, where in named.items() if path not in operators_own and not list(root.glob(path))}
    assert not missing, missing
