"""Fault suite: uploads on every provider while the sandbox breaks things on purpose.

About 10% of part PUTs fail (500, connection reset, stall then reset), a few more are
refused as expired, and a few are stored but answered with a wrong ETag (Box: a wrong
sha1). Gumroad loses every other complete answer (it completes, then answers 500), Box
answers its first commit 202. Each upload must end completed, or in a state whose one
line names the command that goes on; with the faults gone, that command finishes it.
A wrong ETag is never recorded as verified, and Gumroad's complete is sent at most once
per upload id. Each upload draws where its engine runs: in each command's own process,
or (half of them) in the per-user service its commands attach to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import make_file
from tests.proof.conftest import PROVIDERS, each_provider
from tests.support.landed import landed_bytes
from tests.support.proof import Proof
from tests.support.services import kill_services, service_env
from tui.core.journal import Journal
from tui.core.model import Part, Session
from tui.core.units import MiB
from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import Sandbox

SUITE = "faults"
PART_FAULTS = {"part_500": 0.04, "part_reset": 0.03, "part_stall": 0.03}
"""The 10% of part PUTs that fail outright."""
SPEC = FaultSpec(**PART_FAULTS, stall_seconds=1.0, expire_early=0.03, corrupt_etag=0.04)
NEXT = re.compile(r"partdeck (retry|resume|complete|abort) ([0-9a-f]{8})( --force)?")
"""The command an error line names."""


def _size(provider: str, rng: random.Random) -> int:
    if provider == "gumroad":  # 100 MiB parts: one short part per file keeps it quick
        return rng.randrange(1 * MiB, 6 * MiB)
    if provider == "box":  # from 20 MiB, in 8 MiB parts
        return 20 * MiB + rng.randrange(1, 12 * MiB)
    return 20 * MiB + rng.randrange(1, 10 * MiB)  # five or six 5 MiB parts


@dataclass
class Upload:
    """One upload under faults and what became of it."""

    provider: str
    index: int
    path: Path
    state_dir: Path
    line: str = ""
    first_state: str = ""
    followed: list[str] = field(default_factory=list)
    failure: str | None = None
    served: bool = False
    """Its commands go through the service (else each runs its own engine)."""


@dataclass
class ProviderRun:
    """One provider's uploads, the faults its sandbox injected, and the checks' counts."""

    provider: str
    uploads: list[Upload] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    part_puts: int = 0
    verified_parts: int = 0
    wrong_etags_accepted: int = 0
    completes_per_upload: dict[str, int] = field(default_factory=dict)


class FaultRunner:
    """Uploads one provider's files under faults, then follows each session's own line."""

    def __init__(self, world: Sandbox, provider: str, root: Path, proof: Proof) -> None:
        self.world = world
        self.provider = provider
        self.root = root
        self.proof = proof
        root.mkdir(parents=True, exist_ok=True)
        engine = {"parts_in_flight": 4, "parts_per_session": 4, "retries": 2, "stall_after": 5}
        self.config = world.write_config(root / "config.toml", engine)
        self.faults = world.fault_state[provider]

    def cli(self, upload: Upload, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "tui", *args, "--config", str(self.config),
                "--state-dir", str(upload.state_dir)]  # fmt: skip
        env = service_env() if upload.served else None
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
        assert "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) <= 1, done.stderr
        return done

    def upload_argv(self, upload: Upload) -> list[str]:
        args = ["upload", str(upload.path), "--account", f"sandbox-{self.provider}", "--json"]
        if self.provider in ("s3", "polar", "wunderlist"):
            args += ["--part-size", "5MiB"]
        return args

    def run(self, count: int) -> ProviderRun:
        result = ProviderRun(self.provider)
        seed = self.proof.rng(SUITE, self.provider).randrange(1 << 30)
        spec = dataclasses.replace(SPEC, seed=seed, commit_202=int(self.provider == "box"))
        self.faults.reset(spec)
        try:
            for index in range(count):
                rng = self.proof.rng(SUITE, self.provider, index)
                size = _size(self.provider, rng)
                path = make_file(
                    self.root / f"faulty-{index}.bin", size, seed=rng.randrange(1 << 30)
                )
                upload = Upload(self.provider, index, path, self.root / f"state-{index}")
                upload.served = rng.random() < 0.5
                # Gumroad: every other complete lands but its answer is lost.
                lost = int(self.provider == "gumroad" and index % 2 == 1)
                self.faults.spec = dataclasses.replace(self.faults.spec, complete_lost=lost)
                self.cli(upload, *self.upload_argv(upload))
                result.uploads.append(upload)
            result.injected = Counter(self.faults.injected)
            result.part_puts = sum(self.faults.part_puts.values())
            for upload in result.uploads:
                self.check_verified(upload, result)
            if self.provider == "gumroad":
                result.completes_per_upload = self.gumroad_completes(result.uploads)
        finally:
            self.faults.reset(FaultSpec())
        for upload in result.uploads:  # the faults are gone: each session's own line goes on
            try:
                self.finish(upload)
            except AssertionError as exc:
                upload.failure = f"{upload.line} (seed {self.proof.seed}): {exc}"
            finally:
                if upload.served:
                    kill_services(upload.state_dir)
        if self.provider == "gumroad":
            result.completes_per_upload = self.gumroad_completes(result.uploads)
        return result

    def journal(self, upload: Upload) -> tuple[list[Session], dict[str, list[Part]]]:
        """The upload's sessions and parts; the journal is whole and every message it
        logged (each fault the engine met) is one line."""
        journal = Journal.open(upload.state_dir)
        try:
            assert journal.integrity_check() == "ok"
            sessions = journal.sessions()
            for session in sessions:
                for event in journal.events(session.id):
                    message = event.message or ""
                    assert "\n" not in message and "Traceback" not in message, message
            return sessions, {s.id: journal.parts(s.id) for s in sessions}
        finally:
            journal.close()

    def check_verified(self, upload: Upload, result: ProviderRun) -> None:
        """Every verified part carries the digest of its own bytes, never a wrong answer."""
        sessions, parts = self.journal(upload)
        data = upload.path.read_bytes()
        for session in sessions:
            for part in parts[session.id]:
                if part.state != "verified":
                    continue
                result.verified_parts += 1
                chunk = data[part.start : part.end]
                if self.provider == "box":
                    good, answered = hashlib.sha1(chunk).hexdigest(), part.sha1
                else:
                    good, answered = hashlib.md5(chunk).hexdigest(), (part.etag or "").strip('"')
                if answered in self.faults.corrupted or answered != good:
                    result.wrong_etags_accepted += 1

    def gumroad_completes(self, uploads: list[Upload]) -> dict[str, int]:
        """Completes Gumroad received for each of these uploads' upload ids."""
        url = self.world.contexts["gumroad"].public_url
        calls: dict[str, dict[str, int]] = httpx.get(f"{url}/_sandbox/calls", timeout=10).json()
        ids = {s.remote.get("upload_id") for u in uploads for s in self.journal(u)[0]}
        return {i: n for i, n in calls.get("complete", {}).items() if i in ids}

    def finish(self, upload: Upload) -> None:
        """Follow the session's own line until it is completed; check the bytes landed."""
        sessions, _ = self.journal(upload)
        assert len(sessions) == 1, f"{len(sessions)} sessions for one file"
        session = sessions[0]
        upload.first_state = str(session.state)
        where = " (service)" if upload.served else ""
        upload.line = f"{self.provider:<10} #{upload.index}{where}: {session.state}"
        if session.error:
            upload.line += f" ({session.error})"
        for _ in range(3):
            if session.state == "completed":
                break
            error = session.error or ""
            if session.state == "complete-unknown" and landed_bytes(self.world, session):
                upload.followed.append("checked: the file was there")
                break
            found = NEXT.search(error)
            assert found, f"{session.state} without a command to go on: {error!r}"
            command = [found.group(1), found.group(2)] + (["--force"] if found.group(3) else [])
            upload.followed.append(" ".join(command))
            done = self.cli(upload, *command)
            if found.group(1) == "abort":
                assert "upload the file again" in error, error
                assert done.returncode == 0, done.stderr
                upload.followed.append("upload again")
                self.cli(upload, *self.upload_argv(upload))
            sessions, _ = self.journal(upload)
            session = next(s for s in sessions if s.state != "aborted")
        upload.line += "".join(f" -> {step}" for step in upload.followed)
        landed = landed_bytes(self.world, session)
        assert landed == upload.path.read_bytes(), f"{session.state}: the object is not the file"


