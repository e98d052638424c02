"""The image, tested without a container engine: its CMD and HEALTHCHECK run the way the image runs them
(the unprivileged uid, the image's ENV, WORKDIR /app read-only, the /data volume owned by that user, both
mapped under a temporary root); the lock file it installs from pins setup.cfg's dependencies; the
.dockerignore keeps local state and secrets out of the build context."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bridge.cli.health import detect_role
from tests.helpers.as_deployed import (
    SERVICE_UID,
    exec_form,
    fake_root,
    final_stage,
    image_env,
    image_value,
    make_dir,
    remap,
    service_user,
)
from tests.helpers.live_server import free_port
from tests.helpers.web_process import running

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
STAGE = final_stage(DOCKERFILE)
IMAGE_PATHS = ("/app", "/data")


def test_dockerfile_shape() -> None:
    assert re.search(r"^FROM python:3\.11-slim", DOCKERFILE, re.MULTILINE)
    assert image_value(STAGE, "USER") == "storebridge" and f"--uid {SERVICE_UID}" in DOCKERFILE
    assert image_value(STAGE, "VOLUME") == '["/data"]'
    env = image_env(STAGE)
    assert env["BRIDGE_DATABASE_URL"] == "sqlite:////data/bridge.db", "the database is on the volume"
    assert env["HOME"] == "/app"
    assert image_value(STAGE, "WORKDIR") == "/data", "a relative SQLite path lands on the volume too"
    assert exec_form(image_value(STAGE, "CMD")) == ["storebridge", "web"]
    assert "-r requirements.lock" in DOCKERFILE and "--no-deps ." in DOCKERFILE
    assert "COPY deploy/" not in DOCKERFILE, "the gunicorn config comes with the package"


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"not pinned: {line}"
            pins[canonicalize_name(name)] = version
    return pins


def test_lock_file_pins_every_dependency_within_setup_cfg() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "setup.cfg")
    wanted = [
        Requirement(line.strip())
        for block in (parser["options"]["install_requires"], parser["options.extras_require"]["postgres"])
        for line in block.splitlines()
        if line.strip()
    ]
    pins = _locked()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (requirement, pins[name])
        for extra in requirement.extras:  # psycopg[binary]
            assert canonicalize_name(f"{requirement.name}-{extra}") in pins


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches decides; `!` re-includes."""
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        candidates = {body, body.removeprefix("**/")}
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hit = any(fnmatch.fnmatch(p, c) for c in candidates for p in prefixes)
        if body.startswith("**/"):
            hit = hit or any(fnmatch.fnmatch(part, body[3:]) for part in parts)
        if hit:
            excluded = not negate
    return excluded


def test_dockerignore_keeps_state_and_secrets_out() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (".venv/bin/python", ".git/config", "bridge.db", ".env", "deploy/.env", "tests/conftest.py",
                 "bridge/__pycache__/app.cpython-311.pyc", "bridge/x.db"):  # fmt: skip
        assert _ignored(path, patterns), path
    for path in ("bridge/app.py", "bridge/gunicorn_conf.py", "setup.cfg", "pyproject.toml", "README.md",
                 "requirements.lock", "bridge/admin/templates/dashboard/base.html"):  # fmt: skip
        assert not _ignored(path, patterns), path


def test_health_role_follows_the_main_process() -> None:
    assert detect_role(["/usr/local/bin/python", "/usr/local/bin/storebridge", "worker"]) == "worker"
    assert detect_role(["/usr/local/bin/python", "-m", "gunicorn", "-c", "python:bridge.gunicorn_conf"]) == "web"
    assert detect_role(["/usr/local/bin/python", "/usr/local/bin/storebridge", "run"]) == "web"
    assert detect_role([]) == "web"


@pytest.fixture
def image_root():
    root = fake_root()
    make_dir(root / "app", owner=None, mode=0o755)  # root-owned, as `mkdir -p /app` leaves it: not writable
    make_dir(root / "data", owner=SERVICE_UID, mode=0o750)  # `chown storebridge /data`
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _image_environment(root: Path, port: int) -> dict[str, str]:
    env = {k: remap(v, root, IMAGE_PATHS) for k, v in image_env(STAGE).items()}
    # The image's PATH has storebridge in /usr/local/bin; here it is this venv's. The port is docker's `-p`.
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    env["BRIDGE_BIND"] = f"127.0.0.1:{port}"
    env["LANG"] = "C.UTF-8"
    return env


@pytest.mark.slow
def test_image_cmd_and_healthcheck_run_as_the_image_does(image_root: Path, tmp_path: Path) -> None:
    as_user = service_user()
    port = free_port()
    env = _image_environment(image_root, port)
    workdir = Path(remap(image_value(STAGE, "WORKDIR"), image_root, IMAGE_PATHS))
    healthcheck = exec_form(image_value(STAGE, "HEALTHCHECK").split(" CMD ", 1)[1])
    log = tmp_path / "web.log"
    with running(
        exec_form(image_value(STAGE, "CMD")),
        ready_url=f"http://127.0.0.1:{port}/readyz", log=log, env=env, cwd=workdir, as_user=as_user,
    ):  # fmt: skip
        check = subprocess.run(healthcheck, env=env, cwd=workdir, capture_output=True, text=True, timeout=30,
                               check=False, **as_user)  # type: ignore[call-overload]  # fmt: skip
        assert check.returncode == 0 and check.stdout.startswith("ok: "), check.stdout + check.stderr
        time.sleep(0.3)
    text = log.read_text(errors="replace")
    assert (image_root / "data" / "bridge.db").is_file(), "the database is on the volume"
    if as_user:
        assert (image_root / "data" / "bridge.db").stat().st_uid == SERVICE_UID
    for problem in ("Control server", "Permission denied", "unable to open database", "Traceback"):
        assert problem not in text, text[-3000:]
    assert f"database sqlite {image_root}/data/bridge.db" in text
    assert list((image_root / "app").iterdir()) == [], "nothing is written to WORKDIR/HOME"

    # The same image as a worker: its health check (the image's, unchanged) passes without any HTTP port.
    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as out:
        worker = subprocess.Popen(["storebridge", "worker"], env=env, cwd=workdir, stdout=out,
                                  stderr=subprocess.STDOUT, **as_user)  # type: ignore[call-overload]  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run([*healthcheck, "--role", "worker"], env=env, cwd=workdir, capture_output=True,
                                   text=True, timeout=30, check=False, **as_user)  # type: ignore[call-overload]  # fmt: skip
            if probe.returncode == 0 or time.monotonic() > deadline or worker.poll() is not None:
                break
            time.sleep(0.2)
        assert probe.returncode == 0, probe.stderr + worker_log.read_text(errors="replace")[-2000:]
        assert probe.stdout.startswith("ok: worker heartbeat")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "Traceback" not in worker_log.read_text(errors="replace")
