"""Crash suite: SIGKILL a real ``partdeck upload`` at a random moment, then resume.

Every provider, several runs each (``--proof=full``: more). Each run draws, from the
printed seed, a file size, a kill moment and where the engine runs:

* the moment: either a time after the start (landing anywhere: start-up, hashing,
  opening, parts, complete) or "once k parts are verified" plus a little jitter;
* in the command's own process (``--no-service``: the command is killed), or in the
  per-user service the command attaches to: then the service and the command are killed
  together, as a power loss would, and ``partdeck service start`` must carry the session
  on by itself (crash recovery), with no ``resume`` typed.

After the kill: the journal passes ``integrity_check``; the session is resumed (or, if
the kill came before any session was recorded, uploaded again, as a user would); the
object the provider holds is byte-identical to the file; and no part the journal had
verified before the kill reached the server again.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import make_file
from tests.proof.conftest import PROVIDERS, each_provider
from tests.support.landed import landed_bytes
from tests.support.proof import Proof
from tests.support.services import kill_services, service_env
from tui.core.journal import Journal
from tui.core.model import Session
from tui.core.units import KiB, MiB, format_size
from tui.providers.gumroad import PART_SIZE as GUMROAD_PART
from tui.sandbox.runner import Sandbox

SUITE = "crash"
UPLOAD_SECONDS = 2.5
"""How long one upload takes under the run's bandwidth limit, so kills land mid-way."""


def _size(provider: str, rng: random.Random) -> int:
    """A file of a few parts, as small as the provider allows."""
    if provider == "gumroad":  # Gumroad's parts are 100 MiB; two parts, the second short.
        return GUMROAD_PART + rng.randrange(1, 12 * MiB)
    if provider == "box":  # Box takes files from 20 MiB, in its 8 MiB parts.
        return 20 * MiB + rng.randrange(1, 12 * MiB)
    return 11 * MiB + rng.randrange(1, 12 * MiB)


@dataclass(frozen=True)
class Moment:
    """When to kill: ``seconds`` after the start, or once ``verified`` parts are, plus jitter."""

    seconds: float | None = None
    verified: int = 0
    completing: bool = False
    jitter: float = 0.0

    @classmethod
    def draw(cls, rng: random.Random, parts: int) -> Moment:
        """Half the time a moment in time; else a point in progress (a fifth: complete)."""
        if rng.random() < 0.5:
            return cls(seconds=round(rng.uniform(0.05, UPLOAD_SECONDS + 0.8), 3))
        if rng.random() < 0.2:
            return cls(completing=True, jitter=round(rng.uniform(0.0, 0.02), 3))
        return cls(verified=rng.randrange(0, parts), jitter=round(rng.uniform(0.0, 0.4), 3))

    def reached(self, state_dir: Path) -> bool:
        """True once the journal shows the progress this moment waits for."""
        session, verified, _ = _journal_view(state_dir)
        if self.completing:
            return session is not None and session.state == "completing"
        return len(verified) >= self.verified

    def __str__(self) -> str:
        if self.seconds is not None:
            return f"kill at {self.seconds:.2f} s"
        if self.completing:
            return f"kill {self.jitter:.2f} s into complete"
        return f"kill {self.jitter:.2f} s after {self.verified} part(s) verified"


def _journal_view(state_dir: Path) -> tuple[Session | None, set[int], str]:
    """(the session, its verified parts, integrity_check) from the journal on disk."""
    if not (state_dir / Journal.FILENAME).exists():
        return None, set(), "ok"
    journal = Journal.open(state_dir)
    try:
        sessions = journal.sessions()
        session = sessions[0] if sessions else None
        verified = (
            {p.number for p in journal.parts(session.id) if p.state == "verified"}
            if session
            else set()
        )
        return session, verified, journal.integrity_check()
    finally:
        journal.close()


def _kill_at(
    argv: list[str], state_dir: Path, moment: Moment, env: dict[str, str] | None = None
) -> bool:
    """Run ``argv`` and SIGKILL it at ``moment``, and the state dir's service with it if
    one runs; False if it finished first."""
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    started = time.monotonic()
    try:
        while child.poll() is None:
            elapsed = time.monotonic() - started
            if moment.seconds is not None:
                if elapsed >= moment.seconds:
                    break
            elif moment.reached(state_dir):
                time.sleep(moment.jitter)
                break
            assert elapsed < 60, "the upload neither finished nor reached the kill moment"
            time.sleep(0.01)
        if child.poll() is not None:
            assert child.returncode == 0, child.stderr.read() if child.stderr else ""
            return False
        os.kill(child.pid, signal.SIGKILL)  # first, or it would start the service again
        child.wait()
        kill_services(state_dir)  # the engine, when it lives in a service
        return True
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()


