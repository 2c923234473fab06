"""Shared fixtures: a real moto S3 server on loopback, config and state in tmp_path."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.config import write_s3_config
from tests.support.moto import MotoServer, moto_server
from tests.support.procs import command_lines
from tests.support.proof import choose_seed, held_proof, proof_of

ACCESS_KEY = "partdeck-test-access"
SECRET_KEY = "partdeck-test-secret-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    """Commands run their engine in-process unless a test asks for the service (the tests
    under tests/service do): a test that attaches must stop what it started, and the
    fixtures there do. The proof suites' seed is chosen here, in the controller, before
    pytest-xdist starts the workers that inherit it."""
    os.environ["PARTDECK_SERVICE"] = "inline"
    if not hasattr(config, "workerinput"):
        choose_seed(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its proof tally to the controller, which prints them all."""
    proof = held_proof(session.config)
    output = getattr(session.config, "workeroutput", None)
    if proof is not None and output is not None:
        output["proof_tally"] = proof.tally.as_data()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """(xdist controller) Add a finished worker's proof tally to this session's."""
    data = getattr(node, "workeroutput", {}).get("proof_tally")
    if data:
        proof_of(node.config).tally.merge(data)


def pytest_report_header(config: pytest.Config) -> str:
    proof = proof_of(config)
    return f"proof suites: {proof.mode} mode, seed {proof.seed} (repeat with --proof-seed)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    proof = held_proof(terminalreporter.config)
    if proof is None or not (proof.tally.counts or proof.tally.lines or proof.tally.figures):
        return
    terminalreporter.write_sep(
        "=", f"proof suites: {proof.mode} mode, seed {proof.seed} (--proof-seed to repeat)"
    )
    verbose = proof.mode == "full" or terminalreporter.config.getoption("verbose") > 0
    for line in proof.tally.report(verbose=verbose):
        terminalreporter.write_line(line)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("partdeck", "partdeck proof suites (tests/proof)")
    group.addoption(
        "--proof",
        choices=("short", "full"),
        default="short",
        help="short (the default, as in CI) or full: how many crash and fault runs to make",
    )
    group.addoption(
        "--proof-seed",
        type=int,
        default=None,
        help="the seed of the proof suites' random choices (default: new each run, printed)",
    )
    group.addoption(
        "--soak-minutes",
        type=float,
        default=None,
        help="how long the soak (tests/proof/test_soak.py) runs after its warm-up "
        "(default: 0.15 in short mode, 2 in full)",
    )


@pytest.fixture(scope="session", autouse=True)
def _no_service_outlives_the_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Stop any partdeck service a test started under this run's temp dir and left
    running (the service fixtures stop their own; this is the net under them)."""
    yield
    base = str(tmp_path_factory.getbasetemp())
    for pid, argv in command_lines():
        words = [w.decode(errors="replace") for w in argv]
        if "tui.service" in words and any(w.startswith(base) for w in words):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto S3 server for the whole test session, with S3's real part-size rules."""
    with moto_server() as server:
        yield server


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials the test accounts read by reference."""
    monkeypatch.setenv("PARTDECK_TEST_AK", ACCESS_KEY)
    monkeypatch.setenv("PARTDECK_TEST_SK", SECRET_KEY)


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    """A boto3 client on the moto server, to check what landed."""
    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh bucket per test."""
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A private state dir (journal, locks) for one test."""
    return tmp_path / "state"


@pytest.fixture
def config_file(tmp_path: Path, moto: MotoServer, bucket: str, s3_env: None) -> Path:
    """A config with one S3 account, ``moto``, pointing at the test bucket."""
    return write_s3_config(
        tmp_path / "config.toml",
        moto.url,
        bucket,
        parts_in_flight=4,
        parts_per_session=4,
        retries=2,
    )
