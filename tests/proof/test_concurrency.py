"""Concurrency suite: processes sharing one state dir.

Several ``partdeck resume`` processes started at once on one session: exactly one drives
it, every other one stops with one line naming the process that holds it, and the server
sees each part at most once. While a headless upload runs, other commands on its session
are refused the same way (``verify`` only reads the local file, so it may run). And the
app, on the same state dir, shows a headless upload's progress live.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import make_file
from tests.support.crash import kill_once_verified
from tests.support.landed import landed_bytes
from tests.support.proof import Proof
from tests.support.services import kill_services, service_env
from tests.ui.conftest import Deck, row_text, until
from tui.core.journal import Journal
from tui.core.model import Session
from tui.core.units import KiB, MiB
from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import Sandbox

SUITE = "concurrency"


def _argv(config: Path, state_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tui", *args, "--config", str(config),
            "--state-dir", str(state_dir)]  # fmt: skip


def _session(state_dir: Path) -> Session:
    journal = Journal.open(state_dir)
    try:
        assert journal.integrity_check() == "ok"
        return journal.sessions()[0]
    finally:
        journal.close()


def _slow(world: Sandbox, tmp_path: Path, size: int, seconds: float) -> Path:
    """A config whose uploads of ``size`` bytes take about ``seconds``."""
    limit = f"{int(size / seconds) // KiB}KiB"
    engine = {"parts_in_flight": 2, "parts_per_session": 2, "bandwidth_limit": limit}
    return world.write_config(tmp_path / "slow.toml", engine)


@pytest.mark.slow
def test_racing_resumes_drive_a_session_once(proof: Proof, world: Sandbox, tmp_path: Path) -> None:
    races = proof.runs(short=2, full=6)
    processes = proof.runs(short=4, full=6)
    faults = world.fault_state["s3"]
    faults.reset(FaultSpec())
    for race in range(races):
        rng = proof.rng(SUITE, race)
        root = tmp_path / f"race-{race}"
        root.mkdir()
        size = 16 * MiB + rng.randrange(1, 8 * MiB)
        path = make_file(root / "shared.bin", size, seed=rng.randrange(1 << 30))
        # Slow enough that most resumes start while the session is still being driven; one
        # that starts after it completed (a loaded machine) is told so and exits 0.
        config, state_dir = _slow(world, root, size, 4.0), root / "state"
        upload = ["upload", str(path), "--account", "sandbox-s3", "--part-size", "5MiB"]
        session_id, verified = kill_once_verified(_argv(config, state_dir, *upload), state_dir)
        puts_before = Counter(faults.part_puts)

        children = [
            subprocess.Popen(
                _argv(config, state_dir, "resume", session_id[:8]),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        outputs = {c.pid: c.communicate(timeout=120) for c in children}
        errors = {pid: err for pid, (_, err) in outputs.items()}
        late = {
            c.pid
            for c in children
            if c.returncode == 0 and "already completed" in outputs[c.pid][0]
        }
        winners = [c.pid for c in children if c.returncode == 0 and c.pid not in late]
        sent = Counter(faults.part_puts) - puts_before
        twice = len(winners) != 1 or max(sent.values(), default=0) > 1
        proof.tally.add(SUITE, "races")
        proof.tally.add(SUITE, "processes started", processes)
        proof.tally.add(SUITE, "resumes that found it completed", len(late))
        proof.tally.add(SUITE, "sessions driven twice", int(twice))
        assert len(winners) == 1, outputs
        for child in children:
            if child.pid in winners or child.pid in late:
                continue
            assert child.returncode == 2, errors[child.pid]
            assert errors[child.pid].strip() == (
                f"partdeck: session {session_id[:12]} is being driven by process {winners[0]}; "
                "wait for it to finish or stop it first"
            )
        session = _session(state_dir)
        assert session.state == "completed"
        assert landed_bytes(world, session) == path.read_bytes()
        assert max(sent.values()) == 1, f"a part was sent by two processes: {sent}"
        assert not {n for (_, n) in sent} & verified
        proof.tally.note(
            SUITE, f"race {race}: {processes} resumes, process {winners[0]} drove it, "
            f"{processes - 1 - len(late)} named it and stopped, {len(late)} found it completed",
        )  # fmt: skip


@pytest.mark.slow
def test_racing_resumes_through_the_service_drive_a_session_once(
    proof: Proof, world: Sandbox, tmp_path: Path
) -> None:
    """Through the service the same race has no loser: the first client starts the service
    (which carries the interrupted session on by itself), every ``resume`` follows it to
    the end and exits 0, and the server still sees each part once."""
    processes = proof.runs(short=4, full=6)
    faults = world.fault_state["s3"]
    faults.reset(FaultSpec())
    rng = proof.rng(SUITE, "service")
    size = 16 * MiB + rng.randrange(1, 8 * MiB)
    path = make_file(tmp_path / "shared.bin", size, seed=rng.randrange(1 << 30))
    # Slow enough that the last of the racing resumes starts (a Python process each, on a
    # loaded machine) before the session it races for has completed.
    config, state_dir = _slow(world, tmp_path, size, 6.0), tmp_path / "state"
    upload = ["upload", str(path), "--account", "sandbox-s3", "--part-size", "5MiB"]
    session_id, verified = kill_once_verified(_argv(config, state_dir, *upload), state_dir)
    puts_before = Counter(faults.part_puts)
    env = service_env()
    try:
        children = [
            subprocess.Popen(_argv(config, state_dir, "resume", session_id[:8]), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(processes)
        ]  # fmt: skip
        errors = {c.pid: c.communicate(timeout=120)[1] for c in children}
    finally:
        kill_services(state_dir)
    sent = Counter(faults.part_puts) - puts_before
    proof.tally.add(SUITE, "resumes racing through the service", processes)
    assert [c.returncode for c in children] == [0] * processes, errors
    assert all("Traceback" not in e for e in errors.values()), errors
    session = _session(state_dir)
    assert session.state == "completed"
    assert landed_bytes(world, session) == path.read_bytes()
    assert max(sent.values()) == 1, f"a part was sent twice: {sent}"
    assert not {n for (_, n) in sent} & verified


@pytest.mark.slow
def test_commands_on_a_session_another_process_drives_are_refused(
    proof: Proof, world: Sandbox, tmp_path: Path
) -> None:
    size = 16 * MiB
    path = make_file(tmp_path / "busy.bin", size)
    # Long enough for four commands to start on a loaded machine (over a second each).
    config, state_dir = _slow(world, tmp_path, size, 10.0), tmp_path / "state"
    child = subprocess.Popen(
        _argv(config, state_dir, "upload", str(path), "--account", "sandbox-s3",
              "--part-size", "5MiB"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (state_dir / Journal.FILENAME).exists() or not _uploading(state_dir):
            assert child.poll() is None, child.communicate()[1]
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.05)
        session_id = _session(state_dir).id
        for command in (["resume"], ["retry"], ["complete"], ["abort"]):
            assert child.poll() is None, f"the upload ended before {command} was tried"
            other = subprocess.run(
                _argv(config, state_dir, *command, session_id[:8]), capture_output=True, text=True
            )
            assert other.returncode == 2, (command, other.stderr)
            assert other.stderr.strip().endswith(
                f"is being driven by process {child.pid}; wait for it to finish or stop it first"
            ), (command, other.stderr)
            proof.tally.add(SUITE, "commands refused while another process drove")
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    session = _session(state_dir)
    assert session.state == "completed"
    assert landed_bytes(world, session) == path.read_bytes()


def _uploading(state_dir: Path) -> bool:
    journal = Journal.open(state_dir)
    try:
        sessions = journal.sessions()
        return bool(sessions) and sessions[0].state == "uploading"
    finally:
        journal.close()


@pytest.mark.slow
async def test_the_app_shows_a_headless_upload_live(
    proof: Proof, world: Sandbox, tmp_path: Path
) -> None:
    """The app reads the journal another process writes: progress shows while it runs."""
    size = 30 * MiB + 17
    deck = Deck(world, tmp_path)
    path = deck.file("elsewhere.bin", size, seed=5)
    config = _slow(world, tmp_path, size, 5.0)
    child = await asyncio.create_subprocess_exec(
        *_argv(config, deck.state_dir, "upload", str(path), "--account", "sandbox-s3",
               "--part-size", "5MiB"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen: list[tuple[str, str]] = []
    try:
        async with deck.app() as (app, pilot):
            holder: dict[str, str] = {}

            def shown() -> bool:
                sessions = app.engine.journal.sessions()
                if not sessions:
                    return False
                holder["id"] = sessions[0].id
                try:
                    row = row_text(app, sessions[0].id)
                except Exception:  # the row appears at the next resync
                    return False
                cells = (row["state"], row["parts"])  # parts verified / total
                if not seen or seen[-1] != cells:
                    seen.append(cells)
                return "completed" in row["state"]

            await until(pilot, shown, "the headless upload to show as completed", limit=60)
            assert not app.engine.is_running(holder["id"]), "the app drove the session itself"
        await asyncio.wait_for(child.wait(), 30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == 0
    progress = [parts for state, parts in seen if "uploading" in state]
    # It refreshes another process's sessions once a second: a 5 s upload shows several
    # steps; two distinct ones already prove it was live, not read once at the end.
    assert len(set(progress)) >= 2, f"the app saw no progress while it ran: {seen}"
    proof.tally.add(SUITE, "live steps the app showed of a headless upload", len(set(progress)))
    proof.tally.note(SUITE, "app watching a headless upload saw: " + ", ".join(p for p in progress))
