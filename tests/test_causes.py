"""Plain causes from real failures: a refused port, an unresolvable name, a TLS mismatch, a timeout."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from bridge.causes import answer_message, exception_cause, http_cause, status_words


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _failure(url: str, timeout: float = 2.0) -> requests.RequestException:
    try:
        requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return exc
    raise AssertionError("the request did not fail")


def test_connection_refused_names_the_host() -> None:
    url = f"http://127.0.0.1:{_free_port()}/api/3/contacts?filters[email]=a@b.example"
    assert exception_cause(_failure(url), url=url) == "connection refused by 127.0.0.1"


def test_unresolvable_host_is_said_so() -> None:
    url = "http://no-such-host.invalid/api"
    assert exception_cause(_failure(url), url=url) == "cannot resolve host no-such-host.invalid"


def test_timeout_says_how_long() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection, never answers
    url = f"http://127.0.0.1:{server.getsockname()[1]}/"
    try:
        cause = exception_cause(_failure(url, timeout=0.3), url=url, timeout=0.3)
    finally:
        server.close()
    assert cause == "timed out after 0.3 s waiting for 127.0.0.1"


def test_tls_to_a_plain_http_port_is_a_tls_error() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_in_clear() -> None:
        conn, _ = server.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=answer_in_clear, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.getsockname()[1]}/"
    try:
        cause = exception_cause(_failure(url), url=url)
    finally:
        server.close()
    assert cause.startswith("TLS error with 127.0.0.1")


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, "", "HTTP 401 token rejected"),
        (
            403,
            '{"message":"You do not have permission"}',
            "HTTP 403 token rejected (forbidden): You do not have permission",
        ),
        (
            422,
            '{"errors":[{"title":"Email is not valid","code":"field_invalid"}]}',
            "HTTP 422 refused as invalid: Email is not valid",
        ),
        (
            422,
            '{"errors":{"email":["is invalid","is taken"]}}',
            "HTTP 422 refused as invalid: email: is invalid; is taken",
        ),
        (502, "<html><body>Bad gateway</body></html>", "HTTP 502 bad gateway"),
        (418, "short and plain", "HTTP 418: short and plain"),
    ],
)
def test_http_cause_gives_the_status_in_words_and_the_service_message(status: int, body: str, expected: str) -> None:
    assert http_cause(status, body) == expected


def test_long_messages_are_cut_and_status_words_cover_5xx() -> None:
    assert len(answer_message('{"message": "' + "x" * 1000 + '"}')) == 300
    assert status_words(599) == "599 server error"
