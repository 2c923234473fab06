"""Helpers for driving the real CLI against moto."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.config import write_s3_config
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.moto import MotoServer
from tests.support.s3rver import S3rver, s3rver_server
from tests.support.s3rver import missing as s3rver_missing
from tui.cli import main


@dataclass
class Result:
    """What one CLI run returned and printed."""

    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as JSON lines."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    @property
    def summary(self) -> dict[str, Any]:
        """The last JSON line."""
        return self.json_lines()[-1]


CLI = Callable[..., Result]


@pytest.fixture
def cli(
    config_file: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """Run ``partdeck ARGS`` in-process with the test config and state dir."""

    def run(*args: str | os.PathLike[str], config: Path | None = None) -> Result:
        capsys.readouterr()
        argv = [str(a) for a in args]
        argv += ["--config", str(config or config_file), "--state-dir", str(state_dir)]
        code = main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def make_file(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes (fast, reproducible)."""
    block = hashlib.sha256(str(seed).encode()).digest() * 32768  # 1 MiB
    with path.open("wb") as f:
        remaining = size
        counter = 0
        while remaining:
            chunk = block[: min(remaining, len(block))]
            # Vary each MiB so parts differ from each other.
            f.write(counter.to_bytes(8, "big")[: len(chunk)] + chunk[8:])
            remaining -= len(chunk)
            counter += 1
    return path


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of moto."""
    with fault_proxy(moto.url) as p:
        yield p


@pytest.fixture
def proxied_config(tmp_path: Path, proxy: FaultProxy, bucket: str, s3_env: None) -> Path:
    """A config whose account ``moto`` goes through the fault proxy."""
    return write_s3_config(
        tmp_path / "proxied.toml",
        proxy.url,
        bucket,
        parts_in_flight=4,
        parts_per_session=2,
        retries=2,
    )


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3rver]:
    """One s3rver (an independent S3 store with a partial API) for the test session.

    Missing s3rver fails the test with the install line: it is part of the test bed.
    """
    problem = s3rver_missing()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    with s3rver_server(tmp_path_factory.mktemp("s3rver-data")) as server:
        yield server
