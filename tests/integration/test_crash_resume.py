"""SIGKILL a real ``partdeck upload`` mid-way, then resume: nothing verified is sent again."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tests.support.config import slow_s3_config
from tests.support.crash import kill_once_verified, verified_parts
from tests.support.faultproxy import FaultProxy
from tui.core.journal import Journal
from tui.core.units import MiB


def _slow_config(tmp_path: Path, proxy: FaultProxy, bucket: str) -> Path:
    return slow_s3_config(tmp_path / "slow.toml", proxy.url, bucket)


def test_resume_after_sigkill(
    cli: CLI, tmp_path: Path, state_dir: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = _slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "killed.bin", 30 * MiB + 1234)
    argv = [
        sys.executable,
        "-m",
        "tui",
        "upload",
        str(path),
        "--account",
        "moto",
        "--part-size",
        "5MiB",
        "--json",
        "--config",
        str(config),
        "--state-dir",
        str(state_dir),
    ]
    session, verified = kill_once_verified(argv, state_dir, want=2, timeout=60)
    assert 2 <= len(verified) < 7
    puts_before = len(proxy.ops("upload_part"))

    journal = Journal.open(state_dir)
    assert journal.integrity_check() == "ok"
    assert journal.session(session).state in ("uploading", "stalled")
    journal.close()

    resumed = cli("resume", session[:8], "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    resent = {s.part for s in proxy.ops("upload_part")[puts_before:]}
    assert resent, "the resume sent nothing"
    assert not resent & verified, f"verified parts {resent & verified} were sent again"
    assert resent | verified == set(range(1, 8))
    obj = s3.get_object(Bucket=bucket, Key="up/killed.bin")
    assert obj["Body"].read() == path.read_bytes()
    journal = Journal.open(state_dir)
    assert journal.integrity_check() == "ok"
    journal.close()


def test_second_process_cannot_drive_the_same_session(
    cli: CLI, tmp_path: Path, state_dir: Path, proxy: FaultProxy, bucket: str
) -> None:
    config = _slow_config(tmp_path, proxy, bucket)
    path = make_file(tmp_path / "shared.bin", 20 * MiB)
    child = subprocess.Popen(
        [sys.executable, "-m", "tui", "upload", str(path), "--account", "moto",
         "--part-size", "5MiB", "--config", str(config), "--state-dir", str(state_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        session = None
        while session is None and time.monotonic() < deadline:
            session, _ = verified_parts(state_dir)
            time.sleep(0.05)
        assert session is not None
        time.sleep(0.3)  # let it take the lock
        second = cli("resume", session[:8], config=config)
        assert second.code == 2
        assert f"being driven by process {child.pid}" in second.err
    finally:
        child.kill()
        child.wait()
