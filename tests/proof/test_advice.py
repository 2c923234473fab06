"""Advice suite: following partdeck's own line always settles an unclear outcome.

For every emulated provider and every unclear outcome its sandbox can make (a complete
carried out but answered 500, once or past the adapter's own repeats; an abort carried
out but answered 500, alone or after an unknown complete; Box's commit answered 202 past
the adapter's patience; Gumroad's abort answered ``accepted`` while the upload is kept),
a real upload runs against the sandbox over real sockets. Then a follower does exactly
what the session's line says: it takes the first (or, in the ``last`` runs, the last)
command the line names, never a ``--force`` one (that needs a person to look first),
runs it, and reads the journal again, at most ``STEPS`` times. Each run must end
``completed`` with the file's bytes on the provider, or ``aborted`` with nothing there,
and Gumroad must get at most one complete per upload id. Full mode runs every outcome
with both picks; short mode (CI) runs each outcome once, its pick drawn from the seed.
Each run also draws where the engine runs: in each command's own process, or (half the
runs) in the per-user service every command attaches to, started by the first of them.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.proof.conftest import each_provider
from tests.support.landed import landed_bytes
from tests.support.proof import Proof
from tests.support.services import kill_services, service_env
from tui.core.journal import Journal
from tui.core.model import Session
from tui.core.units import MiB
from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import EMULATORS, Sandbox

SUITE = "advice"
STEPS = 4
"""Commands a follower may run before the session must be settled."""
COMMAND = re.compile(r"partdeck (retry|resume|complete|abort) ([0-9a-f]{8})( --force)?")
FINAL = ("completed", "aborted")


@dataclass(frozen=True)
class Scenario:
    """One unclear outcome: the faults that make it and how the run starts."""

    name: str
    faults: dict[str, int]
    pick: str = "first"
    """Which command of the line the follower takes: ``first`` or ``last``."""
    abort_first: bool = False
    """Upload with --no-complete, then abort (the user's choice), then follow the line."""
    only: tuple[str, ...] = ()
    """The providers this outcome exists for; empty for every one."""
    unclear: bool = False
    """The upload must leave the session complete-unknown (else the follower may find
    nothing to follow and the run would prove little)."""


GUM = ("gumroad",)
LOOKING = ("fileflare", "polar", "box")
"""Providers whose API shows a finished file, so partdeck looks before repeating."""
LOOKUPS_LOST = {"complete_lost": 2, "view_500": 4}
"""The complete's answer and the next looks at the file are lost: the session ends
complete-unknown and the line's own command must settle it."""

SCENARIOS = (
    Scenario("complete lost", {"complete_lost": 1}),
    Scenario("complete lost", {"complete_lost": 1}, pick="last"),
    Scenario("complete lost 3 times", {"complete_lost": 3}),
    Scenario("complete lost 3 times", {"complete_lost": 3}, pick="last"),
    Scenario("abort lost", {"abort_lost": 1}, abort_first=True),
    Scenario("abort lost after unknown complete", {"complete_lost": 3, "abort_lost": 1}, "last"),
    Scenario("complete and its lookups lost", LOOKUPS_LOST, only=LOOKING, unclear=True),
    Scenario("complete and its lookups lost", LOOKUPS_LOST, "last", only=LOOKING, unclear=True),
    Scenario("complete lost, never repeated", {"complete_lost": 1}, only=GUM, unclear=True),
    Scenario("commit 202 past the tries", {"commit_202": 21}, only=("box",)),
    Scenario("abort accepted, kept", {"abort_accepted": 2}, abort_first=True, only=("gumroad",)),
)


@dataclass
class Run:
    """One scenario on one provider, and where following its line led."""

    provider: str
    scenario: Scenario
    steps: list[str] = field(default_factory=list)
    state: str = ""
    failure: str | None = None
    upload_id: str | None = None
    served: bool = False
    """Through the service (else each command's own process)."""

    @property
    def line(self) -> str:
        s = self.scenario
        path = " -> ".join(self.steps) or "nothing to follow"
        where = ", service" if self.served else ""
        return f"{self.provider:<10} {s.name} ({s.pick}{where}): {path} => {self.state}"


class Follower:
    """Runs one provider's scenarios and follows each session's own line."""

    def __init__(self, world: Sandbox, provider: str, root: Path) -> None:
        self.world = world
        self.provider = provider
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        engine = {"parts_in_flight": 4, "parts_per_session": 4, "retries": 2}
        self.config = world.write_config(root / "config.toml", engine)
        self.faults = world.fault_state[provider]

    def cli(
        self, state_dir: Path, *args: str, served: bool = False
    ) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tui", *args, "--config", str(self.config),
                "--state-dir", str(state_dir)]  # fmt: skip
        env = service_env() if served else None
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
        assert "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) <= 1, done.stderr
        return done

    def session(self, state_dir: Path) -> Session:
        journal = Journal.open(state_dir)
        try:
            (session,) = journal.sessions()
            return session
        finally:
            journal.close()

    def size(self) -> int:
        if self.provider == "gumroad":
            return 2 * MiB + 17  # one short part (Gumroad's are 100 MiB)
        if self.provider == "box":
            return 21 * MiB + 3  # chunked uploads start at 20 MiB
        return 6 * MiB + 5  # two 5 MiB parts

    def run(self, index: int, scenario: Scenario, served: bool = False) -> Run:
        run = Run(self.provider, scenario, served=served)
        state_dir = self.root / f"state-{index}"
        cli = functools.partial(self.cli, served=served)
        path = make_file(self.root / f"file-{index}.bin", self.size(), seed=index)
        self.faults.reset(FaultSpec(**scenario.faults))
        try:
            upload = ["upload", str(path), "--account", f"sandbox-{self.provider}"]
            if self.provider in ("polar", "wunderlist"):
                upload += ["--part-size", "5MiB"]
            cli(state_dir, *upload, *(["--no-complete"] if scenario.abort_first else []))
            session = self.session(state_dir)
            run.upload_id = session.remote.get("upload_id")
            if scenario.unclear:
                assert session.state == "complete-unknown", f"the upload left {session.state}"
            if scenario.abort_first:
                run.steps.append("abort")
                cli(state_dir, "abort", session.id[:8])
            for _ in range(STEPS + 1):
                session = self.session(state_dir)
                if session.state in FINAL:
                    break
                if len(run.steps) >= STEPS:
                    raise AssertionError(f"not settled after {STEPS} commands: {session.error}")
                named = [
                    (m.group(1), m.group(2))
                    for m in COMMAND.finditer(session.error or "")
                    if not m.group(3)
                ]
                assert named, f"{session.state} names no command to go on: {session.error!r}"
                verb, short = named[0] if scenario.pick == "first" else named[-1]
                run.steps.append(verb)
                cli(state_dir, verb, short)
            run.state = str(session.state)
            landed = landed_bytes(self.world, session)
            if session.state == "completed":
                assert landed == path.read_bytes(), "completed, but the object is not the file"
            else:
                assert landed is None, "aborted, but the object is on the provider"
        except AssertionError as exc:
            run.failure = str(exc).splitlines()[0]
        finally:
            self.faults.reset(FaultSpec())
            if served:
                kill_services(state_dir)
        return run

    def run_all(self, proof: Proof) -> list[Run]:
        """Every scenario this provider meets; in short mode, a scenario written with both
        picks (first and last command named) runs once, with a pick drawn from the seed."""
        chosen = [s for s in SCENARIOS if not s.only or self.provider in s.only]
        if proof.mode != "full":
            rng = proof.rng(SUITE, self.provider)
            by_name: dict[tuple[str, str], list[Scenario]] = {}
            for s in chosen:
                by_name.setdefault((s.name, repr(sorted(s.faults.items()))), []).append(s)
            chosen = [rng.choice(group) for group in by_name.values()]
        served = [
            proof.rng(SUITE, self.provider, "service", i).random() < 0.5 for i in range(len(chosen))
        ]
        return [self.run(i, s, served[i]) for i, s in enumerate(chosen)]


