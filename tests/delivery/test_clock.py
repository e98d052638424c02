"""The injected clock (bridge/clock.py): a VirtualClock moves forward by a whole wait at once, so a lease margin
or a write back-off costs no real time. No worker runs here: these are `unit` tests (in `make test-fast`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from bridge.clock import SystemClock, VirtualClock
from bridge.delivery.leases import HeldLeases
from bridge.errors import StorageUnavailable


@pytest.mark.unit
def test_a_virtual_wait_moves_every_reading_by_the_whole_timeout_at_once() -> None:
    clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    stop = threading.Event()
    started = time.monotonic()
    before = (clock.now(), clock.time(), clock.monotonic())
    assert clock.wait(stop, 3600.0) is False
    clock.sleep(60.0)
    assert clock.now() == datetime(2026, 1, 1, 1, 1, tzinfo=UTC)
    assert (clock.time() - before[1], clock.monotonic() - before[2]) == (3660.0, 3660.0)
    assert clock.slept == 3660.0 and time.monotonic() - started < 1.0
    stop.set()
    assert clock.wait(stop, 3600.0) is True  # set already: time stands still
    assert clock.slept == 3660.0


@pytest.mark.unit
def test_the_system_clock_waits_for_real_and_ends_early_when_set() -> None:
    clock, stop = SystemClock(), threading.Event()
    started = clock.monotonic()
    assert clock.wait(stop, 0.05) is False and clock.monotonic() - started >= 0.05
    stop.set()
    assert clock.wait(stop, 60.0) is True
    assert abs(clock.now().timestamp() - clock.time()) < 1.0


@pytest.mark.unit
def test_an_outcome_write_backs_off_in_virtual_time_and_gives_up_when_the_lease_may_be_gone() -> None:
    clock, stop = VirtualClock(), threading.Event()
    leases = HeldLeases(3.0, clock.monotonic)  # surely ours for 2 s
    leases.hold(1, clock.monotonic())
    tries: list[float] = []

    def refused() -> None:
        tries.append(round(clock.monotonic() - 1000.0, 6))
        raise StorageUnavailable()

    started = time.monotonic()
    assert leases.write(1, refused, lambda seconds: clock.wait(stop, seconds)) == (False, None)
    # WRITE_BACKOFF 0.1, 0.2, 0.5, 1.0, 1.0: the try at 2.8 s would be past the lease's 2 s margin.
    assert tries == [0.0, 0.1, 0.3, 0.8, 1.8]
    assert time.monotonic() - started < 1.0