@dataclass
class Run:
    """What one crash run did and found."""

    provider: str
    index: int
    line: str = ""
    killed: bool = False
    lost: bool = False
    resent: tuple[int, ...] = ()
    puts_after: int = 0
    complete_unknown: bool = False
    recovered: bool = False
    """The service, started again, carried the session on by itself."""
    failure: str | None = None


class Runner:
    """One provider's crash runs against the shared sandbox, one after another."""

    def __init__(self, world: Sandbox, provider: str, tmp_path: Path) -> None:
        self.world = world
        self.provider = provider
        self.tmp_path = tmp_path
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.fast = world.write_config(tmp_path / "fast.toml", _engine())

    def argv(self, state_dir: Path, config: Path, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "tui", *args,
            "--config", str(config), "--state-dir", str(state_dir),
        ]  # fmt: skip

    def run_all(self, proof: Proof, runs: int) -> list[Run]:
        """Every run; a failing run is recorded and the next one goes on."""
        done = []
        for index in range(runs):
            run = Run(self.provider, index)
            try:
                self.run(proof, run)
            except AssertionError as exc:
                run.failure = f"{run.line} (seed {proof.seed}): {exc}"
            done.append(run)
        return done

    def run(self, proof: Proof, run: Run) -> None:
        rng = proof.rng(SUITE, self.provider, run.index)
        size = _size(self.provider, rng)
        path = make_file(
            self.tmp_path / f"crash-{run.index}.bin", size, seed=rng.randrange(1 << 30)
        )
        parts = -(-size // (GUMROAD_PART if self.provider == "gumroad" else 8 * MiB))
        moment = Moment.draw(rng, max(parts, 2))
        served = rng.random() < 0.5
        state_dir = self.tmp_path / f"state-{run.index}"
        slow = self.world.write_config(
            self.tmp_path / f"slow-{run.index}.toml",
            _engine(bandwidth_limit=f"{int(size / UPLOAD_SECONDS) // KiB}KiB"),
        )
        faults = self.world.fault_state[self.provider]
        upload = ["upload", str(path), "--account", f"sandbox-{self.provider}"]
        if self.provider not in ("gumroad", "box", "fileflare"):
            upload += ["--part-size", "5MiB"]
        env = service_env() if served else None
        run.line = f"{self.provider:<10} #{run.index} {format_size(size):>9} {moment}" + (
            ", service and command" if served else ""
        )

        run.killed = _kill_at(self.argv(state_dir, slow, *upload, "--json"), state_dir, moment, env)
        time.sleep(0.1)  # let the server finish what was in flight when the child died
        puts_at_kill = Counter(faults.part_puts)
        session, verified, integrity = _journal_view(state_dir)
        assert integrity == "ok", f"journal after the kill: {integrity}"
        try:
            again = self._carry_on(run, state_dir, session, verified, upload, env)
            self._settle(run, state_dir, again, env)
        finally:
            if served:
                kill_services(state_dir)
        final, _, _ = _journal_view(state_dir)
        assert final is not None
        run.lost = landed_bytes(self.world, final) != path.read_bytes()
        sent_after = Counter(faults.part_puts) - puts_at_kill
        run.resent = tuple(sorted({n for (_, n) in sent_after} & verified))
        run.puts_after = sum(sent_after.values())
        run.line += f"; {run.puts_after} PUT(s) after the kill"
        assert not run.lost, "the object differs from the file"
        assert not run.resent, f"verified part(s) {list(run.resent)} were sent again"

    def _carry_on(
        self,
        run: Run,
        state_dir: Path,
        session: Session | None,
        verified: set[int],
        upload: list[str],
        env: dict[str, str] | None,
    ) -> subprocess.CompletedProcess[str]:
        """What a user does after the crash: upload again if no session was recorded,
        else resume it; with the service, first start it and let it carry on alone."""
        if session is None:
            run.line += ": no session yet: uploaded again"
            args = [*upload, "--json"]
        else:
            run.line += f": {session.state} with {len(verified)} part(s) verified"
            args = ["resume", session.id[:12], "--json"]
            if env is not None and session.state in _RECOVERED:
                started = subprocess.run(
                    self.argv(state_dir, self.fast, "service", "start"),
                    capture_output=True, text=True, env=env,
                )  # fmt: skip
                assert started.returncode == 0, started.stderr
                run.recovered = _settles(state_dir, timeout=60)
                assert run.recovered, "the service started again but did not finish it"
                run.line += ": the service carried it on"
                args = ["inspect", session.id[:12]]  # nothing left to do: a read-only look
        if not run.recovered:
            run.line += ": resumed" if session is not None else ""
        return subprocess.run(
            self.argv(state_dir, self.fast, *args), capture_output=True, text=True, env=env
        )

    def _settle(
        self,
        run: Run,
        state_dir: Path,
        again: subprocess.CompletedProcess[str],
        env: dict[str, str] | None,
    ) -> None:
        """Check how the upload ended; a complete-unknown is settled as the operator
        would: look at the provider, and run what the line says if the file is not there."""
        assert "Traceback" not in again.stderr, again.stderr
        final, _, integrity = _journal_view(state_dir)
        assert integrity == "ok", f"journal after the resume: {integrity}"
        assert final is not None, again.stderr
        if final.state != "complete-unknown":
            assert again.returncode == 0, again.stderr
            assert final.state == "completed", (final.state, again.stderr)
            return
        # Killed between sending complete and hearing the answer, where the provider
        # cannot be asked and may not take complete twice (Gumroad) or may answer a
        # repeat with an error (Fileflare): partdeck stops and says what to check and run.
        # The operator looks; if the file is not there, runs what the line says.
        error = final.error or ""
        assert f"partdeck complete {final.id[:8]}" in error, error
        run.complete_unknown = True
        if _eventually_landed(self.world, final) is None:
            force = ["--force"] if "--force" in error else []
            done = subprocess.run(
                self.argv(state_dir, self.fast, "complete", final.id[:12], *force),
                capture_output=True, text=True, env=env,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            run.line += f"; complete-unknown, file not there: complete {' '.join(force)}"
        else:
            run.line += "; complete-unknown, the file was there"
        final, _, integrity = _journal_view(state_dir)
        assert integrity == "ok", f"journal after the complete: {integrity}"
        assert final is not None


_RECOVERED = ("uploading", "stalled", "completing")
"""States a restarted service carries on by itself (crash recovery)."""
_SETTLED = ("completed", "complete-unknown", "failed", "local-changed", "paused", "aborted")
"""States a driven session stops in (``uploaded`` is on the way to ``completing``)."""


def _settles(state_dir: Path, timeout: float) -> bool:
    """True once the journal's session has stopped (within ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session, _, _ = _journal_view(state_dir)
        if session is not None and session.state in _SETTLED:
            return True
        time.sleep(0.05)
    return False


def _eventually_landed(world: Sandbox, session: Session, wait: float = 3.0) -> bytes | None:
    """What the provider holds, looking for ``wait`` seconds: a complete sent just before
    the kill may still be running on the server, as an operator checking there would
    also find."""
    deadline = time.monotonic() + wait
    while (landed := landed_bytes(world, session)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return landed


def _engine(**extra: object) -> dict[str, object]:
    return {"parts_in_flight": 2, "parts_per_session": 2, "retries": 2, **extra}


@pytest.fixture(scope="module")
def crash_runs(
    proof: Proof, world: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Run]]:
    """Every provider's runs, the providers side by side (each waits on the network mostly)."""
    runs = -(-proof.runs(short=20, full=50) // len(PROVIDERS))
    root = tmp_path_factory.mktemp("crash")
    return each_provider(world, lambda p: Runner(world, p, root / p).run_all(proof, runs))


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDERS)
def test_killed_uploads_resume_whole(
    provider: str, proof: Proof, crash_runs: dict[str, list[Run]]
) -> None:
    tally = proof.tally
    for run in crash_runs[provider]:
        tally.add(SUITE, "runs")
        tally.add(SUITE, "kills" if run.killed else "finished before the kill")
        tally.add(SUITE, "sessions lost", int(run.lost))
        tally.add(SUITE, "parts re-sent", len(run.resent))
        tally.add(SUITE, "part PUTs after a kill", run.puts_after)
        tally.add(SUITE, "complete-unknown (killed in complete)", run.complete_unknown)
        tally.add(SUITE, "carried on by the restarted service", run.recovered)
        tally.add(SUITE, "failed runs", run.failure is not None)
        tally.note(SUITE, run.line + (f"  FAILED: {run.failure}" if run.failure else ""))
    failures = [r.failure for r in crash_runs[provider] if r.failure]
    assert not failures, "\n".join(failures)
