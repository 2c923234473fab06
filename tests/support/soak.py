"""The soak driver: one Engine, in its own process, holding dozens of sessions for minutes.

``python -m tests.support.soak PLAN.json`` runs the engine API in-process, as the app and
the service do, in a process of its own so that what it measures (RSS, open file
descriptors, threads, asyncio tasks, journal bytes) is the engine's and not the sandbox's
or pytest's. With ``service`` in the plan, the engine is a real service process instead,
which this driver attaches to as any client does, and what is measured is the service's
own (its ``/resources``). Sessions on every provider run side by side; each follows a script drawn
from the seed (run, pause then resume, abort, complete by hand, retry what failed) at
random moments. It prints one JSON line per finished session and one per resource
sample: ``warm`` (idle, after the warm-up round), ``tick`` (every ``tick_seconds``, busy)
and ``end`` (idle, after the last session).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui.config import load_config
from tui.core.errors import PartdeckError
from tui.core.journal import Journal
from tui.core.units import MiB
from tui.runtime import open_engine
from tui.service.api import EngineAPI
from tui.service.attached import ServiceEngine
from tui.service.health import resources, task_names
from tui.service.spawn import ensure_service, stop_service

EXECUTOR_THREADS = 8
"""Threads of the loop's default executor (file reads, hashing, SQLite): a fixed bound, so
the thread count at idle has a known ceiling."""
IDLE_WAIT = 15.0
"""Seconds to wait for the engine to go idle (its stall watchdog ends within one interval)."""
SCRIPTS = {"run": 5, "pause": 3, "abort": 1, "manual": 1}
"""How often each session script is drawn: run, pause then resume, abort, complete by hand."""
PROVIDER_WEIGHTS = {"s3": 1.0, "gumroad": 1.0, "polar": 1.0, "box": 0.3, "fileflare": 1.0,
                    "wunderlist": 1.0}  # fmt: skip
"""Box files are 20 MiB at least (its minimum) and its emulator keeps every file in memory,
so Box gets a smaller share."""
RETRY_SHARE = 0.7
"""Share of sessions that stop with failed parts whose parts are retried at once."""


@dataclass(frozen=True)
class SoakPlan:
    """What the driver runs: where, how many at once, for how long, from which seed."""

    config: str
    state_dir: str
    files: str
    seed: int
    concurrency: int
    warm_sessions: int
    seconds: float
    tick_seconds: float = 15.0
    service: bool = False
    """Drive a real service process (attached as a client) instead of an in-process Engine."""

    @classmethod
    def load(cls, path: str | Path) -> SoakPlan:
        """Read a plan written as JSON."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Sample:
    """The driver process's resources at one moment."""

    phase: str
    finished: int
    rss_kib: int
    fds: int
    sockets: int
    threads: int
    tasks: int
    objects: int
    """Objects the garbage collector tracks: grows with any leaked session's records."""
    journal_bytes: int
    wal_bytes: int
    elapsed: float
    records: int = 0
    """The service's event window (0 in-process): bounded, but filling during a soak."""


@dataclass
class Outcome:
    """One session as the driver left it."""

    index: int
    provider: str
    path: str
    session_id: str = ""
    script: str = "run"
    actions: list[str] = field(default_factory=list)
    state: str = ""
    error: str | None = None
    refused: str | None = None
    """A command the engine refused (one line), when one was."""


def file_size(provider: str, rng: random.Random) -> int:
    """A few MiB, in two or three parts where the provider has 5 MiB parts."""
    if provider == "gumroad":  # 100 MiB parts: one part
        return rng.randrange(1 * MiB, 4 * MiB)
    if provider == "box":  # Box takes 20 MiB and up, in 8 MiB parts
        return 20 * MiB + rng.randrange(1, 2 * MiB)
    return 5 * MiB + rng.randrange(1, 8 * MiB)


def write_file(path: Path, size: int, seed: int) -> Path:
    """``size`` bytes from ``seed``; every MiB differs, so parts cannot stand in for each other."""
    block = bytearray(random.Random(seed).randbytes(MiB))
    with path.open("wb") as f:
        for offset in range(0, size, MiB):
            block[:8] = offset.to_bytes(8, "big")
            f.write(block[: min(MiB, size - offset)])
    return path


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def sample(
    phase: str, held: dict[str, int], journal: Path, finished: int, started: float
) -> Sample:
    """One sample from what the engine's process holds (``tui.service.health.resources``)."""
    return Sample(
        phase=phase,
        finished=finished,
        rss_kib=held["rss_kib"],
        fds=held["fds"],
        sockets=held["sockets"],
        threads=held["threads"],
        tasks=held["tasks"],
        objects=held["objects"],
        journal_bytes=_size(journal),
        wal_bytes=_size(journal.with_name(journal.name + "-wal")),
        elapsed=round(time.monotonic() - started, 1),
        records=held.get("records", 0),
    )


