"""Fixtures for the service over its real unix socket: spawned as a real process (as a
client would start it) or run in the test's own loop where a test needs to reach in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import ACCESS_KEY, SECRET_KEY
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.moto import MotoServer
from tui.service.attached import ServiceEngine
from tui.service.server import Service
from tui.service.spawn import ensure_service, service_pid, stop_service

S3_SECRETS = {"moto": {"PARTDECK_TEST_AK": ACCESS_KEY, "PARTDECK_TEST_SK": SECRET_KEY}}
"""What a client of the test config reads from its environment for the moto account."""


def secrets_for(account: str) -> Mapping[str, str]:
    """The environment a client of the test config hands the service."""
    return S3_SECRETS.get(account, {})


def kill_service(state_dir: Path) -> None:
    """SIGKILL the state dir's service, if one runs, and wait until it is gone."""
    pid = service_pid(state_dir)
    if pid and pid > 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(500):
            if service_pid(state_dir) is None:
                return
            time.sleep(0.01)


@pytest.fixture
def spawned(state_dir: Path) -> Iterator[Path]:
    """The state dir; whatever service a test spawned for it is stopped afterwards
    (SIGKILLed when a clean stop does not do it)."""
    yield state_dir
    with contextlib.suppress(Exception):
        asyncio.run(asyncio.wait_for(stop_service(state_dir), 30))
    kill_service(state_dir)


async def attach(state_dir: Path, config: Path) -> ServiceEngine:
    """Start the service if needed (a real process) and attach to it, as the CLI does."""
    client = await ensure_service(state_dir, config, S3_SECRETS)
    return await ServiceEngine(client, state_dir, secrets_for).attach()


def listening(service: Service) -> bool:
    """True once the service has said where it listens."""
    return service.socket.exists() and (service.state_dir / "service.json").exists()


@contextlib.asynccontextmanager
async def in_process(
    state_dir: Path, config: Path, *, allowed_uid: int | None = None
) -> AsyncIterator[Service]:
    """A Service in this test's loop, listening on its real socket."""
    service = Service(state_dir, config, handle_signals=False, allowed_uid=allowed_uid)
    task = asyncio.create_task(service.run())
    try:
        while not listening(service):
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield service
    finally:
        service.stop()
        await asyncio.wait_for(task, 30)


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    """A counting (and fault-injecting) proxy in front of moto."""
    with fault_proxy(moto.url) as p:
        yield p
