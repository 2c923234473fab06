"""Durability before irreversible requests, proven on the system calls of a real upload.

A real ``partdeck upload`` to the Gumroad sandbox (complete may be sent only once) runs
under strace. In the trace, the journal's ``-wal`` file must be synced (fsync or
fdatasync) after the write that records ``completing`` and before the complete request
is written to the socket; likewise ``aborting`` before the abort request. The journal
otherwise runs ``synchronous=NORMAL``: its part commits are not synced one by one, which
the trace shows too (fewer syncs than commits), so the proof is not of a journal that
syncs everything.

The same holds with the engine in the per-user service: the service process is traced
from its start and the upload and abort come from clients attached to it.

strace is required: the test fails, it does not skip, where it is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.conftest import make_file
from tests.support.services import kill_services, service_env
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.sandbox.runner import Sandbox
from tui.service.spawn import service_command

_CALL = re.compile(r"^\d+\s+(?P<name>\w+)\((?P<fd>\d+)<(?P<path>[^>]*)>(?P<rest>.*)$")


@dataclass(frozen=True)
class Call:
    """One traced system call on a file descriptor."""

    index: int
    name: str
    path: str
    text: str


def _calls(log: Path) -> list[Call]:
    calls = []
    for index, line in enumerate(log.read_text(errors="replace").splitlines()):
        match = _CALL.match(line)
        if match:
            calls.append(Call(index, match["name"], match["path"], match["rest"]))
    return calls


def _traced(argv: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    strace = shutil.which("strace")
    assert strace is not None, "strace is not installed: apt-get install strace (.ci/run does)"
    calls = "trace=fsync,fdatasync,write,pwrite64,sendto,sendmsg,connect"
    command = [strace, "-f", "-y", "-s", "65536", "-o", str(log), "-e", calls, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _check_synced_before(calls: list[Call], wal: str, marker: str, request: str) -> None:
    """The -wal write holding ``marker`` is synced before the socket write of ``request``."""
    recorded = next(
        (
            c
            for c in calls
            if c.path == wal and c.name in ("write", "pwrite64") and marker in c.text
        ),
        None,
    )
    assert recorded is not None, f"no write of {marker!r} to {wal} in the trace"
    sent = next(
        (
            c
            for c in calls
            if c.index > recorded.index
            and c.path.startswith(("socket:", "TCP"))
            and c.name in ("sendto", "sendmsg", "write")
            and request in c.text
        ),
        None,
    )
    assert sent is not None, f"no {request!r} request on a socket after the {marker!r} record"
    synced = [
        c
        for c in calls
        if c.path == wal
        and c.name in ("fsync", "fdatasync")
        and recorded.index < c.index < sent.index
    ]
    assert synced, f"the {marker!r} record was not synced before {request!r} was sent"


def test_complete_and_abort_records_are_on_disk_before_their_requests(
    world: Sandbox, tmp_path: Path
) -> None:
    config = world.write_config(tmp_path / "config.toml", {"parts_in_flight": 2})
    state_dir = tmp_path / "state"
    wal = str(state_dir / f"{Journal.FILENAME}-wal")
    base = [sys.executable, "-m", "tui", "--config", str(config), "--state-dir", str(state_dir)]

    done = make_file(tmp_path / "done.bin", 3 * MiB + 17, seed=5)
    upload = _traced([*base, "upload", str(done), "--account", "sandbox-gumroad"], tmp_path / "a")
    assert upload.returncode == 0, upload.stderr
    calls = _calls(tmp_path / "a")
    _check_synced_before(calls, wal, "completing", "POST /v2/files/complete")
    part_commits = [c for c in calls if c.path == wal and c.name in ("write", "pwrite64")]
    syncs = [c for c in calls if c.path == wal and c.name in ("fsync", "fdatasync")]
    assert len(syncs) < len(part_commits) / 2, "every commit was synced: not NORMAL any more"

    kept = make_file(tmp_path / "kept.bin", 2 * MiB + 5, seed=6)
    held = subprocess.run(
        [*base, "upload", str(kept), "--account", "sandbox-gumroad", "--no-complete", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert held.returncode == 0, held.stderr
    journal = Journal.open(state_dir)
    try:
        session = next(s for s in journal.sessions() if s.path == str(kept))
    finally:
        journal.close()
    aborted = _traced([*base, "abort", session.id[:12]], tmp_path / "b")
    assert aborted.returncode == 0, aborted.stderr
    _check_synced_before(_calls(tmp_path / "b"), wal, "aborting", "POST /v2/files/abort")


def test_the_service_syncs_them_before_its_requests_too(world: Sandbox, tmp_path: Path) -> None:
    """The same two proofs with the engine in a real service process (traced from its
    start), the upload and the abort sent by clients that attach to it."""
    strace = shutil.which("strace")
    assert strace is not None, "strace is not installed: apt-get install strace (.ci/run does)"
    config = world.write_config(tmp_path / "config.toml", {"parts_in_flight": 2})
    state_dir = tmp_path / "state"
    wal = str(state_dir / f"{Journal.FILENAME}-wal")
    env = service_env()
    log = tmp_path / "service-trace"
    calls = "trace=fsync,fdatasync,write,pwrite64,sendto,sendmsg,connect"
    service = subprocess.Popen(
        [strace, "-f", "-y", "-s", "65536", "-o", str(log), "-e", calls,
         *service_command(state_dir, config)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = [sys.executable, "-m", "tui", "--config", str(config), "--state-dir", str(state_dir)]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, env=env)

    try:
        deadline = time.monotonic() + 60
        while cli("service", "status").returncode != 0:
            assert service.poll() is None and time.monotonic() < deadline, "no service"
            time.sleep(0.2)
        done = make_file(tmp_path / "done.bin", 3 * MiB + 17, seed=5)
        upload = cli("upload", str(done), "--account", "sandbox-gumroad")
        assert upload.returncode == 0, upload.stderr
        kept = make_file(tmp_path / "kept.bin", 2 * MiB + 5, seed=6)
        held = cli("upload", str(kept), "--account", "sandbox-gumroad", "--no-complete", "--json")
        assert held.returncode == 0, held.stderr
        session = json.loads(held.stdout.splitlines()[-1])["session"]
        aborted = cli("abort", session[:12])
        assert aborted.returncode == 0, aborted.stderr
        assert cli("service", "stop").returncode == 0
        service.wait(timeout=60)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        kill_services(state_dir)
    traced = _calls(log)
    _check_synced_before(traced, wal, "completing", "POST /v2/files/complete")
    _check_synced_before(traced, wal, "aborting", "POST /v2/files/abort")
