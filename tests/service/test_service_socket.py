"""The service as clients meet it: a real process on a real unix socket, against moto."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET_KEY
from tests.integration.conftest import make_file
from tests.service.conftest import attach, in_process, kill_service, secrets_for
from tests.support.config import slow_s3_config
from tests.support.crash import verified_parts
from tests.support.faultproxy import FaultProxy
from tui import __version__
from tui.core.engine import Progress
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.service.attached import ServiceEngine
from tui.service.client import ServiceClient
from tui.service.protocol import ServiceError
from tui.service.spawn import service_pid, service_status


def slow_config(tmp_path: Path, proxy: FaultProxy, bucket: str) -> Path:
    """Uploads through the counting proxy, slow enough to be caught mid-way."""
    return slow_s3_config(tmp_path / "slow.toml", proxy.url, bucket)


async def until(check: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait (polling every 20 ms) until ``check()`` holds."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def finished(engine: ServiceEngine, session_id: str, state: str = "completed") -> None:
    """Wait until the service says the session reached ``state``."""
    await until(lambda: str(engine.session(session_id).state) == state)


async def test_an_upload_goes_through_a_spawned_service(
    spawned: Path,
    config_file: Path,
    tmp_path: Path,
    s3: Any,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = make_file(tmp_path / "a.bin", 12 * MiB + 5)
    engine = await attach(spawned, config_file)
    try:
        [session] = await engine.batch([path], "moto", part_size=5 * MiB)
        await engine.load_parts(session.id)
        done = await asyncio.wait_for(engine.wait(session.id), 60)
        assert str(done.state) == "completed"
        assert [str(p.state) for p in engine.parts(session.id)] == ["verified"] * 3
        assert engine.store.part_tallies([session.id])[session.id]["verified"].parts == 3
    finally:
        await engine.close()
    assert s3.get_object(Bucket=bucket, Key="up/a.bin")["Body"].read() == path.read_bytes()

    # A proxy in a client's environment must not take its calls to the local socket.
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    status = await service_status(spawned)
    pid = status["pid"]
    assert status["running"] is True and status["version"] == __version__
    assert pid != os.getpid() and os.getsid(pid) == pid, "the service has a session of its own"
    check_private(Path(status["socket"]), pid)


def check_private(socket: Path, pid: int) -> None:
    """The socket is 0600 in a 0700 directory; the secrets came over stdin, so they are
    neither in the service's environment nor on its command line."""
    assert stat.S_IMODE(socket.stat().st_mode) == 0o600
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    for name in ("environ", "cmdline"):
        assert SECRET_KEY.encode() not in Path(f"/proc/{pid}/{name}").read_bytes()


def test_clients_that_start_at_once_start_one_service(spawned: Path, config_file: Path) -> None:
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from tui.service.spawn import ensure_service\n"
        "async def go():\n"
        "    client = await ensure_service(Path(sys.argv[1]), Path(sys.argv[2]), {})\n"
        "    print((await client.status())['pid'])\n"
        "    await client.aclose()\n"
        "asyncio.run(go())\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(spawned), str(config_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = [child.communicate(timeout=60) for child in children]
    assert all(child.returncode == 0 for child in children), answers
    pids = {out.strip() for out, _ in answers}
    assert len(pids) == 1 and pids == {str(service_pid(spawned))}


async def test_a_service_killed_mid_upload_comes_back_and_finishes(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "killed.bin", 30 * MiB + 1234)
    engine = await attach(spawned, config)
    [session] = await engine.batch([path], "moto", part_size=5 * MiB)
    await engine.close()  # the client goes; the upload does not
    await until(lambda: len(verified_parts(spawned)[1]) >= 2)
    kill_service(spawned)
    _, verified = verified_parts(spawned)
    assert 2 <= len(verified) < 7
    puts_before = len(proxy.ops("upload_part"))

    engine = await attach(spawned, config)  # starts it again; it resumes by itself
    try:
        assert engine.is_running(session.id)
        await finished(engine, session.id)
    finally:
        await engine.close()
    resent = {s.part for s in proxy.ops("upload_part")[puts_before:]}
    assert not resent & verified, f"verified parts {resent & verified} were sent again"
    assert resent | verified == set(range(1, 8))
    assert s3.get_object(Bucket=bucket, Key="up/killed.bin")["Body"].read() == path.read_bytes()


