"""The proof suites: crash, faults, bad input, secrets and concurrency.

They run in the normal test session in short mode (CI) and with ``--proof=full`` in
full mode; the modes differ only in how many runs they make. The seed and every count
are printed at the end; ``--proof-seed N`` repeats a run's random choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from tests.support.moto import MotoServer
from tests.support.proof import Proof, proof_of
from tui.core.units import MiB
from tui.sandbox.runner import EMULATORS, Sandbox

PROVIDERS = ("s3", *EMULATORS)
"""Every provider the sandbox serves, direct S3 first."""

T = TypeVar("T")


def each_provider(world: Sandbox, work: Callable[[str], T]) -> dict[str, T]:
    """``work(provider)`` for every provider, side by side (each mostly waits on the
    network), with Fileflare cut to 5 MiB chunks and no rate limit for small files."""
    options = world.contexts["fileflare"].options
    options.update({"chunk_size": 5 * MiB, "rate_limit": 0})
    try:
        with ThreadPoolExecutor(len(PROVIDERS)) as pool:
            futures = {p: pool.submit(work, p) for p in PROVIDERS}
            return {p: f.result() for p, f in futures.items()}
    finally:
        options.clear()


@pytest.fixture(scope="session")
def proof(pytestconfig: pytest.Config) -> Proof:
    """This session's proof mode, seed and tally."""
    return proof_of(pytestconfig)


@pytest.fixture(scope="session")
def world(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox serving every provider on the shared moto server."""
    sandbox = Sandbox(
        state_dir=tmp_path_factory.mktemp("proof-sandbox"), s3_url=moto.url, providers=PROVIDERS
    ).start()
    yield sandbox
    sandbox.stop()
