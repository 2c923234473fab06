"""Tests for tui.core.meter: smoothed rates and ETAs."""

from __future__ import annotations

import pytest

from tui.core.meter import RateMeter


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
