"""deploy/nginx/storebridge.conf's rules, through a real nginx in front of a real `storebridge web`: the public
server answers no `/metrics` (however the path is spelled) and serves `/admin/` only to this host and private
networks; its commented TLS lines, uncommented as the comment says, are accepted by this machine's nginx
(Debian 12 ships 1.22, which does not know `http2 on;`) and serve HTTPS with HTTP/2 offered."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.test_nginx_drill import DEPLOY, NGINX, SCRIPT, nginx_config, webhook
from tests.helpers.env import base_env
from tests.helpers.live_server import free_port
from tests.helpers.slow_clients import wait_port
from tests.helpers.web_process import clean_env, running

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "admin-token-0123456789abcdef"
OUTSIDER = "127.0.0.2"  # routed to loopback like 127.0.0.1, but not on the allow-list: stands for the internet
TLS_LINE = re.compile(r"^    # ((?:listen (?:\[::\]:)?443 |ssl_).*)$", re.MULTILINE)


def uncomment_tls(site: str, port: int, cert: Path, key: Path) -> str:
    """What the config's comment tells an operator to do, with the port and certificate paths of this test
    (the IPv6 listen is left out: a CI container may have no IPv6)."""
    lines = TLS_LINE.findall(site)
    assert [line.split()[0] for line in lines] == ["listen", "listen", "ssl_certificate", "ssl_certificate_key",
                                                   "ssl_protocols"], lines  # fmt: skip
    assert "http2 on;" not in site, "nginx 1.22 (Debian 12) rejects `http2 on;`"
    site = TLS_LINE.sub(r"    \1", site)
    site = site.replace("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{port} ssl http2;\n")
    site = site.replace("    listen [::]:443 ssl http2;\n", "")
    site = site.replace("/etc/nginx/certs/fullchain.pem", str(cert)).replace("/etc/nginx/certs/privkey.pem", str(key))
    return site


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made with the openssl command line."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def nginx_test(conf: Path, run_dir: Path) -> subprocess.CompletedProcess:
    """`nginx -t` on a config."""
    return subprocess.run(
        [NGINX, "-t", "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip


@pytest.fixture
def web(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    settings = {"BRIDGE_WEB_WORKERS": "1", "BRIDGE_WEB_THREADS": "4", "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    env = clean_env(**base_env(tmp_path / "bridge.db", **settings))
    with running(
        [str(SCRIPT), "web", "--bind", f"127.0.0.1:{port}"],
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log=tmp_path / "web.log",
        env=env,
        cwd=tmp_path,
    ):
        yield port


@pytest.fixture
def proxy(tmp_path: Path, web: int) -> Iterator[tuple[int, int]]:
    """nginx with the shipped config and its TLS lines uncommented: (plain port, TLS port)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian package `nginx`; .ci/run installs it)")
    run_dir = tmp_path / "nginx"
    run_dir.mkdir()
    plain, tls = free_port(), free_port()
    conf = nginx_config(run_dir, plain, web)
    shipped = nginx_test(conf, run_dir)
    assert shipped.returncode == 0, shipped.stderr
    cert, key = self_signed(run_dir)
    site = run_dir / "site.conf"
    site.write_text(uncomment_tls(site.read_text(), tls, cert, key))
    checked = nginx_test(conf, run_dir)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_port("127.0.0.1", plain)
        wait_port("127.0.0.1", tls)
        yield plain, tls
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(port: int, path: str, *, source: str = "127.0.0.1", tls: bool = False, **headers: str) -> tuple[int, bytes]:
    """One raw request (the path is sent exactly as given) from `source`; (status, body)."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0), context=context
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def post_webhook(port: int, source: str) -> int:
    body, headers = webhook(1)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/webhooks/shopify", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


METRICS_SPELLINGS = ("/metrics", "/metrics/", "//metrics", "/%6Detrics", "/./metrics", "/x/../metrics", "/metrics?a=1")


def test_metrics_is_not_public_and_admin_is_for_private_networks(web: int, proxy: tuple[int, int]) -> None:
    plain, tls = proxy
    status, body = get(web, "/metrics")
    assert status == 200 and b"bridge_queue_depth" in body, "the web itself serves /metrics (control)"
    for port, on_tls in ((plain, False), (tls, True)):
        for path in METRICS_SPELLINGS:
            status, body = get(port, path, tls=on_tls)
            assert status == 404 and b"bridge_" not in body, (port, path, status)

        # /admin/ from this host (and, by the same list, private networks): the dashboard and the API answer.
        status, body = get(port, "/admin/login", tls=on_tls)
        assert status == 200 and b"token" in body.lower()
        status, body = get(port, "/admin/api/destinations", tls=on_tls, Authorization=f"Bearer {ADMIN_TOKEN}")
        assert status == 200 and b"activecampaign" in body
        # From an address that is not on the list: refused by nginx, whatever the spelling.
        for path in ("/admin/login", "/admin/", "/admin", "/%61dmin/login", "//admin/api/destinations"):
            status, _ = get(port, path, source=OUTSIDER, tls=on_tls, Authorization=f"Bearer {ADMIN_TOKEN}")
            assert status == 403, (port, path, status)
        # The same outsider is a store platform as far as webhooks and probes go.
        assert get(port, "/readyz", source=OUTSIDER, tls=on_tls)[0] == 200
    assert post_webhook(plain, OUTSIDER) == 202


def test_the_tls_lines_serve_https_and_offer_http2(proxy: tuple[int, int]) -> None:
    _, tls = proxy
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", tls), timeout=10) as raw, context.wrap_socket(raw) as conn:
        assert conn.selected_alpn_protocol() == "h2"
        assert conn.version() in ("TLSv1.2", "TLSv1.3")
    status, body = get(tls, "/readyz", tls=True)
    assert status == 200 and json.loads(body)["status"] == "ok"


def test_the_shipped_config_has_the_tls_lines_commented() -> None:
    site = (DEPLOY / "nginx" / "storebridge.conf").read_text()
    assert len(TLS_LINE.findall(site)) == 5
    active = [line for line in site.splitlines() if not line.lstrip().startswith("#")]
    assert not any("443" in line or "ssl_" in line for line in active)