class Driver:
    """Runs scripted sessions on one engine, ``concurrency`` at a time."""

    def __init__(
        self, engine: EngineAPI, plan: SoakPlan, emit: Callable[[dict[str, Any]], None]
    ) -> None:
        self.engine = engine
        self.plan = plan
        self.emit = emit
        self.next_index = 0
        self.finished = 0
        self.started = time.monotonic()
        self.tasks: list[str] = []
        """The service's tasks at the last sample (empty in-process)."""

    async def held(self) -> dict[str, int]:
        """What the engine's process holds now: this one's, or the service's."""
        if isinstance(self.engine, ServiceEngine):
            found = await self.engine.client.get("/resources")
            self.tasks = found.get("task_names", [])
            return {k: v for k, v in found.items() if isinstance(v, int)}
        return resources()

    async def measure(self, phase: str) -> None:
        """Print one sample."""
        journal = Path(self.plan.state_dir) / Journal.FILENAME
        taken = sample(phase, await self.held(), journal, self.finished, self.started)
        self.emit({"kind": "sample", **asdict(taken), "task_names": self.tasks})

    async def idle(self) -> None:
        """Wait until the engine drives nothing and its watchdog has ended: in-process,
        until this loop has only the driver's task; with the service, until the
        service's task count stops falling (its server and its clients' streams stay)."""
        deadline = time.monotonic() + IDLE_WAIT
        if isinstance(self.engine, ServiceEngine):
            last = -1
            while (
                self.engine.running()
                or (tasks := (await self.held())["tasks"]) != last
                or any(name.startswith("stall-watchdog") for name in self.tasks)
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the service is not idle after {IDLE_WAIT}s: {self.tasks}")
                last = -1 if self.engine.running() else tasks
                await asyncio.sleep(1.0)
            return
        while len(asyncio.all_tasks()) > 1 or self.engine.running():
            if time.monotonic() > deadline:
                names = task_names()
                raise RuntimeError(f"the engine is not idle after {IDLE_WAIT}s: tasks {names}")
            await asyncio.sleep(0.1)

    async def phase(self, count: int | None, deadline: float | None) -> None:
        """Run sessions until ``count`` have started or ``deadline`` passed, then let them end."""

        async def worker() -> None:
            while (count is None or self.next_index < count) and (
                deadline is None or time.monotonic() < deadline
            ):
                index = self.next_index
                self.next_index += 1
                outcome = await self.session(index)
                self.finished += 1
                self.emit({"kind": "session", **asdict(outcome)})

        await asyncio.gather(*(worker() for _ in range(self.plan.concurrency)))

    async def session(self, index: int) -> Outcome:
        """Plan one file on a drawn provider and play its drawn script."""
        rng = random.Random(f"{self.plan.seed}:soak:{index}")
        providers = list(PROVIDER_WEIGHTS)
        if index < len(providers):  # the first round has every provider once
            provider = providers[index]
        else:
            provider = rng.choices(providers, list(PROVIDER_WEIGHTS.values()))[0]
        path = Path(self.plan.files) / f"{provider}-{index}.bin"
        size = file_size(provider, rng)
        await asyncio.to_thread(write_file, path, size, rng.randrange(1 << 30))
        script = rng.choices(list(SCRIPTS), list(SCRIPTS.values()))[0]
        outcome = Outcome(index, provider, str(path), script=script)
        engine = self.engine
        try:
            part_size = 5 * MiB if provider in ("s3", "polar", "wunderlist") else None
            session = await engine.plan(path, f"sandbox-{provider}", part_size)
            sid = outcome.session_id = session.id
            await engine.start(sid, auto_complete=script != "manual")
            if script in ("pause", "abort"):
                await asyncio.sleep(rng.uniform(0.05, 2.0))
            if script == "abort":
                outcome.actions.append("abort")
                try:
                    await engine.abort(sid)
                except PartdeckError as exc:  # too late: completed, or completing
                    outcome.refused = str(exc)
                    await engine.wait(sid)
            else:
                if script == "pause" and engine.is_running(sid):
                    outcome.actions.append("pause")
                    await engine.pause(sid)
                    await asyncio.sleep(rng.uniform(0.1, 1.5))
                    outcome.actions.append("resume")
                    await engine.start(sid)
                done = await engine.wait(sid)
                if done.state in ("failed", "stalled") and rng.random() < RETRY_SHARE:
                    outcome.actions.append("retry")
                    await engine.retry(sid)
                    done = await engine.wait(sid)
                if script == "manual" and done.state == "uploaded":
                    outcome.actions.append("complete")
                    await engine.complete(sid)
        except PartdeckError as exc:
            outcome.refused = str(exc)
        if outcome.session_id:
            final = engine.session(outcome.session_id)
            outcome.state, outcome.error = str(final.state), final.error
        return outcome


async def soak(plan: SoakPlan, emit: Callable[[dict[str, Any]], None]) -> None:
    """Warm up, sample, soak for ``plan.seconds``, sample again."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="soak"))
    if plan.service:
        state_dir = Path(plan.state_dir)
        client = await ensure_service(state_dir, Path(plan.config), {})
        engine = await ServiceEngine(client, state_dir, lambda _: {}).attach()
        try:
            await _rounds(Driver(engine, plan, emit))
        finally:
            await engine.close()
            await stop_service(state_dir, resume_later=False)
        return
    config = load_config(Path(plan.config))
    async with open_engine(config, Path(plan.state_dir)) as inline:
        await _rounds(Driver(inline, plan, emit))


async def _rounds(driver: Driver) -> None:
    plan = driver.plan
    await driver.phase(plan.warm_sessions, None)
    await driver.idle()
    await driver.measure("warm")

    async def ticks() -> None:
        while True:
            await asyncio.sleep(plan.tick_seconds)
            await driver.measure("tick")

    ticker = asyncio.create_task(ticks(), name="soak-ticks")
    try:
        await driver.phase(None, time.monotonic() + plan.seconds)
    finally:
        ticker.cancel()
    await driver.idle()
    await driver.measure("end")


def main() -> None:
    """Run the plan named on the command line; JSON lines on stdout."""
    plan = SoakPlan.load(sys.argv[1])
    lock = threading.Lock()

    def emit(record: dict[str, Any]) -> None:
        with lock:
            print(json.dumps(record), flush=True)

    asyncio.run(soak(plan, emit))


if __name__ == "__main__":
    main()
