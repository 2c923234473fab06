"""The wait between tries of a part: exponential, capped, jittered, and finite for any try."""

from __future__ import annotations

from unittest.mock import Mock

import pytest

from tui.core.engine.scheduler import BACKOFF_BASE, BACKOFF_CAP, RETRY_AFTER_CAP, Scheduler
from tui.core.settings import EngineSettings


def _backoff(attempt: int, retry_after: float | None = None, rng: float = 1.0) -> float:
    scheduler = Scheduler(EngineSettings(), {}, Mock(), rng=lambda: rng)
    return scheduler.backoff(attempt, retry_after)


def test_it_doubles_then_stops_at_the_cap() -> None:
    assert [_backoff(n) for n in (1, 2, 3)] == [BACKOFF_BASE, 2 * BACKOFF_BASE, 4 * BACKOFF_BASE]
    assert _backoff(40) == BACKOFF_CAP


@pytest.mark.parametrize("attempt", [1025, 10**6, 10**12])
def test_a_huge_try_number_waits_the_cap_instead_of_overflowing(attempt: int) -> None:
    # retries = 10**12 is a legal setting; 2.0 ** 1024 raised OverflowError mid-upload.
    assert _backoff(attempt) == BACKOFF_CAP


def test_jitter_halves_at_most_and_retry_after_wins_when_longer() -> None:
    assert _backoff(3, rng=0.0) == 2 * BACKOFF_BASE
    assert _backoff(1, retry_after=7.0) == 7.0
    assert _backoff(1, retry_after=float("inf")) == RETRY_AFTER_CAP
