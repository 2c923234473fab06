"""Tests for tui.core.plan: part boundaries under a provider's limits."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.errors import UsageError
from tui.core.plan import S3_LIMITS, PartLimits, check_file_size, choose_part_size, plan_parts
from tui.core.units import GiB, MiB, TiB

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_contiguous_cover(ranges: list[tuple[int, int]], size: int) -> None:
    assert ranges, "a plan always has at least one part"
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    for start, end in ranges:
        assert start <= end
    assert sum(end - start for start, end in ranges) == size


# -- plan_parts ------------------------------------------------------------------------------


def test_plan_parts_empty_file_is_one_empty_part() -> None:
    assert plan_parts(0, 8 * MiB) == [(0, 0)]


def test_plan_parts_exact_multiple() -> None:
    ranges = plan_parts(3 * 8 * MiB, 8 * MiB)
    assert ranges == [(0, 8 * MiB), (8 * MiB, 16 * MiB), (16 * MiB, 24 * MiB)]


def test_plan_parts_one_byte_over_a_multiple_adds_a_one_byte_part() -> None:
    ranges = plan_parts(2 * 8 * MiB + 1, 8 * MiB)
    assert len(ranges) == 3
    assert ranges[-1] == (16 * MiB, 16 * MiB + 1)
    assert_contiguous_cover(ranges, 2 * 8 * MiB + 1)


def test_plan_parts_smaller_than_one_part() -> None:
    assert plan_parts(10, 8 * MiB) == [(0, 10)]


@pytest.mark.parametrize(("size", "part"), [(1, 1), (10, 3), (1000, 7), (5 * MiB + 3, MiB)])
def test_plan_parts_contiguous_and_covering(size: int, part: int) -> None:
    ranges = plan_parts(size, part)
    assert_contiguous_cover(ranges, size)
    assert all(end - start == part for start, end in ranges[:-1])
    assert 0 < ranges[-1][1] - ranges[-1][0] <= part


@pytest.mark.parametrize("part", [0, -1])
def test_plan_parts_refuses_non_positive_part_size(part: int) -> None:
    with pytest.raises(ValueError):
        plan_parts(100, part)


# -- choose_part_size ------------------------------------------------------------------------


def test_default_part_size_is_8_mib() -> None:
    assert choose_part_size(100 * MiB, S3_LIMITS) == 8 * MiB
    assert choose_part_size(0, S3_LIMITS) == 8 * MiB


def test_requested_size_within_limits_is_kept() -> None:
    assert choose_part_size(100 * MiB, S3_LIMITS, 16 * MiB) == 16 * MiB
    assert choose_part_size(100 * MiB, S3_LIMITS, 5 * MiB) == 5 * MiB
    assert choose_part_size(100 * MiB, S3_LIMITS, 5 * GiB) == 5 * GiB


def test_requested_below_minimum_is_refused_with_the_fix() -> None:
    with pytest.raises(UsageError) as info:
        choose_part_size(100 * MiB, S3_LIMITS, 1 * MiB)
    message = str(info.value)
    assert "\n" not in message
    assert "1 MiB" in message
    assert "minimum" in message
    assert "at least 5 MiB" in message


def test_requested_above_maximum_is_refused_with_the_fix() -> None:
    with pytest.raises(UsageError) as info:
        choose_part_size(100 * MiB, S3_LIMITS, 6 * GiB)
    message = str(info.value)
    assert "\n" not in message
    assert "6 GiB" in message
    assert "maximum" in message
    assert "at most 5 GiB" in message


def test_refusal_one_byte_below_minimum_does_not_look_equal() -> None:
    with pytest.raises(UsageError) as info:
        choose_part_size(100 * MiB, S3_LIMITS, 5 * MiB - 1)
    assert "part size 5.0 MiB" not in str(info.value)


def test_part_size_grows_to_fit_max_parts_rounded_to_mib() -> None:
    size = 100 * GiB  # 8 MiB parts would need 12,800 parts
    chosen = choose_part_size(size, S3_LIMITS)
    assert chosen % MiB == 0
    assert -(-size // chosen) <= 10_000
    assert chosen - MiB < -(-size // 10_000)  # the smallest MiB multiple that fits
    assert chosen == 11 * MiB


def test_requested_size_too_small_for_max_parts_is_grown() -> None:
    size = 100 * GiB
    chosen = choose_part_size(size, S3_LIMITS, 5 * MiB)
    assert chosen == 11 * MiB
    assert len(plan_parts(size, chosen)) <= 10_000


def test_exactly_max_parts_of_default_size_is_not_grown() -> None:
    size = 10_000 * 8 * MiB
    assert choose_part_size(size, S3_LIMITS) == 8 * MiB
    assert choose_part_size(size + 1, S3_LIMITS) == 9 * MiB


def test_largest_s3_object_fits() -> None:
    chosen = choose_part_size(5 * TiB, S3_LIMITS)
    assert len(plan_parts(5 * TiB, chosen)) <= 10_000
    assert chosen <= 5 * GiB


def test_file_over_max_size_is_refused() -> None:
    with pytest.raises(UsageError) as info:
        choose_part_size(5 * TiB + MiB, S3_LIMITS)
    message = str(info.value)
    assert "\n" not in message
    assert "larger than" in message
    # 5 TiB + 1 MiB and 5 TiB would both round to "5 TiB": the exact limit is shown.
    assert f"limit of {5 * TiB:,} bytes" in message


def test_file_well_over_max_size_is_refused_in_round_units() -> None:
    with pytest.raises(UsageError) as info:
        choose_part_size(6 * TiB, S3_LIMITS)
    assert "file of 6 TiB is larger than the provider's limit of 5 TiB" in str(info.value)


def test_file_under_min_size_is_refused() -> None:
    limits = PartLimits(min_size=MiB)
    with pytest.raises(UsageError) as info:
        choose_part_size(10, limits)
    message = str(info.value)
    assert "\n" not in message
    assert "smaller than" in message
    assert "another account" in message
    check_file_size(MiB, limits)  # exactly the minimum is fine


def test_no_max_size_means_no_size_refusal() -> None:
    limits = PartLimits(max_size=None, max_part=100 * GiB)
    chosen = choose_part_size(100 * TiB, limits)
    assert len(plan_parts(100 * TiB, chosen)) <= 10_000


def test_min_part_above_default_wins() -> None:
    limits = PartLimits(min_part=16 * MiB)
    assert choose_part_size(MiB, limits) == 16 * MiB


# -- properties ------------------------------------------------------------------------------

sizes = st.integers(min_value=0, max_value=6 * TiB)
requested_sizes = st.none() | st.integers(
    min_value=S3_LIMITS.min_part, max_value=S3_LIMITS.max_part
)


@PROPERTY_SETTINGS
@given(size=sizes, requested=requested_sizes)
def test_property_plan_under_s3_limits(size: int, requested: int | None) -> None:
    limits = S3_LIMITS
    assert limits.max_size is not None
    if size > limits.max_size:
        with pytest.raises(UsageError):
            choose_part_size(size, limits, requested)
        return
    part_size = choose_part_size(size, limits, requested)
    assert limits.min_part <= part_size <= limits.max_part
    ranges = plan_parts(size, part_size)
    assert_contiguous_cover(ranges, size)
    assert len(ranges) <= limits.max_parts
    non_last = {end - start for start, end in ranges[:-1]}
    assert non_last <= {part_size}
    assert all(limits.min_part <= n <= limits.max_part for n in non_last)
    assert ranges[-1][1] - ranges[-1][0] <= part_size
    if size > 0:
        assert ranges[-1][1] - ranges[-1][0] > 0


@PROPERTY_SETTINGS
@given(size=st.integers(min_value=0, max_value=5 * TiB), requested=requested_sizes)
def test_property_requested_size_kept_when_it_fits(size: int, requested: int | None) -> None:
    part_size = choose_part_size(size, S3_LIMITS, requested)
    wanted = requested if requested is not None else S3_LIMITS.default_part
    if -(-size // wanted) <= S3_LIMITS.max_parts:
        assert part_size == wanted
    else:
        assert part_size > wanted
        assert part_size % S3_LIMITS.align == 0
        # the smallest aligned size that fits
        assert -(-size // (part_size - S3_LIMITS.align)) > S3_LIMITS.max_parts


@PROPERTY_SETTINGS
@given(
    case=st.integers(min_value=1, max_value=10**9).flatmap(
        lambda part: st.tuples(st.integers(min_value=0, max_value=part * 2_000), st.just(part))
    )
)
def test_property_plan_parts_any_part_size(case: tuple[int, int]) -> None:
    size, part = case
    ranges = plan_parts(size, part)
    assert_contiguous_cover(ranges, size)
    assert len(ranges) == max(1, -(-size // part))
