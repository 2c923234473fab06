"""``partdeck demo``: on a terminal the six uploads run live in the TUI; piped, as a progress
line; either way the sessions land in the real state dir, where ``partdeck`` finds them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.ui.conftest import row_text, until
from tui.core.journal import Journal
from tui.core.model import Session, SessionState
from tui.demo import SAMPLE_SIZE, demo_dir, ensure_sample, run_demo
from tui.ui.app import PartdeckApp

ACCOUNTS = {
    "sandbox-s3",
    "sandbox-gumroad",
    "sandbox-polar",
    "sandbox-box",
    "sandbox-fileflare",
    "sandbox-wunderlist",
}
PARTDECK = [sys.executable, "-m", "tui"]


def _sessions(state_dir: Path) -> list[Session]:
    journal = Journal.open(state_dir)
    try:
        return journal.sessions()
    finally:
        journal.close()


def _env(tmp_path: Path) -> dict[str, str]:
    """No user config, no user state: everything in tmp_path."""
    return {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "XDG_STATE_HOME": str(tmp_path / "home" / ".state"),
        "PARTDECK_CONFIG": "",
    }


def _listed_by_partdeck(tmp_path: Path, state_dir: Path) -> str:
    done = subprocess.run(
        [*PARTDECK, "--state-dir", str(state_dir), "sessions"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_on_a_terminal_runs_the_six_uploads_in_the_tui(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    seen: dict[str, dict[str, str]] = {}

    async def drive(app: PartdeckApp) -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert any("demo: sample.bin" in n.message for n in app._notifications)

            def all_completed() -> bool:
                sessions = app.engine.journal.sessions()
                return len(sessions) == 6 and all(
                    s.state == SessionState.COMPLETED for s in sessions
                )

            await until(pilot, all_completed, "six completed uploads", limit=120)
            for s in app.engine.journal.sessions():
                await until(
                    pilot, lambda s=s: "completed" in row_text(app, s.id)["state"], "the rows"
                )
                seen[s.account] = row_text(app, s.id)
            await pilot.press("q")  # nothing runs any more: quits without asking
            await until(pilot, lambda: app._exit, "the app to quit on q")

    assert run_demo(state_dir, interactive=True, run_app=drive) == 0
    assert set(seen) == ACCOUNTS
    assert all(row["file"] == "sample.bin" and row["parts"] != "0/0" for row in seen.values())
    sessions = _sessions(state_dir)
    assert {s.account for s in sessions} == ACCOUNTS
    assert all(s.state == SessionState.COMPLETED for s in sessions)
    assert {Path(s.path) for s in sessions} == {demo_dir(state_dir) / "sample.bin"}
    listed = _listed_by_partdeck(tmp_path, state_dir)
    assert listed.count("completed") == 6, listed


def test_demo_without_a_terminal_prints_progress_and_keeps_the_sessions(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    done = subprocess.run(
        [*PARTDECK, "--state-dir", str(state_dir), "demo"],
        env=_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out  # no live line, no TUI: plain text for a pipe
    assert out.count("part(s) of") == 6
    for account in ACCOUNTS:
        assert f"  {account:<20} completed: " in out
    assert f"the 6 sessions stay in {state_dir}" in out
    listed = _listed_by_partdeck(tmp_path, state_dir)
    assert listed.count("completed") == 6
    assert all(account in listed for account in ACCOUNTS)


def test_the_sample_is_kept_when_whole_and_rewritten_when_not(tmp_path: Path) -> None:
    sample = ensure_sample(tmp_path / "demo" / "sample.bin")
    assert sample.stat().st_size == SAMPLE_SIZE
    first = sample.read_bytes()[:4096]
    assert ensure_sample(sample).read_bytes()[:4096] == first  # kept: old sessions still verify
    with sample.open("r+b") as f:
        f.truncate(100)
    assert ensure_sample(sample).stat().st_size == SAMPLE_SIZE
    assert not list(sample.parent.glob(".*partial"))
