"""``partdeck sandbox`` in the foreground, and the in-process sandbox with no config."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import make_file
from tui.cli import main
from tui.config import load_config
from tui.core.errors import UsageError
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.sandbox.faults import parse_faults
from tui.sandbox.foreground import run_sandbox

ACCOUNTS = [
    "sandbox-s3",
    "sandbox-gumroad",
    "sandbox-polar",
    "sandbox-box",
    "sandbox-box-oauth",
    "sandbox-box-ccg",
    "sandbox-box-jwt",
    "sandbox-fileflare",
    "sandbox-wunderlist",
]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, io.StringIO]]:
    """``partdeck sandbox --faults ...`` serving in a thread; yields (config, its output)."""
    out = io.StringIO()
    stop = threading.Event()
    config = tmp_path / "sandbox.toml"
    thread = threading.Thread(
        target=run_sandbox,
        args=(tmp_path / "sandbox-state",),
        kwargs={"faults_text": "part_500=0.2,seed=3", "config_out": config, "out": out,
                "stop": stop},
    )  # fmt: skip
    thread.start()
    deadline = time.monotonic() + 60
    while "Ctrl-C" not in out.getvalue():
        assert thread.is_alive() and time.monotonic() < deadline, out.getvalue()
        time.sleep(0.05)
    yield config, out
    stop.set()
    thread.join(timeout=30)
    assert "stopped" in out.getvalue()


def test_every_account_uploads_against_partdeck_sandbox(
    running: tuple[Path, io.StringIO],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, out = running
    banner = out.getvalue()
    assert str(config) in banner and "part_500=0.2" in banner
    loaded = load_config(config, must_exist=True)
    assert list(loaded.accounts) == ACCOUNTS
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    path = make_file(tmp_path / "every provider.bin", 21 * MiB + 5)
    state = tmp_path / "state"
    # The banner's sign-in code, pasted as its line says.
    code_line = next(line for line in banner.splitlines() if "partdeck auth" in line)
    monkeypatch.setattr("sys.stdin", io.StringIO(code_line.split()[-1].rstrip(")") + "\n"))
    signed = main(["auth", "sandbox-box-oauth", "--config", str(config), "--state-dir", str(state)])
    assert signed == 0, capsys.readouterr()
    for account in ACCOUNTS:
        # Box's accounts share one folder: each uploads a file of its own name.
        own = path.with_name(f"{account} {path.name}")
        own.write_bytes(path.read_bytes())
        code = main(
            ["upload", str(own), "--account", account, "--json",
             "--config", str(config), "--state-dir", str(state)]
        )  # fmt: skip
        assert code == 0, (account, capsys.readouterr())
    journal = Journal.open(state)
    try:
        states = {s.account: str(s.state) for s in journal.sessions()}
    finally:
        journal.close()
    assert states == dict.fromkeys(ACCOUNTS, "completed")
    # Tokens and keys are in files, never in the config or the banner.
    text = config.read_text()
    for token_file in (tmp_path / "sandbox-state" / "sandbox" / "tokens").iterdir():
        token = token_file.read_text().strip()
        assert token not in text and token not in banner
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"


def test_no_config_at_all_starts_an_in_process_sandbox(tmp_path: Path) -> None:
    path = make_file(tmp_path / "first.bin", 6 * MiB)
    env = {k: v for k, v in os.environ.items() if k not in ("PARTDECK_CONFIG",)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config-here")
    result = subprocess.run(
        [sys.executable, "-m", "tui", "upload", str(path), "--account", "sandbox-s3",
         "--state-dir", str(tmp_path / "state")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "in-process sandbox" in result.stderr
    assert result.stderr.count("\n") == 1


def test_faults_spec_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown fault 'part_50' \(did you mean part_500\?\)"):
        parse_faults("part_50=1")
    with pytest.raises(UsageError, match="share from 0 to 1"):
        parse_faults("part_reset=3")
    with pytest.raises(UsageError, match=r"'dropbox' .* is not a provider"):
        parse_faults("dropbox.part_500=0.1")
    spec = tmp_path / "faults.toml"
    spec.write_text("part_500 = 0.1\n[box]\ncommit_202 = 2\n")
    parsed = parse_faults(str(spec))
    assert parsed["box"].commit_202 == 2 and parsed["box"].part_500 == 0.1
    assert parsed["gumroad"].commit_202 == 0


def test_sandbox_command_refuses_bad_faults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sandbox", "--faults", "nonsense", "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "is not name=value" in err and err.count("\n") == 1
