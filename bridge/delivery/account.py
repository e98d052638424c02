"""Account-wide failures: a destination that rejects the account's token (401/403) would fail every delivery
alike, so the destination is paused with the reason "token rejected" and the deliveries wait, none spending an
attempt or going dead. It resumes when the worker starts with other credentials, or by the operator's resume."""

from __future__ import annotations

import logging

from bridge.destinations import registry
from bridge.settings import Settings
from bridge.storage.deliveries import Deliveries
from bridge.storage.pauses import TOKEN_REJECTED, fingerprint
from bridge.storage.throttles import Throttles
from bridge.timeutil import utcnow

log = logging.getLogger("bridge.delivery")


def token_fingerprint(settings: Settings, destination: str) -> str:
    """The fingerprint of the token this process sends to `destination` (none known: the empty token's)."""
    found = registry.find(destination)
    return fingerprint(found.token(settings) if found else None)


def how_to_fix(destination: str) -> str:
    """What the operator does about a rejected token, in one sentence."""
    found = registry.find(destination)
    variable = found.credential_setting if found and found.credential_setting else "the token"
    return (
        f"set a valid {variable} and restart the worker (it resumes by itself), "
        f"or run `storebridge destinations resume {destination}`"
    )


def resume_changed_credentials(settings: Settings, throttles: Throttles, deliveries: Deliveries) -> list[str]:
    """Resume every destination paused for a rejected token that this process would now send another token
    to; returns their names. Called when a worker starts: changing the token means restarting it."""
    resumed = []
    for name, state in throttles.all().items():
        if not state.manual_pause or state.pause_reason != TOKEN_REJECTED or registry.find(name) is None:
            continue
        if state.pause_fingerprint == token_fingerprint(settings, name):
            # Restarted with the same token: say again, loudly, why nothing goes to this destination.
            log.error(
                "destination paused: token rejected",
                extra={
                    "destination": name,
                    "reason": TOKEN_REJECTED,
                    "cause": state.pause_cause,
                    "fix": how_to_fix(name),
                },
            )
            continue
        throttles.resume(name)
        hurried = deliveries.hurry(name, utcnow())
        resumed.append(name)
        log.info(
            "destination resumed: the token changed since it was rejected",
            extra={"destination": name, "resumed_deliveries": hurried},
        )
    return resumed
