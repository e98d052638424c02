"""Settings as an operator meets them, through the real `storebridge` process: a typo'd BRIDGE_* variable
(in the environment or in `.env`) is a warning naming the closest setting, at start-up and in `check`;
durations take units; a bad duration is one clear message."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.delivery import bridge_executable, run_cli, subprocess_env
from tests.helpers.live_server import free_port
from tests.helpers.web_process import running

TYPO = (
    "settings: WARNING - BRIDGE_AC_API_KEY is not a setting the bridge reads, so it is ignored; "
    "did you mean BRIDGE_AC_TOKEN?"
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.db'}", **extra}


def test_check_warns_about_a_typo_in_dot_env_and_still_exits_zero(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BRIDGE_AC_API_KEY=abc123\nBRIDGE_SHOPIFY_SECRET=s3cret\n")
    done = run_cli(["check"], _env(tmp_path, BRIDGE_ABANDON_AFTR="1h"), tmp_path)
    out = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert TYPO in out
    assert (
        "settings: WARNING - BRIDGE_ABANDON_AFTR is not a setting the bridge reads, so it is ignored; "
        "did you mean BRIDGE_ABANDON_AFTER?"
    ) in out
    assert out[-1] == "ok, with 2 warnings", out
    assert "abc123" not in done.stdout + done.stderr, "a value was printed"


def test_a_clean_configuration_has_no_settings_line(tmp_path: Path) -> None:
    done = run_cli(["check"], _env(tmp_path, BRIDGE_SHOPIFY_SECRET="s3cret"), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("settings:")]
    assert done.stdout.splitlines()[-1] == "ok"


@pytest.mark.parametrize(
    "variable, value, seconds",
    [
        ("BRIDGE_ABANDON_AFTER", "1h", 3600),
        ("BRIDGE_ABANDON_AFTER", "15m", 900),
        ("BRIDGE_ABANDON_AFTER", "90s", 90),
        ("BRIDGE_ABANDON_AFTER", "2d", 172800),
        ("BRIDGE_ABANDON_AFTER", "1h30m", 5400),
        ("BRIDGE_ABANDON_AFTER", "600", 600),
        ("BRIDGE_RECONCILE_INTERVAL", "15m", 900),
        ("BRIDGE_WEB_TIMEOUT", "2m", 120),
        ("BRIDGE_RETRY_SCHEDULE", "5s, 30s, 2m", (5, 30, 120)),
    ],
)
def test_durations_take_units(tmp_path: Path, variable: str, value: str, seconds: float | tuple[float, ...]) -> None:
    code = (
        "from bridge.settings import load_settings; import sys; s = load_settings(); "
        f"print(repr(s.{variable.removeprefix('BRIDGE_').lower()}))"
    )
    done = subprocess.run(
        [str(Path(bridge_executable()).with_name("python")), "-c", code],
        env=subprocess_env(_env(tmp_path, **{variable: value})),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown = eval(done.stdout)  # noqa: S307 - the repr of a number or a tuple of numbers, printed just above
    assert shown == seconds


@pytest.mark.parametrize("value", ["soon", "1 hour", "1y", "-5m", "h"])
def test_a_bad_duration_is_one_clear_message(tmp_path: Path, value: str) -> None:
    done = run_cli(["check"], _env(tmp_path, BRIDGE_ABANDON_AFTER=value), tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "invalid configuration:" in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if "BRIDGE_ABANDON_AFTER" in line]
    assert f"not a duration: {value!r}" in line and "90s, 15m, 1h, 2d" in line, line


def test_gunicorn_whole_seconds_refuse_a_fraction(tmp_path: Path) -> None:
    done = run_cli(["check"], _env(tmp_path, BRIDGE_WEB_TIMEOUT="1500ms"), tmp_path)
    assert done.returncode == 2 and "BRIDGE_WEB_TIMEOUT: must be whole seconds, got 1.5 s" in done.stderr


def _wait_for_line(log: Path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in log.read_text(errors="replace").splitlines() if text in line]
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no line with {text!r} in:\n{log.read_text(errors='replace')[-3000:]}")


def test_web_and_worker_warn_at_start_up(tmp_path: Path) -> None:
    bind = f"127.0.0.1:{free_port()}"
    env = subprocess_env(
        _env(tmp_path, BRIDGE_BIND=bind, BRIDGE_AC_API_KEY="abc123", BRIDGE_LOG_FORMAT="text", BRIDGE_LOG_LEVEL="INFO")
    )
    log = tmp_path / "web.log"
    with running([bridge_executable(), "web"], ready_url=f"http://{bind}/healthz", log=log, env=env, cwd=tmp_path):
        line = _wait_for_line(log, "BRIDGE_AC_API_KEY")
    assert " warning bridge.startup: " in line and line.endswith("did you mean BRIDGE_AC_TOKEN?"), line

    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as out:
        worker = subprocess.Popen([bridge_executable(), "worker"], env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        line = _wait_for_line(worker_log, "BRIDGE_AC_API_KEY")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert " warning bridge.startup: " in line and line.endswith("did you mean BRIDGE_AC_TOKEN?"), line
    assert "abc123" not in log.read_text() + worker_log.read_text(), "a value was logged"
