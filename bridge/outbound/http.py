"""The one place that sends a destination call: it paces, times, records the attempt, and turns the outcome
into a value (a `Answer`) or a named error (`RetryableError`, raised; `PermanentError` via `expect`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from bridge.causes import exception_cause, http_cause, status_words
from bridge.errors import PermanentError, RedirectRefused, RetryableError, TokenRejected
from bridge.outbound.retry_after import DEFAULT_MAX_RETRY_AFTER, honoured_retry_after
from bridge.timeutil import utcnow
from bridge.vocabulary import Attempt, AttemptOutcome

EXCERPT = 2000
RETRYABLE_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))
REDIRECT_STATUSES = frozenset(range(300, 400))
PAUSING_STATUSES = frozenset({429, 503})
#: Answers that reject the account's credentials: every call would fail alike (see `TokenRejected`).
TOKEN_STATUSES = frozenset({401, 403})
DEFAULT_PAUSE = 5.0
#: How much of a redirect's `Location` is kept in the attempt's error.
LOCATION_SHOWN = 500


@dataclass(frozen=True)
class Answer:
    """A destination's answer that is not a retryable failure, as its caller reads it (the whole text and the
    parsed body). What gets recorded of the call is its `Attempt` (bridge.vocabulary)."""

    status: int
    body: Any
    text: str

    def expect(self, *statuses: int) -> Answer:
        """Return self if the status is one of `statuses`; otherwise the call failed for good."""
        if self.status in statuses:
            return self
        # The cause in words, with the service's own message ("HTTP 422 refused as invalid: Email is not valid"):
        # this string is what the dead-letter list shows.
        raise PermanentError(http_cause(self.status, self.text), status=self.status, body=self.text[:EXCERPT])


class Pacer(Protocol):
    """Waits for the next allowed send and accepts pause requests (429/503 Retry-After)."""

    def wait(self) -> None: ...

    def clear(self) -> bool: ...

    def finished(self) -> None: ...

    def hold(self, seconds: float) -> None: ...

    def pause(self, seconds: float) -> None: ...


def classify(
    status: int, headers: Mapping[str, str], *, max_retry_after: float = DEFAULT_MAX_RETRY_AFTER, where: str = ""
) -> RetryableError | None:
    """The retry decision for an HTTP status: a RetryableError to raise, or None (final answer).

    A redirect (3xx) is never followed (it would carry the credentials and the body to wherever `Location`
    points): it is a `RedirectRefused`, retryable, because it usually means a mis-set URL the operator fixes.
    `Retry-After` is honoured up to `max_retry_after` seconds.
    """
    if status in REDIRECT_STATUSES:
        location = loggable_url(headers.get("Location") or "")[:LOCATION_SHOWN] or None
        target = f"to {location}" if location else "without a Location"
        return RedirectRefused(
            f"HTTP {status} redirect {target} not followed (it would carry the credentials; check the configured URL)",
            status=status,
            location=location,
        )
    if status not in RETRYABLE_STATUSES:
        return None
    retry_after = honoured_retry_after(headers.get("Retry-After"), max_retry_after, where=where)
    return RetryableError(f"HTTP {status_words(status)}", status=status, retry_after=retry_after)


class HttpCaller:
    """Sends calls for one delivery to one destination."""

    def __init__(
        self,
        *,
        session: requests.Session,
        headers: Mapping[str, str],
        timeout: float,
        record: Callable[[Attempt], None],
        pacer: Pacer | None = None,
        dry_run: bool = False,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        token_statuses: frozenset[int] = frozenset(),
    ) -> None:
        self.session = session
        self.token_statuses = token_statuses
        self.headers = dict(headers)
        self.timeout = timeout
        self.record = record
        self.pacer = pacer
        self.dry_run = dry_run
        self.max_retry_after = max_retry_after

    def call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        dry_run_answer: Any = None,
    ) -> Answer:
        """Send one request. Raises RetryableError on network errors, timeouts, 408/429/5xx, RedirectRefused on
        a 3xx (never followed: see `classify`), and TokenRejected on a status in `token_statuses`."""
        shown_url = url if not params else requests.Request("GET", url, params=params).prepare().url or url
        request_text = json.dumps(json_body, ensure_ascii=False)[:EXCERPT] if json_body is not None else None
        if self.dry_run:
            self.record(Attempt(utcnow(), 0, method, shown_url, request_text, None, None, None, AttemptOutcome.DRY_RUN))
            return Answer(200, dry_run_answer, "")
        started, clock = self._admitted()
        try:
            response = self.session.request(
                method,
                url,
                json=json_body,
                params=params,
                headers=self.headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            if self.pacer is not None:
                self.pacer.finished()
            elapsed = int((time.perf_counter() - clock) * 1000)
            # "cannot resolve host X", "timed out after 10 s waiting for X": what the attempt and the delivery show.
            error = exception_cause(exc, url=url, timeout=self.timeout)[:EXCERPT]
            self.record(
                Attempt(started, elapsed, method, shown_url, request_text, None, None, error, AttemptOutcome.ERROR)
            )
            raise RetryableError(error) from exc
        retry = classify(
            response.status_code, response.headers, max_retry_after=self.max_retry_after, where=loggable_url(url)
        )
        pause = None
        if retry is not None and response.status_code in PAUSING_STATUSES and self.pacer is not None:
            # Before anything else: this process's other senders hold from the moment the answer is here...
            pause = retry.retry_after if retry.retry_after is not None else min(DEFAULT_PAUSE, self.max_retry_after)
            self.pacer.hold(pause)
        elapsed = int((time.perf_counter() - clock) * 1000)
        if self.pacer is not None:
            if pause is not None:
                self.pacer.pause(pause)  # ...and every other process's, before this slot is given back.
            self.pacer.finished()
        text = response.text
        outcome = (
            AttemptOutcome.RETRY
            if retry
            else (AttemptOutcome.OK if response.ok and not _graphql_errors(text) else AttemptOutcome.FAILED)
        )
        refused = retry.message if isinstance(retry, RedirectRefused) else None
        self.record(
            Attempt(
                started,
                elapsed,
                method,
                shown_url,
                request_text,
                response.status_code,
                text[:EXCERPT],
                refused,
                outcome,
            )
        )
        if retry is not None:
            retry.body = text[:EXCERPT]
            raise retry
        if response.status_code in self.token_statuses:
            # Raised whatever the caller expected (a side call too): the account, not this call, is at fault.
            raise TokenRejected(f"HTTP {response.status_code}", status=response.status_code, body=text[:EXCERPT])
        try:
            body = response.json() if text.strip() else None
        except ValueError:
            body = None
        return Answer(response.status_code, body, text)

    def _admitted(self) -> tuple[datetime, float]:
        """Wait for the pacer's go, then take the send timestamp; if a pause began in between, give the slot
        back and wait again."""
        while True:
            if self.pacer is not None:
                self.pacer.wait()
            started, clock = utcnow(), time.perf_counter()
            if self.pacer is None or self.pacer.clear():
                return started, clock
            self.pacer.finished()


def _graphql_errors(text: str) -> bool:
    """A GraphQL answer (AC's eComm API) refuses with HTTP 200 and a top-level `errors`: the attempt failed."""
    if '"errors"' not in text:
        return False
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("errors"))


