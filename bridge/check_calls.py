"""What every line of `storebridge check` / `setup` shares: the line itself, the patient HTTP caller for the
handful of calls they make, and the failure in words (bridge/causes.py), never an exception's class name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.causes import exception_cause, http_cause
from bridge.errors import DeliveryError, RedirectRefused, RetryableError
from bridge.outbound.http import Answer, HttpCaller, make_session, with_retries

if TYPE_CHECKING:
    from bridge.settings import Settings
from bridge.vocabulary import Attempt


@dataclass(frozen=True)
class Check:
    """One line of `bridge check`."""

    name: str
    ok: bool
    detail: str
    #: Works, but should be fixed (shown as WARNING; the exit status stays 0).
    warn: bool = False

    @property
    def label(self) -> str:
        """`ok`, `WARNING` or `FAILED`, as printed."""
        return "FAILED" if not self.ok else ("WARNING" if self.warn else "ok")

    @property
    def line(self) -> str:
        """The line as printed: `name: label - detail`."""
        return f"{self.name}: {self.label} - {self.detail}"


def summary(checks: Sequence[Check]) -> str:
    """The last line of `check`: `ok`, `ok, with 2 warnings`, or `FAILED: 1 error, 2 warnings`."""
    errors = sum(not c.ok for c in checks)
    warnings = sum(c.ok and c.warn for c in checks)
    counted = f"{warnings} warning{'s' if warnings != 1 else ''}"
    if errors:
        return f"FAILED: {errors} error{'s' if errors != 1 else ''}, {counted}"
    return f"ok, with {counted}" if warnings else "ok"


class _PatientCaller(HttpCaller):
    """For operator commands (a handful of calls): AC allows 5 calls a second per account, so `setup` run twice
    in a row, or beside a busy worker, meets a 429. Wait as told, a few times, rather than report a failure."""

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        return with_retries(lambda: super(_PatientCaller, self).call(method, url, **kwargs), attempts=4, wait_for=_told)


def _told(exc: RetryableError, _attempt: int) -> float | None:
    """Wait out a 429 for as long as it asks (up to 10 s); any other failure is reported at once."""
    wait = exc.retry_after if exc.retry_after is not None else 1.0
    return max(wait, 0.2) if exc.status == 429 and wait <= 10 else None


def caller(settings: Settings, headers: dict[str, str], log: Callable[[Attempt], None] | None = None) -> HttpCaller:
    """An HTTP caller for one-off checks: no redirects followed, a timeout of at most 10 s, 429s waited out."""
    return _PatientCaller(
        session=make_session("storebridge-check/0.1"),
        headers=headers,
        timeout=check_timeout(settings),
        record=log or (lambda _call: None),
    )


def check_timeout(settings: Settings) -> float:
    """The timeout of one check call (BRIDGE_HTTP_TIMEOUT, at most 10 s: `check` should answer quickly)."""
    return min(settings.http_timeout, 10.0)


def why(exc: DeliveryError, url: str, settings: Settings) -> str:
    """A failed check call in words: where a refused redirect pointed, the status in words with the service's
    own message (`HTTP 503 service unavailable: …`), or the network cause (`cannot resolve host X`)."""
    if isinstance(exc, RedirectRefused):
        return exc.message
    if exc.status is not None:
        return http_cause(exc.status, exc.body)
    return exception_cause(exc, url=url, timeout=check_timeout(settings))


def rejected(variables: str, result: Answer) -> str:
    """`BRIDGE_AC_TOKEN rejected: HTTP 403 token rejected (forbidden): …`, the service's message included."""
    return f"{variables} rejected: {http_cause(result.status, result.text)}"


def unexpected(result: Answer, url: str) -> str:
    """Any other answer: its status in words and message, and which service gave it."""
    return f"{http_cause(result.status, result.text)} from {url}"
