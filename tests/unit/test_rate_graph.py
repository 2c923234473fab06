"""The rate graph's pure pieces: samples to columns, columns to bars, the numbers."""

from __future__ import annotations

import pytest

from tui.ui.widgets.rate_graph import BARS, bars, columns, numbers

MiB = 1024 * 1024


def test_one_column_per_second_when_the_graph_is_wide_enough() -> None:
    assert columns([1.0, 2.0, 3.0], width=120, span=120) == [1.0, 2.0, 3.0]


def test_each_column_is_the_peak_of_its_seconds_counted_back_from_the_newest() -> None:
    samples = [float(n) for n in range(1, 11)]  # 1..10
    # span 12 in 4 columns: 3 s each; from the newest: [8,9,10] [5,6,7] [2,3,4] [1]
    assert columns(samples, width=4, span=12) == [1.0, 4.0, 7.0, 10.0]


def test_columns_fit_the_width() -> None:
    samples = [1.0] * 120
    for width in (1, 7, 18, 40, 119, 200):
        assert len(columns(samples, width, span=120)) <= width
    assert columns([], width=10) == []


def test_bars_scale_from_zero_to_the_peak() -> None:
    assert bars([0.0, 50.0, 100.0], height=1, peak=100.0) == [" ▄█"]
    # A steady rate with a little noise stays near the top (no min-to-max stretch).
    steady = bars([99.0, 100.0, 98.0], height=1, peak=100.0)
    assert steady == ["███"]


def test_any_rate_above_zero_shows() -> None:
    assert bars([0.0, 0.001, 100.0], height=2, peak=100.0) == ["  █", " ▁█"]


def test_bars_over_rows() -> None:
    assert bars([25.0, 50.0, 75.0, 100.0], height=2, peak=100.0) == ["  ▄█", "▄███"]
    assert all(set(row) <= set(BARS) for row in bars([3.0, 1.0], 3, 3.0))


def test_nothing_to_scale() -> None:
    assert bars([0.0, 0.0], height=2, peak=0.0) == ["  ", "  "]
    assert bars([], height=2, peak=0.0) == ["", ""]


def test_numbers_say_now_and_peak_so_the_graph_reads_without_colour() -> None:
    samples = [0.0, 40 * MiB, 12.5 * MiB]
    assert numbers(samples, span=120) == ["now 12.5 MiB/s", "peak 40 MiB/s", "last 2m"]


@pytest.mark.parametrize("samples", [[], [0.0, 0.0, 0.5]])
def test_numbers_without_a_rate(samples: list[float]) -> None:
    assert numbers(samples, span=90) == ["now –", "peak –", "last 90s"]