async def test_sigterm_pauses_and_the_next_start_carries_on(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "stopped.bin", 20 * MiB)
    engine = await attach(spawned, config)
    [session] = await engine.batch([path], "moto", part_size=5 * MiB)
    await engine.close()
    await until(lambda: len(verified_parts(spawned)[1]) >= 1)
    pid = service_pid(spawned)
    assert pid
    os.kill(pid, signal.SIGHUP)  # the terminal went away: nothing happens
    await asyncio.sleep(0.2)
    assert (await service_status(spawned))["running"] is True
    os.kill(pid, signal.SIGTERM)
    await until(lambda: service_pid(spawned) is None)
    journal = Journal.open(spawned)
    try:
        assert str(journal.session(session.id).state) == "paused"
    finally:
        journal.close()

    engine = await attach(spawned, config)
    try:
        assert engine.is_running(session.id), "a clean stop's sessions resume at the next start"
        await finished(engine, session.id)
    finally:
        await engine.close()
    assert s3.get_object(Bucket=bucket, Key="up/stopped.bin")["Body"].read() == path.read_bytes()


async def test_a_second_client_pauses_and_resumes_what_the_first_drives(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "shared.bin", 20 * MiB)
    first = await attach(spawned, config)
    second = await attach(spawned, config)
    try:
        [session] = await first.batch([path], "moto", part_size=5 * MiB)
        await until(lambda: second.progress(session.id) is not None)
        await until(lambda: (second.progress(session.id) or Progress(1)).current > 0)
        paused = await second.pause(session.id)
        assert str(paused.state) == "paused"
        await until(lambda: not first.is_running(session.id), seconds=2)
        assert str(first.session(session.id).state) == "paused"
        await second.start(session.id)
        await until(lambda: first.is_running(session.id), seconds=2)
        await finished(first, session.id)
    finally:
        await first.close()
        await second.close()
    assert s3.get_object(Bucket=bucket, Key="up/shared.bin")["Body"].read() == path.read_bytes()


def test_another_user_cannot_reach_the_socket(spawned: Path, config_file: Path) -> None:
    async def started() -> Path:
        engine = await attach(spawned, config_file)
        await engine.close()
        return engine.client.socket

    socket = asyncio.run(started())
    code = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except PermissionError:\n"
        "    print('refused')\n"
    )
    nobody = subprocess.run(
        ["/usr/bin/python3", "-c", code, str(socket)],
        user=65534,
        group=65534,
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
    )
    assert nobody.stdout.strip() == "refused", nobody


async def test_a_peer_of_another_uid_is_cut_off(config_file: Path, state_dir: Path) -> None:
    async with in_process(state_dir, config_file, allowed_uid=os.getuid() + 1) as service:
        client = ServiceClient(service.socket)
        try:
            with pytest.raises(ServiceError, match="does not answer"):
                await client.status()
        finally:
            await client.aclose()


async def test_a_client_that_comes_back_misses_nothing(
    config_file: Path, state_dir: Path, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "seq.bin", 11 * MiB)
    async with in_process(state_dir, config_file) as service:
        engine = await attach(state_dir, config_file)
        try:
            [session] = await engine.batch([path], "moto", part_size=5 * MiB)
            await finished(engine, session.id)
            await until(lambda: not engine.is_running(session.id))
        finally:
            await engine.close()
        last = service.feed.seq
        assert last > 5
        client = ServiceClient(service.socket)
        try:
            since = last // 2
            seen = []
            async for record in client.events(since):
                seen.append(record["seq"])
                if record["seq"] == last:
                    break
        finally:
            await client.aclose()
        assert seen == list(range(since + 1, last + 1))


async def test_a_follower_whose_service_stays_gone_gives_up_in_one_line(
    config_file: Path,
    state_dir: Path,
    tmp_path: Path,
    proxy: FaultProxy,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tui.service.attached.LOST_LIMIT", 0.5)
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "orphan.bin", 20 * MiB)
    async with in_process(state_dir, config) as service:
        client = ServiceClient(service.socket)
        engine = await ServiceEngine(client, state_dir, secrets_for).attach()
        [session] = await engine.batch([path], "moto", part_size=5 * MiB)
        assert engine.is_running(session.id)
    # The service is gone (and nothing starts it again): the wait ends, saying what to do.
    try:
        with pytest.raises(ServiceError, match=rf"partdeck resume {session.id[:8]}"):
            await asyncio.wait_for(engine.wait(session.id), 30)
        assert not engine.connected
    finally:
        await engine.close()
