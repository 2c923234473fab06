"""The proof suites: crash, faults, bad input, secrets and concurrency.

They run in the normal test session in short mode (CI) and with ``--proof=full`` in
full mode; the modes differ only in how many runs they make. The seed and every count
are printed at the end; ``--proof-seed N`` repeats a run's random choices.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

import pytest

from tests.support.moto import MotoServer
from tests.support.proof import Mode, Proof, Tally
from tui.core.units import MiB
from tui.sandbox.runner import EMULATORS, Sandbox

PROVIDERS = ("s3", *EMULATORS)
"""Every provider the sandbox serves, direct S3 first."""

_KEY = pytest.StashKey[Proof]()
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


def _proof(config: pytest.Config) -> Proof:
    if _KEY not in config.stash:
        seed = config.getoption("proof_seed")
        if seed is None:
            seed = int(os.environ.get("PARTDECK_PROOF_SEED") or time.time_ns() % 1_000_000)
        config.stash[_KEY] = Proof(cast(Mode, config.getoption("proof")), seed, Tally())
    return config.stash[_KEY]


@pytest.fixture(scope="session")
def proof(pytestconfig: pytest.Config) -> Proof:
    """This session's proof mode, seed and tally."""
    return _proof(pytestconfig)


@pytest.fixture(scope="session")
def world(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox serving every provider on the shared moto server."""
    sandbox = Sandbox(
        state_dir=tmp_path_factory.mktemp("proof-sandbox"), s3_url=moto.url, providers=PROVIDERS
    ).start()
    yield sandbox
    sandbox.stop()


def pytest_report_header(config: pytest.Config) -> str:
    proof = _proof(config)
    return f"proof suites: {proof.mode} mode, seed {proof.seed} (repeat with --proof-seed)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    proof = terminalreporter.config.stash.get(_KEY, None)
    if proof is None or not (proof.tally.counts or proof.tally.lines or proof.tally.figures):
        return
    terminalreporter.write_sep(
        "=", f"proof suites: {proof.mode} mode, seed {proof.seed} (--proof-seed to repeat)"
    )
    verbose = proof.mode == "full" or terminalreporter.config.getoption("verbose") > 0
    for line in proof.tally.report(verbose=verbose):
        terminalreporter.write_line(line)
