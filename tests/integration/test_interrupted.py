"""A session nothing drives shows as ``interrupted`` with the command that goes on.

A real ``partdeck upload`` is SIGKILLed mid-way: its journal still says ``uploading``,
but no process holds the session's lock, so sessions, show and inspect (text and
--json) say ``interrupted`` and name ``partdeck resume ID``. While a live process holds
the lock the same session shows as ``uploading``. Nothing is written to the journal by
the readers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.conftest import CLI, make_file
from tests.support.config import write_s3_config
from tests.support.crash import kill_once_verified
from tests.support.faultproxy import FaultProxy
from tui.core.journal import Journal
from tui.core.units import MiB

HOLDER = """
import sys
from pathlib import Path
from tui.core.locks import SessionLock
SessionLock(Path(sys.argv[1]), sys.argv[2]).acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def test_killed_upload_shows_interrupted_until_a_process_drives_it(
    cli: CLI, tmp_path: Path, state_dir: Path, proxy: FaultProxy, s3: Any, bucket: str
) -> None:
    config = write_s3_config(
        tmp_path / "slow.toml", proxy.url, bucket, parts_in_flight=1, bandwidth_limit="4MiB"
    )
    path = make_file(tmp_path / "killed.bin", 20 * MiB + 7)
    argv = [
        sys.executable, "-m", "tui", "upload", str(path), "--account", "moto",
        "--part-size", "5MiB", "--config", str(config), "--state-dir", str(state_dir),
    ]  # fmt: skip
    session_id, _ = kill_once_verified(argv, state_dir, want=1, timeout=60)
    short = session_id[:8]
    journal = Journal.open(state_dir)
    try:
        before = journal.session(session_id)
    finally:
        journal.close()
    assert before.state in ("uploading", "stalled")

    listed = cli("sessions", config=config)
    assert listed.code == 0, listed.err
    row = next(line for line in listed.out.splitlines() if line.startswith(session_id[:12]))
    assert row.split()[1] == "interrupted"
    assert f"{session_id[:12]}: interrupted (its process stopped while {before.state}); " \
        f"carry on with partdeck resume {short}" in listed.out  # fmt: skip
    as_json = cli("sessions", "--json", config=config).json_lines()
    entry = next(e for e in as_json if e["session"] == session_id)
    assert entry["interrupted"] is True and entry["state"] == str(before.state)
    shown = cli("show", short, config=config)
    assert f"state     interrupted (its process stopped while {before.state})" in shown.out
    assert f"partdeck resume {short}" in shown.out
    assert cli("show", short, "--json", config=config).json_lines()[0]["interrupted"] is True
    inspected = cli("inspect", short, config=config)
    assert inspected.code == 0, inspected.err
    assert f"interrupted (its process stopped while {before.state})" in inspected.out
    assert cli("inspect", short, "--json", config=config).json_lines()[0]["interrupted"]

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state_dir), session_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        driven = cli("sessions", config=config)
        row = next(line for line in driven.out.splitlines() if line.startswith(session_id[:12]))
        assert row.split()[1] == str(before.state)
        assert "interrupted" not in driven.out
        entry = next(
            e for e in cli("sessions", "--json", config=config).json_lines()
            if e["session"] == session_id
        )  # fmt: skip
        assert entry["interrupted"] is False
    finally:
        holder.kill()
        holder.wait(timeout=10)

    journal = Journal.open(state_dir)
    try:
        assert journal.session(session_id).updated_at == before.updated_at  # readers wrote nothing
    finally:
        journal.close()
    resumed = cli("resume", short, "--json", config=config)
    assert resumed.code == 0, resumed.err
    assert resumed.summary["state"] == "completed"
    assert "interrupted" not in cli("sessions", config=config).out
    assert s3.get_object(Bucket=bucket, Key="up/killed.bin")["Body"].read() == path.read_bytes()
