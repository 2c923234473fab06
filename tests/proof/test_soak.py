"""Soak suite: dozens of sessions on every provider at once, under faults, for minutes.

One Engine runs in a process of its own (``tests.support.soak``: the engine API, as the
app and the service use it) with a dozen sessions at a time in short mode, two dozen in
full. Each session's script is drawn from the seed: run, pause then resume, abort,
complete by hand, retry what failed, at random moments. Meanwhile the sandbox's weather
changes every few seconds: part PUTs fail (500, reset, stall), links expire early, ETags
come back wrong, Gumroad loses complete answers, Box answers commits 202.

It proves: every completed object is byte-identical to its file at the provider; every
other session ends aborted or with a line naming the command that goes on, and with the
weather calm that command finishes it; and from an idle sample after the warm-up (one
round of sessions in short mode, four in full, so the allocator settles) to an idle
sample at the end, the driver stays flat. Flat means: asyncio tasks back to one (the
driver's own); threads no more than at warm-up (the loop's executor is capped); as many
descriptors other than sockets as at warm-up, sockets within the connection pools'
bound; RSS growth under 8 MiB plus 4 MiB per 100 sessions (allocator settling, then a
40 KiB-per-session leak fails); objects the garbage collector tracks growing under 500
plus 5 per session; the journal's database growing under 48 KiB per finished session
and its WAL under 16 MiB. ``--soak-minutes`` sets how long it soaks.

The engine soaked is drawn from the seed: in the driver's own process, or (half the
runs) a real service process the driver attaches to as every client does; then what
must stay flat is the service's own (its ``/resources``), with its server's tasks and
its clients' connections counted at warm-up and at the end alike.

The last tests pin the two engine bugs the soak found, without the soak's randomness.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.proof.conftest import PROVIDERS
from tests.support.landed import landed_bytes, s3_key
from tests.support.proof import Proof
from tests.support.services import kill_services
from tests.support.soak import SoakPlan, write_file
from tests.support.weather import Weather
from tui.config import load_config
from tui.core.errors import UsageError
from tui.core.journal import Journal
from tui.core.model import Event, Session, SessionState
from tui.core.units import KiB, MiB
from tui.runtime import open_engine
from tui.sandbox.faults import FaultSpec
from tui.sandbox.runner import Sandbox

SUITE = "soak"
ENGINE = {"parts_in_flight": 12, "parts_per_session": 2, "retries": 2, "stall_after": 8}
"""Twelve parts in flight across every session, two per session."""
FULL_BANDWIDTH = "12MiB"
"""Full mode's bandwidth limit: sessions live for seconds (pauses and aborts land mid-way)
and a long soak's bytes stay within what moto and Box's emulator hold in memory."""
NEXT = re.compile(r"partdeck (retry|resume|complete|abort) ([0-9a-f]{8})( --force)?")
FINAL = ("completed", "aborted")

RSS_SLACK_MIB = 8.0
"""RSS may grow this much whatever the count: allocator arenas and caches settling."""
RSS_PER_100_MIB = 4.0
"""...plus this much per 100 sessions after the warm-up (a 40 KiB-per-session leak fails)."""
JOURNAL_PER_SESSION = 48 * KiB
"""Journal bytes (database, not WAL) a finished session may add: its row, its parts and
its events, faults and retries included."""
OBJECTS_SLACK = 500
"""Objects the collector tracks may grow this much whatever the count: caches that fill
once (regular expressions, codecs, a connection pool per host)..."""
OBJECTS_PER_SESSION = 5
"""...plus this many per session: a leaked session record, its parts or its events are
dozens of objects, so leaking any of them for every session fails."""
WAL_MAX = 16 * MiB
"""The WAL is checkpointed; it may not grow with the number of sessions."""
EVENTS_KEPT = 100
"""The soaked service's event window (``[service] events_kept``): the warm-up round
fills it, so from the warm sample on it holds as many records at the end."""


@dataclass
class Watch:
    """What the test saw of the driver's sessions, and what it found wrong."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    """Faults the sandbox injected while the driver ran, by name."""
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    served: bool = False
    """The engine soaked was a service process."""


def _cli(config: Path, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "tui", *args, "--config", str(config),
            "--state-dir", str(state_dir)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) <= 1, done.stderr
    return done


def _session(state_dir: Path, session_id: str) -> Session:
    journal = Journal.open(state_dir)
    try:
        return journal.session(session_id)
    finally:
        journal.close()