def gumroad_completes(world: Sandbox) -> dict[str, int]:
    """Completes the Gumroad emulator received, by upload id."""
    url = world.contexts["gumroad"].public_url
    calls: dict[str, Any] = httpx.get(f"{url}/_sandbox/calls", timeout=10).json()
    return dict(calls.get("complete", {}))


@pytest.fixture(scope="module")
def advice_runs(
    world: Sandbox, proof: Proof, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Run]]:
    """Every emulated provider's scenarios, the providers side by side."""
    root = tmp_path_factory.mktemp("advice")

    def work(provider: str) -> list[Run]:
        if provider not in EMULATORS:
            return []  # direct S3 has no provider API in between: its own suite covers it
        return Follower(world, provider, root / provider).run_all(proof)

    return each_provider(world, work)


@pytest.mark.slow
@pytest.mark.parametrize("provider", tuple(EMULATORS))
def test_following_the_advice_settles_every_unclear_outcome(
    provider: str, proof: Proof, world: Sandbox, advice_runs: dict[str, list[Run]]
) -> None:
    runs = advice_runs[provider]
    tally = proof.tally
    tally.add(SUITE, "runs", len(runs))
    tally.add(SUITE, "completed", sum(r.state == "completed" for r in runs))
    tally.add(SUITE, "aborted", sum(r.state == "aborted" for r in runs))
    tally.add(SUITE, "commands followed", sum(len(r.steps) for r in runs))
    tally.add(SUITE, "through the service", sum(r.served for r in runs))
    tally.add(SUITE, "unsettled", sum(r.failure is not None for r in runs))
    for run in runs:
        tally.note(SUITE, run.line + (f"  FAILED: {run.failure}" if run.failure else ""))

    assert runs, "no scenario ran"
    failures = [f"{r.line}: {r.failure}" for r in runs if r.failure]
    assert not failures, "\n".join(failures)
    if provider == "gumroad":
        completes = gumroad_completes(world)
        ours = {r.upload_id: completes.get(r.upload_id or "", 0) for r in runs}
        assert max(ours.values()) <= 1, ours
        assert any(ours.values()), "no complete reached Gumroad"
