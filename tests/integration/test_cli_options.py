"""``--bandwidth-limit`` reaches the engine on upload, resume and retry, and the limited
upload still lands every byte (moto, in-process CLI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import CLI, make_file
from tests.support.faultproxy import FaultProxy, Rule
from tui.cli import engines as cli_engines
from tui.config import Config
from tui.core.engine import Engine
from tui.core.settings import EngineSettings
from tui.core.transfer import RateLimiter

MiB = 1024 * 1024
LIMIT = 50_000_000


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> list[EngineSettings]:
    """The settings of every engine upload, resume and retry open, as the engine holds them."""
    seen: list[EngineSettings] = []
    real = cli_engines.open_engine

    @asynccontextmanager
    async def recording(
        config: Config, state_dir: Path, settings: EngineSettings | None = None
    ) -> AsyncIterator[Engine]:
        async with real(config, state_dir, settings) as engine:
            seen.append(engine.settings)
            yield engine

    monkeypatch.setattr(cli_engines, "open_engine", recording)
    return seen


@pytest.fixture
def limited_bytes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(rate, bytes) of every pass through a bandwidth limiter."""
    passes: list[tuple[int, int]] = []
    real = RateLimiter.acquire

    async def acquire(self: RateLimiter, n: int) -> None:
        passes.append((self.rate, n))
        await real(self, n)

    monkeypatch.setattr(RateLimiter, "acquire", acquire)
    return passes


def test_upload_with_a_bandwidth_limit_lands_every_byte_through_the_limiter(
    cli: CLI,
    tmp_path: Path,
    s3: Any,
    bucket: str,
    engines: list[EngineSettings],
    limited_bytes: list[tuple[int, int]],
) -> None:
    path = make_file(tmp_path / "limited.bin", 11 * MiB)
    result = cli(
        "upload", path, "--account", "moto", "--part-size", "5MiB", "--bandwidth-limit", "50MB"
    )
    assert result.code == 0, result.err
    assert [s.bandwidth_limit for s in engines] == [LIMIT]
    assert {rate for rate, _ in limited_bytes} == {LIMIT}
    assert sum(n for _, n in limited_bytes) >= path.stat().st_size
    body = s3.get_object(Bucket=bucket, Key="up/limited.bin")["Body"].read()
    assert body == path.read_bytes()


def test_without_the_flag_the_config_decides(
    cli: CLI, tmp_path: Path, engines: list[EngineSettings], limited_bytes: list[tuple[int, int]]
) -> None:
    path = make_file(tmp_path / "free.bin", MiB)
    assert cli("upload", path, "--account", "moto").code == 0
    assert [s.bandwidth_limit for s in engines] == [None]
    assert limited_bytes == []


def test_resume_and_retry_take_the_flag(
    cli: CLI,
    tmp_path: Path,
    s3: Any,
    bucket: str,
    proxied_config: Path,
    proxy: FaultProxy,
    engines: list[EngineSettings],
    limited_bytes: list[tuple[int, int]],
) -> None:
    path = make_file(tmp_path / "later.bin", 11 * MiB)
    proxy.add(Rule("upload_part", "status", part=2, status=403, times=1))
    first = cli("upload", path, "--account", "moto", "--part-size", "5MiB", config=proxied_config)
    assert first.code == 1, first.err
    session = first.err.split("(")[1].split(")")[0]
    retried = cli(
        "retry", session, "2", "--bandwidth-limit", "10MB", "--json", config=proxied_config
    )
    assert retried.code == 0, retried.err
    assert retried.summary["state"] == "completed"
    assert [s.bandwidth_limit for s in engines] == [None, 10_000_000]
    assert {rate for rate, _ in limited_bytes} == {10_000_000}
    body = s3.get_object(Bucket=bucket, Key="up/later.bin")["Body"].read()
    assert body == path.read_bytes()

    held = make_file(tmp_path / "held.bin", 6 * MiB)
    uploaded = cli("upload", held, "--account", "moto", "--no-complete", "--json")
    resumed = cli("resume", uploaded.summary["session"][:8], "--bandwidth-limit", "2MiB")
    assert resumed.code == 0, resumed.err
    assert engines[-1].bandwidth_limit == 2 * MiB
    assert s3.get_object(Bucket=bucket, Key="up/held.bin")["Body"].read() == held.read_bytes()