def _check_landed(world: Sandbox, state_dir: Path, record: dict[str, Any], watch: Watch) -> None:
    """A completed session's object is its file, byte for byte; the file is then removed."""
    path = Path(record["path"])
    session = _session(state_dir, record["session_id"])
    landed = landed_bytes(world, session)
    if landed != path.read_bytes():
        watch.problems.append(
            f"#{record['index']} {record['provider']}: the object is not the file"
        )
    watch.checked += 1
    path.unlink()
    if session.provider != "box":  # moto keeps objects in memory: a long soak would fill it
        backend = world.backends[session.provider]
        asyncio.run(backend.delete(s3_key(world, session)))


def _follow(world: Sandbox, config: Path, state_dir: Path, record: dict[str, Any]) -> str:
    """Follow an unfinished session's own line until it is final; returns the steps taken.

    Raises AssertionError when a line names no command or the command does not finish it.
    """
    session = _session(state_dir, record["session_id"])
    steps: list[str] = []
    for _ in range(3):
        if session.state in FINAL:
            break
        error = session.error or ""
        if session.state == "complete-unknown" and landed_bytes(world, session):
            steps.append("checked: the file was there")
            break
        found = NEXT.search(error)
        assert found, f"{session.state} without a command to go on: {error!r}"
        command = [found.group(1), found.group(2)] + (["--force"] if found.group(3) else [])
        steps.append(" ".join(command))
        done = _cli(config, state_dir, *command)
        if found.group(1) == "abort" and "upload the file again" in error:
            assert done.returncode == 0, done.stderr
            upload = ["upload", record["path"], "--account", f"sandbox-{record['provider']}"]
            if record["provider"] in ("s3", "polar", "wunderlist"):
                upload += ["--part-size", "5MiB"]
            done = _cli(config, state_dir, *upload, "--json")
            assert done.returncode == 0, done.stderr
            session = _latest(state_dir, record["path"])
            steps.append("upload again")
            continue
        session = _session(state_dir, session.id)
    landed = landed_bytes(world, session)
    if session.state == "aborted":  # by the script, or by a line that settles with abort
        assert landed is None, "aborted, but the object is on the provider"
    else:
        assert landed == Path(record["path"]).read_bytes(), (
            f"{session.state}: not the file, after {' -> '.join(steps) or 'no step'}; "
            f"its line: {session.error!r}"
        )
    return " -> ".join(steps)


def _latest(state_dir: Path, path: str) -> Session:
    journal = Journal.open(state_dir)
    try:
        return max((s for s in journal.sessions() if s.path == path), key=lambda s: s.created_at)
    finally:
        journal.close()


def _soak(proof: Proof, world: Sandbox, root: Path, minutes: float) -> tuple[Watch, Path, Path]:
    """Run the driver under the weather; check each completed object as it is reported."""
    concurrency = proof.runs(short=12, full=24)
    engine = {**ENGINE, "bandwidth_limit": FULL_BANDWIDTH} if proof.mode == "full" else ENGINE
    config = world.write_config(root / "config.toml", engine)
    state_dir, files = root / "state", root / "files"
    files.mkdir(parents=True)
    warm = proof.runs(short=1, full=4) * concurrency
    served = proof.rng(SUITE, "service").random() < 0.5
    proof.tally.figure(SUITE, "engine", "the service" if served else "in-process")
    if served:  # a window the warm-up fills, so what it holds cannot hide a leak after
        with config.open("a", encoding="utf-8") as f:
            f.write(f"\n[service]\nevents_kept = {EVENTS_KEPT}\n")
    plan = SoakPlan(str(config), str(state_dir), str(files), proof.seed, concurrency, warm,
                    seconds=minutes * 60, service=served)  # fmt: skip
    (root / "plan.json").write_text(json.dumps(dataclasses.asdict(plan)))
    watch = Watch()
    options = world.contexts["fileflare"].options
    options.update({"chunk_size": 5 * MiB, "rate_limit": 0})
    argv = [sys.executable, "-m", "tests.support.soak", str(root / "plan.json")]
    try:
        with Weather(world, proof.rng(SUITE, "weather")):
            child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)  # fmt: skip
            assert child.stdout is not None
            for line in child.stdout:
                record = json.loads(line)
                kind = record.pop("kind")
                if kind == "sample":
                    watch.samples.append(record)
                    continue
                watch.sessions.append(record)
                if record["state"] == "completed":
                    _check_landed(world, state_dir, record, watch)
            _, err = child.communicate(timeout=60)
            for provider in PROVIDERS:
                watch.injected.update(world.fault_state[provider].injected)
        assert child.returncode == 0, err
        assert "Traceback" not in err, err
    finally:
        options.clear()
        kill_services(state_dir)  # the driver stops it; this is the net under that
    watch.served = served
    return watch, config, state_dir


