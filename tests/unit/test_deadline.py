"""Link-expiry planning: which files can start every part before their links die."""

from __future__ import annotations

import pytest

from tui.core.deadline import (
    ASSUMED_SPEED,
    Speed,
    bytes_before_last_start,
    check_links_last,
    pick_speed,
)
from tui.core.errors import UsageError
from tui.core.units import GiB, MiB


def test_speed_source_order() -> None:
    assert pick_speed(20 * MiB, 5.0 * MiB, None).source == "engine.link_speed"
    assert pick_speed(None, 5.0 * MiB, None).bytes_per_second == 5 * MiB
    assert pick_speed(None, None, None).bytes_per_second == ASSUMED_SPEED
    capped = pick_speed(20 * MiB, None, 1 * MiB)
    assert capped.bytes_per_second == MiB and capped.source == "engine.bandwidth_limit"


def test_bytes_before_last_start_counts_all_but_the_last_wave() -> None:
    assert bytes_before_last_start([10, 10, 10, 5], 1) == 30
    assert bytes_before_last_start([10, 10, 10, 5], 2) == 20
    assert bytes_before_last_start([10, 10], 4) == 0


def test_a_20_gib_gumroad_file_needs_about_23_mib_per_second() -> None:
    sizes = [100 * MiB] * 204 + [80 * MiB]
    with pytest.raises(UsageError) as caught:
        check_links_last("gumroad", sizes, 900, Speed(10 * MiB, "assumed"), 4)
    message = str(caught.value)
    assert "cannot be renewed" in message and "engine.link_speed" in message
    assert "\n" not in message
    check_links_last("gumroad", sizes, 900, Speed(40 * MiB, "configured"), 4)


def test_what_fits_is_said_and_does_fit() -> None:
    speed = Speed(1 * MiB, "configured")
    sizes = [10 * MiB] * 100
    with pytest.raises(UsageError, match="upload files under"):
        check_links_last("polar", sizes, 600, speed, 4)
    # 600 s * 0.8 at 1 MiB/s = 480 MiB, plus the last wave of 4 parts.
    check_links_last("polar", [10 * MiB] * 52, 600, speed, 4)


def test_small_files_always_fit() -> None:
    check_links_last("gumroad", [GiB // 2], 900, Speed(1.0, "assumed"), 1)