def loggable_url(url: str) -> str:
    """`url` as it may be logged and shown: without user info, and with any query (which may hold an email
    address or a token) replaced by `?…`."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))


class NoRedirectSession(requests.Session):
    """A Session that never follows a redirect, whatever its caller asks: every session that carries a
    credential is one (requests re-sends custom headers such as `Api-Token`, and with 307/308 the body, to
    wherever `Location` points, even another host)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def make_session(user_agent: str) -> requests.Session:
    """A pooled session with the bridge's User-Agent that never follows redirects."""
    session = NoRedirectSession()
    session.headers["User-Agent"] = user_agent
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def with_retries(
    send: Callable[[], Answer],
    *,
    attempts: int,
    wait_for: Callable[[RetryableError, int], float | None],
    sleep: Callable[[float], None] = time.sleep,
) -> Answer:
    """`send()`, and again after a RetryableError while attempts remain and `wait_for(error, attempt)` names
    the seconds to wait (None: give up). For callers nothing queues a retry for (operator commands, store API
    reads); deliveries are retried by the worker instead."""
    for attempt in range(1, attempts + 1):
        try:
            return send()
        except RetryableError as exc:
            wait = None if attempt == attempts else wait_for(exc, attempt)
            if wait is None:
                raise
            sleep(wait)
    raise AssertionError("unreachable")