@pytest.fixture(scope="module")
def soaked(
    proof: Proof, world: Sandbox, pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Watch, Path, Path]:  # fmt: skip
    """The soak run's sessions and samples, plus its config and state dir."""
    minutes = pytestconfig.getoption("soak_minutes")
    if minutes is None:
        minutes = 2.0 if proof.mode == "full" else 0.15
    proof.tally.figure(SUITE, "minutes", f"{minutes:g}")
    return _soak(proof, world, tmp_path_factory.mktemp("soak"), minutes)


@pytest.mark.slow
def test_soak_loses_nothing(proof: Proof, world: Sandbox, soaked: tuple[Watch, Path, Path]) -> None:
    watch, config, state_dir = soaked
    tally = proof.tally
    states = Counter(r["state"] for r in watch.sessions)
    tally.add(SUITE, "sessions", len(watch.sessions))
    tally.add(SUITE, "providers", len({r["provider"] for r in watch.sessions}))
    for name, shown in (("pause", "pauses"), ("retry", "retries"), ("abort", "aborts"),
                        ("complete", "completes by hand")):  # fmt: skip
        tally.add(SUITE, shown, sum(r["actions"].count(name) for r in watch.sessions))
    for state, n in sorted(states.items()):
        tally.add(f"{SUITE}: ended", state, n)
    tally.add(SUITE, "objects read back", watch.checked)
    tally.add(SUITE, "faults injected", sum(watch.injected.values()))
    for name, n in sorted(watch.injected.items()):
        tally.add(f"{SUITE}: injected", name, n)
    lost: list[str] = []
    followed = 0
    for record in watch.sessions:
        line = f"#{record['index']} {record['provider']} {record['script']}: {record['state']}"
        if record["refused"]:
            line += f" (refused: {record['refused']})"
        if not record["session_id"]:
            lost.append(f"{line}: it was never planned")
        elif record["state"] not in FINAL:
            try:
                line += " -> " + _follow(world, config, state_dir, record)
                followed += 1
            except AssertionError as exc:
                lost.append(f"{line}: {exc} (seed {proof.seed})")
        tally.note(SUITE, line)
    tally.add(SUITE, "finished by the command their line named", followed)
    journal = Journal.open(state_dir)
    try:
        assert journal.integrity_check() == "ok"
        messages = [
            e.message or "" for r in watch.sessions for e in journal.events(r["session_id"])
        ]
    finally:
        journal.close()
    messages += [r["refused"] for r in watch.sessions if r["refused"]]
    tally.add(SUITE, "messages checked to be one line", len(messages))
    assert not [m for m in messages if "\n" in m or "Traceback" in m]
    assert {r["provider"] for r in watch.sessions} == set(PROVIDERS)
    tally.add(SUITE, "sessions lost", len(lost) + len(watch.problems))
    assert len(watch.sessions) >= 2 * len(PROVIDERS), "too few sessions to call it a soak"
    assert not watch.problems, "\n".join(watch.problems)
    assert not lost, "\n".join(lost)


