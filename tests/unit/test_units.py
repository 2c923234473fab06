"""Tests for tui.core.units: sizes, durations and rates for people."""

from __future__ import annotations

import pytest

from tui.core.units import (
    GiB,
    KiB,
    MiB,
    TiB,
    format_duration,
    format_rate,
    format_size,
    parse_duration,
    parse_size,
)

# -- parse_size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8MiB", 8 * MiB),
        ("8mib", 8 * MiB),
        ("8 MiB", 8 * MiB),
        ("  8MiB  ", 8 * MiB),
        ("100MB", 100_000_000),
        ("100mb", 100_000_000),
        ("5242880", 5_242_880),
        ("0", 0),
        ("1.5GiB", 3 * GiB // 2),
        ("0.5KiB", 512),
        ("1k", 1000),
        ("2KB", 2000),
        ("3g", 3_000_000_000),
        ("1TB", 10**12),
        ("1TiB", TiB),
        ("7b", 7),
        ("7B", 7),
        ("4KiB", 4 * KiB),
    ],
)
def test_parse_size_accepts_documented_forms(text: str, expected: int) -> None:
    assert parse_size(text) == expected
    assert isinstance(parse_size(text), int)


@pytest.mark.parametrize("value", [0, 1, 5 * MiB, 6 * TiB])
def test_parse_size_passes_non_negative_ints_through(value: int) -> None:
    assert parse_size(value) == value


def test_parse_size_refuses_negative_int() -> None:
    with pytest.raises(ValueError, match="negative"):
        parse_size(-1)


@pytest.mark.parametrize("value", [True, False])
def test_parse_size_refuses_bools(value: bool) -> None:
    # bool is an int subclass: True must not quietly become one byte.
    with pytest.raises(ValueError, match="not a size"):
        parse_size(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "MiB",
        "eight",
        "8XB",
        "8 M i B",
        "-5",
        "-5MiB",
        "1e6",
        ".5MiB",
        "5.",
        "8MiBs",
        "0x10",
    ],
)
def test_parse_size_refuses_garbage_with_examples(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(text)
    message = str(info.value)
    assert "8MiB" in message  # shows an accepted form
    assert "\n" not in message


@pytest.mark.parametrize("text", ["1.5", "0.3B", "1.0000001KiB", "1.15GiB"])
def test_parse_size_refuses_fractional_bytes(text: str) -> None:
    with pytest.raises(ValueError, match="whole number of bytes"):
        parse_size(text)


def test_parse_size_decimal_that_is_whole_in_bytes() -> None:
    assert parse_size("8.2MB") == 8_200_000


def test_parse_size_large_plain_integer_is_exact() -> None:
    assert parse_size("9007199254740993") == 9_007_199_254_740_993


# -- parse_duration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", 90.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("1d12h", 129600.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("1.5h", 5400.0),
        ("2H", 7200.0),
        ("90", 90.0),
        ("0", 0.0),
        ("2.5", 2.5),
        ("  45  ", 45.0),
    ],
)
def test_parse_duration_accepts_documented_forms(text: str, expected: float) -> None:
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text", ["", "   ", "soon", "5x", "h", "1h30", "1h junk", "m5", "1.2.3s", "15 minutes"]
)
def test_parse_duration_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert "90s" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["nan", "inf", "-5"])
def test_parse_duration_refuses_non_finite_and_negative(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_duration_space_between_number_and_unit() -> None:
    assert parse_duration("90 s") == 90.0


# -- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1536, "1.5 KiB"),
        (100 * KiB, "100 KiB"),
        (MiB, "1 MiB"),
        (8 * MiB, "8 MiB"),
        (int(12.5 * MiB), "12.5 MiB"),
        (GiB, "1 GiB"),
        (5 * TiB, "5 TiB"),
        (2048 * TiB, "2048 TiB"),  # no unit above TiB
    ],
)
def test_format_size(n: int, expected: str) -> None:
    assert format_size(n) == expected


def test_format_size_of_a_fraction_below_one_kib_is_whole_bytes() -> None:
    assert format_size(10.7) == "10 B"


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0, "0 B/s"), (512, "512 B/s"), (12.5 * MiB, "12.5 MiB/s"), (GiB, "1 GiB/s")],
)
def test_format_rate(rate: float, expected: str) -> None:
    assert format_rate(rate) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "0s"),
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (59.99, "59s"),
        (60, "1m00s"),
        (185, "3m05s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (7800, "2h10m"),
        (86399, "23h59m"),
        (86400, "1d0h"),
        (3 * 86400 + 4 * 3600 + 59, "3d4h"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected
