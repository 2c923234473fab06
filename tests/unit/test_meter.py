"""Tests for tui.core.meter: smoothed rates and ETAs, and the rate history."""

from __future__ import annotations

import pytest

from tui.core.meter import RateHistory, RateMeter


def feed(
    meter: RateMeter, start: float, total: int, rate: float, steps: int, dt: float
) -> tuple[float, int]:
    """Feed ``steps`` samples ``dt`` apart at ``rate`` bytes/s; return (time, total)."""
    now = start
    for _ in range(steps):
        now += dt
        total += int(rate * dt)
        meter.update(now, total)
    return now, total


def test_first_sample_gives_no_rate() -> None:
    meter = RateMeter()
    assert meter.update(10.0, 1000) == 0.0
    assert meter.eta(100) is None


def test_constant_rate_converges() -> None:
    meter = RateMeter()
    meter.update(0.0, 0)
    feed(meter, 0.0, 0, 1_000_000, steps=50, dt=0.25)
    assert meter.rate == pytest.approx(1_000_000, rel=1e-6)


def test_rate_follows_a_change_within_a_few_half_lives() -> None:
    meter = RateMeter(half_life=3.0)
    meter.update(0.0, 0)
    now, total = feed(meter, 0.0, 0, 4_000_000, steps=40, dt=0.5)
    assert meter.rate == pytest.approx(4_000_000, rel=1e-3)
    # Drop to 1 MB/s: after one half-life the rate is halfway, after ten it has arrived.
    now, total = feed(meter, now, total, 1_000_000, steps=6, dt=0.5)
    assert meter.rate == pytest.approx(2_500_000, rel=1e-3)
    feed(meter, now, total, 1_000_000, steps=54, dt=0.5)
    assert meter.rate == pytest.approx(1_000_000, rel=1e-2)


def test_smoothing_ignores_a_single_spike() -> None:
    meter = RateMeter(half_life=3.0)
    meter.update(0.0, 0)
    now, total = feed(meter, 0.0, 0, 1_000_000, steps=20, dt=0.5)
    meter.update(now + 0.1, total + 10_000_000)  # 100 MB/s for 0.1 s
    assert meter.rate < 5_000_000


def test_non_advancing_time_keeps_the_rate() -> None:
    meter = RateMeter()
    meter.update(0.0, 0)
    rate = meter.update(1.0, 1000)
    assert meter.update(1.0, 5000) == rate
    assert meter.update(0.5, 9000) == rate


def test_counter_going_backwards_is_not_negative() -> None:
    meter = RateMeter()
    meter.update(0.0, 0)
    meter.update(1.0, 1000)
    assert meter.update(2.0, 500) >= 0.0


def test_eta_none_without_a_rate() -> None:
    assert RateMeter().eta(1) is None


@pytest.mark.parametrize("remaining", [0, -5])
def test_eta_zero_when_nothing_remains(remaining: int) -> None:
    assert RateMeter().eta(remaining) == 0.0
    meter = RateMeter(rate=100.0)
    assert meter.eta(remaining) == 0.0


def test_eta_from_rate() -> None:
    meter = RateMeter()
    meter.update(0.0, 0)
    meter.update(2.0, 2000)
    assert meter.rate == 1000.0
    assert meter.eta(5000) == pytest.approx(5.0)


def test_history_keeps_one_sample_per_second_the_last_given_in_it() -> None:
    history = RateHistory(seconds=10)
    assert history.window(100.0) == []
    for now, rate in ((100.0, 1.0), (100.4, 2.0), (100.8, 3.0), (101.1, 4.0)):
        history.add(now, rate)
    assert history.window(101.9) == [3.0, 4.0]


def test_history_counts_unsampled_seconds_as_nothing_sent() -> None:
    history = RateHistory(seconds=10)
    history.add(100.0, 5.0)
    history.add(103.2, 6.0)  # paused between: 101 and 102 sent nothing
    assert history.window(103.5) == [5.0, 0.0, 0.0, 6.0]
    # stopped since 103: the seconds up to now are 0 too, so "now" reads no rate
    assert history.window(105.0) == [5.0, 0.0, 0.0, 6.0, 0.0, 0.0]


def test_history_is_bounded() -> None:
    history = RateHistory(seconds=5)
    for second in range(100):
        history.add(float(second), float(second))
    assert history.window(99.5) == [95.0, 96.0, 97.0, 98.0, 99.0]
    history.add(10_000.0, 1.0)  # a long pause: the gap is bounded too
    assert history.window(10_000.0) == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert history.window(20_000.0) == [0.0] * 5


def test_history_ignores_a_clock_going_back() -> None:
    history = RateHistory(seconds=5)
    history.add(100.0, 1.0)
    history.add(99.0, 9.0)
    assert history.window(100.0) == [1.0]
