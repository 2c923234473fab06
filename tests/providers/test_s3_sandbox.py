"""The sandbox's direct S3 account: moto behind the checking gateway, with faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tests.integration.conftest import make_file
from tests.providers.conftest import ProviderKit
from tui.core.units import MiB


def test_upload_through_the_gateway_with_a_profile(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    path = make_file(tmp_path / "s3 sample.bin", 11 * MiB + 7)
    result = kit.upload(path, "--part-size", "5MiB")
    assert result.code == 0, result.err
    assert result.summary["state"] == "completed"
    backend = kit.sandbox.backends["s3"]
    assert asyncio.run(backend.read("s3 sample.bin")) == path.read_bytes()
    assert kit.faults.stats()["part_puts"] == 3


def test_a_failed_part_is_retried_alone(
    kit_factory: Callable[[str], ProviderKit], tmp_path: Path
) -> None:
    kit = kit_factory("s3")
    kit.set_faults(part_500=1.0, parts=(2,), limit=3)
    path = make_file(tmp_path / "retry.bin", 12 * MiB, seed=2)
    first = kit.upload(path, "--part-size", "5MiB")
    assert first.code == 1
    assert first.summary["state"] == "failed"
    session = first.summary["session"]
    before = sum(kit.faults.part_puts.values())
    retried = kit.cli("retry", session[:8], "--json")
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    # Only part 2 went out again.
    assert sum(kit.faults.part_puts.values()) - before == 1
    backend = kit.sandbox.backends["s3"]
    assert asyncio.run(backend.read("retry.bin")) == path.read_bytes()
