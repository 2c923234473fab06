"""Part boundaries under a provider's limits: pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.errors import UsageError
from tui.core.units import GiB, MiB, TiB, format_size


@dataclass(frozen=True)
class PartLimits:
    """What a provider accepts for one multipart upload."""

    min_part: int = 5 * MiB
    """Smallest part except the last."""
    max_part: int = 5 * GiB
    max_parts: int = 10_000
    max_size: int | None = 5 * TiB
    """Largest file; None for no stated limit."""
    min_size: int = 0
    """Smallest file the multipart API takes."""
    default_part: int = 8 * MiB
    """Part size used when neither the user nor the server picks one."""
    align: int = MiB
    """Grown part sizes are rounded up to a multiple of this."""


S3_LIMITS = PartLimits()
"""Amazon S3's multipart rules: 5 MiB..5 GiB parts, 10,000 parts, 5 TiB objects."""
MULTIPART_THRESHOLD = 8 * 1024 * 1024
"""S3 files smaller than this go up as one PutObject (aws cli's ``multipart_threshold``)."""


def choose_part_size(size: int, limits: PartLimits, requested: int | None = None) -> int:
    """Pick the part size for a file of ``size`` bytes.

    A requested size outside the limits is refused; a size that would need more than
    ``max_parts`` parts is grown (rounded up to ``limits.align``) until it fits.
    """
    check_file_size(size, limits)
    if requested is not None:
        if requested < limits.min_part:
            asked, limit = _sizes(requested, limits.min_part)
            raise UsageError(
                f"part size {asked} is below the provider's minimum of {limit}; use a part "
                f"size of at least {limit}"
            )
        if requested > limits.max_part:
            asked, limit = _sizes(requested, limits.max_part)
            raise UsageError(
                f"part size {asked} is above the provider's maximum of {limit}; use a part "
                f"size of at most {limit}"
            )
    part_size = requested or max(limits.default_part, limits.min_part)
    fitting = -(-size // limits.max_parts)
    if part_size < fitting:
        part_size = -(-fitting // limits.align) * limits.align
    return min(part_size, limits.max_part)


def check_file_size(size: int, limits: PartLimits) -> None:
    """Refuse a file the provider cannot take, saying why and what would."""
    if limits.max_size is not None and size > limits.max_size:
        have, limit = _sizes(size, limits.max_size)
        raise UsageError(
            f"file of {have} is larger than the provider's limit of {limit}; split it or use "
            "another account"
        )
    if size == 0 and limits.min_size > 0:
        raise UsageError("the file is empty and the provider refuses empty files; skip it")
    if size < limits.min_size:
        have, limit = _sizes(size, limits.min_size)
        raise UsageError(
            f"file of {have} is smaller than the provider's multipart minimum of {limit}; use "
            "another account for small files"
        )


def _sizes(value: int, limit: int) -> tuple[str, str]:
    """Both sizes for people; exact bytes when rounding would make them look equal."""
    shown = format_size(value), format_size(limit)
    return shown if shown[0] != shown[1] else (f"{value:,} bytes", f"{limit:,} bytes")


def plan_parts(size: int, part_size: int) -> list[tuple[int, int]]:
    """Split ``size`` bytes into ``[start, end)`` ranges of ``part_size``; an empty file is one
    empty part."""
    if part_size <= 0:
        raise ValueError("part_size must be positive")
    if size == 0:
        return [(0, 0)]
    return [(start, min(start + part_size, size)) for start in range(0, size, part_size)]