@pytest.mark.slow
def test_soak_stays_flat(proof: Proof, soaked: tuple[Watch, Path, Path]) -> None:
    watch, _, state_dir = soaked
    by_phase = {s["phase"]: s for s in watch.samples}
    warm, end = by_phase["warm"], by_phase["end"]
    sessions = end["finished"] - warm["finished"]
    rss_growth = (end["rss_kib"] - warm["rss_kib"]) / 1024
    rss_bound = RSS_SLACK_MIB + RSS_PER_100_MIB * sessions / 100
    journal_per = (end["journal_bytes"] - warm["journal_bytes"]) / max(sessions, 1)
    tally = proof.tally
    tally.figure(SUITE, "sessions after warm-up", str(sessions))
    tally.figure(
        SUITE, "RSS warm/end", f"{warm['rss_kib'] / 1024:.1f}/{end['rss_kib'] / 1024:.1f} MiB"
    )
    tally.figure(SUITE, "RSS growth per 100 sessions",
                 f"{rss_growth * 100 / max(sessions, 1):.2f} MiB")  # fmt: skip
    objects_per = (end["objects"] - warm["objects"]) / max(sessions, 1)
    tally.figure(SUITE, "objects per session", f"{objects_per:.1f}")
    for key in ("fds", "sockets", "threads", "tasks", "objects", "records"):
        tally.figure(SUITE, f"{key} warm/end", f"{warm[key]}/{end[key]}")
    tally.figure(SUITE, "journal bytes per session", f"{journal_per / KiB:.1f} KiB")
    tally.figure(
        SUITE, "WAL warm/end", f"{warm['wal_bytes'] / MiB:.1f}/{end['wal_bytes'] / MiB:.1f} MiB"
    )
    # One empty lock file stays per session ever driven (see the report): counted, not bound.
    tally.figure(SUITE, "lock files left", str(len(list((state_dir / "locks").iterdir()))))
    for s in watch.samples:
        tally.note(SUITE, "sample " + ", ".join(f"{k} {v}" for k, v in s.items()))

    assert sessions >= 1, "no session ran after the warm-up"
    assert rss_growth <= rss_bound, f"RSS grew {rss_growth:.1f} MiB over {sessions} sessions"
    assert end["fds"] - end["sockets"] == warm["fds"] - warm["sockets"], (warm, end)
    assert end["sockets"] <= 2 * (ENGINE["parts_in_flight"] + 8), (warm, end)
    assert end["threads"] <= warm["threads"], (warm, end)
    assert end["tasks"] == warm["tasks"], (warm.get("task_names"), end.get("task_names"))
    assert watch.served or end["tasks"] == 1, (warm, end)  # in-process: the driver's only
    objects_bound = OBJECTS_SLACK + OBJECTS_PER_SESSION * sessions
    assert end["records"] == warm["records"] == (EVENTS_KEPT if watch.served else 0)
    assert end["objects"] - warm["objects"] <= objects_bound, (warm, end)
    assert journal_per <= JOURNAL_PER_SESSION, f"{journal_per / KiB:.1f} KiB per session"
    assert end["wal_bytes"] <= WAL_MAX, f"WAL of {end['wal_bytes'] / MiB:.1f} MiB"


async def test_a_paused_session_leaves_no_task_behind(world: Sandbox, tmp_path: Path) -> None:
    """Pausing mid-send ends every task of the session (the soak found a waiter left
    waiting forever, one per pause or abort)."""
    path = write_file(tmp_path / "paused.bin", 12 * MiB, seed=3)
    engine_table = {**ENGINE, "bandwidth_limit": "4MiB"}
    config = load_config(world.write_config(tmp_path / "config.toml", engine_table))
    async with open_engine(config, tmp_path / "state") as engine:
        sending = asyncio.Event()

        def on_event(event: Event) -> None:
            if event.kind == "part" and event.state == "uploading":
                sending.set()

        engine.subscribe(on_event)
        session = await engine.plan(path, "sandbox-s3", 5 * MiB)
        await engine.start(session.id)
        await sending.wait()
        assert str((await engine.pause(session.id)).state) == "paused"
        others = asyncio.all_tasks() - {asyncio.current_task()}
        left = [t for t in others if t.get_name() != "stall-watchdog"]
        assert not left, [repr(t.get_coro()) for t in left]


async def test_abort_while_completing_is_refused_in_one_line(
    world: Sandbox, tmp_path: Path
) -> None:
    """Abort during a complete in flight (Box answers the commit 202, retry in 1 s) is
    refused, and the complete goes on; a session whose process stopped while completing
    is settled. (The soak found both raising InvalidTransition, completing -> aborting.)"""
    path = write_file(tmp_path / "big.bin", 20 * MiB + 1, seed=4)
    config = load_config(world.write_config(tmp_path / "config.toml", ENGINE))
    faults = world.fault_state["box"]
    faults.reset(FaultSpec(commit_202=1))
    try:
        async with open_engine(config, tmp_path / "state") as engine:
            completing = asyncio.Event()
            engine.subscribe(lambda e: completing.set() if e.state == "completing" else None)
            session = await engine.plan(path, "sandbox-box")
            await engine.start(session.id)
            await completing.wait()
            with pytest.raises(UsageError) as refused:
                await engine.abort(session.id)
            assert str(refused.value) == (
                f"session {session.id[:12]} is completing; wait for it to end, then delete "
                "the object if you do not want it"
            )
            assert str((await engine.wait(session.id)).state) == "completed"
            assert landed_bytes(world, engine.session(session.id)) == path.read_bytes()

            stopped = await engine.plan(path, "sandbox-box")
            journal = engine.journal
            record = journal.session(stopped.id)
            record.state, record.complete_sent = SessionState.COMPLETING, 1
            journal.commit(session=record)
            # Its process stopped in complete before the upload was even opened: nothing
            # can have landed, so abort settles it at once (was InvalidTransition).
            assert (await engine.abort(stopped.id)).state == SessionState.ABORTED
    finally:
        faults.reset(FaultSpec())