@pytest.fixture(scope="module")
def fault_runs(
    proof: Proof, world: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ProviderRun]:
    """Every provider's uploads under faults, the providers side by side."""
    count = proof.runs(short=3, full=8)
    root = tmp_path_factory.mktemp("faults")
    return each_provider(world, lambda p: FaultRunner(world, p, root / p, proof).run(count))


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDERS)
def test_uploads_under_faults_end_whole_or_resumable(
    provider: str, proof: Proof, fault_runs: dict[str, ProviderRun]
) -> None:
    run, tally = fault_runs[provider], proof.tally
    tally.add(SUITE, "uploads", len(run.uploads))
    tally.add(SUITE, "completed at once", sum(u.first_state == "completed" for u in run.uploads))
    tally.add(SUITE, "finished by the command their line named",
              sum(bool(u.followed) for u in run.uploads))  # fmt: skip
    tally.add(SUITE, "sessions lost", sum(u.failure is not None for u in run.uploads))
    tally.add(SUITE, "through the service", sum(u.served for u in run.uploads))
    tally.add(SUITE, "part PUTs", run.part_puts)
    tally.add(SUITE, "faults injected", sum(run.injected.values()))
    for name, n in sorted(run.injected.items()):
        tally.add(f"{SUITE}: injected", name, n)
    tally.add(SUITE, "parts verified", run.verified_parts)
    tally.add(SUITE, "wrong ETags accepted", run.wrong_etags_accepted)
    if provider == "gumroad":
        tally.add(SUITE, "Gumroad upload ids completed more than once",
                  sum(n > 1 for n in run.completes_per_upload.values()))  # fmt: skip
    for upload in run.uploads:
        tally.note(SUITE, upload.line + (f"  FAILED: {upload.failure}" if upload.failure else ""))

    failures = [u.failure for u in run.uploads if u.failure]
    assert not failures, "\n".join(failures)
    assert run.verified_parts, "no part was verified at all"
    assert run.wrong_etags_accepted == 0, "a part was verified with a wrong ETag"
    if provider == "gumroad":
        assert run.completes_per_upload, "no complete reached Gumroad"
        assert max(run.completes_per_upload.values()) == 1, run.completes_per_upload
