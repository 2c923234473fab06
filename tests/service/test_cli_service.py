"""The CLI as a client of the service: real ``partdeck`` processes, a real service."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_file
from tests.service.conftest import S3_SECRETS
from tests.service.test_service_socket import slow_config
from tests.support.crash import verified_parts
from tests.support.faultproxy import FaultProxy
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.service.spawn import service_pid


def partdeck(config: Path, state_dir: Path, *args: str) -> list[str]:
    """The command line of a ``partdeck`` child on the test config and state dir."""
    return [sys.executable, "-m", "tui", *args, "--config", str(config), "--state-dir",
            str(state_dir)]  # fmt: skip


def run(
    config: Path, state_dir: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``partdeck ARGS`` to its end."""
    return subprocess.run(
        partdeck(config, state_dir, *args),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def journal_state(state_dir: Path, session_id: str) -> str:
    journal = Journal.open(state_dir)
    try:
        return str(journal.session(session_id).state)
    finally:
        journal.close()


def wait_for(check: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _service_mode(monkeypatch: pytest.MonkeyPatch, s3_env: None) -> None:
    """These tests are about the service: commands attach to it (the suite runs inline),
    with the test account's keys in their environment."""
    monkeypatch.setenv("PARTDECK_SERVICE", "auto")


def test_upload_follows_through_the_service_as_it_did_in_process(
    spawned: Path, config_file: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "follow.bin", 11 * MiB)
    done = run(config_file, spawned, "upload", str(path), "--account", "moto",
               "--part-size", "5MiB", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    summary = lines[-1]
    assert summary["event"] == "summary" and summary["state"] == "completed"
    verified = {e["part"] for e in lines if e["event"] == "part" and e.get("state") == "verified"}
    assert verified == {1, 2, 3}
    assert {e["session"] for e in lines} == {summary["session"]}, "only its own session"
    assert s3.get_object(Bucket=bucket, Key="up/follow.bin")["Body"].read() == path.read_bytes()
    status = json.loads(run(config_file, spawned, "service", "status", "--json").stdout)
    assert status["running"] is True and status["pid"] == service_pid(spawned)
    assert {"running", "pid", "socket", "version"} <= set(status)
    held = status["resources"]  # what an operator looks at in a service up for days
    assert held["rss_kib"] > 10_000 and held["threads"] >= 1 and held["tasks"] >= 1
    assert held["fds"] >= held["sockets"] >= 1 and held["objects"] > 1000
    text = run(config_file, spawned, "service", "status").stdout
    assert f"process {status['pid']}, " in text and " MiB, " in text and " threads, " in text


def test_detach_returns_at_once_and_the_upload_goes_on(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "detached.bin", 12 * MiB)
    done = run(config, spawned, "upload", str(path), "--account", "moto", "--part-size",
               "5MiB", "--detach", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [line] = json_lines(done.stdout)
    session_id = line["session"]
    assert journal_state(spawned, session_id) != "completed", "it did not wait"
    wait_for(lambda: journal_state(spawned, session_id) == "completed")
    assert s3.get_object(Bucket=bucket, Key="up/detached.bin")["Body"].read() == path.read_bytes()


def _in_a_terminal(argv: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``argv`` as the session leader of a new terminal; returns it and the master."""
    master, slave = os.openpty()

    def take_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=take_terminal, close_fds=True
    )
    os.close(slave)
    return child, master


def test_closing_the_terminal_of_a_following_upload_leaves_it_running(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "hangup.bin", 20 * MiB)
    child, master = _in_a_terminal(
        partdeck(config, spawned, "upload", str(path), "--account", "moto", "--part-size", "5MiB")
    )
    try:
        wait_for(lambda: len(verified_parts(spawned)[1]) >= 1)
        os.close(master)  # the SSH connection drops: the kernel hangs the terminal up
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    session_id, _ = verified_parts(spawned)
    assert session_id is not None
    wait_for(lambda: journal_state(spawned, session_id) == "completed")
    assert s3.get_object(Bucket=bucket, Key="up/hangup.bin")["Body"].read() == path.read_bytes()


def test_sigint_on_a_following_upload_pauses_what_it_started(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "interrupted.bin", 40 * MiB)  # 7 s: a loaded machine too
    child = subprocess.Popen(
        partdeck(config, spawned, "upload", str(path), "--account", "moto", "--part-size", "5MiB"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: len(verified_parts(spawned)[1]) >= 1)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "paused" in err
    session_id, _ = verified_parts(spawned)
    assert session_id is not None
    assert journal_state(spawned, session_id) == "paused", err
    assert service_pid(spawned) is not None, "the service itself goes on"


def test_pause_and_resume_a_session_the_service_drives(
    spawned: Path, tmp_path: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "paused.bin", 20 * MiB)
    started = run(config, spawned, "upload", str(path), "--account", "moto", "--part-size",
                  "5MiB", "--detach")  # fmt: skip
    assert started.returncode == 0, started.stderr
    session_id = started.stdout.split()[0]
    wait_for(lambda: len(verified_parts(spawned)[1]) >= 1)
    paused = run(config, spawned, "pause", session_id[:8])
    assert paused.returncode == 0, paused.stderr
    assert "paused" in paused.stdout
    assert journal_state(spawned, session_id) == "paused"
    again = run(config, spawned, "pause", session_id[:8])
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
    resumed = run(config, spawned, "resume", session_id[:8], "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json_lines(resumed.stdout)[-1]["state"] == "completed"
    assert s3.get_object(Bucket=bucket, Key="up/paused.bin")["Body"].read() == path.read_bytes()


def test_service_stop_then_status_says_it_is_not_running(spawned: Path, config_file: Path) -> None:
    started = run(config_file, spawned, "service", "start", "--json")
    assert started.returncode == 0, started.stderr
    pid = json.loads(started.stdout)["pid"]
    assert run(config_file, spawned, "service", "start", "--json").stdout == started.stdout
    stopped = run(config_file, spawned, "service", "stop")
    assert stopped.returncode == 0 and str(pid) in stopped.stdout
    status = run(config_file, spawned, "service", "status", "--json")
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False


def test_no_service_runs_the_upload_in_its_own_process(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "inline.bin", 1 * MiB)
    done = run(config_file, spawned, "upload", str(path), "--account", "moto", "--no-service")
    assert done.returncode == 0, done.stderr
    assert service_pid(spawned) is None


def test_an_engine_flag_with_the_service_is_one_line_with_the_fix(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "flag.bin", 1 * MiB)
    done = run(config_file, spawned, "upload", str(path), "--account", "moto",
               "--parts-in-flight", "3")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--no-service" in done.stderr
    assert "[engine] parts_in_flight" in done.stderr


def test_secrets_never_reach_the_service_log(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "secret.bin", 1 * MiB)
    assert run(config_file, spawned, "upload", str(path), "--account", "moto").returncode == 0
    log = (spawned / "service.log").read_text()
    for value in S3_SECRETS["moto"].values():
        assert value not in log


async def test_a_client_of_another_version_says_so_in_one_line(
    config_file: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.service.conftest import in_process

    monkeypatch.setattr("tui.service.server.__version__", "0.0.1")
    async with in_process(state_dir, config_file):
        child = await asyncio.create_subprocess_exec(
            *partdeck(config_file, state_dir, "remote", "--account", "moto"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(child.communicate(), 60)
    text = err.decode()
    assert child.returncode == 1, text
    assert text.count("\n") == 1
    assert "version 0.0.1" in text and "partdeck service restart" in text


def test_a_following_upload_whose_reader_leaves_still_lands(
    spawned: Path, config_file: Path, tmp_path: Path, s3: Any, bucket: str
) -> None:
    path = make_file(tmp_path / "piped.bin", 11 * MiB)
    argv = partdeck(config_file, spawned, "upload", str(path), "--account", "moto", "--json")
    command = " ".join(shlex.quote(word) for word in argv) + " | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert s3.get_object(Bucket=bucket, Key="up/piped.bin")["Body"].read() == path.read_bytes()


def test_another_config_on_the_same_state_dir_is_one_line_with_the_ways_out(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    assert run(config_file, spawned, "service", "start").returncode == 0
    other = tmp_path / "other.toml"
    other.write_text(config_file.read_text())
    path = make_file(tmp_path / "other.bin", 1 * MiB)
    done = run(other, spawned, "upload", str(path), "--account", "moto")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert str(config_file) in done.stderr and "--no-service" in done.stderr


def test_the_service_keeps_its_files_private_under_umask_000(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "umask.bin", 1 * MiB)
    done = subprocess.run(
        partdeck(config_file, spawned, "upload", str(path), "--account", "moto", "--no-complete"),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0),
    )
    assert done.returncode == 0, done.stderr
    status = json.loads(run(config_file, spawned, "service", "status", "--json").stdout)
    socket = Path(status["socket"])
    modes = {
        p: oct(p.stat().st_mode & 0o777)
        for p in [spawned, *spawned.rglob("*"), socket.parent, socket]
    }
    loose = {str(p): m for p, m in modes.items() if int(m, 8) & 0o077}
    assert not loose, loose
    assert modes[spawned] == oct(0o700) and modes[socket] == oct(0o600)


def test_the_asking_clients_environment_decides_its_secret(
    spawned: Path, config_file: Path, tmp_path: Path
) -> None:
    assert run(config_file, spawned, "service", "start").returncode == 0  # with the keys
    path = make_file(tmp_path / "nokey.bin", 1 * MiB)
    env = {k: v for k, v in os.environ.items() if k != "PARTDECK_TEST_SK"}
    done = subprocess.run(
        partdeck(config_file, spawned, "upload", str(path), "--account", "moto"),
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "PARTDECK_TEST_SK is not set" in done.stderr and done.stderr.count("\n") == 1
