"""Calls to a store's API: the destinations' HttpCaller (one Session, explicit timeouts, the retry decisions
of bridge/outbound/http.py), plus a bounded wait-and-retry loop, since nothing queues a read for later."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bridge.errors import PermanentError, RedirectRefused, RetryableError
from bridge.outbound.http import Answer, HttpCaller, make_session, with_retries
from bridge.redaction import safe_url
from bridge.vocabulary import Attempt

log = logging.getLogger("bridge.stores")
MAX_WAIT = 60.0


class StoreHttp:
    """GET/POST to one store API, retried on network errors, 408/429/5xx (honouring Retry-After, up to
    MAX_WAIT). Redirects are never followed (the session would send the credentials to `Location`)."""

    def __init__(
        self,
        name: str,
        *,
        headers: Mapping[str, str],
        timeout: float,
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.attempts = attempts
        self.sleep = sleep
        self.calls = 0
        self.caller = HttpCaller(
            session=make_session("storebridge/0.1 (+https://github.com/storebridge)"),
            headers={"Accept": "application/json", **headers},
            timeout=timeout,
            record=self._record,
        )
        # Answer has no headers; pagination (X-WP-TotalPages) needs them: keep the last response's.
        self._last_headers: Mapping[str, str] = {}
        self.caller.session.hooks["response"].append(self._capture)

    def call(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None
    ) -> tuple[Answer, Mapping[str, str]]:
        """One call's final answer and its headers; PermanentError for a 4xx, RetryableError once retries ran
        out."""
        result = with_retries(
            lambda: self.caller.call(method, url, params=params, json_body=json_body),
            attempts=self.attempts,
            wait_for=self._wait_for,
            sleep=self.sleep,
        )
        if result.status == 401 or result.status == 403:
            raise PermanentError(
                f"{self.name}: the store API refused the credentials (HTTP {result.status})",
                status=result.status,
                body=result.text[:500],
            )
        result.expect(200)
        return result, self._last_headers

    def _wait_for(self, exc: RetryableError, attempt: int) -> float | None:
        if isinstance(exc, RedirectRefused):
            return None  # a mis-set URL does not fix itself in seconds: the run fails now, saying where it led
        wait = exc.retry_after if exc.retry_after is not None else 0.5 * 2 ** (attempt - 1)
        wait = min(MAX_WAIT, wait)
        log.warning(
            "store API call failed; retrying",
            extra={"store_api": self.name, "status": exc.status, "wait": wait, "attempt": attempt},
        )
        return wait

    def _capture(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self._last_headers = response.headers  # case-insensitive
        return response

    def _record(self, call: Attempt) -> None:
        self.calls += 1
        log.debug(
            "store API call",
            extra={
                "store_api": self.name,
                "url": safe_url(call.url),
                "status": call.status_code,
                "ms": call.duration_ms,
            },
        )
